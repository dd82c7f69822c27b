"""Memory is bounded by the work actually done: planning a claim prepares it at sizes up to
1024 (and may then skip them), so nothing in ``prepare`` may hold arrays of all its rows at
once. ``gal-mc-average-variance-no-T`` (``M ~ Bernoulli(q)[T, d]``) peaked at 2.5 GB: the
variance pilot drew its 255 rows of ``M[1024, 1024]`` at once, at a point the budget then
skipped. Peaks are measured with ``tracemalloc`` on smaller instances of the same shape."""
import tracemalloc

import numpy as np
import pytest

from dropout_theory.claims import load_identities
from dropout_theory.routes import expressions
from dropout_theory.routes.moments import PILOT_SEED, prepare

CLAIM = load_identities({
    "name": "mc-average-variance", "lhs": "Var(Sum(Sum(w[i]*x[i]*M[t, i], (i, 1, d)), "
                                          "(t, 1, T))/(q*T))",
    "rhs": "(1 - q)/q*Sum(w[i]**2*x[i]**2, (i, 1, d))",
    "symbols": {"q": "keep", "d": "dimension", "T": "dimension", "w": "real[d]", "x": "real[d]"},
    "random": {"M": "Bernoulli(q)[T, d]"}})[0]


def _point(size):
    rng = np.random.default_rng(1)
    return {"q": 0.3, "d": size, "T": size, "w": rng.standard_normal(size),
            "x": rng.standard_normal(size)}


def _peak(function, *args):
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_variance_pilot_holds_one_block_of_rows(monkeypatch):
    # M[64, 64] in blocks of 4 rows (4 x 4096 doubles, 128 kB an array); all 255 pilot rows
    # at once were 8 MB an array (the prepare peaked at 17 MB, now 0.8 MB)
    monkeypatch.setattr(expressions, "DRAW_ELEMENTS", 1 << 14)
    point = _point(64)
    prepare(CLAIM.model, CLAIM, point, CLAIM.rhs)  # symbolic caches filled once
    assert _peak(prepare, CLAIM.model, CLAIM, point, CLAIM.rhs) < 3 << 20


@pytest.mark.parametrize("block", [1, 7, 100, 255, 1000])
def test_pilot_blocks_are_the_rows_of_one_draw(block):
    # two variables: the second's rows start where all of the first's end, as in one draw
    laws = [("M", "Bernoulli", [(0.3, 0.0)], (2, 3)),
            ("z", "Normal", [(1.0, 0.0), (2.0, 0.0)], (4,))]
    rng = np.random.default_rng(PILOT_SEED)
    whole = {law[0]: expressions._sample(law, rng, expressions.PILOT_ROWS) for law in laws}
    blocks = list(expressions._pilot_blocks(laws, block))
    assert all(rows <= block for rows, _ in blocks)
    assert sum(rows for rows, _ in blocks) == expressions.PILOT_ROWS
    for name, values in whole.items():
        assert np.array_equal(np.concatenate([env[name] for _, env in blocks]), values)


def test_an_array_read_whole_is_not_listed_when_too_large_to_enumerate():
    law = ("M", "Bernoulli", [(0.3, 0.0)], (256, 256))
    column = CLAIM.model.lhs.args[0]  # reads M[t, i] at every t and i
    values = _point(256)
    assert expressions._enumeration(law, [column], {}, values) is None
    # listing the 65536 entries as tuples took 3.9 MB
    assert _peak(expressions._enumeration, law, [column], {}, values) < 1 << 20


def test_the_pilot_takes_fewer_rows_where_it_would_cost_more_than_its_budget():
    prepared = {size: expressions._pilot_rows(
        [CLAIM.model.lhs.args[0]], [("M", "Bernoulli", [(0.3, 0.0)], (size, size))],
        _point(size)) for size in (4, 64, 1024)}
    assert prepared[4] == prepared[64] == expressions.PILOT_ROWS
    assert 1 <= prepared[1024] < expressions.PILOT_ROWS and prepared[1024] % 2 == 1


def test_exact_outcomes_gathered_in_blocks_are_those_of_one_block(monkeypatch):
    # two variables (mask patterns times Gauss nodes): every outcome's row and weight is the
    # same whether the outcomes are evaluated 1, 5 or all at a time
    claim = load_identities({
        "name": "two-variables", "lhs": "E(Sum(w[i]*m[i]*(z[i] + 1)**2, (i, 1, d)))",
        "rhs": "q*Sum(w[i]*(s**2 + 1), (i, 1, d))",
        "symbols": {"q": "keep", "s": "positive", "d": "dimension", "w": "real[d]"},
        "random": {"m": "Bernoulli(q)[d]", "z": "Normal(0, s)[d]"}})[0]
    point = {"q": 0.3, "s": 1.5, "d": 3, "w": np.array([0.5, -1.25, 2.0])}
    results = []
    for elements in (1 << 21, 6 * 5, 1):
        monkeypatch.setattr(expressions, "DRAW_ELEMENTS", elements)
        columns, weights, rel = prepare(claim.model, claim, point, claim.rhs).outcomes()
        results.append((columns.mid, columns.rad, weights, rel))
    assert len(results[0][2]) == 8 * 2 ** 3  # 2^3 patterns, 2 nodes per normal entry
    for other in results[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(results[0][:3], other[:3]))
        assert results[0][3] == other[3]
