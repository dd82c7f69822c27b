"""The table of routes: each route module registers one function under its name.

A route is looked up by name, like SciPy's ``method=``: an unknown name is an error, never a
silent fallback to another route.
"""
from __future__ import annotations

from typing import Callable

__all__ = ["route", "get", "names"]

_ROUTES: dict[str, Callable] = {}


def route(name: str):
    """Register ``fn(identity, point, claim, context) -> RouteResult`` as route ``name``."""
    def decorate(fn):
        if name in _ROUTES:
            raise ValueError(f"route {name!r} is registered twice")
        _ROUTES[name] = fn
        return fn
    return decorate


def get(name: str) -> Callable:
    """The route function registered as ``name``; an unknown name raises ``ValueError``."""
    try:
        return _ROUTES[name]
    except KeyError:
        raise ValueError(f"unknown route {name!r}; the routes are {sorted(_ROUTES)}") from None


def names() -> list[str]:
    return sorted(_ROUTES)
