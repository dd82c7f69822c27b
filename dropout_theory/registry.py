"""The registry of identities, discovered above ``identity.py`` so that it knows no content.

Importing :mod:`dropout_theory.identities` registers every family; :func:`registry` does that
once and returns the identities by name. :func:`figures` lists every figure by file stem.
"""
from __future__ import annotations

from typing import Callable

from . import identities  # noqa: F401  (registration on import)
from .identity import GradientModel, registered
from .plotting import registered_figures
from .sweeps import gradient_figure, sweep

__all__ = ["registry", "select", "figures"]


def registry() -> dict:
    """All registered identities, by name."""
    return registered()


def select(names) -> list:
    """Identities matching names or family names; unknown names raise ``ValueError``."""
    known = registry()
    if not names:
        return list(known.values())
    chosen = []
    for name in names:
        hits = [i for i in known.values() if name in (i.name, i.family)]
        if not hits:
            raise ValueError(f"unknown identity or family {name!r}; try 'dropout-theory list'")
        chosen += [h for h in hits if h not in chosen]
    return chosen


def figures() -> dict[str, Callable]:
    """Every figure by file stem: an identity's own figure, else its default (the claim
    against the probability with simulated points, or the gradient against differences)."""
    custom = registered_figures()
    result = {}
    for identity in registry().values():
        stem = identity.name.replace(".", "-")
        default = gradient_figure if isinstance(identity.model, GradientModel) else sweep
        result[stem] = custom.get(stem) or (lambda root, i=identity, f=default: f(i, root=root))
    return {**result, **custom}
