"""Figures: identity modules and :mod:`.sweeps` supply the data (``FigureData``); this
module only draws.

Rendering is byte-identical on a rerun: Agg backend, PNG without software or date metadata,
fixed figure size and DPI, data from seeded routes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["FigureData", "register_figure", "registered_figures", "render"]


@dataclass
class FigureData:
    """Curves (label, x, y) and simulated points with error bars (label, x, y, yerr)."""

    title: str
    xlabel: str
    ylabel: str
    curves: list = field(default_factory=list)
    points: list = field(default_factory=list)


_FIGURES: dict[str, Callable] = {}


def register_figure(name: str):
    """Decorator for ``fn(root) -> FigureData`` in an identity module; ``name`` is the file stem."""
    def decorate(fn):
        if name in _FIGURES:
            raise ValueError(f"figure {name!r} is registered twice")
        _FIGURES[name] = fn
        return fn
    return decorate


def registered_figures() -> dict[str, Callable]:
    """The figures identity modules registered, by file stem (``registry.figures`` adds the
    default figure of every other identity)."""
    return dict(_FIGURES)


def render(data: FigureData, path: Path) -> None:
    """Draw ``data`` to ``path`` (PNG) deterministically."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    for label, x, y in data.curves:
        ax.plot(x, y, label=label)
    for label, x, y, yerr in data.points:
        ax.errorbar(x, y, yerr=yerr, fmt="o", ms=4, capsize=3, label=label)
    ax.set(title=data.title, xlabel=data.xlabel, ylabel=data.ylabel)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)
