"""Power, measured: how many plausible wrong variants the default run rejects.

Each statement's generated variants (:mod:`dropout_theory.mutations`; an inequality's own
wrong claims; the must-reject twins fill up a statement with fewer than two) are verified one
at a time through the one pipeline, at the default budget and at the **per-check** false-alarm
rate of the run ``dropout-theory verify [FAMILY ...]`` over the same statements (a variant's
own checks share ``rate * n_checks``), so a variant is checked as strictly as the statement it
mis-states would be. Same seeds as that statement: the same points and masks, only the claim
differs. The statements themselves are verified first, which gives each statistical check's
resolution, the smallest relative error it can detect (``z_crit * se / |claim|``).

Outcomes: ``detected`` (``fails``), ``missed`` (``holds``: a wrong claim said to hold; for an
equality whose difference is below every check's resolution that is the budget speaking, and
the record shows the relative gap), ``inconclusive``, and for an approximation ``same-order``
(the variant approximates with the declared order too, so it is not wrong as an approximation).
The detection rate is ``detected / (variants - same-order)``.
"""
from __future__ import annotations

import dataclasses
import math
import statistics

from . import routes
from .mutations import variants
from .sampling import DEFAULT_ALPHA
from .verify import plan, verify

__all__ = ["SCHEMA", "library", "measure", "render_text"]

SCHEMA = "dropout-theory/power/1"
_OUTCOME = {"fails": "detected", "holds": "missed", "inconclusive": "inconclusive",
            "approximate": "same-order"}


def library(identity, *, limit: int = 4) -> dict:
    """``{label: (kind, wrong right side)}`` for one statement (module docstring)."""
    if identity.expected == "refuted":  # already a wrong claim: the registry run measures it
        return {}
    chosen = {label: (label.split(" ", 1)[0], wrong)
              for label, wrong in variants(identity, limit=limit).items()}
    twins = identity.mutations(identity.rhs)
    for label, wrong in twins.items():
        if len(chosen) >= 2 and identity.relation == "==":
            break
        if not any(wrong == other for _, other in chosen.values()):
            chosen[f"twin {label}"] = ("twin", wrong)
    return chosen


def measure(identities, *, root: int = 0, n_samples: int = 1 << 17, n_points: int = 4,
            alpha: float = DEFAULT_ALPHA, limit: int = 4, progress=None) -> dict:
    """The power document (schema ``dropout-theory/power/1``) of ``identities``."""
    say = progress or (lambda message: None)
    originals, meta = verify(identities, root=root, n_samples=n_samples, alpha=alpha,
                             n_points=n_points)
    rate = alpha / max(meta["n_statistical_checks"], 1)
    records = []
    for number, verdict in enumerate(originals, 1):
        identity = verdict.identity
        for label, (kind, wrong) in library(identity, limit=limit).items():
            say(f"[{number}/{len(originals)}] {identity.name}: {label}")
            records.append(_variant(identity, label, kind, wrong, root=root, rate=rate,
                                    n_samples=n_samples, n_points=n_points))
    families = sorted({v.identity.family for v in originals})
    return {"schema": SCHEMA, "seed": root, "samples": n_samples, "points": n_points,
            "alpha": alpha, "per_check_alpha": rate,
            "n_statistical_checks": meta["n_statistical_checks"],
            "families": {f: _summary([v for v in originals if v.identity.family == f],
                                     [r for r in records if r["family"] == f])
                         for f in families},
            "statements": [_statement(v) for v in originals],
            "variants": records}


def _variant(identity, label, kind, wrong, *, root, rate, n_samples, n_points) -> dict:
    stated = dataclasses.replace(identity, rhs=wrong, expected=None, wrong_claims=None)
    # a wrong claim is never proved, so its plan is the one without a proof
    n_checks = sum(c.route in routes.STATISTICAL
                   for c in plan(stated, root=root, n_points=n_points, n_samples=n_samples,
                                 proved=False))
    (verdict,), meta = verify([stated], root=root, n_samples=n_samples, n_points=n_points,
                              alpha=min(rate * max(n_checks, 1), 0.5))
    gaps = [abs(r.difference) / abs(r.lhs) for r in verdict.routes[1:]
            if r.difference is not None and r.lhs and math.isfinite(r.difference)]
    return {"family": identity.family, "statement": identity.name, "label": label,
            "kind": kind, "rhs": str(wrong), "verdict": verdict.verdict,
            "outcome": _OUTCOME[verdict.verdict], "symbolic": verdict.symbolic,
            "relative_gap": max(gaps) if gaps else None,
            "n_statistical_checks": meta["n_statistical_checks"]}


def _resolutions(verdict) -> list:
    return [r.resolution for r in verdict.routes[1:]
            if r.route in routes.STATISTICAL and r.resolution is not None
            and math.isfinite(r.resolution)]


def _statement(verdict) -> dict:
    numeric = verdict.routes[1:]
    return {"name": verdict.name, "expected": verdict.identity.expected,
            "verdict": verdict.verdict, "matches": verdict.matches,
            "exact_checks": sum(r.route == "exact" for r in numeric),
            "statistical_checks": sum(r.route in routes.STATISTICAL for r in numeric),
            "resolutions": _resolutions(verdict)}


def _summary(originals, records) -> dict:
    counts = {o: sum(r["outcome"] == o for r in records) for o in _OUTCOME.values()}
    wrong = len(records) - counts["same-order"]
    resolutions = [x for v in originals for x in _resolutions(v)]
    by_kind = {}
    for r in records:
        done, total = by_kind.get(r["kind"], (0, 0))
        by_kind[r["kind"]] = (done + (r["outcome"] == "detected"),
                              total + (r["outcome"] != "same-order"))
    return {"statements": len(originals), "variants": len(records), **counts,
            "detection_rate": counts["detected"] / wrong if wrong else None,
            "by_kind": {k: {"detected": d, "variants": t} for k, (d, t) in sorted(by_kind.items())},
            "resolution": {"median": statistics.median(resolutions),
                           "min": min(resolutions), "max": max(resolutions),
                           "checks": len(resolutions)} if resolutions else None,
            "exact_checks": sum(sum(r.route == "exact" for r in v.routes[1:])
                                for v in originals)}


def render_text(document: dict) -> str:
    """One row per family, then every variant not detected with its relative gap."""
    lines = [f"power at {document['samples']} samples, {document['points']} points, "
             f"per-check alpha {document['per_check_alpha']:.3g} (the run's "
             f"{document['alpha']:g} over {document['n_statistical_checks']} checks), "
             f"seed {document['seed']}",
             f"{'family':14s} {'variants':>8s} {'detected':>8s} {'missed':>6s} "
             f"{'inconcl.':>8s} {'same-ord':>8s} {'rate':>6s} {'median res.':>11s} "
             f"{'min res.':>9s} {'exact':>5s}"]
    for family, row in document["families"].items():
        res = row["resolution"] or {}
        rate = "-" if row["detection_rate"] is None else f"{row['detection_rate']:.0%}"
        lines.append(f"{family:14s} {row['variants']:8d} {row['detected']:8d} "
                     f"{row['missed']:6d} {row['inconclusive']:8d} {row['same-order']:8d} "
                     f"{rate:>6s} {_g(res.get('median')):>11s} {_g(res.get('min')):>9s} "
                     f"{row['exact_checks']:5d}")
    undetected = [r for r in document["variants"] if r["outcome"] != "detected"]
    if undetected:
        lines.append("not detected:")
    for r in undetected:
        lines.append(f"  {r['statement']} [{r['label']}]: {r['verdict']}, relative gap "
                     f"{_g(r['relative_gap'])}")
    return "\n".join(lines)


def _g(value) -> str:
    return "-" if value is None else f"{value:.3g}"
