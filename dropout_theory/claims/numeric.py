"""Parameter points drawn from the declared domains, and a NumPy evaluator of SymPy trees.

The evaluator walks the (whitelisted) SymPy tree itself, node type by node type, so no code is
generated or executed from claim text. Random atoms and operator nodes are looked up in an
environment of NumPy arrays or numbers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy import special

from ..sampling import generator
from .parser import MAX_SIZE, OPERATORS, ClaimError
from .schema import Claim

__all__ = ["Point", "make_points", "instantiate", "to_numpy", "count_nodes", "MAX_SIZE"]

#: (typical range, edge values) per domain; edges are the domain's boundary where it is
#: closed (q = 1, 0) and points near it where it is open
_RULES = {"keep": ((0.1, 0.95), (1.0, 0.05)), "probability": ((0.1, 0.9), (0.05, 0.95)),
          "real": ((-2.0, 2.0), (0.0,)), "positive": ((0.2, 2.0), (0.05,)),
          "nonnegative": ((0.0, 2.0), (0.0,))}
_OPERATOR_TYPES = tuple(OPERATORS.values())


@dataclass
class Point:
    """One parameter point: scalar values, sizes and deterministic arrays; ``label`` says why."""

    values: dict
    label: str

    def display(self) -> dict:
        return {k: (np.round(v, 6).tolist() if isinstance(v, np.ndarray) else v)
                for k, v in self.values.items()}


def _draw_scalar(rng, domain: str) -> float:
    (low, high), _ = _RULES[domain]
    return float(rng.uniform(low, high))


def _point(claim: Claim, rng, *, sizes: dict, fixed: dict, label: str) -> Point:
    values = dict(sizes)
    for name, (domain, shape) in claim.domains.items():
        if domain == "dimension" or shape:
            continue
        values[name] = fixed[name] if name in fixed else _draw_scalar(rng, domain)
    for name, (domain, shape) in claim.domains.items():
        if shape:
            dims = tuple(s if isinstance(s, int) else values[s] for s in shape)
            (low, high), _ = _RULES[domain]
            values[name] = rng.uniform(low, high, size=dims)
    return Point(values, label)


def _scalars(claim: Claim):
    return [(n, dom) for n, (dom, shape) in claim.domains.items()
            if dom != "dimension" and not shape]


def _stratified(claim: Claim, rng, n: int, low: dict) -> list[dict]:
    """``n`` typical points, each scalar's typical range cut into ``n`` strata, one per point,
    in a random order (Latin hypercube); sizes cycle through their range, the first at the top."""
    columns = {}
    for name, domain in _scalars(claim):
        (a, b), _ = _RULES[domain]
        columns[name] = a + (b - a) * (rng.permutation(n) + rng.random(n)) / n
    for name, smallest in low.items():
        span = MAX_SIZE - smallest + 1
        columns[name] = [MAX_SIZE] + [smallest + int(k) % span for k in rng.permutation(n)[1:]]
    return [{name: (int(col[k]) if name in low else float(col[k]))
             for name, col in columns.items()} for k in range(n)]


def make_points(claim: Claim, *, root: int, n_random: int = 6) -> list[Point]:
    """``n_random`` stratified typical points plus one point per domain edge (q = 1, p near 0
    and 1, x = 0, ...) and one at the smallest sizes (d = 1)."""
    rng = generator(root, "claims/points/" + claim.name)
    dims = [n for n, (dom, shape) in claim.domains.items() if dom == "dimension" and not shape]
    low = {n: claim.min_sizes.get(n, 1) for n in dims}
    if any(v > MAX_SIZE for v in low.values()):
        raise ClaimError(f"claim {claim.name!r}: an index literal exceeds the largest checked "
                         f"size {MAX_SIZE}")
    points = []
    for values in _stratified(claim, rng, n_random, low):
        sizes = {n: values.pop(n) for n in dims}
        points.append(_point(claim, rng, sizes=sizes, fixed=values, label="typical"))

    def sizes():
        return {n: int(rng.integers(low[n], MAX_SIZE + 1)) for n in dims}

    for name, domain in _scalars(claim):
        for edge in _RULES[domain][1]:
            points.append(_point(claim, rng, sizes=sizes(), fixed={name: edge},
                                 label=f"edge {name} = {edge:g}"))
    if dims:
        points.append(_point(claim, rng, sizes=dict(low), fixed={},
                             label="edge " + ", ".join(f"{n} = {v}" for n, v in low.items())))
    return points


def instantiate(expr: sp.Expr, claim: Claim, point: Point) -> sp.Expr:
    """Substitute the point: sizes, scalars, sums expanded, deterministic entries as floats."""
    subs = {}
    for name, value in point.values.items():
        if np.ndim(value) == 0:
            symbol = claim.names.scalars[name]
            subs[symbol] = sp.Integer(value) if symbol.is_integer else sp.Float(value)
    result = expr.xreplace(subs).doit()
    replace = {}
    for item in result.atoms(sp.Indexed):
        name = str(item.base)
        if not all(i.is_Integer for i in item.indices):
            raise ClaimError(f"claim {claim.name!r}: index of {item} is not a number at {subs}")
        position = tuple(int(i) - 1 for i in item.indices)
        shape = _shape_at(claim, name, point)
        if any(not 0 <= p < s for p, s in zip(position, shape)):
            raise ClaimError(f"claim {claim.name!r}: index {item} is out of range for shape "
                             f"{shape} at sizes {_sizes(claim, point)}")
        if name not in claim.names.random:
            replace[item] = sp.Float(float(point.values[name][position]))
    return result.xreplace(replace)


def _sizes(claim, point):
    return {n: point.values[n] for n in claim.names.dimensions}


def _shape_at(claim: Claim, name: str, point: Point) -> tuple:
    shape = claim.random[name].shape if name in claim.random else claim.domains[name][1]
    return tuple(s if isinstance(s, int) else point.values[s] for s in shape)


def _real(number) -> float:
    """A real float, or NaN for complex, infinite or undefined numbers (1/0, sqrt(-1))."""
    value = complex(number) if number.is_finite else complex(np.nan, 0.0)
    return value.real if value.imag == 0 else np.nan


def count_nodes(expr) -> int:
    """Operations in a tree, the ``n_ops`` of a rounding-error bound."""
    return sum(1 for _ in sp.preorder_traversal(expr))


def _relational(expr, env):
    a, b = (to_numpy(x, env) for x in expr.args)
    op = {sp.StrictLessThan: np.less, sp.LessThan: np.less_equal,
          sp.StrictGreaterThan: np.greater, sp.GreaterThan: np.greater_equal,
          sp.Equality: np.equal, sp.Unequality: np.not_equal}[type(expr)]
    return op(a, b).astype(np.float64)


_UNARY = {sp.exp: np.exp, sp.log: np.log, sp.tanh: np.tanh, sp.erf: special.erf,
          sp.Abs: np.abs}


def to_numpy(expr, env: dict):
    """Evaluate ``expr`` with random atoms and operator nodes taken from ``env``."""
    if expr in env:
        return env[expr]
    if isinstance(expr, (sp.Symbol, sp.Indexed)):
        raise ClaimError(f"no value for {expr}")
    if isinstance(expr, _OPERATOR_TYPES):
        raise ClaimError(f"no value for {expr}")
    if expr.is_Atom and expr.is_number:  # numbers, pi, I, zoo, nan
        return _real(expr)
    args = [to_numpy(a, env) for a in expr.args] if not expr.is_Relational else None
    if expr.is_Add:
        return sum(args[1:], args[0])
    if expr.is_Mul:
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if expr.is_Pow:
        return np.power(np.asarray(args[0], dtype=np.float64), args[1])
    func = _UNARY.get(type(expr))
    if func is not None:
        return func(args[0])
    if isinstance(expr, (sp.Max, sp.Min)):
        return (np.maximum if isinstance(expr, sp.Max) else np.minimum).reduce(
            np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in args]))
    return _logic(expr, env)


def _logic(expr, env):
    if expr.is_Relational:
        return _relational(expr, env)
    if expr is sp.true or expr is sp.false:
        return float(bool(expr))
    parts = [to_numpy(a, env) for a in expr.args]
    if isinstance(expr, sp.And):
        return np.logical_and.reduce(np.broadcast_arrays(*parts)).astype(np.float64)
    if isinstance(expr, sp.Or):
        return np.logical_or.reduce(np.broadcast_arrays(*parts)).astype(np.float64)
    if isinstance(expr, sp.Not):
        return 1.0 - np.asarray(parts[0], dtype=np.float64)
    raise ClaimError(f"cannot evaluate {type(expr).__name__} numerically")
