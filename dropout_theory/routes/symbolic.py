"""Symbolic route: the engine's derivation of the left side against the claim, for symbolic
sizes, and refutations only with a witness.

``proved``: ``lhs - rhs`` is exactly 0 in the canonical form. A non-zero canonical residual
is only a *candidate* refutation (``unconfirmed``): a canonical form can miss an identity
(sums over shifted ranges once did), so the statement is ``refuted`` only at a point where
the exact route confirms a difference beyond its rigorous bound (:func:`confirm`), and where
the residual itself is non-zero. ``inconclusive``: the engine has no rule (functions of
random variables, probabilities) or the residual has functions the canonical form cannot
decide; ``not-applicable`` for inequalities.
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache

import sympy as sp

from ..identity import ExpressionModel
from ..symbolic import ExpansionError, NoClosedForm, prove_equal
from ..symbolic.statements import derive_statement
from .moments import claim_ball
from .registry import route
from .result import RouteResult

__all__ = ["symbolic", "confirm"]

_NOTES = {"proved": "lhs - rhs is exactly 0 for symbolic sizes",
          "unconfirmed": "lhs - rhs is a non-zero polynomial in canonical form; a refutation "
                         "needs a point where the exact route confirms it",
          "inconclusive": "the residual has functions the canonical form cannot decide"}


@lru_cache(maxsize=512)
def _prove(identity, claim) -> RouteResult:
    try:
        lhs = identity.derive()
        model = identity.model
        rhs = derive_statement(claim, model.space).result \
            if isinstance(model, ExpressionModel) else claim
        proof = prove_equal(lhs, rhs)
    except (NoClosedForm, ExpansionError) as exc:
        return RouteResult("symbolic", "inconclusive", note=str(exc))
    except (TypeError, ValueError, NotImplementedError, RecursionError, AttributeError,
            sp.PolynomialError) as exc:  # SymPy giving up on an odd combination is no verdict
        return RouteResult("symbolic", "inconclusive",
                           note=f"the engine stopped ({type(exc).__name__}: {exc})")
    status = {"refuted": "unconfirmed"}.get(proof.status, proof.status)
    residual = proof.residual
    if status == "inconclusive" and not residual.has(sp.Sum) and sp.simplify(residual) == 0:
        return RouteResult("symbolic", "proved", residual="0", detail=proof,
                           note="the residual simplifies to 0")
    return RouteResult("symbolic", status, residual=str(residual), detail=proof,
                       note=_NOTES[status])


@route("symbolic")
def symbolic(identity, point, claim, context) -> RouteResult:
    if identity.relation != "==":
        return RouteResult("symbolic", "not-applicable",
                           note="inequalities are judged by the numeric routes")
    return dataclasses.replace(_prove(identity, claim))


def _vanishes(residual, point) -> bool:
    """Whether the residual cannot be shown non-zero at ``point`` (unevaluable: no)."""
    try:
        return bool(claim_ball(residual, point).contains_zero())
    except (ValueError, TypeError, ArithmeticError):
        return False


def confirm(result: RouteResult, numeric: list) -> RouteResult:
    """Turn an ``unconfirmed`` refutation into ``refuted`` with a witness: a point where the
    exact route certified a difference and the residual is not shown to vanish."""
    if result.status != "unconfirmed":
        return result
    residual = result.detail.residual
    for check in numeric:
        if check.route == "exact" and check.status == "disagrees" \
                and not _vanishes(residual, check.point):
            return dataclasses.replace(
                result, status="refuted", witness={"point": check.point, "label": check.label,
                                                   "interval": check.interval},
                note="non-zero canonical residual, confirmed by the exact route at the witness")
    checked = sum(c.route == "exact" for c in numeric)
    return dataclasses.replace(result, note=result.note + f"; no exact check confirmed it "
                                                          f"({checked} exact checks)")
