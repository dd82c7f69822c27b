"""One pipeline for registry identities and user claims: plan the checks, run the routes,
aggregate one verdict per statement.

Plan: the symbolic route first; then typical points (stratified over the parameters' typical
ranges), each domain edge, the smallest sizes and, unless the symbolic route proved the
statement, the larger sizes its parameters declare (8, 64, 1024 for a claim's dimensions),
each checked by the identity's numeric routes (the exact route where every outcome can be
enumerated, Monte Carlo where not); with ``large`` the sizes people use, and a ``budget``
chooses the sample count (:mod:`.scale`). Run: all statistical checks share one alpha (Bonferroni).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from . import routes, scale
from ._validation import check_run
from .identity import Approximation, ExpressionModel, MaskModel
from .routes.symbolic import confirm
from .sampling import DEFAULT_ALPHA, generator

__all__ = ["Verdict", "Check", "plan", "verify", "aggregate", "WORK_BUDGET"]

#: most elementwise operations one Monte Carlo check at a large size may cost
WORK_BUDGET = 1 << 30
_WANTED = {"holds": ("holds", "derived"), "refuted": ("fails",), "approximate": ("approximate",)}


@dataclass
class Check:
    route: str
    point: dict
    label: str
    key: str
    samples: int | None = None  # its own sample count (a check at the sizes people use)


@dataclass
class Verdict:
    """One statement's verdict, why, and every route's evidence (the symbolic route first)."""

    identity: object
    verdict: str
    reason: str
    routes: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.identity.name

    @property
    def matches(self) -> bool | None:
        expected = self.identity.expected
        return None if expected is None else self.verdict in _WANTED[expected]

    @property
    def symbolic(self) -> str:
        return self.routes[0].status


def _numeric_route(identity, point, n_samples: int) -> str | None:
    prepared = routes.prepare(identity.model, identity, point, identity.rhs)
    if prepared.n_outcomes is not None:
        return "exact"
    if "montecarlo" in identity.routes and prepared.work * n_samples <= WORK_BUDGET:
        return "montecarlo"
    return None


def plan(identity, *, root: int, n_points: int, n_samples: int, proved: bool) -> list[Check]:
    """Every numeric check of ``identity``: typical points by all its routes, then edges,
    smallest and (without a proof) large sizes by the exact or Monte Carlo route."""
    rng = generator(root, identity.name, 1 << 30)
    typical = identity.draw_points(rng, n_points)
    checks = [Check(r, point, "typical", f"{identity.name}#{k}")
              for k, point in enumerate(typical) for r in identity.routes
              if r != "exact" or routes.enumerable(identity, point)]
    if isinstance(identity.model, (MaskModel, ExpressionModel)):
        extra = identity.extra_points(typical[0], proved=proved,
                                      rng=generator(root, identity.name, 1 << 29))
        for k, (label, point) in enumerate(extra):
            route = _numeric_route(identity, point, n_samples)
            checks.append(Check(route or "montecarlo", point, label, f"{identity.name}#x{k}")
                          if route else Check("skipped", point, label, ""))
    return checks


def _run(check: Check, identity, context, failed: bool) -> routes.RouteResult:
    try:
        return _route(check, identity, context, failed)
    except ValueError as exc:  # invalid at this point: name the statement
        raise ValueError(f"{_label(identity)}: at {check.label} point "
                         f"{ {p.name: check.point[p.name] for p in identity.params if not p.shape} }"
                         f": {exc}") from None


def _label(identity) -> str:
    return getattr(identity.model, "label", "") or identity.name


def _route(check: Check, identity, context, failed: bool) -> routes.RouteResult:
    if check.route == "skipped":
        return routes.RouteResult("montecarlo", "skipped", check.point, label=check.label,
                                  note=f"estimated work over the budget of {WORK_BUDGET:.3g} "
                                       f"elementwise operations")
    if failed and check.label.startswith("size"):
        return routes.RouteResult(check.route, "skipped", check.point, label=check.label,
                                  note="not needed: a smaller size already rejects the claim")
    result = routes.run(check.route, identity, check.point, identity.rhs, context)
    result.label = check.label
    return result


def verify(identities, *, root: int = 0, n_samples: int = 1 << 17, alpha: float = DEFAULT_ALPHA,
           n_points: int = 4, progress=None, large=False, budget=None, workers=1) -> tuple:
    """Verdicts for ``identities``; ``alpha`` is the run's family-wise false-alarm rate;
    ``large`` and ``budget`` (seconds over ``workers``, instead of ``n_samples``): :mod:`.scale`."""
    check_run(root=root, n_samples=n_samples, n_points=n_points, alpha=alpha)
    say = progress or (lambda message: None)
    symbolic = {}
    for number, identity in enumerate(identities, 1):
        say(f"[{number}/{len(identities)}] {identity.name}: symbolic route, planning")
        symbolic[identity.name] = routes.run("symbolic", identity, None, identity.rhs)
    n_samples, plans, budgeted = scale.planned(
        identities, symbolic, plan, Check, _label, root=root, n_points=n_points, say=say,
        n_samples=n_samples, large=large, budget=budget, workers=workers)
    n_checks = sum(c.route in routes.STATISTICAL for p in plans.values() for c in p)
    say(f"{n_checks} statistical checks share the false-alarm rate {alpha:g}")
    verdicts = []
    for number, identity in enumerate(identities, 1):
        start = time.perf_counter()
        numeric = []
        for check in plans[identity.name]:
            context = routes.Context(root, check.samples or n_samples, alpha, n_checks, check.key)
            failed = any(r.status == "disagrees" for r in numeric)
            numeric.append(_run(check, identity, context, failed))
        first = confirm(symbolic[identity.name], numeric)
        verdict, reason = aggregate(identity, first, numeric)
        verdicts.append(Verdict(identity, verdict, reason, [first, *numeric],
                                round(time.perf_counter() - start, 3)))
        say(f"[{number}/{len(identities)}] {identity.name}: {verdict}")
    critical = routes.Context(alpha=alpha, n_checks=n_checks).critical
    meta = {"seed": root, "alpha": alpha, "samples": n_samples, "points": n_points,
            "n_statistical_checks": n_checks, **scale.record(verdicts, budgeted, large),
            "z_crit": {"two_sided": critical("=="), "one_sided": critical("<=")}}
    return verdicts, meta


def aggregate(identity, symbolic, numeric) -> tuple[str, str]:
    """The verdict and its reason. ``fails`` needs a numeric disagreement (certified by the
    exact route, or beyond the z-test) or a witnessed refutation; a proof contradicted by a
    number is a defect of the tool, reported ``inconclusive``; an unconfirmed refutation is
    ``inconclusive``; ``holds`` says whether it rests on a proof or on numbers only."""
    if isinstance(identity.model, Approximation):
        return _approximate(symbolic, numeric)
    against = [r for r in numeric if r.status == "disagrees"]
    if against and symbolic.status == "proved":
        first = against[0]
        return "inconclusive", (f"defect of the tool: the symbolic route proves it, but the "
                                f"{first.route} route disagrees at {first.label} point beyond "
                                f"its bound")
    if (symbolic.witness or {}).get("conflict"):
        return "inconclusive", ("defect of the tool: the exact route's certified difference "
                                "and the symbolic residual disagree at "
                                f"{symbolic.witness['label']} point")
    if against:
        how = routes.evidence(against)
        return "fails", f"rejected at {len(against)} of {len(numeric)} checks ({how})"
    if symbolic.status == "unconfirmed":
        return "inconclusive", "the canonical residual is not 0, but no exact check confirmed it"
    undefined = [r for r in numeric if r.status == "undefined"]
    if undefined:
        return "inconclusive", f"a side is not a finite number at {len(undefined)} point(s)"
    agreeing = sum(r.status == "agrees" for r in numeric)
    if symbolic.status == "proved":
        return ("derived" if identity.question else "holds"), \
            f"proved for symbolic sizes; agrees at all {agreeing} numeric checks"
    if not agreeing:
        return "inconclusive", "no check could resolve anything"
    skipped = sorted({r.label for r in numeric if r.status == "skipped"})
    return "holds", (f"numeric evidence only: agrees at all {agreeing} resolved checks"
                     + (f" (not checked: {', '.join(skipped)})" if skipped else ""))


def _approximate(symbolic, numeric) -> tuple[str, str]:
    """``approximate`` when the claim is not exact but every order route measured the
    declared order; ``fails`` when an order differs; ``holds`` when it is exact."""
    orders = [r for r in numeric if r.route == "order"]
    if not orders or any(r.status == "inconclusive" for r in orders):
        return "inconclusive", "the error order could not be measured at every point"
    if any(r.status == "disagrees" for r in orders):
        return "fails", "the measured error order differs from the declared one"
    others = [symbolic] + [r for r in numeric if r.route != "order"]
    if any(r.status in ("refuted", "unconfirmed", "disagrees") for r in others):
        return "approximate", "not exact; the error has the declared order"
    if all(r.status in ("proved", "agrees") for r in others):
        return "holds", "exact, not only an approximation"
    return "inconclusive", "exactness could not be decided"
