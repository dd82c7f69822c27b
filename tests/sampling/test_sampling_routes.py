"""Exact and Monte Carlo routes on the network core's Dropout layer, their calibration, and
mutation twins that must be rejected."""
import numpy as np
import pytest
from scipy import stats

from dropout_theory.network import Dropout
from dropout_theory.sampling import (N_BATCHES, batch_means, enumerate_masks, exact_mean,
                                     float_tolerance, z_crit)

W = np.array([0.7, -1.3, 0.4, 2.1, -0.5])
X = np.array([1.1, 0.3, -2.0, 0.6, 1.7])
P = 0.3
Q = 1 - P


def _unit_output(masks):
    """s = w . dropout(x) computed by the layer with injected masks (sample axis first)."""
    layer = Dropout(P)
    return layer.forward(np.broadcast_to(X, masks.shape), mask=masks) @ W


def _sample(rng, n):
    return Dropout(P).forward(np.broadcast_to(X, (n, X.size)), rng=rng) @ W


TRUE_VARIANCE = (1 - Q) / Q * np.sum((W * X) ** 2)


def test_enumeration_covers_every_mask_once_with_total_probability_one():
    masks, probs = zip(*enumerate_masks(10, 0.2, chunk_bits=4))
    masks, probs = np.concatenate(masks), np.concatenate(probs)
    assert len({tuple(row) for row in masks}) == 2 ** 10
    assert abs(probs.sum() - 1.0) <= float_tolerance(1.0, probs.size)


def test_exact_route_variance_within_float_tolerance_and_mutations_rejected():
    k = X.size
    mean, mag_mean = exact_mean(_unit_output, k, P)
    second, mag_second = exact_mean(lambda m: _unit_output(m) ** 2, k, P)
    variance = second - mean ** 2
    tol = float_tolerance(mag_second + mag_mean ** 2 + abs(TRUE_VARIANCE), 2 ** k + 4 * k)
    assert abs(variance - TRUE_VARIANCE) <= tol
    for wrong in (Q / (1 - Q) * np.sum((W * X) ** 2), 2 * TRUE_VARIANCE,
                  np.sum((W * X) ** 2) / Q):  # p/q swapped, factor 2, the (1 - q) dropped
        assert abs(variance - wrong) > tol


def test_blocks_draw_fresh_randomness_and_bound_memory():
    # 32 batches of 512 rows in blocks of 100: every call draws at most 100 rows, and every
    # block of every batch its own stream (a block that replayed another's draws would make
    # the samples dependent and the standard error a lie)
    calls = []

    def sample(rng, n):
        calls.append(n)
        values = rng.random(n)
        firsts.append(values[0])
        return values

    firsts = []
    a = batch_means(sample, n_samples=32 * 512, root=7, name="blocks", block=100)
    assert max(calls) == 100 and len(calls) == 32 * 6
    assert len(set(firsts)) == len(firsts)
    # the same blocks are the same samples, bit for bit
    again = batch_means(lambda rng, n: rng.random(n), n_samples=32 * 512, root=7,
                        name="blocks", block=100)
    assert (again.value, again.se) == (a.value, a.se)


def test_monte_carlo_rejects_mutations_at_the_run_critical_value():
    crit = z_crit(1e-6, 4)
    est = batch_means(_sample, n_samples=1 << 16, root=1, name="mutations", statistic="var")
    assert abs(est.value - TRUE_VARIANCE) <= crit * est.se
    for wrong in (Q / (1 - Q) * np.sum((W * X) ** 2), 2 * TRUE_VARIANCE,
                  np.sum((W * X) ** 2) / Q):  # p/q swapped, factor 2, the (1 - q) dropped
        assert abs(est.value - wrong) > crit * est.se


def test_calibration_t_scores_of_a_true_identity_follow_student_t():
    """200 independent runs of a true check. Statistic (est - truth)/se ~ t(N_BATCHES - 1).

    False-alarm rate of this test: two checks at 1e-6 each (binomial count at alpha = 0.2,
    Kolmogorov-Smirnov against t), so 2e-6 in all.
    """
    runs = 200
    t_scores = np.empty(runs)
    for r in range(runs):
        est = batch_means(_sample, n_samples=N_BATCHES * 64, root=r, name="calibration",
                          statistic="mean")
        t_scores[r] = (est.value - np.dot(W, X)) / est.se
    rejected = int(np.sum(np.abs(t_scores) > z_crit(0.2, 1)))
    assert stats.binomtest(rejected, runs, 0.2).pvalue > 1e-6
    assert stats.kstest(t_scores, stats.t(df=N_BATCHES - 1).cdf).pvalue > 1e-6


def test_z_crit_splits_alpha_over_checks_and_validates():
    assert z_crit(1e-6, 10) > z_crit(1e-6, 1)
    assert np.isclose(2 * stats.t.sf(z_crit(1e-3, 5), N_BATCHES - 1), 1e-3 / 5)
    with pytest.raises(ValueError, match="alpha"):
        z_crit(1.5)
    with pytest.raises(ValueError, match="n_samples"):
        batch_means(_sample, n_samples=0, root=0, name="x")


def test_an_alpha_without_a_finite_critical_value_is_an_error_not_a_verdict():
    """A tail below the smallest double made the critical value -inf, and every check of a
    proved identity 'fails'; such an alpha is refused."""
    with pytest.raises(ValueError, match="alpha must be a false-alarm rate in"):
        z_crit(1e-320, 1)
    with pytest.raises(ValueError, match="below what float64 can test"):
        z_crit(1e-300, 10 ** 20)
    assert z_crit(1e-300, 1) > 0
