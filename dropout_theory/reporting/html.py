"""The report as one self-contained HTML page: MathML for the math (rendered by the browser,
no script), figures as base64 data URIs, inline CSS; nothing is fetched."""
from __future__ import annotations

import base64
from html import escape

import sympy as sp

from ..report import VERDICTS, claim_expr, summary_line
from ..routes.result import EXACT
from .document import Entry, family_intro, fmt
from .math import mathml

__all__ = ["render_html", "CSS"]

CSS = """
body { font-family: Georgia, 'DejaVu Serif', serif; max-width: 60rem; margin: 1.5rem auto;
       padding: 0 1rem; color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.9rem; margin-bottom: .2rem; }
h2 { border-bottom: 2px solid #ccc; margin-top: 2.5rem; }
h3 { margin-bottom: .3rem; }
code { font-size: .85em; background: #f4f4f4; padding: 0 .2em; }
code.long { display: block; white-space: pre-wrap; word-break: break-all; max-height: 8rem;
            overflow: auto; }
.badge { font-family: sans-serif; font-size: .75rem; padding: .1rem .45rem; border-radius: .6rem;
         color: white; vertical-align: middle; }
.holds { background: #2e7d32; }
.fails { background: #c62828; }
.approximate { background: #ef6c00; }
.inconclusive { background: #616161; }
.unexpected { outline: 3px solid #c62828; }
.meta, .reason, .small { font-family: sans-serif; font-size: .85rem; color: #444; }
table { border-collapse: collapse; font-family: sans-serif; font-size: .78rem; margin: .5rem 0; }
table.topic { width: 100%; table-layout: fixed; }
div.scroll { overflow-x: auto; }
details table { display: block; max-width: 100%; overflow-x: auto; }
td, th { border: 1px solid #ddd; padding: .15rem .4rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; }
article { border-top: 1px solid #eee; padding-top: .6rem; margin-top: 1.2rem; }
dl { display: grid; grid-template-columns: 9rem 1fr; gap: .1rem .8rem; font-size: .9rem; }
dt { font-weight: bold; }
dd { margin: 0; }
math[display=block] { margin: .4rem 0; overflow-x: auto; }
ol.steps li { margin-bottom: .3rem; }
.off { background: #fff4e5; padding: .3rem .6rem; }
img.figure { max-width: 100%; height: auto; border: 1px solid #eee; display: block;
             margin: .5rem 0; }
nav ul { columns: 2; font-family: sans-serif; font-size: .9rem; }
"""


def _badge(verdict: str) -> str:
    return f"<span class='badge {escape(verdict)}'>{escape(verdict)}</span>"


def _img(path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f"<img class='figure' alt='figure {escape(path.stem)}' title='{escape(path.name)}' "
            f"src='data:image/png;base64,{data}'>")


def _claim_math(identity) -> str:
    return mathml(claim_expr(identity))


def _routes_table(record) -> str:
    rows = ["<table><tr><th>route</th><th>point</th><th>status</th><th>lhs (estimate)</th>"
            "<th>rhs</th><th>lhs - rhs</th><th>se / certified interval</th><th>z</th>"
            "<th>resolution</th><th>samples / order</th></tr>"]
    for r in record["routes"][1:]:
        spread = (f"[{fmt(r['interval'][0])}, {fmt(r['interval'][1])}]"
                  if r["route"] in EXACT and r["interval"] else fmt(r["se"], 3))
        extra = fmt(r["order"], 3) if r["route"] == "order" else fmt(r["n_samples"])
        resolution = "-" if r["resolution"] is None else \
            (f"{r['resolution']:.1%}" if isinstance(r["resolution"], float) else r["resolution"])
        rows.append("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in (
            r["route"], r["label"], r["status"], fmt(r["lhs"]), fmt(r["rhs"]),
            fmt(r["difference"]), spread, fmt(r["z"], 3), resolution, extra)) + "</tr>")
    return "\n".join(rows) + "</table>"


def _sizes(record) -> str:
    checked = "; ".join(f"{k} = {', '.join(map(str, v))}" for k, v in
                        record["sizes_checked"].items()) or "no size parameters"
    skipped = "; ".join(f"{k} = {', '.join(map(str, v))}" for k, v in
                        record["sizes_skipped"].items())
    return checked + (f" (skipped over the work budget: {skipped})" if skipped else "")


def _entry(entry: Entry) -> str:
    rec, identity = entry.record, entry.identity
    matches = rec["matches_expected"]
    expected = "" if rec["expected"] is None else (
        f"<span class='small'>expected {escape(rec['expected'])}"
        f"{' (as expected)' if matches else ' &#8212; NOT as expected'}</span>")
    mark = "" if matches in (True, None) else "unexpected"
    parts = [f"<article id='{escape(rec['name'])}' class='{mark}'>",
             f"<h3>{escape(rec['name'])} {_badge(rec['verdict'])} {expected}</h3>",
             f"<p class='reason'>{escape(rec['reason'])}</p>",
             "<p><b>Statement</b> (relation and right side as registered):</p>",
             _claim_math(identity),
             "<dl>",
             f"<dt>as written</dt><dd><code>{escape(rec['statement'])}</code></dd>",
             f"<dt>source</dt><dd>{escape(rec['source'])}</dd>",
             f"<dt>notation</dt><dd>{escape(rec['notation'])}</dd>",
             f"<dt>sizes checked</dt><dd>{escape(_sizes(rec))}</dd>",
             f"<dt>symbolic route</dt><dd>{escape(rec['symbolic'])}</dd>",
             "</dl>"]
    if entry.steps:
        parts.append("<details open><summary><b>Derivation</b></summary><ol class='steps'>")
        parts += [f"<li>{escape(label)}{mathml(expr)}</li>" for label, expr in entry.steps]
        parts.append("</ol></details>")
    if entry.instead is not None or entry.off:
        parts.append("<div class='off'><p><b>What is true instead, and by how much</b></p>")
        if entry.instead is not None:
            parts.append("<p>The engine derives the left side:</p>" + mathml(
                sp.Eq(sp.Symbol("lhs"), entry.instead, evaluate=False)))
        parts += [f"<p>{escape(line)}</p>" for line in entry.off]
        parts.append("</div>")
    parts.append("<details><summary><b>Every check</b> (estimate, standard error, "
                 "resolution)</summary>" + _routes_table(rec) + "</details>")
    parts += [_img(path) for path in entry.figures]
    parts.append("</article>")
    return "\n".join(parts)


def _topic(topic, members, by_name) -> str:
    parts = [f"<section id='topic-{escape(topic.slug)}'><h3>{escape(topic.title)}</h3>",
             f"<p>{escape(topic.question)}</p>"]
    shown = [i for i in members if i.name in by_name]
    if not shown:
        return "\n".join(parts + ["<p class='small'>(none of its statements is in this run)"
                                  "</p></section>"])
    parts.append("<table class='topic'><colgroup><col style='width:15%'><col style='width:22%'>"
                 "<col style='width:33%'><col style='width:9%'><col style='width:21%'>"
                 "</colgroup><tr><th>statement</th><th>source</th><th>claim</th>"
                 "<th>verdict</th><th>evidence</th></tr>")
    for identity in shown:
        entry = by_name[identity.name]
        evidence = " ".join(entry.off) or entry.record["reason"]
        parts.append(f"<tr><td><a href='#{escape(identity.name)}'>{escape(identity.name)}</a>"
                     f"</td><td>{escape(identity.source)}</td><td><div class='scroll'>"
                     f"{_claim_math(identity)}</div></td>"
                     f"<td>{_badge(entry.record['verdict'])}</td><td>{escape(evidence)}</td></tr>")
    parts.append("</table></section>")
    return "\n".join(parts)


def render_html(entries, meta, *, title: str, topics=(), family_figures=None,
                intro: str = "", grouped: bool = True) -> str:
    """The whole page. ``topics`` are ``(Topic, members)`` pairs."""
    family_figures = family_figures or {}
    verdicts = [e.verdict for e in entries]
    families: dict = {}
    for entry in entries:
        families.setdefault(entry.identity.family if grouped else "claims",
                            []).append(entry)
    by_name = {e.identity.name: e for e in entries}
    checks = meta["n_statistical_checks"]
    run = (f"seed {meta['seed']}, {meta['samples']} samples per Monte Carlo check, "
           f"{meta['points']} typical points per statement, family-wise false-alarm rate "
           f"{meta['alpha']:g} over {checks} statistical checks (critical |z| "
           f"{meta['z_crit']['two_sided']:.2f} two-sided)") if checks else \
        f"seed {meta['seed']}, no statistical checks (every numeric check is exact)"
    parts = ["<!DOCTYPE html>", "<html lang='en'><head><meta charset='utf-8'>",
             f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
             f"<header><h1>{escape(title)}</h1>",
             f"<p>{escape(intro)}</p>" if intro else "",
             f"<p><b>{escape(summary_line(verdicts))}</b></p>",
             f"<p class='meta'>{escape(run)}. p is the drop probability, q = 1 - p the keep "
             f"probability.</p></header>",
             "<nav><h2>Contents</h2><ul>"]
    if topics:
        parts.append("<li><a href='#contradictions'>The seeds' contradictions</a></li>")
    for family, group in families.items():
        counts = ", ".join(f"{sum(e.record['verdict'] == w for e in group)} {w}"
                           for w in VERDICTS
                           if any(e.record['verdict'] == w for e in group))
        parts.append(f"<li><a href='#family-{escape(family)}'>{escape(family)}</a> "
                     f"<span class='small'>({len(group)}: {counts})</span></li>")
    parts.append("</ul></nav>")
    if topics:
        parts.append("<section id='contradictions'><h2>The seeds' contradictions</h2>")
        parts += [_topic(topic, members, by_name) for topic, members in topics]
        parts.append("</section>")
    for family, group in families.items():
        parts.append(f"<section id='family-{escape(family)}'><h2>{escape(family)}</h2>")
        text = family_intro(family) if topics else ""
        if text:
            parts.append(f"<p>{escape(text)}</p>")
        parts += [_entry(entry) for entry in group]
        extra = family_figures.get(family, [])
        if extra:
            parts.append(f"<h3>More figures of {escape(family)}</h3>")
            parts += [_img(path) for path in extra]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p)
