"""One pipeline for registry identities and user claims: plan the checks, run the routes,
aggregate one verdict per statement.

Plan: the symbolic route first; then typical points (stratified over the parameters' typical
ranges; one point with all their samples when there are no parameters), each domain edge, the
smallest sizes and, unless the symbolic route proved the statement, the larger sizes its
parameters declare (8, 64, 1024 for a claim's dimensions), each checked by the identity's
numeric routes (the exact route where every outcome can be enumerated, Monte Carlo where not);
with ``large`` the sizes people use, and a ``budget`` chooses the sample count (:mod:`.scale`).
Run: all statistical checks share one alpha (Bonferroni).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from . import routes, scale
from ._validation import check_run
from .aggregate import HOLDING, aggregate
from .identity import ExpressionModel, MaskModel
from .routes.symbolic import confirm
from .sampling import DEFAULT_ALPHA, generator

__all__ = ["Verdict", "Check", "plan", "verify", "aggregate", "WORK_BUDGET"]

#: most elementwise operations one Monte Carlo check at a large size may cost
WORK_BUDGET = 1 << 30
_WANTED = {"holds": HOLDING, "refuted": ("fails",), "approximate": ("approximate",)}


@dataclass
class Check:
    route: str
    point: dict
    label: str
    key: str
    samples: int | None = None  # its own sample count (a check at the sizes people use)


@dataclass
class Verdict(routes.result.VerdictDisplay):
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
    typical = identity.draw_points(rng, n_points)[:n_points if identity.params else 1]
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
        say(f"[{number}/{len(identities)}] {identity.name}: planning (symbolic route first)")
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
            pool = 1 if identity.params or check.label != "typical" else n_points  # pooled
            context = routes.Context(root, (check.samples or n_samples) * pool, alpha, n_checks,
                                     check.key)
            failed = any(r.status == "disagrees" for r in numeric)
            numeric.append(_run(check, identity, context, failed))
        first = confirm(symbolic[identity.name], numeric)
        verdict, reason = aggregate(identity, first, numeric)
        verdicts.append(Verdict(identity, verdict, reason, [first, *numeric],
                                round(time.perf_counter() - start, 3)))
        say(f"[{number}/{len(identities)}] {identity.name}: {routes.decided_by(verdicts[-1])}")
    critical = routes.Context(alpha=alpha, n_checks=n_checks).critical
    meta = {"seed": root, "alpha": alpha, "samples": n_samples, "points": n_points,
            "n_statistical_checks": n_checks, **scale.record(verdicts, budgeted, large),
            "z_crit": {"two_sided": critical("=="), "one_sided": critical("<=")}}
    return verdicts, meta
