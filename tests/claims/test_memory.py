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
