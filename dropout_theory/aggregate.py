"""The verdict of one statement from its routes' results: :func:`aggregate` (the rules of
``DESIGN.md``'s statistical contract: a ``fails`` needs a certified or gated disagreement or a
witnessed refutation, a proof contradicted by a number is a defect of the tool)."""
from __future__ import annotations

from . import routes
from .identity import Approximation

__all__ = ["aggregate", "HOLDING"]

#: the verdicts of a statement that holds: ``derived`` is a question's (a claim without rhs)
#: closed form, proved and agreeing with every check
HOLDING = ("holds", "derived")


def aggregate(identity, symbolic, numeric) -> tuple[str, str]:
    """The verdict and its reason. ``fails`` needs a numeric disagreement (certified by the
    exact route, or beyond the z-test) or a witnessed refutation; a proof contradicted by a
    number is a defect of the tool, reported ``inconclusive``; an unconfirmed refutation is
    ``inconclusive``; ``holds`` says whether it rests on a proof or on numbers only."""
    if isinstance(identity.model, Approximation):
        return _approximate(symbolic, numeric)
    against = [r for r in numeric if r.status == "disagrees"]
    if against and symbolic.status == "proved":
        first = against[0]
        return "inconclusive", (f"defect of the tool: the symbolic route proves it, but the "
                                f"{first.route} route disagrees at {first.label} point beyond "
                                f"its bound")
    if (symbolic.witness or {}).get("conflict"):
        return "inconclusive", ("defect of the tool: the exact route's certified difference "
                                "and the symbolic residual disagree at "
                                f"{symbolic.witness['label']} point")
    if against:
        how = routes.evidence(against)
        return "fails", f"rejected at {len(against)} of {len(numeric)} checks ({how})"
    if symbolic.status == "unconfirmed":
        return "inconclusive", "the canonical residual is not 0, but no exact check confirmed it"
    undefined = [r for r in numeric if r.status == "undefined"]
    if undefined:
        return "inconclusive", f"a side is not a finite number at {len(undefined)} point(s)"
    agreeing = sum(r.status == "agrees" for r in numeric)
    if symbolic.status == "proved":
        return ("derived" if identity.question else "holds"), \
            f"proved for symbolic sizes; agrees at all {agreeing} numeric checks"
    if not agreeing:
        return "inconclusive", "no check could resolve anything"
    skipped = sorted({r.label for r in numeric if r.status == "skipped"}
                     - {r.label for r in numeric if r.status != "skipped"})
    return "holds", (f"numeric evidence only: agrees at all {agreeing} resolved checks"
                     + (f" (not checked: {', '.join(skipped)})" if skipped else ""))


def _approximate(symbolic, numeric) -> tuple[str, str]:
    """``approximate`` when the claim is not exact but every order route measured the
    declared order; ``fails`` when an order differs; ``holds`` when it is exact."""
    orders = [r for r in numeric if r.route == "order"]
    if not orders or any(r.status == "inconclusive" for r in orders):
        return "inconclusive", "the error order could not be measured at every point"
    if any(r.status == "disagrees" for r in orders):
        return "fails", "the measured error order differs from the declared one"
    others = [symbolic] + [r for r in numeric if r.route != "order"]
    if any(r.status in ("refuted", "unconfirmed", "disagrees") for r in others):
        return "approximate", "not exact; the error has the declared order"
    if all(r.status in ("proved", "agrees") for r in others):
        return "holds", "exact, not only an approximation"
    return "inconclusive", "exactness could not be decided"
