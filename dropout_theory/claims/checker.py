"""Judge claims: symbolic route, numeric points, verdict with a counterexample.

Verdicts
--------
``fails``  some numeric point rejects the claim (z-test or rounding bound), or the symbolic
           route refutes it (a non-zero residual in canonical form), whatever the numbers say.
``holds``  no numeric point rejects it and the symbolic route did not refute it; the message
           says whether the evidence is a proof or numbers only.
``inconclusive`` a side is not finite at some point (the claim is undefined there).
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import sympy as sp

from ..sampling import DEFAULT_ALPHA, float_tolerance, resolution, z_crit
from ..symbolic import ExpansionError, NoClosedForm, covariance, expectation, prove_equal, variance
from .budget import MAX_NESTED_SUMS, MAX_TERMS, symbolic_size
from .estimate import exact_difference, montecarlo_difference, prepare
from .numeric import Point, instantiate, make_points
from .parser import OPERATORS, ClaimError, Cov, E, Var
from .schema import Claim

__all__ = ["ClaimResult", "check_claims", "symbolic_route", "to_json", "DEFAULT_SAMPLES"]

#: Monte Carlo samples per point by default: 32 batches of 8192
DEFAULT_SAMPLES = 1 << 18


@dataclass
class ClaimResult:
    """Outcome of one claim: verdict, both routes, counterexample and the statistics."""

    name: str
    verdict: str
    symbolic: str
    numeric: str
    message: str
    residual: str | None = None
    counterexample: dict | None = None
    max_abs_z: float | None = None
    resolution: float | None = None
    points: list = field(default_factory=list)
    source: str = ""
    relation: str = "=="
    expected: str | None = None
    seconds: float = 0.0

    @property
    def matches_expected(self) -> bool | None:
        return None if self.expected is None else self.expected == self.verdict


def _derive(node, space):
    if isinstance(node, E):
        return expectation(node.args[0], space).result
    if isinstance(node, Var):
        return variance(node.args[0], space).result
    if isinstance(node, Cov):
        return covariance(node.args[0], node.args[1], space).result
    raise NoClosedForm(f"no moment rule for the probability {node}")


def symbolic_route(claim: Claim) -> tuple[str, str | None, str]:
    """``(status, residual, note)``; status proved / refuted / inconclusive / not-applicable."""
    if claim.relation != "==":
        return "not-applicable", None, "inequalities are judged by the numeric route"
    order, terms = symbolic_size(claim.lhs - claim.rhs)
    if order > MAX_NESTED_SUMS or terms > MAX_TERMS:
        return "inconclusive", None, (f"symbolic: too large for the engine ({order} nested sums, "
                                      f"~{terms} terms; limits {MAX_NESTED_SUMS} and {MAX_TERMS})")
    try:
        sides = []
        for side in (claim.lhs, claim.rhs):
            nodes = side.atoms(*OPERATORS.values())
            sides.append(side.xreplace({n: _derive(n, claim.space) for n in nodes}))
        proof = prove_equal(*sides)
    except (NoClosedForm, ExpansionError) as exc:
        return "inconclusive", None, f"symbolic: {exc}"
    except (TypeError, ValueError, NotImplementedError, RecursionError, AttributeError,
            sp.PolynomialError) as exc:  # SymPy giving up on an odd combination is no verdict
        return "inconclusive", None, f"symbolic: the engine stopped ({type(exc).__name__}: {exc})"
    residual = proof.residual
    if proof.status == "inconclusive" and not residual.has(sp.Sum):
        if sp.simplify(residual) == 0:
            return "proved", "0", "symbolic: the residual simplifies to 0"
    note = {"proved": "symbolic: lhs - rhs is exactly 0 for symbolic sizes",
            "refuted": "symbolic: lhs - rhs is a non-zero polynomial in canonical form",
            "inconclusive": "symbolic: the residual has functions the canonical form cannot "
                            "decide"}[proof.status]
    return proof.status, str(residual), note


@dataclass
class _Check:
    point: Point
    setup: object
    name: str


def plan(claim: Claim, *, root: int, n_points: int) -> list[_Check]:
    """Instantiate the claim at every point and choose each point's route."""
    checks = []
    for k, point in enumerate(make_points(claim, root=root, n_random=n_points)):
        subs = {claim.names.scalars[n]: sp.Float(v) for n, v in point.values.items()
                if np.ndim(v) == 0}
        lhs, rhs = (instantiate(s, claim, point) for s in (claim.lhs, claim.rhs))
        setup = prepare(claim, lhs, rhs, subs)
        checks.append(_Check(point, setup, f"claims/{claim.name}/point{k}"))
    return checks


def _judge(claim: Claim, check: _Check, numbers: dict, critical: float) -> dict:
    diff = numbers["lhs"] - numbers["rhs"]
    rounding = float_tolerance(numbers["magnitude"], numbers["n_ops"])
    se = numbers["se"]
    row = {"point": check.point.display(), "label": check.point.label,
           "route": check.setup.route, "lhs": numbers["lhs"], "rhs": numbers["rhs"],
           "difference": diff, "se": se, "rounding_bound": rounding,
           "n_samples": numbers["n_samples"]}
    if not (math.isfinite(diff) and math.isfinite(se)):
        row.update(status="undefined", z=None)
        return row
    excess = {"==": abs(diff), "<=": diff, ">=": -diff}[claim.relation] - rounding
    if check.setup.route == "exact":  # no sampling error: only rounding may separate the sides
        score = abs(diff) / rounding if rounding > 0 else (math.inf if diff else 0.0)
        row.update(z=None, score=score,
                   status="fails" if excess > 0 else "holds")
        return row
    z = diff / se if se > 0 else (0.0 if abs(diff) <= rounding else math.copysign(math.inf, diff))
    row.update(z=z, score=abs(z), status="fails" if excess > critical * se else "holds",
               resolution=resolution(se, numbers["rhs"], critical))
    if se == 0 and excess > 0 and "frozen" in numbers:
        _frozen(claim, row, numbers, rounding)
    return row


def _frozen(claim: Claim, row: dict, numbers: dict, rounding: float) -> None:
    """No variation in some random node: a zero se is no evidence of a zero sampling error."""
    row["frozen"] = numbers["frozen"]
    row.pop("resolution", None)  # a zero se resolves nothing
    corners = numbers.get("corner_differences")
    if corners is None:  # an unbounded statistic: a rare, unseen outcome could move it anywhere
        row.update(status="unresolved", z=None, score=0.0)
        return
    excess = min({"==": abs(d), "<=": d, ">=": -d}[claim.relation] for d in corners)
    if min(corners) < 0 < max(corners) and claim.relation == "==":
        excess = 0.0
    failed = excess > rounding
    row.update(status="fails" if failed else "holds", z=None, score=math.inf if failed else 0.0,
               plausible_differences=[min(corners), max(corners)])


def _numbers(check: _Check, *, root: int, n_samples: int, tail: float) -> dict:
    if check.setup.route == "exact":
        return exact_difference(check.setup)
    return montecarlo_difference(check.setup, n_samples=n_samples, root=root, name=check.name,
                                 unseen=math.log(1.0 / tail))


def _numeric_status(rows: list) -> str:
    statuses = {r["status"] for r in rows}
    for status in ("fails", "undefined"):
        if status in statuses:
            return status
    return "unresolved" if statuses == {"unresolved"} else "holds"


def _verdict(claim: Claim, rows: list, symbolic: tuple) -> ClaimResult:
    status, residual, note = symbolic
    failed = [r for r in rows if r["status"] == "fails"]
    undefined = [r for r in rows if r["status"] == "undefined"]
    unresolved = [r for r in rows if r["status"] == "unresolved"]
    finite_z = [abs(r["z"]) for r in rows if r.get("z") is not None]
    worst = max(failed or rows, key=lambda r: r.get("score") or 0.0)
    numeric = _numeric_status(rows)
    resolutions = [r["resolution"] for r in rows if "resolution" in r and r["status"] == "holds"]
    result = ClaimResult(claim.name, "holds", status, numeric, "", residual,
                         max_abs_z=max(finite_z) if finite_z else None,
                         resolution=max(resolutions) if resolutions else None, points=rows,
                         source=claim.source, relation=claim.relation, expected=claim.expected)
    if failed:
        result.verdict, result.counterexample = "fails", _counterexample(worst)
        result.message = f"fails at {len(failed)} of {len(rows)} points; {note}"
    elif status == "refuted":
        result.verdict, result.counterexample = "fails", _counterexample(worst)
        result.message = (f"{note} ({residual}); the numeric checks did not detect it at "
                          f"their resolution")
    elif undefined or numeric == "unresolved":
        result.verdict = "inconclusive"
        result.counterexample = _counterexample((undefined or unresolved)[0])
        result.message = (f"a side is not finite at {len(undefined)} point(s) and the samples "
                          f"never varied at {len(unresolved)} (no point gave evidence); {note}")
    else:
        evidence = "proved and" if status == "proved" else "numeric evidence only:"
        held = len(rows) - len(unresolved)
        which = "resolved points" if unresolved else "points"
        result.message = f"{evidence} holds at all {held} {which}; {note}"
        if unresolved:
            result.message += (f"; at {len(unresolved)} more the samples never varied (an "
                               f"event rarer than 1/n_samples would decide), so they are no "
                               f"evidence either way")
    return result


def _counterexample(row: dict) -> dict:
    keys = ("point", "label", "route", "lhs", "rhs", "difference", "se", "z", "rounding_bound")
    example = {k: row.get(k) for k in keys}
    example["discrepancy_in_se"] = row.get("z")  # Monte Carlo: (lhs - rhs) / se
    if row.get("route") == "exact":
        example["discrepancy_in_rounding_bounds"] = row.get("score")
    return example


def check_claims(claims, *, seed: int = 0, n_samples: int = DEFAULT_SAMPLES,
                 alpha: float = DEFAULT_ALPHA, n_points: int = 6, progress=None) -> dict:
    """Check validated claims; returns ``{"claims": [ClaimResult], "meta": {...}}``.

    The run's family-wise false-alarm rate ``alpha`` is Bonferroni-split over every Monte Carlo
    check of the run; inequalities use one-sided critical values.
    """
    progress = progress or (lambda message: None)
    plans, seconds = {}, {}
    for claim in claims:  # every point first: the Bonferroni split needs the number of checks
        start = time.perf_counter()
        plans[claim.name] = _named(claim, plan, claim, root=seed, n_points=n_points)
        seconds[claim.name] = time.perf_counter() - start
    n_mc = sum(c.setup.route == "montecarlo" for checks in plans.values() for c in checks)
    progress(f"{len(claims)} claim(s), {n_mc} Monte Carlo checks share alpha = {alpha:g}")
    results = []
    for claim in claims:
        start = time.perf_counter()
        progress(f"claim {claim.name}: symbolic route")
        symbolic = symbolic_route(claim)
        critical = z_crit(alpha, max(n_mc, 1), two_sided=claim.relation == "==")
        rows = []
        for check in plans[claim.name]:
            numbers = _named(claim, _numbers, check, root=seed, n_samples=n_samples,
                             tail=alpha / max(n_mc, 1))
            rows.append(_judge(claim, check, numbers, critical))
        result = _verdict(claim, rows, symbolic)
        result.seconds = round(time.perf_counter() - start + seconds[claim.name], 3)
        progress(f"claim {claim.name}: {result.verdict} ({result.seconds:.1f} s)")
        results.append(result)
    meta = {"seed": seed, "samples": n_samples, "alpha": alpha, "n_montecarlo_checks": n_mc,
            "z_crit_two_sided": z_crit(alpha, max(n_mc, 1)),
            "z_crit_one_sided": z_crit(alpha, max(n_mc, 1), two_sided=False)}
    return {"claims": results, "meta": meta}


def _named(claim: Claim, function, *args, **kwargs):
    """Run ``function``; invalid-input errors get the claim's name in front."""
    try:
        return function(*args, **kwargs)
    except ClaimError as exc:
        if str(exc).startswith("claim "):
            raise
        raise ClaimError(f"claim {claim.name!r}: {exc}") from None


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


def to_json(report: dict) -> dict:
    """The ``--json`` document: claims, summary counts and the run's statistics."""
    claims = []
    for result in report["claims"]:
        row = asdict(result)
        row["matches_expected"] = result.matches_expected
        claims.append(row)
    summary = {v: sum(r.verdict == v for r in report["claims"])
               for v in ("holds", "fails", "inconclusive")}
    return _clean({"schema": "dropout-theory/check/1", "claims": claims, "summary": summary,
                   "meta": report["meta"]})


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
