"""The theory report people read (``dropout-theory report``, ``check --report``) and the
README's generated tables. Built on one run of :func:`dropout_theory.verify.verify`; the
layout modules (:mod:`.html`, :mod:`.markdown`) only lay out :mod:`.document`'s records."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..registry import registry
from ..report import to_json
from .document import entries, figure_files
from .html import render_html
from .markdown import render_markdown
from .topics import TOPICS, members

__all__ = ["write_report", "FORMATS"]

FORMATS = ("html", "md")

_INTRO = ("Every statement about dropout in the registry, derived with SymPy and checked "
          "against masks pushed through a reference network, with the evidence behind each "
          "verdict.")


def write_report(verdicts, meta, out, *, fmt: str = "html", figures=None,
                 title: str = "The theory of dropout, checked", claims: bool = False,
                 command: str = "verify") -> Path:
    """Write ``report.html`` or ``report.md`` (and ``verdicts.json``, the same document as
    ``--json``) into ``out``; returns the report's path. ``claims``: a user's claim file
    (no seeds' contradictions, no family texts)."""
    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {FORMATS}, got {fmt!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)[:200]!r} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    figures = Path(figures) if figures is not None else None
    rows = entries(verdicts, figures=figures)
    _, extra = figure_files(figures, [v.name for v in verdicts])
    known = registry()
    topics = [] if claims else [(topic, members(topic, known)) for topic in TOPICS]
    intro = "" if claims else _INTRO
    if figures is not None and not claims:
        intro += (f" Figures: the PNGs in {figures} (written by 'dropout-theory figures', at "
                  f"seed 0 unless rewritten with --seed), not from this run.")
    layout = {"title": title, "topics": topics, "family_figures": extra, "intro": intro,
              "grouped": not claims}
    (out / "verdicts.json").write_text(json.dumps(to_json(verdicts, meta, command=command),
                                                  indent=2) + "\n")
    if fmt == "html":
        path = out / "report.html"
        path.write_text(render_html(rows, meta, **layout), encoding="utf-8")
        return path
    used = [p for e in rows for p in e.figures] + [p for ps in extra.values() for p in ps]
    if used:
        (out / "figures").mkdir(exist_ok=True)
        for path in used:
            shutil.copyfile(path, out / "figures" / path.name)
    path = out / "report.md"
    path.write_text(render_markdown(rows, meta, **layout), encoding="utf-8")
    return path
