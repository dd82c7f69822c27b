"""Exact probability route: ``P(event)`` and ``E(f 1_event)`` nodes in closed form at a point.

At a point the sizes are numbers, so every count of masks has a known number of terms and
every threshold on a Normal input can be ordered exactly (parameter values are exact binary
rationals). :mod:`~dropout_theory.symbolic.probability` writes each node as a closed form in
the parameters (binomial weights for counts of masks, ``Phi`` of affine functions for Normal
inputs given the masks), and both sides are then evaluated with rigorous ball arithmetic: no
sampling error, so a rejection is a certified counterexample, at any number of masks (``k =
24`` is 25 terms, not ``2**24`` patterns). A node it cannot write (a comparison not affine in
the Normal inputs, other laws, ``Var``) leaves the check ``skipped``; the exact enumeration
and Monte Carlo routes are the independent checks.

A conditional ``P(A | B)`` or ``E(f | B)`` divides by ``P(B)``; a condition of probability
exactly 0 at the point is an error that names it (a ``ValueError``, exit code 2 in the CLI).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

from ..symbolic import ExpansionError, NoClosedForm, RandomSpace
from ..symbolic.balls import Ball
from ..symbolic.evaluate import evaluate_ball
from ..symbolic.operators import E, P, operator_nodes
from ..symbolic.probability import conditions, expectation_on, indicator_parts, probability
from .exact import judged
from .expressions import unroll
from .moments import claim_ball, drop_probability
from .registry import route
from .result import RouteResult

__all__ = ["ROUTE", "exact_probability"]

ROUTE = "exact probability"
#: most entries of declared (non-random) arrays whose values are used to order thresholds
MAX_AT_ELEMENTS = 1 << 12


def _point(identity, point, exprs):
    """``(sizes, at)``: integer parameters as SymPy integers (substituted into the events) and
    every other scalar and declared array entry as an exact rational (to order thresholds)."""
    integers = {p.name for p in identity.params if p.integer}
    symbols = set().union(*(e.free_symbols for e in exprs))
    sizes, at = {}, {}
    for symbol in symbols:
        value = point.get(symbol.name)
        if value is None or np.ndim(value):
            continue
        if symbol.name in integers:
            sizes[symbol] = sp.Integer(int(value))
        else:
            at[symbol] = sp.Rational(float(value))
    for expr in exprs:
        for base in expr.atoms(sp.IndexedBase):
            value = point.get(str(base))
            if value is None or not np.ndim(value) or np.size(value) > MAX_AT_ELEMENTS:
                continue
            for index in np.ndindex(np.shape(value)):
                at[base[tuple(sp.Integer(k + 1) for k in index)]] = \
                    sp.Rational(float(value[index]))
    return sizes, at


def _outside(exprs, model, values) -> str | None:
    """An entry of a random array read outside its declared shape, in words, or ``None``
    (a count over ``m[1..d + 1]`` of a length-``d`` array is not Binomial(d + 1); the
    evaluator of the other routes names the index)."""
    for variable in model.variables:
        if not variable.shape:
            continue
        shape = [s if isinstance(s, int) else int(values[s]) for s in variable.shape]
        for expr in exprs:
            for item in expr.atoms(sp.Indexed):
                if str(item.base) != variable.name:
                    continue
                for axis, index in enumerate(item.indices):
                    ranges = [(lo, hi) for node in expr.atoms(sp.Sum, sp.Product)
                              for i, lo, hi in node.limits if i == index] or [(index, index)]
                    for lo, hi in ranges:
                        if not (lo.is_Integer and hi.is_Integer):
                            return f"{item}: a range not fixed at this point"
                        if lo <= hi and (lo < 1 or hi > shape[axis]):
                            return f"{item} runs over {lo}..{hi}, outside 1..{shape[axis]}"
    return None


def _space(space, sizes) -> RandomSpace:
    concrete = RandomSpace()
    for key, law in space.variables.items():
        fields = {f.name: sp.sympify(getattr(law, f.name)).xreplace(sizes)
                  for f in dataclasses.fields(law)}
        concrete.variables[key] = dataclasses.replace(law, **fields)
    return concrete


def _closed_form(node, space, at):
    if isinstance(node, P):
        return probability(node.args[0], space, at)
    parts = indicator_parts(node.args[0]) if isinstance(node, E) else None
    if parts is None:
        raise NoClosedForm(f"{node} is left to the other routes")
    return sp.Add(*[expectation_on(f, event, space, at) for f, event in parts])


def _ball(expr, values):
    """``expr`` at the point, rigorously (as :func:`~.moments.claim_ball`); exact rationals
    too large for a float (a binomial weight of 1000 masks at q = 7/10) enter as balls
    around their correctly rounded quotient."""
    big = {}
    for number in expr.atoms(sp.Rational):
        if max(abs(number.p), number.q) > 1 << 1000:
            mid = number.p / number.q  # Python rounds an integer quotient correctly
            big[number] = Ball(mid, float(np.spacing(abs(mid))) if mid else 5e-324)
    if not big:
        return claim_ball(expr, values)
    drop = drop_probability(values) if ("p" in values or "q" in values) else None
    extra = {} if drop is None else {"p": drop, "q": 1.0 - drop}
    return evaluate_ball(expr, {**extra, **values}, nodes=big)


@route(ROUTE)
def exact_probability(identity, point, claim, context) -> RouteResult:
    model = identity.model
    values = dict(point)
    params = [p for law in model.space.variables.values()
              for p in map(sp.sympify, dataclasses.astuple(law))]
    sizes, at = _point(identity, values, [model.lhs, claim, *params])
    try:
        lhs, rhs = (unroll(e.xreplace(sizes), values) for e in (model.lhs, claim))
        outside = _outside([lhs, rhs], model, values)
        if outside is not None:
            return RouteResult(ROUTE, "skipped", point, note=f"an index outside the declared "
                                                             f"shape: {outside}")
        space = _space(model.space, sizes)
        nodes = operator_nodes(lhs, rhs)
        forms = {node: _closed_form(node, space, at) for node in nodes}
    except (NoClosedForm, ExpansionError, sp.PolynomialError, TypeError) as exc:
        return RouteResult(ROUTE, "skipped", point, note=f"no closed form here: {exc}")
    for node in conditions(lhs, rhs):
        ball = _ball(forms[node], values)
        if float(ball.mid) == 0.0 and float(ball.rad) == 0.0:
            raise ValueError(f"the condition {node.args[0]} has probability 0 here "
                             f"(P({node.args[0]}) = 0); a conditional needs a condition of "
                             f"positive probability")
    sides = [_ball(side.xreplace(forms), values) for side in (lhs, rhs)]
    result = judged(ROUTE, identity, point, *sides)
    lo, hi = result.interval  # the note is what the text report shows under a failure
    result.note = (f"lhs - rhs in [{lo:.6g}, {hi:.6g}] (certified; rounding bound "
                   f"{result.rounding:.3g}); {len(nodes)} operator node(s) in closed form")
    return result
