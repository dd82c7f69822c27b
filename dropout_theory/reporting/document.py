"""The theory report: one document, per family and per identity, built from one run of the
pipeline (``verify.verify``'s verdicts and ``report.statement_record``, never a second
definition of a verdict).

:func:`entries` turns verdicts into plain records; :mod:`.html` and :mod:`.markdown` only
lay them out.
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..aggregate import HOLDING
from ..identity import Approximation
from ..registry import registry
from ..report import counterexample, statement_record, true_instead_expr
from ..routes.result import EXACT

__all__ = ["Entry", "entries", "family_intro", "figure_files", "offness", "fmt"]


@dataclass
class Entry:
    """What the report shows of one statement."""

    verdict: object
    record: dict
    steps: list = field(default_factory=list)      # (label, SymPy expression)
    instead: object = None                          # what the left side is, when refuted
    off: list = field(default_factory=list)         # sentences: by how much it is off
    figures: list = field(default_factory=list)     # PNG paths

    @property
    def identity(self):
        return self.verdict.identity


def fmt(value, digits: int = 4) -> str:
    """A number for a table cell: ``-`` for none, 4 significant digits."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def _relative(difference, reference) -> str:
    if difference is None or reference in (None, 0) or not isinstance(reference, float | int):
        return ""
    return f" ({abs(difference) / abs(reference):.2%} of the stated value)"


def offness(verdict, record) -> list[str]:
    """For a statement that fails or is only approximate: by how much, in sentences made
    from the run's own evidence (the strongest counterexample, the measured order)."""
    lines = []
    identity = verdict.identity
    if isinstance(identity.model, Approximation):
        declared = identity.model.order
        measured = record["measured_order"]
        parameter = "the drop rate" if identity.model.parameter == "drop" else \
            f"1/{identity.model.parameter}" if identity.model.parameter in \
            {p.name for p in identity.params if p.integer} else identity.model.parameter
        lines.append(f"Error order in {parameter}: declared {declared:g}, measured "
                     + ("-" if measured is None else f"{measured:.2f}")
                     + " (log-log slope of |exact - claim|, mean over the order checks).")
        typical = [r for r in verdict.routes[1:] if r.label == "typical"
                   and r.difference is not None]
        # the exact route's gaps where it ran (Monte Carlo estimates the same points again)
        gaps = [r for r in typical if r.route == "exact"] or \
            [r for r in typical if r.route == "montecarlo"]
        if gaps:
            lines.append("Gap lhs - rhs at the typical points: " + ", ".join(
                f"{fmt(r.difference, 3)} on {fmt(r.lhs, 3)}" for r in gaps) + ".")
    example = counterexample(verdict) if verdict.verdict not in HOLDING else None
    if example is not None:
        if example.route in EXACT:
            lo, hi = example.interval
            how = f"certified: lhs - rhs in [{fmt(lo)}, {fmt(hi)}]"
        else:
            how = f"standard error {fmt(example.se, 3)}, z = {fmt(example.z, 3)}"
        lines.append(f"Strongest counterexample ({example.route}, {example.label} point): "
                     f"lhs = {fmt(example.lhs)}, stated rhs = {fmt(example.rhs)}, off by "
                     f"{fmt(example.difference)}{_relative(example.difference, example.rhs)}; "
                     f"{how}.")
    return lines


def _steps(verdict) -> list:
    detail = verdict.routes[0].detail
    return [(step.label, step.expr) for step in getattr(detail, "steps", None) or []]


def figure_files(root: Path, names) -> tuple[dict, dict]:
    """``({identity name: [paths]}, {family: [paths]})`` from ``root``'s PNGs: an identity's
    own figure is its name with the dot as a dash; every other ``family-*.png`` of a family
    among ``names`` belongs to the family (figures of identities outside ``names`` aside)."""
    own, extra = {}, {}
    if root is None or not root.is_dir():
        return own, extra
    stems = {name.replace(".", "-"): name for name in names}
    every = {name.replace(".", "-") for name in registry()}
    families = sorted({name.split(".", 1)[0] for name in names}, key=len, reverse=True)
    for path in sorted(root.glob("*.png")):
        if path.stem in stems:
            own.setdefault(stems[path.stem], []).append(path)
            continue
        family = next((f for f in families if path.stem.startswith(f + "-")), None)
        if family is not None and path.stem not in every:
            extra.setdefault(family, []).append(path)
    return own, extra


def entries(verdicts, *, figures: Path | None = None) -> list[Entry]:
    """One :class:`Entry` per verdict, in the run's order."""
    own, _ = figure_files(figures, [v.name for v in verdicts])
    result = []
    for verdict in verdicts:
        record = statement_record(verdict)
        result.append(Entry(verdict, record, _steps(verdict), true_instead_expr(verdict),
                            offness(verdict, record), own.get(verdict.name, [])))
    return result


def family_intro(family: str) -> str:
    """The first paragraph of the family's module docstring (the family explains itself)."""
    try:
        module = importlib.import_module(f"dropout_theory.identities.{family.replace('-', '_')}")
    except ImportError:
        return ""
    doc = (module.__doc__ or "").strip()
    return doc.split("\n\n", 1)[0].replace("\n", " ")
