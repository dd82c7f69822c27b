"""The packed-table unit, the subset-doubling enumeration (against the mask-matrix enumeration
and exact rationals, with cancelling terms), the fast Monte Carlo estimator (a z-test and its
twin), executors (serial == pool == Dask, bit for bit) and the bench's record."""
import itertools
import json
import math
from fractions import Fraction

import numpy as np
import pytest

from dropout_theory.cli import main
from dropout_theory.network import Dropout
from dropout_theory.sampling import (Node, PackedLinear, _kernels, batch_statistics,
                                     dropout_sum_draw, exact_mean, float_tolerance, generator,
                                     unit_mean, z_crit)
from dropout_theory.sampling.executor import using


def _exact_unit_mean(a, bias, p, relu=True):
    """The mean over all masks in exact rational arithmetic (the doubles a, bias, p exact)."""
    a = [Fraction(float(v)) for v in a]
    bias, p = Fraction(float(bias)), Fraction(float(p))
    q = Fraction(1.0 - float(p))  # the sampler's and enumeration's q = fl(1 - p)
    total = Fraction(0)
    for mask in itertools.product((0, 1), repeat=len(a)):
        z = bias + sum(v for v, m in zip(a, mask) if m)
        prob = math.prod(q if m else p for m in mask)
        total += prob * (max(z, 0) if relu else z)
    return total


@pytest.mark.parametrize("relu", [True, False])
def test_unit_mean_agrees_with_exact_rationals_and_the_mask_matrix(relu):
    rng = np.random.default_rng(0)
    for k, low in ((1, 16), (8, 16), (9, 4), (8, 0)):
        a, bias, p = rng.standard_normal(k), 0.25, 0.3
        value, bound = unit_mean(a, bias, p, relu=relu, low_bits=low)
        exact = _exact_unit_mean(a, bias, p, relu)
        assert abs(Fraction(value) - exact) <= Fraction(bound)
        assert bound < 1e-12  # not vacuous (the values are of order 1)
        f = (lambda m: np.maximum(m @ a + bias, 0.0)) if relu else (lambda m: m @ a + bias)
        old, magnitude = exact_mean(f, k, p)
        spread = abs(bias) + np.abs(a).sum()
        assert abs(old - value) <= bound + float_tolerance(magnitude + spread, 2 ** k + 2 * k)


def test_unit_mean_bound_covers_cancelling_terms():
    """Weights of 1e8 that cancel, added after small ones: the kept-all mask (probability
    about 1) has z = 0.4 computed as (0.4 + 1e8) - 1e8, off by up to ulp(1e8) / 2. The error
    is real (nonzero) and the bound, built from |b| + sum |a_i|, covers it; a bound from the
    values' own magnitude E|f| (about 0.4) would not: the twin."""
    a = np.array([0.7, -0.3, 1e8, -1e8])
    bias, p = 0.0, 2.0 ** -40
    value, bound = unit_mean(a, bias, p)
    exact = _exact_unit_mean(a, bias, p)
    error = abs(Fraction(value) - exact)
    assert 0 < error <= Fraction(bound)
    magnitude = float(exact)  # E|relu| = E relu
    assert error > Fraction(float_tolerance(magnitude, 2 ** a.size + 16))


def test_unit_mean_refuses_and_edges():
    assert unit_mean(np.array([1.0, 2.0]), -1.0, 1.0)[0] == 0.0  # all dropped: relu(-1)
    assert unit_mean(np.array([1.0, 2.0]), -1.0, 0.0)[0] == 2.0  # all kept
    with pytest.raises(ValueError):
        unit_mean(np.array([np.inf]), 0.0, 0.5)
    with pytest.raises(ValueError):
        unit_mean(np.ones(3), 0.0, 1.5)


def test_packed_unit_is_the_exact_sum_within_its_bound():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(37) * np.logspace(0, 12, 37) * rng.choice([-1, 1], 37)
    unit = PackedLinear(a)
    masks = rng.random((64, 37)) < 0.5
    got = unit(masks)
    for row, value in zip(masks, got):
        exact = sum((Fraction(float(v)) for v, m in zip(a, row) if m), Fraction(0))
        assert abs(Fraction(float(value)) - exact) <= Fraction(unit.rounding)
    # the core's layers give the same sums, up to both roundings
    core = Dropout(0.0).forward(np.broadcast_to(a, masks.shape), mask=masks) @ np.ones(37)
    assert np.all(np.abs(core - got) <= 2 * unit.rounding)
    with pytest.raises(ValueError):
        unit(masks[:, :5])


D, Q = 1024, 0.7
W, X = generator(0, "fast.unit").standard_normal((2, D))
TRUE_VAR = float(np.sum((W * X) ** 2) * (1 - Q) / Q)


def _variance(draw, n=1 << 13):
    stats = batch_statistics(draw, [Node("var", 0)], n_samples=n, root=3, name="fast.var")
    values = stats.values[:, 0]
    return values.mean(), values.std(ddof=1) / math.sqrt(len(values))


def test_fast_estimator_meets_the_variance_and_rejects_the_twin():
    """t-test at 1e-6 (31 degrees of freedom): the estimate of Var[sum w x m / q] is within
    z se of sum (w x)^2 p / q; the twin that forgets the 1/q of inverted dropout (its
    variance is q^2 = 0.49 times smaller, 2^13 rows: relative se about 1.6%) is rejected."""
    crit = z_crit(1e-6, 2)
    estimate, se = _variance(dropout_sum_draw(W, X, Q))
    assert abs(estimate - TRUE_VAR) <= crit * se
    twin, twin_se = _variance(dropout_sum_draw(W * Q, X, Q))
    assert abs(twin - TRUE_VAR) > crit * twin_se


def _stats(seed=5):
    draw = dropout_sum_draw(W[:64], X[:64], Q)
    stats = batch_statistics(draw, [Node("mean", 0), Node("var", 0)], n_samples=1 << 11,
                             root=seed, name="fast.executors")
    return stats.values, stats.rounding


def test_serial_and_process_pool_are_bit_identical():
    serial = _stats()
    with using(workers=2):
        pooled = _stats()
    with using(workers=3):
        three = _stats()
    for a, b, c in zip(serial, pooled, three):
        assert a.tobytes() == b.tobytes() == c.tobytes()
    assert _stats(6)[0].tobytes() != serial[0].tobytes()


def test_dask_cluster_is_bit_identical_to_serial():
    distributed = pytest.importorskip(
        "distributed", reason="the optional extra 'dask' (dask, distributed) is not installed")
    serial = _stats()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with using(scheduler=cluster.scheduler_address):
            remote = _stats()
    for a, b in zip(serial, remote):
        assert a.tobytes() == b.tobytes()


def test_bench_record_at_a_tiny_size(capsys):
    assert main(["bench", "--json", "--rows", "64", "--d", "64", "--repeats", "2",
                 "--workers", "2", "--enumerate", "10", "--old-enumerate", "8"]) == 0
    record = json.loads(capsys.readouterr().out)
    names = {"bytes", "raw", "naive", "route", "fast-1", "fast-2"}
    if _kernels.load() is not None:  # the optional extra 'fast' (numba)
        names |= {"jit-1", "jit-2"}
    assert names == set(record["ns_per_element"]) - {"torch"}
    assert all(math.isfinite(v) and v > 0 for v in record["ns_per_element"].values())
    assert all(math.isfinite(v) and v > 0 for v in record["ratios"].values())
    assert record["fastest"] in names - {"bytes", "raw", "naive", "route"}
    assert record["naive_over_fastest"] == record["ratios"][f"naive/{record['fastest']}"]
    # the NumPy path and the kernel, in process and on the pool: one estimate
    assert len({record["estimates"][name] for name in names
                if name.startswith(("fast-", "jit-"))}) == 1
    enumeration = record["enumeration"]
    assert {"doubling 2^10", "mask matrix 2^8", "network layered 2^10",
            "network mask rows 2^8"} <= set(enumeration)
    # the layer-wise doubling and the core's forward under every mask give the same average
    assert math.isclose(enumeration["network layered 2^8"]["value"],
                        enumeration["network mask rows 2^8"]["value"], rel_tol=1e-12)


def _strip_seconds(obj):
    if isinstance(obj, dict):
        return {k: _strip_seconds(v) for k, v in obj.items() if k != "seconds"}
    if isinstance(obj, list):
        return [_strip_seconds(v) for v in obj]
    return obj


def test_verify_json_is_the_same_with_workers(capsys):
    """The CLI: `verify --json` on a Monte Carlo identity, serial and on two workers, equal
    but for timings; a bad --workers is a usage error."""
    runs = []
    for extra in ([], ["--workers", "2"]):
        assert main(["verify", "basics.inverted-variance", "--json", "--seed", "4",
                     *extra]) == 0
        runs.append(_strip_seconds(json.loads(capsys.readouterr().out)))
    assert runs[0] == runs[1]
    assert main(["verify", "basics.inverted-variance", "--workers", "0"]) == 2
