"""Evaluate a symbolic statement at a numeric point (sizes, scalars and arrays).

Used to compute the *claimed* value of an identity's right-hand side; the simulated value
always comes from the reference code, never from this function.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

__all__ = ["evaluate"]


def evaluate(expr, values: dict) -> float:
    """Evaluate ``expr`` with ``values`` keyed by symbol name; arrays are 1-based in sums.

    Examples
    --------
    >>> w = sp.IndexedBase("w"); i, d = sp.symbols("i d", integer=True)
    >>> evaluate(sp.Sum(w[i] ** 2, (i, 1, d)), {"d": 2, "w": np.array([3.0, 4.0])})
    25.0
    """
    expr = sp.sympify(expr)
    if expr.atoms(sp.MatrixSymbol):
        return _matrix_scalar(expr, values)
    scalars, arrays = {}, {}
    for name, value in values.items():
        (arrays if np.ndim(value) > 0 else scalars)[name] = value
    subs = {s: scalars[s.name] for s in expr.free_symbols
            if isinstance(s, sp.Symbol) and s.name in scalars}
    expanded = _unroll(expr.xreplace({k: sp.Integer(v) if float(v).is_integer() and k.is_integer
                                      else sp.Float(v) for k, v in subs.items()})).doit()
    replacements = {}
    for item in expanded.atoms(sp.Indexed):
        array = arrays.get(item.base.label.name)
        if array is None:
            raise ValueError(f"no value given for the array {item.base.label.name}")
        position = tuple(int(k) - 1 for k in item.indices)
        replacements[item] = sp.Float(float(np.asarray(array)[position]))
    result = expanded.xreplace(replacements)
    leftover = result.free_symbols
    if leftover:
        raise ValueError(f"no value given for {sorted(map(str, leftover))}")
    return float(result)


def _unroll(expr):
    """Sums with numeric bounds as explicit additions (``Sum.doit`` would first look for a
    closed form, which is slow for summands like ``exp(sum_k w_k x_ik)``)."""
    def unroll(total):
        body, limits = total.function, list(total.limits)
        for index, lo, hi in reversed(limits):
            if not (lo.is_Integer and hi.is_Integer):
                return total
            body = sp.Add(*[body.xreplace({index: sp.Integer(k)})
                            for k in range(int(lo), int(hi) + 1)])
        return body
    return expr.replace(lambda e: isinstance(e, sp.Sum), unroll)


def _matrix_value(expr, values: dict) -> np.ndarray:
    """A matrix expression (products, sums, transposes, inverses, diagonals) as an array."""
    from sympy.matrices.expressions.diagonal import DiagonalMatrix
    if isinstance(expr, sp.MatrixSymbol):
        if expr.name not in values:
            raise ValueError(f"no value given for the matrix {expr.name}")
        value = np.asarray(values[expr.name], dtype=np.float64)
        return value.reshape(-1, 1) if value.ndim == 1 else value
    if isinstance(expr, sp.MatMul):
        scalar, matrices = expr.as_coeff_matrices()
        result = _matrix_value(matrices[0], values)
        for factor in matrices[1:]:
            result = result @ _matrix_value(factor, values)
        return evaluate(scalar, values) * result
    if isinstance(expr, sp.MatAdd):
        return sum(_matrix_value(term, values) for term in expr.args)
    if isinstance(expr, sp.Transpose):
        return _matrix_value(expr.arg, values).T
    if isinstance(expr, sp.Inverse):
        # a solve would need the right side; the claim's matrices are small and well posed
        return np.linalg.inv(_matrix_value(expr.arg, values))
    if isinstance(expr, sp.Identity):
        return np.eye(int(evaluate(expr.rows, values)))
    if isinstance(expr, DiagonalMatrix):
        return np.diag(np.diag(_matrix_value(expr.arg, values)))
    raise ValueError(f"cannot evaluate the matrix expression {expr}")


def _matrix_scalar(expr, values: dict) -> float:
    """A scalar built from ``Trace`` of matrix expressions, e.g. ``tr(u^T A^{-1} b)``.

    Examples
    --------
    >>> A, b = sp.MatrixSymbol("A", 2, 2), sp.MatrixSymbol("b", 2, 1)
    >>> evaluate(sp.Trace(b.T * sp.Inverse(A) * b), {"A": 2 * np.eye(2), "b": np.ones(2)})
    1.0
    """
    traces = {t: sp.Float(float(np.trace(_matrix_value(t.arg, values))))
              for t in expr.atoms(sp.Trace)}
    rest = expr.xreplace(traces)
    if rest.atoms(sp.MatrixSymbol):
        raise ValueError(f"matrix symbols outside a trace cannot be evaluated: {expr}")
    return evaluate(rest, values)
