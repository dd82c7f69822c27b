"""What the generic registry tests cannot see: the diversity identity for arbitrary
predictions, the geometric-mean inequalities over every mask, and the speed of enumeration."""
import time

import numpy as np
import pytest

from dropout_theory.identities._subnetworks import ensemble_mean, forward, stacked
from dropout_theory.identities.ensemble.averaging import sigmoid_outputs
from dropout_theory.identities.ensemble.members import ensemble_gain, pairwise_disagreement
from dropout_theory.sampling import enumerate_masks, gamma


@pytest.mark.parametrize("n_members", [2, 3, 7, 50])
def test_diversity_identity_holds_for_any_predictions_and_its_twin_does_not(n_members):
    """E_ind - E_ens = (T-1)/(2T) D is algebra: it holds for any T predictions up to the
    rounding of the squares it sums; the twin (T-1)/T D is off by (T-1)/(2T) D."""
    rng = np.random.default_rng(n_members)
    predictions = rng.standard_normal((200, n_members)) * rng.uniform(0.1, 10, (200, 1))
    target = rng.standard_normal(200)
    gain = ensemble_gain(predictions, target)
    spread = pairwise_disagreement(predictions)
    scale = 4 * ((np.abs(predictions) + np.abs(target)[:, None]) ** 2).mean(axis=-1)
    bound = gamma(4 * n_members * n_members + 64) * scale
    claim = (n_members - 1) / (2 * n_members) * spread
    assert np.all(np.abs(gain - claim) <= bound)
    twin = (n_members - 1) / n_members * spread
    assert np.all(np.abs(gain - twin) > bound)


def _mask_average(point, values):
    """sum_m P(m) values(m) over every mask, with the summation's rounding bound."""
    (masks, probs), = enumerate_masks(point["d"], 1.0 - point["q"], chunk_bits=point["d"])
    terms = probs * values(masks)
    return terms.sum(), gamma(len(terms) + 64) * np.abs(terms).sum()


def _unit(rng, d, side):
    """A logistic unit whose sub-network inputs all lie on ``side`` of 0 (or anywhere)."""
    x = rng.uniform(0.2, 1.5, d)
    w = rng.uniform(0.1, 1.5, d) * {"low": -1, "high": 1}.get(side, rng.choice([-1, 1], d))
    b = {"low": -rng.uniform(0, 1), "high": rng.uniform(0, 1)}.get(side, rng.normal())
    return {"q": float(rng.uniform(0.2, 0.95)), "d": d, "b": float(b), "w": w, "x": x}


def _means(point):
    """E, log G, log G' (with rounding bounds) of the unit's outputs over every mask."""
    out = lambda m: sigmoid_outputs(point, m)  # noqa: E731
    arithmetic = _mask_average(point, out)
    log_g = _mask_average(point, lambda m: np.log(out(m)))
    log_g_prime = _mask_average(point, lambda m: np.log1p(-out(m)))
    return arithmetic, log_g, log_g_prime


@pytest.mark.parametrize("seed", range(20))
def test_geometric_mean_inequalities_over_every_mask(seed):
    """G <= E and G + G' <= 1 always; NWGM <= E when every output is <= 1/2, >= E when every
    output is >= 1/2 (Ky Fan). Exact sums over all 2^d masks; the comparisons allow only the
    summations' rounding bounds (exp and log add a few units of roundoff, covered by 64)."""
    rng = np.random.default_rng(seed)
    for side in ("low", "high", "any"):
        point = _unit(rng, int(rng.integers(1, 11)), side)
        (e, e_err), (log_g, g_err), (log_h, h_err) = _means(point)
        slack = e_err + (g_err + h_err + gamma(64)) * 4
        assert np.exp(log_g) <= e + slack
        assert np.exp(log_g) + np.exp(log_h) <= 1 + slack
        nwgm = 1 / (1 + np.exp(log_h - log_g))
        if side == "low":
            assert nwgm <= e + slack
        elif side == "high":
            assert nwgm >= e - slack


def test_without_one_side_of_one_half_the_nwgm_and_mean_order_either_way():
    """The Ky Fan ordering needs the one-side condition: units straddling 1/2 give both signs."""
    rng = np.random.default_rng(12)
    signs = set()
    for _ in range(200):
        point = _unit(rng, 4, "any")
        (e, _), (log_g, _), (log_h, _) = _means(point)
        signs.add(np.sign(1 / (1 + np.exp(log_h - log_g)) - e))
    assert {-1.0, 1.0} <= signs


def test_all_two_to_the_twenty_sub_networks_are_averaged_in_seconds():
    """2^20 masks of a deep linear network, enumerated in vectorized chunks through the core:
    the exact ensemble mean equals the weight-scaled network (rounding bound of the sums)."""
    rng = np.random.default_rng(3)
    d, h, drop = 4, 8, 0.3
    weights = [rng.standard_normal((h, d)), rng.standard_normal((h, h)),
               rng.standard_normal((1, h))]
    x = rng.standard_normal(d)
    net, dropouts = stacked(weights, [None] * 3, None, drop, input_dropout=True)
    start = time.perf_counter()
    mean = ensemble_mean(lambda m: forward(net, dropouts, x, m, (d, h, h))[:, 0], d + 2 * h, drop)
    elapsed = time.perf_counter() - start
    scaled = (1 - drop) ** 3 * float((weights[2] @ weights[1] @ weights[0] @ x)[0])
    magnitude = float((np.abs(weights[2]) @ np.abs(weights[1]) @ np.abs(weights[0]) @ np.abs(x))[0])
    assert abs(mean - scaled) <= gamma((1 << 20) + 8 * (d + 2 * h) + 64) * magnitude
    assert elapsed < 30.0, f"2^20 sub-networks took {elapsed:.1f} s (a Python loop over masks?)"
