"""Trace claims with symbolic sizes: numeric evaluation and proof by atoms plus a witness."""
import numpy as np
import sympy as sp
from sympy.matrices.expressions.diagonal import DiagonalMatrix

from dropout_theory.sampling import float_tolerance
from dropout_theory.symbolic import prove_equal
from dropout_theory.symbolic.evaluate import evaluate

n, d = sp.symbols("n d", integer=True, positive=True)
q = sp.Symbol("q", positive=True)
X, y, u = sp.MatrixSymbol("x", n, d), sp.MatrixSymbol("y", n, 1), sp.MatrixSymbol("u", d, 1)


def _solution(lam):
    gram = X.T * X
    return sp.Trace(u.T * sp.Inverse(gram + lam * DiagonalMatrix(gram)) * X.T * y)


def test_trace_of_a_generalized_ridge_solution_matches_numpy():
    rng = np.random.default_rng(0)
    xv, yv, uv = rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=3)
    gram = xv.T @ xv
    expected = uv @ np.linalg.solve(gram + 0.25 * np.diag(np.diag(gram)), xv.T @ yv)
    got = evaluate(_solution((1 - q) / q), {"n": 6, "d": 3, "q": 0.8, "x": xv, "y": yv, "u": uv})
    matrix = gram + 0.25 * np.diag(np.diag(gram))
    # two solves of a 3x3 system: forward error cond(M) times rounding of the inputs
    scale = np.linalg.cond(matrix) * np.abs(uv) @ np.abs(np.linalg.solve(matrix, xv.T @ yv))
    assert abs(got - expected) <= float_tolerance(scale, 2 * 6 * 3)


def test_equal_traces_are_proved_and_different_ones_refuted_with_a_witness():
    assert prove_equal(_solution((1 - q) / q), _solution((1 - q) / q)).status == "proved"
    wrong = prove_equal(_solution((1 - q) / q), _solution(q / (1 - q)))
    assert wrong.status == "refuted" and "witness" in wrong.steps[-1].label


def test_sums_with_numeric_bounds_are_unrolled():
    w, i = sp.IndexedBase("w"), sp.Symbol("i", integer=True)
    expr = sp.Sum(sp.exp(sp.Sum(w[i], (i, 1, d))) * w[i], (i, 1, d))
    value = evaluate(expr, {"d": 2, "w": np.array([0.5, -1.0])})
    expected = np.exp(-0.5) * (-0.5)
    assert abs(value - expected) <= float_tolerance(abs(expected), 8)
