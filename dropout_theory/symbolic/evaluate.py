"""Evaluate a SymPy statement in ball arithmetic over NumPy arrays: the one numeric evaluator.

Every numeric check compares ``lhs - rhs``; the ball this module returns encloses the exact
value, so a check may say ``fails`` only where the ball excludes 0. The tree is walked node by
node (a table of handlers, no generated code): sizes, scalars and 1-based arrays come from
``values``; random atoms from ``random`` with a leading sample axis; operator nodes (``E``,
``Var``, ``Cov``, ``P``) from ``nodes``. A ``Sum`` is vectorized: its index becomes a trailing
array axis, the body is evaluated once and the axis is reduced by an exact TwoSum cascade.
Factors and terms of a summand that do not depend on the index are first taken out of the sum
(the same real number, so the ball still encloses it), so that ``sum_i sum_j a_i b_j`` costs
``d`` elements per sample instead of ``d**2``.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from . import balls
from .balls import Ball
from .operators import OPERATOR_TYPES

__all__ = ["evaluate", "evaluate_ball", "evaluate_with_bound", "work_estimate"]

#: elements per array in one block of a Sum's body: blocks stay in the L2 cache and bound the
#: memory of a chunk whatever the sample count
BLOCK = 2 ** 18


def evaluate_ball(expr, values: dict, *, random: dict | None = None,
                  nodes: dict | None = None) -> Ball:
    """The ball enclosing ``expr`` at a point.

    Parameters
    ----------
    expr : sympy expression
    values : dict
        name -> int (sizes), float (exact scalars) or ndarray (indexed 1-based, ``w[i]``).
    random : dict, optional
        name -> ndarray (exact) or Ball with a leading sample axis: ``(S,)`` for scalars,
        ``(S, *shape)`` for arrays.
    nodes : dict, optional
        sympy expression -> Ball of shape ``()`` or ``(B,)``, taken before descending.

    Returns
    -------
    Ball of shape ``()``, or ``(S,)`` where random or batched inputs are used.

    Examples
    --------
    >>> i, d = sp.symbols("i d", integer=True); m = sp.IndexedBase("m")
    >>> masks = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    >>> evaluate_ball(sp.Sum(m[i], (i, 1, d)) >= 1, {"d": 3}, random={"m": masks})
    Ball(mid=array([1., 0.]), rad=array([0., 0.]))
    """
    expr = sp.sympify(expr)
    evaluator = _Evaluator(values, random or {}, nodes or {})
    prepared = _prepare(expr, frozenset(evaluator.nodes))
    result = evaluator.eval(prepared, evaluator.top())
    if evaluator.lead is not None and evaluator.lead_dependent(prepared):
        return result.broadcast_to((evaluator.lead,))
    return result.reshape(())


def evaluate(expr, values: dict) -> float:
    """The midpoint of :func:`evaluate_ball` as a float (arrays 1-based in sums).

    Examples
    --------
    >>> w = sp.IndexedBase("w"); i, d = sp.symbols("i d", integer=True)
    >>> evaluate(sp.Sum(w[i] ** 2, (i, 1, d)), {"d": 2, "w": np.array([3.0, 4.0])})
    25.0
    """
    return float(evaluate_ball(expr, values).mid)


def evaluate_with_bound(expr, values: dict) -> tuple[float, float]:
    """``(value, bound)``: the midpoint and the radius of the enclosing ball.

    >>> evaluate_with_bound(sp.Rational(1, 4) + 1, {})
    (1.25, 0.0)
    """
    ball = evaluate_ball(expr, values)
    return float(ball.mid), float(ball.rad)


def work_estimate(expr, values: dict) -> int:
    """Approximate elementwise operations per sample to evaluate ``expr`` at these sizes: the
    node count of each summand times the lengths of its enclosing sum axes.

    >>> i, d = sp.symbols("i d", integer=True); w = sp.IndexedBase("w")
    >>> work_estimate(sp.Sum(w[i] ** 2, (i, 1, d)), {"d": 100})
    400
    """
    evaluator = _Evaluator(values, {}, {})
    return evaluator.work(_prepare(sp.sympify(expr), frozenset()), evaluator.top())


# --- preparation: sums nested one index at a time, index-free factors taken out ------------

_LEAVES = (sp.Indexed, sp.Trace, sp.MatrixExpr) + OPERATOR_TYPES


@functools.lru_cache(maxsize=512)
def _prepare(expr, keys: frozenset):
    if expr in keys or expr.is_Atom or isinstance(expr, _LEAVES):
        return expr
    if isinstance(expr, sp.Sum):
        body = _prepare(expr.function, keys)
        for limit in expr.limits:  # innermost first
            if len(limit) != 3:
                raise ValueError(f"the sum {expr} needs numeric bounds for {limit[0]}")
            body = _hoist(body, *limit)
        return body
    args = tuple(_prepare(a, keys) for a in expr.args)
    if args == expr.args:
        return expr
    try:
        return expr.func(*args, evaluate=False)
    except TypeError:
        return expr.func(*args)


def _hoist(body, index, lo, hi):
    """``Sum(body, (index, lo, hi))`` with the factors and terms free of ``index`` outside."""
    if index not in body.free_symbols:  # Karr: sum_{lo}^{hi} c = c (hi - lo + 1) in all cases
        return sp.Mul(body, hi - lo + 1, evaluate=False)
    if body.is_Mul:
        free = [f for f in body.args if index not in f.free_symbols]
        if free:
            bound = sp.Mul(*[f for f in body.args if index in f.free_symbols])
            return sp.Mul(*free, _hoist(bound, index, lo, hi), evaluate=False)
    if body.is_Add:
        split = [t for t in body.args if index not in t.free_symbols
                 or (t.is_Mul and any(index not in f.free_symbols for f in t.args))]
        if split:
            rest = [t for t in body.args if t not in split]
            parts = [_hoist(t, index, lo, hi) for t in split]
            return sp.Add(*parts, *([sp.Sum(sp.Add(*rest), (index, lo, hi))] if rest else []),
                          evaluate=False)
    return sp.Sum(body, (index, lo, hi))


# --- the evaluator ----------------------------------------------------------------------------

class _Frame:
    """Where a summand is evaluated: index arrays (``1 + depth`` dims, the leading one of length
    1), their lengths ``shape``, the positions that count (``mask``, None = all) and the rows
    ``lead`` of the sample axis in this block."""

    __slots__ = ("axes", "shape", "mask", "lead", "cache")

    def __init__(self, axes, shape, mask, lead, cache=None):
        self.axes, self.shape, self.mask, self.lead = axes, shape, mask, lead
        self.cache = cache  # values that do not depend on the rows, shared by row blocks

    def nested(self, index, values, mask, cache=None) -> "_Frame":
        axes = {k: v[..., None] for k, v in self.axes.items()}
        axes[index] = values
        return _Frame(axes, self.shape + (values.shape[-1],), mask, self.lead, cache)

    def rows(self, start, stop) -> "_Frame":
        return _Frame(self.axes, self.shape, self.mask, slice(start, stop))

    def lift(self, array):
        """A per-row array (rows first) with the index axes appended."""
        return array.reshape(array.shape[:1] + (1,) * len(self.shape)) if array.ndim == 1 else array


_HANDLERS = {}


def _handles(*types):
    def register(func):
        _HANDLERS.update(dict.fromkeys(types, func))
        return func
    return register


def _leading(name, value) -> int:
    if np.ndim(value.mid if isinstance(value, Ball) else value) == 0:
        raise ValueError(f"the random value {name} needs a leading sample axis")
    return np.shape(value.mid if isinstance(value, Ball) else value)[0]


class _Evaluator:
    def __init__(self, values, random, nodes):
        self.values = values
        self.random = {k: v if isinstance(v, Ball) else np.asarray(v, dtype=np.float64)
                       for k, v in random.items()}
        self.nodes = {sp.sympify(k): v if isinstance(v, Ball) else Ball.exact(v)
                      for k, v in nodes.items()}
        leads = {_leading(k, v) for k, v in self.random.items()}
        leads |= {v.shape[0] for v in self.nodes.values() if v.ndim}
        if len(leads) > 1:
            raise ValueError(f"random values and batched nodes disagree on the sample count: "
                             f"{sorted(leads)}")
        self.lead = leads.pop() if leads else None
        self._batched = [k for k, v in self.nodes.items() if v.ndim]
        self._arrays, self._dependent = {}, {}

    def top(self) -> _Frame:
        return _Frame({}, (), None, None if self.lead is None else slice(0, self.lead))

    def eval(self, expr, frame) -> Ball:
        if expr in self.nodes:
            value = self.nodes[expr]
            return value if not value.ndim else Ball._make(
                frame.lift(value.mid[frame.lead]), frame.lift(value.rad[frame.lead]))
        if frame.cache is None or expr.is_Atom or self.lead_dependent(expr):
            return self._dispatch(expr, frame)
        if expr not in frame.cache:
            frame.cache[expr] = self._dispatch(expr, frame)
        return frame.cache[expr]

    def _dispatch(self, expr, frame) -> Ball:
        for cls in type(expr).__mro__:
            if cls in _HANDLERS:
                return _HANDLERS[cls](self, expr, frame)
        raise ValueError(f"cannot evaluate {type(expr).__name__} numerically")

    def lead_dependent(self, expr) -> bool:
        """Does ``expr`` read a random value or a batched node (syntactically)?"""
        if expr not in self._dependent:
            names = {s.name for s in expr.free_symbols if isinstance(s, sp.Symbol)}
            self._dependent[expr] = bool(names & self.random.keys()) or any(
                expr.has(k) for k in self._batched)
        return self._dependent[expr]

    def array(self, name):
        """(array or Ball, is it random)."""
        if name not in self._arrays:
            if name in self.random:
                self._arrays[name] = (self.random[name], True)
            elif name in self.values and np.ndim(self.values[name]) > 0:
                self._arrays[name] = (np.asarray(self.values[name], dtype=np.float64), False)
            else:
                raise ValueError(f"no value given for the array {name}")
        return self._arrays[name]

    def integer(self, expr, frame):
        """An integer-valued index or bound as an int or an int64 array (exactly)."""
        if expr.is_Integer:
            return int(expr)
        if isinstance(expr, sp.Symbol) and expr in frame.axes:
            return frame.axes[expr]
        if isinstance(expr, sp.Symbol) and np.ndim(self.values.get(expr.name, ())) == 0:
            return _as_int(expr.name, self.values[expr.name])
        if (expr.is_Add or expr.is_Mul) and all(a.is_integer for a in expr.args):
            parts = [self.integer(a, frame) for a in expr.args]
            return functools.reduce(np.add if expr.is_Add else np.multiply, parts)
        if self.lead_dependent(expr):
            raise ValueError(f"the index or bound {expr} depends on a random value")
        ball = self.eval(expr, frame)
        with np.errstate(invalid="ignore"):
            if not (np.all(ball.rad == 0) and np.all(np.floor(ball.mid) == ball.mid)):
                raise ValueError(f"the index or bound {expr} is not an integer here")
        return ball.mid.astype(np.int64)

    def work(self, expr, frame) -> int:
        if isinstance(expr, sp.Sum):
            index, first, count, _, _ = self._axis(expr, frame)
            if count == 0:
                return 1
            values = np.arange(first, first + count).reshape((1,) * (1 + len(frame.shape)) + (-1,))
            return count * (1 + self.work(_summand(expr), frame.nested(index, values, None)))
        if expr.is_Atom or isinstance(expr, _LEAVES):
            return 1
        return 1 + sum(self.work(a, frame) for a in expr.args)

    def _axis(self, expr, frame):
        """The outermost index of a sum, its first value and count (over all outer positions,
        Karr's reversed ranges included), and its bounds."""
        index, lo, hi = expr.limits[-1]
        lo, hi = self.integer(lo, frame), self.integer(hi, frame)
        first = int(min(np.min(lo), np.min(hi) + 1))
        last = int(max(np.max(hi), np.max(lo) - 1))
        return index, first, max(0, last - first + 1), lo, hi


def _as_int(name, value) -> int:
    if isinstance(value, (int, np.integer)) or float(value).is_integer():
        return int(value)
    raise ValueError(f"{name} = {value!r} is used as a size or an index but is not an integer")


def _integer_ball(n: int) -> Ball:
    """Exact below 2**53, else the nearest double with its exact conversion error."""
    if abs(n) <= 2 ** 53:
        return Ball.exact(float(n))
    try:
        f = float(n)
    except OverflowError:
        return Ball(math.copysign(math.inf, n), math.inf)
    return Ball(f, np.nextafter(float(abs(n - int(f))), math.inf))


# --- handlers, one per node type ------------------------------------------------------------

@_handles(sp.Number, sp.NumberSymbol, sp.core.numbers.ComplexInfinity)
def _number(ev, expr, frame):
    """Integers exact below 2**53, rationals as ball quotients, floats within their exact
    conversion error, pi and E within one spacing; nan, zoo and oo are undefined."""
    if expr.is_Integer:
        return _integer_ball(int(expr))
    if expr.is_Rational:
        return balls.div(_integer_ball(int(expr.p)), _integer_ball(int(expr.q)))
    value = float(expr) if expr.is_finite else math.nan
    if not math.isfinite(value):
        return Ball(math.nan, math.inf)
    if not expr.is_Float:  # evalf rounds the constant correctly to 53 bits
        return Ball(value, np.spacing(abs(value)))
    error = abs(sp.Rational(expr) - sp.Rational(value))  # exact binary values
    return Ball(value, np.nextafter(float(error), math.inf) if error else 0.0)


@_handles(sp.core.numbers.ImaginaryUnit)
def _imaginary(ev, expr, frame):
    """Not a real number (sqrt(-1), log(-1)): the value is undefined."""
    return Ball(math.nan, math.inf)


@_handles(sp.logic.boolalg.BooleanTrue, sp.logic.boolalg.BooleanFalse)
def _truth(ev, expr, frame):
    return Ball.exact(1.0 if expr is sp.true else 0.0)


@_handles(sp.Symbol)
def _symbol(ev, expr, frame):
    if expr in frame.axes:
        return Ball.exact(frame.axes[expr].astype(np.float64))
    name = expr.name
    if name in ev.random:
        value = ev.random[name]
        if isinstance(value, Ball):
            return Ball._make(frame.lift(value.mid[frame.lead]), balls._ZERO if balls._is_zero(
                value._rad) else frame.lift(value.rad[frame.lead]))
        return Ball.exact(frame.lift(value[frame.lead]))
    if name not in ev.values:
        raise ValueError(f"no value given for {name}")
    value = ev.values[name]
    if np.ndim(value) > 0:
        raise ValueError(f"the value of {name} is an array: index it, e.g. {name}[i]")
    if isinstance(value, (bool, int, np.integer)):
        return _integer_ball(int(value))
    return Ball.exact(float(value))


@_handles(sp.Indexed)
def _indexed(ev, expr, frame):
    name = expr.base.label.name
    source, random = ev.array(name)
    shape = np.shape(source.mid if isinstance(source, Ball) else source)[int(random):]
    if len(expr.indices) != len(shape):
        raise ValueError(f"the array {name} has shape {shape} but is indexed as {expr}")
    index = _checked(name, [np.asarray(ev.integer(k, frame)) - 1 for k in expr.indices],
                     shape, frame.mask)
    index = tuple(k[0] if k.ndim else k for k in index)  # indices never depend on the sample
    shape = np.broadcast_shapes(*(np.shape(k) for k in index))
    index = ((frame.lead,) if random else ()) + _as_slices(index)
    if random:
        gather = lambda a: frame.lift(a[index].reshape((-1,) + shape))  # noqa: E731
    else:
        gather = lambda a: a[index].reshape((1,) + shape) if shape else a[index]  # noqa: E731
    if isinstance(source, Ball) and not balls._is_zero(source._rad):
        return Ball._make(gather(source.mid), gather(source.rad))
    return Ball._make(gather(getattr(source, "mid", source)), balls._ZERO)


def _as_slices(index) -> tuple:
    """Indices that run over consecutive values, each along its own axis in order, become
    slices: basic indexing returns a view where fancy indexing would copy."""
    out, last = [], -1
    for k in index:
        flat = np.ravel(k)
        if flat.size == 1:
            out.append(int(flat[0]))
            continue
        axes = [a for a, n in enumerate(np.shape(k)) if n > 1]
        if len(axes) != 1 or axes[0] <= last or np.any(np.diff(flat) != 1):
            return tuple(index)
        last = axes[0]
        out.append(slice(int(flat[0]), int(flat[-1]) + 1))
    return tuple(out)


def _checked(name, index, shape, mask):
    """Validate 1-based indices where they count (``mask``); elsewhere any valid one."""
    for k, n in enumerate(shape):
        bad = (index[k] < 0) | (index[k] >= n)
        live = bad if mask is None else bad & mask
        if np.any(live):
            full = np.broadcast_shapes(live.shape, *(np.shape(i) for i in index))
            at = tuple(np.argwhere(np.broadcast_to(live, full))[0])
            where = ", ".join(str(int(np.broadcast_to(i, full)[at]) + 1) for i in index)
            raise ValueError(f"index {name}[{where}] is out of range for the array {name} of "
                             f"shape {tuple(shape)} (indices are 1-based)")
        if np.any(bad):
            index[k] = np.clip(index[k], 0, n - 1)
    return index


@_handles(sp.Add)
def _add(ev, expr, frame):
    return functools.reduce(balls.add, [ev.eval(a, frame) for a in expr.args])


@_handles(sp.Mul)
def _mul(ev, expr, frame):
    # small (index-only) factors first: fewer full-size products
    factors = sorted((ev.eval(a, frame) for a in expr.args), key=lambda b: np.size(b.mid))
    return functools.reduce(balls.mul, factors)


@_handles(sp.Pow)
def _pow(ev, expr, frame):
    base, exponent = expr.args
    if exponent.is_Integer:
        return balls.ipow(ev.eval(base, frame), int(exponent))
    if exponent == sp.S.Half:
        return balls.sqrt(ev.eval(base, frame))
    return balls.power(ev.eval(base, frame), ev.eval(exponent, frame))


_UNARY = {sp.exp: balls.exp, sp.log: balls.log, sp.tanh: balls.tanh, sp.erf: balls.erf,
          sp.Abs: balls.absolute, sp.floor: balls.floor, sp.ceiling: balls.ceil}
_NARY = {sp.Max: balls.maximum, sp.Min: balls.minimum, sp.And: balls.and_, sp.Or: balls.or_,
         sp.Not: balls.not_}
_RELATIONS = {sp.StrictLessThan: "<", sp.LessThan: "<=", sp.StrictGreaterThan: ">",
              sp.GreaterThan: ">=", sp.Equality: "==", sp.Unequality: "!="}


@_handles(*_UNARY, *_NARY)
def _function(ev, expr, frame):
    func = _UNARY.get(type(expr)) or _NARY[type(expr)]
    return func(*[ev.eval(a, frame) for a in expr.args])


@_handles(*_RELATIONS)
def _relation(ev, expr, frame):
    return balls.compare(_RELATIONS[type(expr)], *[ev.eval(a, frame) for a in expr.args])


@_handles(sp.DiracDelta)
def _dirac(ev, expr, frame):
    """The curvature at a kink (the second derivative of Max, Min, Abs): 0 where the argument
    is certainly away from 0, unbounded where it may be 0."""
    if len(expr.args) != 1:
        raise ValueError(f"cannot evaluate {expr} numerically")
    arg = ev.eval(expr.args[0], frame)
    return Ball(np.zeros(arg.shape), np.where(arg.excludes_zero(), 0.0, np.inf))


@_handles(sp.Heaviside)
def _heaviside(ev, expr, frame):
    """The slope of a kink: 0 below, 1 above, [0, 1] where the argument may be 0."""
    return balls.compare(">", ev.eval(expr.args[0], frame), 0.0)


@_handles(sp.sign)
def _sign(ev, expr, frame):
    arg = ev.eval(expr.args[0], frame)
    return balls.compare(">", arg, 0.0) - balls.compare("<", arg, 0.0)


@_handles(sp.KroneckerDelta)
def _delta(ev, expr, frame):
    return balls.compare("==", *[ev.eval(a, frame) for a in expr.args[:2]])


@_handles(sp.Piecewise)
def _piecewise(ev, expr, frame):
    """The first piece whose condition holds; where a condition is undecided (its sides'
    balls overlap) the ball spans both candidates, and undefined stays undefined."""
    *pieces, (last, condition) = expr.args
    if condition is not sp.true:
        raise ValueError(f"the conditional {expr} has no value where no condition holds")
    value = ev.eval(last, frame)
    for piece, condition in reversed(pieces):
        chosen, other = ev.eval(piece, frame), value
        test = ev.eval(condition, frame)
        shape = np.broadcast_shapes(chosen.shape, other.shape, test.shape)
        chosen, other, test = (b.broadcast_to(shape) for b in (chosen, other, test))
        span = balls.from_interval(np.minimum(chosen.lo, other.lo),
                                   np.maximum(chosen.hi, other.hi))
        undecided = test.rad != 0
        value = balls.where(test.mid == 1.0, chosen, balls.where(test.mid == 0.0, other, span))
        value = balls.where(undecided, span, value)
        undefined = np.isnan(test.mid)
        if np.any(undefined):
            value = balls.where(undefined, Ball(np.nan, np.inf), value)
    return value


@_handles(sp.Product)
def _product(ev, expr, frame):
    """A product over an index: the body evaluated once with the index as a trailing axis,
    then multiplied out factor by factor in ball arithmetic; an empty range is 1 (a range
    that runs backwards by more than one is refused: SymPy reads it as a quotient)."""
    if len(expr.limits) != 1:
        inner = sp.Product(expr.function, *expr.limits[:-1])
        return ev.eval(sp.Product(inner, expr.limits[-1]), frame)
    index, lo, hi = expr.limits[0]
    lo, hi = ev.integer(lo, frame), ev.integer(hi, frame)
    if np.any(np.asarray(hi) < np.asarray(lo) - 1):
        raise ValueError(f"the product {expr} runs backwards")
    first, last = int(np.min(lo)), int(np.max(hi))
    count = max(0, last - first + 1)
    if count == 0:
        return Ball.exact(1.0)
    depth = len(frame.shape)
    values = np.arange(first, first + count).reshape((1,) * (depth + 1) + (count,))
    low, high = (np.asarray(b)[..., None] if np.ndim(b) else b for b in (lo, hi))
    inside = (values >= low) & (values <= high)
    mask = None if frame.mask is None else frame.mask[..., None]
    if not np.all(inside):
        mask = inside if mask is None else mask & inside
    value = ev.eval(expr.function, frame.nested(index, values, mask))
    value = value.broadcast_to(np.broadcast_shapes(value.shape, values.shape))
    if not np.all(inside):
        value = balls.where(np.broadcast_to(inside, value.shape), value, Ball.exact(1.0))
    result = value[..., 0]
    for k in range(1, count):
        result = balls.mul(result, value[..., k])
    return result


@_handles(*OPERATOR_TYPES)
def _missing_node(ev, expr, frame):
    raise ValueError(f"no value for {expr}")


@_handles(sp.MatrixExpr)
def _matrix_outside_trace(ev, expr, frame):
    raise ValueError(f"matrix symbols outside a trace cannot be evaluated: {expr}")


@_handles(sp.Sum)
def _sum(ev, expr, frame):
    """Blocks of rows (samples) and of the index keep every array near ``BLOCK`` elements."""
    index, first, count, lo, hi = ev._axis(expr, frame)
    if count == 0:
        return Ball.exact(0.0)
    outer = math.prod(frame.shape)
    rows = frame.lead.stop - frame.lead.start if (
        frame.lead is not None and ev.lead_dependent(_summand(expr))) else 1
    step = max(1, BLOCK // (outer * count))
    piece = count if outer * count <= BLOCK else max(1, BLOCK // outer)
    total = None
    for offset in range(0, count, piece):
        args = (ev, _summand(expr), index, lo, hi, first + offset, min(piece, count - offset))
        if rows == 1:
            part = _sum_piece(*args, frame)
        else:
            cache, start = {}, frame.lead.start
            part = balls.concatenate([
                _sum_piece(*args, frame.rows(start + a, start + min(rows, a + step)), cache)
                .broadcast_to((min(rows, a + step) - a,) + frame.shape)
                for a in range(0, rows, step)])
        total = part if total is None else balls.add(total, part)
    return total


@functools.lru_cache(maxsize=512)
def _summand(expr):
    """What the outermost index of a sum runs over (SymPy flattens nested sums into one)."""
    return expr.function if len(expr.limits) == 1 else sp.Sum(expr.function, *expr.limits[:-1])


def _sum_piece(ev, body, index, lo, hi, first, count, frame, cache=None):
    depth = len(frame.shape)
    values = np.arange(first, first + count).reshape((1,) * (depth + 1) + (count,))
    lo, hi = (np.asarray(b)[..., None] if np.ndim(b) else b for b in (lo, hi))
    inside = (values >= lo) & (values <= hi)
    reverse = (values > hi) & (values < lo)  # Karr: sum_a^b = -sum_{b+1}^{a-1} for b < a - 1
    weighted = not np.all(inside)
    mask = None if frame.mask is None else frame.mask[..., None]
    if weighted:
        mask = (inside | reverse) if mask is None else mask & (inside | reverse)
    value = ev.eval(body, frame.nested(index, values, mask, cache))
    value = value.broadcast_to(np.broadcast_shapes(value.shape, values.shape))
    if weighted:
        mid = np.where(inside, value.mid, np.where(reverse, -value.mid, 0.0))
        rad = value._rad if balls._is_zero(value._rad) else np.where(inside | reverse,
                                                                        value.rad, 0.0)
        value = Ball._make(mid, rad)
    return value.sum(axis=-1)


# --- traces of matrix expressions -----------------------------------------------------------

@_handles(sp.Trace)
def _trace(ev, expr, frame):
    """``tr(M)`` with a first-order forward error bound: ``gamma_{k n^3}`` times the condition
    numbers of the inverted matrices times ``tr`` of the product of the factors' absolute
    values (k factors, n the largest dimension). Not rigorous, but it is only ever compared
    with Monte Carlo standard errors many orders larger."""
    value, magnitude, condition, factors = _matrix(expr.arg, ev.values)
    size = max(max(np.shape(ev.values[m.name]) or (1,)) for m in expr.atoms(sp.MatrixSymbol))
    value = float(np.trace(value))
    bound = balls.gamma(max(1, factors) * size ** 3) * condition * float(np.trace(magnitude))
    return Ball(value, bound if math.isfinite(value) else math.inf)


def _matrix(expr, values: dict):
    """A matrix expression (products, sums, transposes, inverses, diagonals) as an array, with
    the product of its factors' absolute values, the product of the condition numbers of its
    inverses and its number of factors (for the error bound of a trace)."""
    from sympy.matrices.expressions.diagonal import DiagonalMatrix
    if isinstance(expr, sp.MatrixSymbol):
        if expr.name not in values:
            raise ValueError(f"no value given for the matrix {expr.name}")
        value = np.asarray(values[expr.name], dtype=np.float64)
        value = value.reshape(-1, 1) if value.ndim == 1 else value
        return value, np.abs(value), 1.0, 1
    if isinstance(expr, (sp.MatMul, sp.MatAdd)):
        scalar, matrices = expr.as_coeff_matrices() if expr.is_MatMul else (1, expr.args)
        parts = list(zip(*[_matrix(m, values) for m in matrices]))
        if expr.is_MatMul:
            scalar = evaluate(scalar, values)
            value, magnitude = (functools.reduce(np.matmul, p) for p in parts[:2])
            value, magnitude = scalar * value, abs(scalar) * magnitude
        else:
            value, magnitude = sum(parts[0]), sum(parts[1])
        return value, magnitude, math.prod(parts[2]), sum(parts[3])
    if isinstance(expr, sp.Transpose):
        value, magnitude, condition, factors = _matrix(expr.arg, values)
        return value.T, magnitude.T, condition, factors
    if isinstance(expr, sp.Inverse):
        # a solve would need the right side; the claim's matrices are small and well posed
        value, _, condition, factors = _matrix(expr.arg, values)
        inverse = np.linalg.inv(value)
        return inverse, np.abs(inverse), condition * float(np.linalg.cond(value)), factors + 1
    if isinstance(expr, sp.Identity):
        eye = np.eye(int(evaluate(expr.rows, values)))
        return eye, eye, 1.0, 0
    if isinstance(expr, DiagonalMatrix):
        value, magnitude, condition, factors = _matrix(expr.arg, values)
        return np.diag(np.diag(value)), np.diag(np.diag(magnitude)), condition, factors
    raise ValueError(f"cannot evaluate the matrix expression {expr}")
