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
    scalars, arrays = {}, {}
    for name, value in values.items():
        (arrays if np.ndim(value) > 0 else scalars)[name] = value
    subs = {s: scalars[s.name] for s in expr.free_symbols
            if isinstance(s, sp.Symbol) and s.name in scalars}
    expanded = expr.xreplace({k: sp.Integer(v) if float(v).is_integer() and k.is_integer
                              else sp.Float(v) for k, v in subs.items()}).doit()
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
