"""Rendering on top of the pipeline: the one JSON record per statement, the text table, and
printed derivations (``dropout-theory derive`` and the ``derivations/`` scripts).

``verify --json`` and ``check --json`` print the same document, schema
``dropout-theory/verdicts/2`` (documented in the README).
"""
from __future__ import annotations

import dataclasses
import math
import sys

import numpy as np
import sympy as sp

from . import routes
from .aggregate import HOLDING
from .registry import select
from .symbolic.budget import shortest_in_time

__all__ = ["SCHEMA", "to_json", "render_text", "derivation_text", "print_family",
           "counterexample", "measured_order", "sizes_checked", "true_instead",
           "true_instead_expr", "statement_record", "summary_line", "claim_expr"]

SCHEMA = "dropout-theory/verdicts/2"
#: ``derived``: a question's (a claim without rhs) closed form, proved and checked by numbers
VERDICTS = ("holds", "derived", "fails", "approximate", "inconclusive")


def _clean(value):
    """JSON-safe: arrays as lists, non-finite floats as null (NaN) or "inf"/"-inf"."""
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.generic):
        return _clean(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def route_record(result) -> dict:
    return _clean({f.name: getattr(result, f.name) for f in dataclasses.fields(result)
                   if f.name != "detail"})


def counterexample(verdict):
    """The strongest evidence against the statement: a certified exact disagreement first,
    else the statistical one with the largest |z|; ``None`` when nothing disagrees."""
    against = [r for r in verdict.routes if r.status == "disagrees"]
    exact = [r for r in against if r.route in routes.result.EXACT]
    if exact:
        return max(exact, key=lambda r: abs(r.difference) - r.rounding)
    return max(against, key=lambda r: abs(r.z or 0.0), default=None)


def measured_order(verdict) -> float | None:
    """The fitted error order of an approximation (mean over its points), else ``None``."""
    slopes = [r.order for r in verdict.routes if r.route == "order" and r.order is not None]
    return float(np.mean(slopes)) if slopes else None


def sizes_checked(verdict) -> dict:
    """``{size: (checked values, skipped values)}`` over the numeric routes."""
    sizes = [p.name for p in verdict.identity.params if p.integer and not p.shape]
    result = {}
    for name in sizes:
        done = {int(r.point[name]) for r in verdict.routes[1:]
                if r.point is not None and r.status != "skipped"}
        skipped = {int(r.point[name]) for r in verdict.routes[1:]
                   if r.point is not None and r.status == "skipped"} - done
        result[name] = (sorted(done), sorted(skipped))
    return result


def true_instead_expr(verdict):
    """For a statement that fails with a confirmed symbolic refutation, what the engine
    derived the left side to be (the shortest of its own form, ``rhs + residual`` and that
    factored), else ``None``."""
    proof = verdict.routes[0].detail
    if verdict.verdict != "fails" or verdict.symbolic != "refuted" or proof is None:
        return None
    if verdict.identity.instead is not None:  # a claim compiled into another statement
        return verdict.identity.instead()
    lhs = verdict.identity.rhs + proof.residual
    forms = [lhs] + ([proof.lhs] if proof.lhs is not None else [])  # the engine's own form
    try:
        forms.append(sp.factor(sp.cancel(lhs)))
    except (TypeError, ValueError, sp.PolynomialError):
        pass
    if lhs.has(sp.Sum):  # equal sums under different dummies merged
        forms.append(shortest_in_time(lhs))
    return min(forms, key=sp.count_ops)  # the shortest


def true_instead(verdict) -> str | None:
    """:func:`true_instead_expr` as text."""
    instead = true_instead_expr(verdict)
    return None if instead is None else str(instead)


def closed_form(identity) -> str | None:
    """A question's derived closed form as text (``None`` for a stated claim)."""
    if not identity.question:
        return None
    return str(identity.rhs if identity.closed_form is None else identity.closed_form)


def statement_record(verdict) -> dict:
    identity = verdict.identity
    example, sizes = counterexample(verdict), sizes_checked(verdict)
    return {"name": identity.name, "statement": identity.statement, "source": identity.source,
            "notation": identity.notation, "relation": identity.relation,
            "expected": identity.expected, "verdict": verdict.verdict,
            "matches_expected": verdict.matches, "reason": verdict.reason,
            "closed_form": closed_form(identity),
            "symbolic": verdict.symbolic, "measured_order": measured_order(verdict),
            "sizes_checked": {k: v[0] for k, v in sizes.items()},
            "sizes_skipped": {k: v[1] for k, v in sizes.items() if v[1]},
            "counterexample": None if example is None else route_record(example),
            "true_instead": true_instead(verdict),
            "routes": [route_record(r) for r in verdict.routes]}


def to_json(verdicts, meta, *, command: str) -> dict:
    """The ``--json`` document of ``verify`` or ``check``: one record per statement."""
    records = [statement_record(v) for v in verdicts]
    summary = {"statements": len(records), **{w: sum(r["verdict"] == w for r in records)
                                              for w in VERDICTS},
               "matching": sum(bool(r["matches_expected"]) for r in records)}
    return _clean({"schema": SCHEMA, "command": command, **meta, "statements": records,
                   "summary": summary})


def _point(point) -> str:
    return "{" + ", ".join(f"{k}: {np.round(v, 6).tolist() if np.ndim(v) else f'{v:.6g}'}"
                           for k, v in point.items()) + "}"


def _evidence(result) -> str:
    if result.route in routes.result.EXACT:
        lo, hi = result.interval
        return f"lhs - rhs in [{lo:.6g}, {hi:.6g}] (certified; rounding bound {result.rounding:.3g})"
    if result.z is not None:
        return f"lhs - rhs = {result.difference:.6g}, se {result.se:.3g}, z = {result.z:.3g}"
    return result.note


def render_text(verdicts, meta) -> str:
    """The table the CLI prints: one line per statement, a counterexample under failures."""
    lines = [f"seed {meta['seed']}, {meta['samples']} samples per Monte Carlo check, family-wise "
             f"alpha {meta['alpha']:g} over {meta['n_statistical_checks']} statistical checks "
             f"(critical |z| {meta['z_crit']['two_sided']:.2f} two-sided, "
             f"{meta['z_crit']['one_sided']:.2f} one-sided)" if meta["n_statistical_checks"]
             else f"seed {meta['seed']}, no statistical checks (every numeric check is exact)"]
    width = max([len("statement")] + [len(v.name) for v in verdicts])
    lines.append(f"{'statement':{width}s} {'expected':11s} {'verdict':12s} {'symbolic':12s} routes")
    for v in verdicts:
        counts: dict = {}
        for r in v.routes[1:]:
            counts[f"{r.route}:{r.status}"] = counts.get(f"{r.route}:{r.status}", 0) + 1
        mark = "" if v.matches in (True, None) else "  <-- unexpected"
        order = measured_order(v)
        if order is not None:
            mark = f"  measured order {order:.2f}" + mark
        lines.append(f"{v.name:{width}s} {v.identity.expected or '-':11s} {v.verdict:12s} "
                     f"{v.symbolic:12s} " + ", ".join(f"{k} x{n}" for k, n in counts.items())
                     + mark)
        lines.append(f"    {v.reason}")
        example = counterexample(v)
        if example is not None and v.verdict not in HOLDING:
            lines.append(f"    counterexample ({example.label}, {example.route}): "
                         f"{_point(example.point)}")
            lines.append(f"    lhs = {example.lhs:.6g}, rhs = {example.rhs:.6g}; "
                         + _evidence(example))
        if v.symbolic in ("refuted", "unconfirmed"):
            lines.append(f"    symbolic residual lhs - rhs = {v.routes[0].residual}")
        instead = true_instead(v)
        if instead is not None:
            lines.append(f"    what is true instead: lhs = {instead}  (you wrote rhs = "
                         f"{_sides(v.identity)[1]})")
        weakest = _weakest(v)
        if weakest is not None:
            lines.append(f"    low resolution: the {weakest.route} check at {weakest.label} point "
                         f"resolves only relative errors above {weakest.resolution:.0%} at "
                         f"{weakest.n_samples} samples (raise --samples for more)")
    lines.append(summary_line(verdicts))
    return "\n".join(lines)


def summary_line(verdicts) -> str:
    """``79 statements: 61 holds, 13 fails, 5 approximate, 0 inconclusive; 79 as expected``."""
    counts = ", ".join(f"{sum(v.verdict == w for v in verdicts)} {w}" for w in VERDICTS
                       if w != "derived" or any(v.verdict == w for v in verdicts))
    stated = [v for v in verdicts if v.matches is not None]
    expected = f"; {sum(bool(v.matches) for v in stated)} of {len(stated)} as expected" \
        if stated else ""
    return f"{len(verdicts)} statements: {counts}{expected}"


#: a statement resting on numbers whose weakest sampled check cannot see a relative error
#: this large is flagged (the sample count cannot reach the resolution a claim needs)
LOW_RESOLUTION = 0.25


def _weakest(verdict):
    """The sampled check with the coarsest resolution of a statement that holds without a
    proof, when it is coarser than :data:`LOW_RESOLUTION`."""
    if verdict.verdict != "holds" or verdict.symbolic == "proved":
        return None
    sampled = [r for r in verdict.routes[1:] if r.resolution is not None and r.status == "agrees"
               and np.isfinite(r.resolution)]
    weakest = max(sampled, key=lambda r: r.resolution, default=None)
    return weakest if weakest is not None and weakest.resolution > LOW_RESOLUTION else None


#: a step longer than this (as plain text) is printed as plain text, not drawn
PRETTY_LIMIT = 3000


def _pretty(expr) -> str:
    """``expr`` drawn by ``sympy.pretty`` (Unicode, 100 columns), indented under its step;
    an expression too long to draw is printed as plain text."""
    text = sp.sstr(expr)
    drawn = text if len(text) > PRETTY_LIMIT else sp.pretty(expr, num_columns=100)
    return "\n".join("   " + line for line in drawn.splitlines())


def _sides(identity) -> tuple:
    """``(lhs, rhs)`` to show: as the user wrote them when the claim was compiled into another
    statement (a question's rhs is its closed form), else the model's left side (a registry
    statement's named ``lhs``) and ``rhs``."""
    lhs = getattr(identity.model, "lhs", None)
    lhs = lhs if isinstance(lhs, sp.Basic) else sp.Symbol("lhs")
    if not identity.written:
        return lhs, identity.rhs
    written_lhs, written_rhs = identity.written
    return written_lhs, identity.rhs if written_rhs is None else written_rhs


def claim_expr(identity):
    """``lhs relation rhs``: a claim's own left side (as written, when it was compiled into
    another statement), a registry statement's named ``lhs``."""
    lhs, rhs = _sides(identity)
    relation = {"==": sp.Eq, "<=": sp.Le, ">=": sp.Ge}[identity.relation]
    try:
        return relation(lhs, rhs, evaluate=False)
    except (TypeError, ValueError):  # a relation SymPy will not build (matrices)
        return identity.rhs


def derivation_text(identity, *, latex: bool = False) -> str:
    """The statement, notation, source and every derivation step of ``identity``: drawn
    with ``sympy.pretty`` (no LaTeX), or as LaTeX with ``latex=True``."""
    result = routes.run("symbolic", identity, None, identity.rhs)
    if latex:
        lines = [f"{identity.name}: {identity.statement}"]
    else:
        lines = [f"{identity.name}", "claim:", _pretty(claim_expr(identity))]
    lines += [f"notation: {identity.notation}", f"source: {identity.source}", ""]
    steps = result.detail.steps if result.detail is not None else []
    for number, step in enumerate(steps, 1):
        lines += [f"{number}. {step.label}",
                  f"   {sp.latex(step.expr)}" if latex else _pretty(step.expr)]
    lines += ["", f"symbolic verdict: {result.status}" + (f" ({result.note})" if result.note
                                                         else "")]
    return "\n".join(lines)


def print_family(family: str, argv: list[str]) -> None:
    """Entry point of a ``derivations/FAMILY.py`` script (``--latex`` for LaTeX)."""
    try:
        for identity in select([family]):
            print(derivation_text(identity, latex="--latex" in argv), end="\n\n")
    except BrokenPipeError:  # piped into `head`: not an error of ours
        sys.stderr.close()
