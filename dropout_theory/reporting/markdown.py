"""The report as Markdown: LaTeX math in ``$$`` blocks (GitHub renders them), figures as
relative links to copies beside the document."""
from __future__ import annotations

import sympy as sp

from ..report import claim_expr, summary_line
from .document import Entry, family_intro, fmt

__all__ = ["render_markdown"]


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _anchor(name: str) -> str:
    """An explicit anchor per statement (a heading's own slug also carries its verdict)."""
    return "".join(c if c.isalnum() or c == "-" else "-" for c in name)


def _latex(expr) -> str:
    text = sp.latex(expr)
    return f"$$\n{text}\n$$" if len(text) < 4000 else f"`{sp.sstr(expr)[:4000]}...`"


def _claim(identity) -> str:
    return f"$$\n{sp.latex(claim_expr(identity))}\n$$"


def _entry(entry: Entry, figure_dir: str) -> list[str]:
    rec = entry.record
    expected = "" if rec["expected"] is None else \
        f" (expected {rec['expected']}{'' if rec['matches_expected'] else ', NOT as expected'})"
    sizes = "; ".join(f"{k} = {', '.join(map(str, v))}" for k, v in
                      rec["sizes_checked"].items()) or "no size parameters"
    lines = [f"<a id=\"{_anchor(rec['name'])}\"></a>", "",
             f"### {rec['name']}: **{rec['verdict']}**{expected}", "", rec["reason"], "",
             _claim(entry.identity), "",
             f"- as written: `{rec['statement']}`", f"- source: {rec['source']}",
             f"- notation: {rec['notation']}", f"- sizes checked: {sizes}",
             f"- symbolic route: {rec['symbolic']}", ""]
    if entry.steps:
        lines += ["Derivation:", ""]
        for number, (label, expr) in enumerate(entry.steps, 1):
            lines += [f"{number}. {label}", "", _latex(expr), ""]
    if entry.instead is not None:
        lines += ["What is true instead (the engine's left side):", "",
                  f"$$\n\\mathrm{{lhs}} = {sp.latex(entry.instead)}\n$$", ""]
    lines += [f"> {line}" for line in entry.off] + ([""] if entry.off else [])
    lines += ["| route | point | status | lhs | rhs | lhs - rhs | se | z | resolution |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in rec["routes"][1:]:
        resolution = f"{r['resolution']:.1%}" if isinstance(r["resolution"], float) else "-"
        lines.append("| " + " | ".join(_cell(c) for c in (
            r["route"], r["label"], r["status"], fmt(r["lhs"]), fmt(r["rhs"]),
            fmt(r["difference"]), fmt(r["se"], 3), fmt(r["z"], 3), resolution)) + " |")
    lines.append("")
    lines += [f"![{path.stem}]({figure_dir}/{path.name})" for path in entry.figures]
    return lines + [""]


def render_markdown(entries, meta, *, title: str, topics=(), family_figures=None,
                    figure_dir: str = "figures", intro: str = "", grouped: bool = True) -> str:
    family_figures = family_figures or {}
    by_name = {e.identity.name: e for e in entries}
    lines = [f"# {title}", "", intro, "", f"**{summary_line([e.verdict for e in entries])}**",
             "", f"Seed {meta['seed']}, {meta['samples']} samples per Monte Carlo check, "
             f"family-wise alpha {meta['alpha']:g} over {meta['n_statistical_checks']} "
             f"statistical checks. p is the drop probability, q = 1 - p the keep probability.", ""]
    if topics:
        lines += ["## The seeds' contradictions", ""]
        for topic, members in topics:
            lines += [f"### {topic.title}", "", topic.question, ""]
            shown = [i for i in members if i.name in by_name]
            lines += ["| statement | source | verdict | evidence |", "|---|---|---|---|"] \
                if shown else ["(none of its statements is in this run)"]
            for identity in shown:
                entry = by_name[identity.name]
                lines.append(f"| [{identity.name}](#{_anchor(identity.name)}) | "
                             f"{_cell(identity.source)} | {entry.record['verdict']} | "
                             f"{_cell(' '.join(entry.off) or entry.record['reason'])} |")
            lines.append("")
    families: dict = {}
    for entry in entries:
        families.setdefault(entry.identity.family if grouped else "claims",
                            []).append(entry)
    for family, group in families.items():
        lines += [f"## {family}", ""]
        text = family_intro(family) if topics else ""
        lines += [text, ""] if text else []
        for entry in group:
            lines += _entry(entry, figure_dir)
        lines += [f"![{p.stem}]({figure_dir}/{p.name})" for p in family_figures.get(family, [])]
        lines.append("")
    return "\n".join(lines)
