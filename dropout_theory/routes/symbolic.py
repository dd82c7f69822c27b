"""Symbolic route: the engine's derivation of the left side against the claim, for symbolic
sizes, and refutations only with a witness.

``proved``: ``lhs - rhs`` is exactly 0 in the canonical form. A non-zero canonical residual
is only a *candidate* refutation (``unconfirmed``): a canonical form can miss an identity
(sums over shifted ranges once did), so the statement is ``refuted`` only at a point where
the exact route confirms a difference beyond its rigorous bound (:func:`confirm`), and where
the residual itself is non-zero. ``inconclusive``: the engine has no rule (functions of
random variables, probabilities) or the residual has functions the canonical form cannot
decide. An inequality is ``proved`` when ``lhs - rhs`` is 0 or a constant of the right sign,
``unconfirmed`` for a constant of the wrong sign, and ``not-applicable`` otherwise.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache

import sympy as sp

from ..identity import ExpressionModel
from ..symbolic import ExpansionError, NoClosedForm, prove_equal
from ..symbolic.budget import GAVE_UP, time_limit
from ..symbolic.statements import derive_statement
from .moments import claim_ball
from .registry import route
from .result import EXACT, RouteResult

__all__ = ["symbolic", "confirm"]

_NOTES = {"proved": "lhs - rhs is exactly 0 for symbolic sizes",
          "unconfirmed": "lhs - rhs is a non-zero polynomial in canonical form; a refutation "
                         "needs a point where the exact route confirms it",
          "inconclusive": "the residual has functions the canonical form cannot decide"}


@lru_cache(maxsize=512)
def _prove(identity, claim) -> RouteResult:
    try:
        with time_limit():  # past it: SymbolicTimeout, a NoClosedForm (see symbolic.budget)
            lhs = identity.derive()
            model = identity.model
            rhs = derive_statement(claim, model.space).result \
                if isinstance(model, ExpressionModel) else claim
            proof = prove_equal(lhs, rhs)
            simplifies = proof.status == "inconclusive" and not proof.residual.has(sp.Sum) \
                and sp.simplify(proof.residual) == 0
    except (NoClosedForm, ExpansionError) as exc:
        return RouteResult("symbolic", "inconclusive", note=str(exc))
    except GAVE_UP as exc:  # SymPy giving up on an odd combination is no verdict
        return RouteResult("symbolic", "inconclusive",
                           note=f"the engine stopped ({type(exc).__name__}: {exc})")
    status = {"refuted": "unconfirmed"}.get(proof.status, proof.status)
    residual = proof.residual
    if simplifies:
        return RouteResult("symbolic", "proved", residual="0", detail=proof,
                           note="the residual simplifies to 0")
    return RouteResult("symbolic", status, residual=str(residual), detail=proof,
                       note=_NOTES[status])


@route("symbolic")
def symbolic(identity, point, claim, context) -> RouteResult:
    result = dataclasses.replace(_prove(identity, claim))
    if identity.relation == "==":
        return result
    # an inequality: decided only where lhs - rhs is 0 or a number of known sign
    residual = getattr(result.detail, "residual", None)
    if result.status == "proved":
        return dataclasses.replace(result, note="lhs - rhs is exactly 0: the inequality holds")
    if result.status == "unconfirmed" and residual is not None and residual.is_number:
        sign = 1 if residual > 0 else -1
        holds = sign < 0 if identity.relation == "<=" else sign > 0
        return dataclasses.replace(result, status="proved" if holds else "unconfirmed",
                                   note=f"lhs - rhs is the constant {residual}")
    return RouteResult("symbolic", "not-applicable", residual=result.residual,
                       note="the sign of lhs - rhs is left to the numeric routes")


def _residual_at(residual, point):
    """The residual's ball at ``point``, or ``None`` where it cannot be evaluated."""
    try:
        ball = claim_ball(residual, point)
    except (ValueError, TypeError, ArithmeticError):
        return None
    return ball if bool(ball.is_finite()) else None


def confirm(result: RouteResult, numeric: list) -> RouteResult:
    """Turn an ``unconfirmed`` refutation into ``refuted`` with a witness: a point where the
    exact route certified a difference and the residual, where it can be evaluated, is
    certainly non-zero and meets the exact route's interval. A certified difference the
    residual contradicts is recorded as a conflict (a defect of the tool)."""
    if result.status != "unconfirmed":
        return result
    residual = result.detail.residual
    conflict = None
    for check in numeric:
        if check.route not in EXACT or check.status != "disagrees":
            continue
        ball = _residual_at(residual, check.point)
        lo, hi = check.interval
        if ball is None or (bool(ball.excludes_zero()) and float(ball.lo) <= hi
                            and lo <= float(ball.hi)):
            return dataclasses.replace(
                result, status="refuted",
                witness={"point": check.point, "label": check.label, "interval": check.interval},
                note="non-zero canonical residual, confirmed by the exact route at the witness")
        conflict = conflict or {"point": check.point, "label": check.label, "conflict": True,
                                "interval": check.interval,
                                "residual_interval": (float(ball.lo), float(ball.hi))}
    checked = sum(c.route in EXACT for c in numeric)
    note = (f"the exact route and the residual disagree at the {conflict['label']} point"
            if conflict else f"no exact check confirmed it ({checked} exact checks)")
    return dataclasses.replace(result, witness=conflict, note=result.note + "; " + note)
