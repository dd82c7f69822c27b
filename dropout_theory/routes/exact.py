"""Exact route: every outcome with its probability, and a rigorous enclosure of lhs - rhs.

Mask patterns (and Gauss quadrature nodes for polynomial noise) are enumerated with their
probabilities; no sampling error is left, so the claim is rejected exactly when the enclosure
of ``lhs - rhs`` excludes 0 (or lies on the wrong side of it for an inequality): a certified
counterexample. The enclosure comes from ball arithmetic over every term that is summed and
cancelled, never from the size of the result alone.
"""
from __future__ import annotations

from ..sampling import gamma
from .moments import prepare, statistics, undecided_events
from .registry import route
from .result import RouteResult, decide

__all__ = ["exact", "enumerable", "judged"]


def enumerable(identity, point) -> bool:
    """Whether the exact route can enumerate every outcome of ``identity`` at ``point``."""
    return prepare(identity.model, identity, point, identity.rhs).n_outcomes is not None


def judged(route_name, identity, point, lhs, rhs, **fields) -> RouteResult:
    """A route result for the balls ``lhs`` and ``rhs`` with no sampling error."""
    diff = lhs - rhs
    value, rounding = float(diff.mid), float(diff.rad)
    return RouteResult(route_name, decide(identity.relation, value, rounding), point,
                       lhs=float(lhs.mid), rhs=float(rhs.mid), difference=value,
                       interval=(float(diff.lo), float(diff.hi)), rounding=rounding, **fields)


@route("exact")
def exact(identity, point, claim, context) -> RouteResult:
    prepared = prepare(identity.model, identity, point, claim)
    if prepared.n_outcomes is None:
        return RouteResult("exact", "skipped", point,
                           note="too many outcomes to enumerate at this point")
    columns, weights, rel_error = prepared.outcomes()
    stats = statistics(prepared.nodes, columns, weights, rel_error)
    undecided = undecided_events(prepared, stats, gamma(4 * len(weights) + 64) + rel_error)
    if undecided is not None:
        return RouteResult("exact", "unresolved", point, n_samples=len(weights), note=undecided)
    return judged("exact", identity, point, *prepared.sides(stats), n_samples=len(weights))
