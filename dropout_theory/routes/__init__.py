"""Routes: one module per way of checking a statement, registered by name behind one interface.

Every route is ``fn(identity, point, claim, context) -> RouteResult``: ``claim`` is the right
side to check (the identity's own ``rhs`` or a mutation twin), ``point`` the parameter values
(``None`` for the symbolic route) and ``context`` the run's seed, sample budget and false-alarm
rate. :func:`run` looks a route up by name; an unknown name raises ``ValueError``.
"""
from .registry import get, names, route
from .moments import prepare
from .result import STATISTICAL, Context, RouteResult, decided_by, evidence

# registration on import: each module adds its route to the table
from . import (exact, expressions, gradient, montecarlo, order,  # noqa: E402,F401,I001
               probability, replicate, symbolic)
from .exact import enumerable  # noqa: E402
from .montecarlo import judge_batches  # noqa: E402

__all__ = ["Context", "RouteResult", "run", "route", "names", "enumerable", "prepare",
           "STATISTICAL", "sample_batches", "judge_batches", "evidence", "decided_by"]

#: the statistical routes' costly half: ``(prepared, batch statistics)`` of a check
_SAMPLERS = {"montecarlo": montecarlo.sample_batches, "replicate": replicate.sample_batches}


def sample_batches(name: str, identity, point, claim, context: Context):
    """The batch statistics statistical route ``name`` judges (:func:`judge_batches`)."""
    if name not in _SAMPLERS:
        raise ValueError(f"route {name!r} is not statistical; those are {sorted(_SAMPLERS)}")
    return _SAMPLERS[name](identity, point, claim, context)


def run(name: str, identity, point, claim, context: Context | None = None) -> RouteResult:
    """Check ``claim`` for ``identity`` at ``point`` by the route called ``name``."""
    return get(name)(identity, point, claim, context or Context())
