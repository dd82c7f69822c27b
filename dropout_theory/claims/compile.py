"""A validated :class:`~dropout_theory.claims.schema.Claim` becomes an
:class:`~dropout_theory.identity.Identity`: the same object a family module registers, so a
user's claim runs through the same routes, tests and verdict rules as the registry.

Each declared domain becomes a :class:`~dropout_theory.identity.Param` with a typical range
and edges; dimensions run over 1..4 (the first point at 4) and, when the symbolic route has
no proof, also at the widths people use, 8, 64 and 1024; the random variables become an
:class:`~dropout_theory.identity.ExpressionModel`, whose ``space`` the engine derives from.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar

import numpy as np
import sympy as sp

from ..identity import (Approximation, ExpressionModel, Identity, Param, RandomVariable,
                        axis_length, axis_text, uniform_sampler)
from ..symbolic.budget import GAVE_UP, shortest_in_time, time_limit
from ..symbolic.evaluate import evaluate_ball
from ..symbolic.expectation import Derivation, NoClosedForm, Step
from ..symbolic.operators import OPERATOR_TYPES, E, P
from ..symbolic.probability import conditions, derive_probability
from ..symbolic.statements import derive_statement
from .conditional import surely_instead, top_level_conditioned
from .limits import escape, excerpt
from .parser import MAX_SIZE, ClaimError
from .schema import Claim, interval

__all__ = ["to_identity", "DOMAIN_RULES", "LARGE_SIZES", "PremisedIdentity", "APPROXIMATION_RANGE",
           "PREMISE_TRIES", "ProbabilityModel"]

#: domain -> (typical range, edges, low, high): edges are the domain's boundary where it is
#: closed (q = 1, 0) and points near it where it is open
DOMAIN_RULES = {"keep": ((0.1, 0.95), (1.0, 0.05), 0.0, 1.0),
                "probability": ((0.1, 0.9), (0.05, 0.95), 0.0, 1.0),
                "real": ((-2.0, 2.0), (0.0,), -np.inf, np.inf),
                "positive": ((0.2, 2.0), (0.05,), 0.0, np.inf),
                "nonnegative": ((0.0, 2.0), (0.0,), 0.0, np.inf),
                "negative": ((-2.0, -0.2), (-0.05,), -np.inf, 0.0),
                "integer": ((-3, 3), (0,), -np.inf, np.inf)}


def domain_rule(domain: str) -> tuple:
    """``(typical range, edges, low, high)`` of a domain; an interval ``real(a, b)`` is
    closed: typical over all of it, both ends as edges."""
    ends = interval(domain)
    if ends is None:
        return DOMAIN_RULES[domain]
    a, b = map(float, ends)
    return (a, b), (a, b), a, b


#: sizes beyond the typical ones, checked where the symbolic route has no proof
LARGE_SIZES = (8, 64, 1024)
_EXPECTED = {"holds": "holds", "fails": "refuted", "approximate": "approximate", None: None}
#: the range of an approximation's parameter around which the order route sweeps (widened
#: two decades each side inside the domain, as the registry's approximations)
APPROXIMATION_RANGE = (1e-3, 1e-1)
#: points drawn per point wanted before premises that are hard to hit are reported
PREMISE_TRIES = 200


def _satisfies(premises, point) -> bool:
    """Every premise certainly true at ``point`` (its indicator ball is exactly 1)."""
    for premise in premises:
        ball = evaluate_ball(premise, point)
        if not (float(ball.rad) == 0.0 and float(ball.mid) == 1.0):
            return False
    return True


def _nonnegative(premises):
    """Expressions the premises make non-negative: ``a > b`` gives ``a - b``."""
    for premise in premises:
        if isinstance(premise, sp.And):
            yield from _nonnegative(premise.args)
        elif isinstance(premise, (sp.StrictGreaterThan, sp.GreaterThan)):
            yield premise.lhs - premise.rhs
        elif isinstance(premise, (sp.StrictLessThan, sp.LessThan)):
            yield premise.rhs - premise.lhs


def _sign(value, known) -> int:
    """+1 when ``value`` is a positive multiple of an expression the premises make
    non-negative, -1 for a negative multiple, 0 when the premises say nothing."""
    for g in known:
        try:
            ratio = sp.cancel(value / g)
        except (TypeError, ValueError, ZeroDivisionError, sp.PolynomialError):
            continue
        if ratio.is_positive:
            return 1
        if ratio.is_negative:
            return -1
    return 0


def _unkinked(expr, known):
    """``Max(0, a)``, ``Min(0, a)`` and ``Abs(a)`` with the sign of ``a`` the premises give
    resolved (so ``a >= 0`` or ``a <= 0`` is all that is used: exact at ``a = 0`` too)."""
    if isinstance(expr, sp.Abs):
        sign = _sign(expr.args[0], known)
        return expr.args[0] * sign if sign else expr
    zero = [a for a in expr.args if a == 0]
    if len(expr.args) == 2 and zero:
        other = next(a for a in expr.args if a is not zero[0])
        sign = _sign(other, known)
        if sign:
            keeps = (sign > 0) == isinstance(expr, sp.Max)
            return other if keeps else sp.Integer(0)
    return expr


def refine(expr, premises):
    """``expr`` with the kinks the premises decide resolved (:func:`_unkinked`)."""
    known = list(_nonnegative(premises))
    if not known or not expr.has(sp.Max, sp.Min, sp.Abs):
        return expr
    return expr.replace(lambda e: isinstance(e, (sp.Max, sp.Min, sp.Abs)),
                        lambda e: _unkinked(e, known))


def derive_under(premises, lhs, space) -> Derivation:
    """The engine's derivation of ``lhs``, with the kinks the premises decide resolved:
    ``q Max(0, x - y)`` is ``q (x - y)`` given ``x > y``. This is how the symbolic route
    uses ``assume``; premises that bound a scalar by 0 also become the symbol's own
    assumptions (:mod:`.schema`)."""
    try:
        derivation = derive_statement(lhs, space)
    except (StopIteration, IndexError, KeyError, ZeroDivisionError) as exc:
        # SymPy failing inside simplify (sum_simplify raises StopIteration on some sums of
        # softmax terms) is no verdict: the symbolic route says inconclusive
        raise NoClosedForm(f"the engine stopped ({type(exc).__name__} inside SymPy)") from None
    result = derivation.result
    refined = refine(result, premises)
    if refined == result:
        return derivation
    return Derivation(refined, derivation.steps + [
        Step(f"under the premises {', '.join(map(str, premises))}", refined)])


@dataclass(frozen=True)
class ProbabilityModel(ExpressionModel):
    """A claim with probabilities (``P``, conditionals): the exact probability route first
    (closed forms at any number of masks), then exact enumeration and Monte Carlo as the
    independent checks."""

    routes: ClassVar[tuple] = ("exact probability", "exact", "montecarlo")


def _has_events(*exprs) -> bool:
    """Whether a side has a ``P`` node or an ``E`` of a Piecewise (a conditional mean)."""
    exprs = [e for e in exprs if isinstance(e, sp.Basic)]
    return any(e.has(P) or any(isinstance(n.args[0], sp.Piecewise) for n in e.atoms(E))
               for e in exprs)


def _check_conditions(claim: Claim, *exprs) -> None:
    """A condition whose probability is 0 for every parameter value is an error at once."""
    for node in conditions(*exprs):
        try:
            with time_limit():
                value = derive_probability(node.args[0], claim.space).result
        except (*GAVE_UP, ArithmeticError):
            continue  # no closed form: each checked point tests the condition instead
        if sp.simplify(value) == 0:
            raise ClaimError(f"claim {escape(claim.name)!r}: the condition "
                             f"{excerpt(str(node.args[0]), 80)} has probability 0 "
                             f"(P({node.args[0]}) = 0); a conditional needs a condition of "
                             f"positive probability")


@dataclass(frozen=True)
class PremisedIdentity(Identity):
    """A claim with premises (``assume = [...]``): typical points are drawn inside them (by
    rejection), edge and size points outside them are left out."""

    premises: tuple = ()

    def draw_points(self, rng, n):
        kept, drawn = [], 0
        while len(kept) < n and drawn < PREMISE_TRIES * n:
            batch = Identity.draw_points(self, rng, n)
            drawn += n
            kept += [point for point in batch if _satisfies(self.premises, point)]
        if len(kept) < n:
            raise ValueError(f"the premises are hard to hit: {len(kept)} of {drawn} points drawn "
                             f"over the declared domains satisfy them (narrow the domains "
                             f"instead, e.g. x = \"real(0.5, 2)\" rather than x > 0.5)")
        return kept[:n]

    def extra_points(self, first, *, proved, rng):
        for label, point in Identity.extra_points(self, first, proved=proved, rng=rng):
            if _satisfies(self.premises, point):
                yield label, point


def _covariance_sampler(shape: tuple):
    """A ``Param.sampler`` drawing a covariance matrix: ``A A^T / n + I / 4`` with ``A``
    standard normal (symmetric, eigenvalues at least 1/4, entries correlated)."""
    def draw(rng, partial):
        n = axis_length(shape[0], partial)
        a = rng.standard_normal((n, n))
        cov = a @ a.T / n + np.eye(n) / 4
        return (cov + cov.T) / 2  # exactly symmetric, whatever order the product summed in
    return draw


def _params(claim: Claim) -> tuple:
    params = []
    for name, (domain, shape) in claim.domains.items():
        if domain == "dimension":
            low = claim.min_sizes.get(name, 1)
            if low > MAX_SIZE:
                raise ClaimError(f"claim {escape(claim.name)!r}: an index literal exceeds the "
                                 f"largest typical size {MAX_SIZE}")
            params.append(Param(name, 1, np.inf, typical=(low, MAX_SIZE), integer=True,
                                large=LARGE_SIZES))
            continue
        if domain == "covariance":
            params.append(Param(name, -np.inf, np.inf, typical=(-2.0, 2.0), shape=shape,
                                sampler=_covariance_sampler(shape)))
            continue
        (a, b), edges, low, high = domain_rule(domain)
        if domain == "integer":  # an integer parameter (not a size): -3..3, edge 0
            params.append(Param(name, low, high, typical=(a, b), integer=True, edges=edges))
            continue
        params.append(Param(name, low, high, typical=(a, b), shape=shape,
                            sampler=uniform_sampler(a, b, shape) if shape else None,
                            edges=() if shape else edges))
    return tuple(params)


def _notation(claim: Claim) -> str:
    symbols = ", ".join(f"{n} {d}" + (f"[{', '.join(map(axis_text, s))}]" if s else "")
                        for n, (d, s) in claim.domains.items())
    declared = [spec for spec in claim.random.values() if "'" not in spec.name]
    random = ", ".join(f"{spec.name} ~ {spec.kind}({', '.join(map(str, spec.params))})"
                       + (f"[{', '.join(map(axis_text, spec.shape))}]" if spec.shape else "")
                       for spec in declared)
    copies = [name for name in claim.random if "'" in name]  # claims.conditional
    copies = f"; independent copies for the conditional means: {', '.join(copies)}" \
        if copies else ""
    return f"symbols: {symbols or 'none'}; random (independent): {random or 'none'}{copies}"


def _closed_form(claim: Claim):
    """The engine's closed form of a question's lhs (a claim without rhs), under the symbolic
    route's time limit; it is then checked against the numeric routes like any claim."""
    try:
        with time_limit():
            form = derive_under(claim.premises, claim.lhs, claim.space).result
    except GAVE_UP as exc:
        raise ClaimError(f"claim {escape(claim.name)!r}: no rhs given and the engine derives no "
                         f"closed form of lhs ({excerpt(str(exc), 160)}); state the rhs to "
                         f"check") from None
    if form.has(*OPERATOR_TYPES) or any(s.name.startswith("E[") for s in form.free_symbols):
        raise ClaimError(f"claim {escape(claim.name)!r}: no rhs given and lhs has no closed form "
                         f"the engine can derive (left: {excerpt(str(form), 160)}); state the "
                         f"rhs to check")
    return shortest_in_time(form) if form.has(sp.Sum) else form


def to_identity(claim: Claim) -> Identity:
    """The identity of ``claim``: its statement, parameters and expression model.

    Text from the claim file (name, statement, source) is escaped: control characters become
    ``\\x1b``-style escapes, so a name cannot redraw the terminal or forge a report line."""
    variables = tuple(RandomVariable(s.name, s.kind, s.params, s.shape)
                      for s in claim.random.values())
    name = escape(claim.name)
    kind = ProbabilityModel if _has_events(claim.lhs, claim.rhs) else ExpressionModel
    model = kind(claim.lhs, variables, claim.space, label=f"claim {claim.name!r}")
    _check_conditions(claim, claim.lhs, claim.rhs)
    relation = claim.relation
    rhs, statement = refine(claim.rhs, claim.premises), f"{claim.text['lhs']} {relation} " \
                                                         f"{claim.text['rhs']}"
    closed_form = instead = None
    if claim.surely:  # random variables, equal almost surely (claims.conditional)
        shown = claim.written[1] if claim.question else claim.text["rhs"]
        conditioned = ", ".join(sorted(top_level_conditioned(claim.written[0] -
                                                             claim.written[1])))
        checked = "E[(lhs - rhs)^2] == 0" if claim.probe is None else \
            f"E[(lhs - rhs)*phi] == 0 with phi = {claim.probe}, the engine's lhs minus rhs"
        statement = f"{claim.text['lhs']} == {shown}  (almost surely, as functions of " \
                    f"{conditioned}; checked as {checked}" + \
                    ("; derived: the claim gives no rhs)" if claim.question else ")")
        closed_form = claim.written[1] if claim.question else None
        instead = partial(surely_instead, claim)
    elif claim.question:
        rhs = _closed_form(claim)
        statement = f"{claim.text['lhs']} == {rhs}  (derived: the claim gives no rhs)"
    if relation == "~":  # lhs - rhs = Theta(h**order) as h -> 0: the order route judges it
        model = Approximation(model, claim.order, claim.parameter, APPROXIMATION_RANGE)
        relation = "=="
    premises = [escape(f"assume {'; '.join(str(p) for p in claim.premises)}")] \
        if claim.premises else []
    fields = dict(name=name,
                  statement=escape(statement),
                  source=escape(claim.source) or "user claim",
                  notation="; ".join([_notation(claim)] + premises),
                  params=_params(claim), rhs=rhs,
                  derive=partial(derive_under, claim.premises, claim.lhs, claim.space),
                  model=model,
                  relation=relation, expected=_EXPECTED[claim.expected],
                  question=claim.question, closed_form=closed_form,
                  written=claim.written or None,
                  instead=instead)
    if claim.premises:
        return PremisedIdentity(**fields, premises=claim.premises)
    return Identity(**fields)
