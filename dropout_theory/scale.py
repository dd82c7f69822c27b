r"""Checks at the sizes people use (``verify --large``) and a time budget instead of a sample
count (``verify --budget SECONDS``).

**Large sizes.** The default run checks moment statements at the widths their parameters
declare (d <= 8): where exact enumeration already decides them. With ``large``, every moment
statement (a :class:`~dropout_theory.identity.MaskModel` with the Monte Carlo route, not an
approximation, whose sizes include a width ``d``) gets one more Monte Carlo check at
``d = 1024``, and a statement over a data matrix (sizes ``n`` and ``d``: the ridge family) at
``n x d = 1000 x 256``; the other sizes and the scalars are those of its first typical point,
its arrays are drawn afresh. It is checked whether or not the symbolic route proved it (a
proof contradicted by a number is a defect of the tool). Such a check costs ``work``
elementwise operations per sample (``8 k + 32`` for ``k`` mask entries, up to 2 million for
the ridge family), so it takes fewer samples than ``--samples``: :func:`large_samples` scales
them so that it costs at most :data:`LARGE_WORK` operations at the default sample count (and
proportionally more or fewer at other counts). The large checks join the run's Bonferroni
split like any other, so ``large`` also raises every check's critical value a little. The
resolution each reached (the smallest relative error it could detect, ``z_crit se / |rhs|``)
is in the verdict's route records and summarized by :func:`record`.

**Time budget.** :func:`choose_samples` picks the sample count that lets the run's Monte
Carlo checks (those of the plan at that count) sample for about ``seconds`` on this machine
(divided over the executor's workers): a pilot times every check's preparation and two draws
of its model (8 and ``8 + r`` rows: the difference is the cost of ``r`` samples, the rest a
call's overhead, paid once per batch), and the largest count whose estimate fits is taken (a
multiple of 32, at least 64). The count depends on the machine, the results only on the
count: ``--samples N`` with the reported ``N`` gives the same statements, bit for bit (the
pilot's draws are thrown away and never touch a check's generators). The symbolic, exact,
replicate and order routes come on top of the budget.
"""
from __future__ import annotations

import math
import time

import numpy as np

from . import routes
from .identity import Approximation, MaskModel
from .sampling import N_BATCHES, generator

__all__ = ["LARGE_SIZES", "LARGE_WORK", "REFERENCE_SAMPLES", "large_samples", "large_checks",
           "is_large", "choose_samples", "planned", "record", "render"]

#: the sizes people use: a data matrix n x d (the ridge family), else a width d
LARGE_SIZES = ({"n": 1000, "d": 256}, {"d": 1024})
#: most elementwise operations of one large check at :data:`REFERENCE_SAMPLES` samples
LARGE_WORK = 1 << 28
#: the default ``--samples``, at which a large check costs at most ``LARGE_WORK``
REFERENCE_SAMPLES = 1 << 17
#: the pilot's rows per check: a few, then up to ``_PILOT_ROWS`` more (at most ``_PILOT_WORK``
#: elementwise operations)
_PILOT_FEW, _PILOT_ROWS, _PILOT_WORK = 8, 512, 1 << 21
_LABEL = " (sizes people use)"
#: statements whose simulation cannot be evaluated at the sizes people use, and why (their
#: large check would be ``undefined``, making the verdict inconclusive for a reason that is
#: no evidence about the statement)
NOT_AT_LARGE: dict = {}  # none since ensemble.nwgm-sigmoid reads 1 - O as sigma(-z)


def large_samples(work: int, n_samples: int) -> int:
    """Samples of a large check costing ``work`` operations per sample in a run of
    ``n_samples``: ``n_samples * LARGE_WORK / (REFERENCE_SAMPLES * work)``, at most
    ``n_samples``, rounded down to a multiple of ``N_BATCHES``, at least two per batch.

    >>> large_samples(8224, 1 << 17), large_samples(2048032, 1 << 17), large_samples(40, 4096)
    (32640, 128, 4096)
    """
    scaled = n_samples * LARGE_WORK // (REFERENCE_SAMPLES * max(int(work), 1))
    return max(2 * N_BATCHES, min(n_samples, scaled) // N_BATCHES * N_BATCHES)


def _sizes(identity) -> dict | None:
    if isinstance(identity.model, Approximation) or not isinstance(identity.model, MaskModel) \
            or "montecarlo" not in identity.routes or identity.name in NOT_AT_LARGE:
        return None
    names = {p.name for p in identity.params if p.integer and not p.shape}
    return next((sizes for sizes in LARGE_SIZES if set(sizes) <= names), None)


def large_checks(identity, first, *, root: int, n_samples: int) -> list[tuple]:
    """``[(route, point, label, key, samples)]``: the statement's Monte Carlo check at the
    sizes people use (none for statements without a width)."""
    sizes = _sizes(identity)
    if sizes is None:
        return []
    fixed = {p.name: first[p.name] for p in identity.params if not p.shape}
    point = identity.complete({**fixed, **sizes}, generator(root, identity.name, 1 << 28))
    prepared = routes.prepare(identity.model, identity, point, identity.rhs)
    label = "size " + ", ".join(f"{k} = {v}" for k, v in sizes.items()) + _LABEL
    return [("montecarlo", point, label, f"{identity.name}#L",
             large_samples(prepared.work, n_samples))]


def is_large(result) -> bool:
    return (result.label or "").endswith(_LABEL)


def _pilot(check, identity) -> tuple[float, float, int]:
    """``(fixed seconds, seconds per sample, work)`` of one Monte Carlo check, measured: its
    preparation, then two draws of its model (``_PILOT_FEW`` rows, then ``_PILOT_FEW + r``:
    the difference is the cost of ``r`` rows, the rest a call's overhead, paid once per
    batch, with a generator's creation)."""
    start = time.perf_counter()
    prepared = routes.prepare(identity.model, identity, check.point, identity.rhs)
    prepared_at = time.perf_counter()
    rows = max(_PILOT_FEW, min(_PILOT_ROWS, _PILOT_WORK // max(prepared.work, 1)))
    rng = generator(0, "scale.pilot")
    times = []
    for n in (_PILOT_FEW, _PILOT_FEW + rows):
        begin = time.perf_counter()
        prepared.draw(rng, n)
        times.append(time.perf_counter() - begin)
    begin = time.perf_counter()
    generator(0, "scale.pilot", 1)
    seeding = time.perf_counter() - begin
    # timing noise must not make samples look free: at least half the mean cost of a row
    slope = max((times[1] - times[0]) / rows, 0.5 * times[1] / (_PILOT_FEW + rows))
    overhead = max(times[0] - _PILOT_FEW * slope, 0.0) + seeding
    return prepared_at - start + N_BATCHES * overhead, slope, prepared.work


def _estimate(checks, costs, count: int, workers: int) -> float:
    """Estimated sampling seconds of ``checks`` at ``count`` samples over ``workers``."""
    total = 0.0
    for check in checks:
        fixed, slope, work = costs[check.key]
        samples = large_samples(work, count) if check.samples is not None else count
        total += fixed + slope * samples
    return total / max(1, min(workers, N_BATCHES))


#: the largest sample count a budget may buy (the CLI's ``--samples`` limit)
MAX_BUDGET_SAMPLES = 1 << 24


def _largest(fits) -> int:
    """The largest multiple of ``N_BATCHES`` in [64, MAX_BUDGET_SAMPLES] that ``fits``
    (64 when none does), by bisection (``fits`` is monotone)."""
    lo, hi = 2, MAX_BUDGET_SAMPLES // N_BATCHES
    if not fits(lo * N_BATCHES):
        return lo * N_BATCHES
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid * N_BATCHES) else (lo, mid - 1)
    return lo * N_BATCHES


def choose_samples(seconds: float, identities, plans_at, *, n_samples: int, workers: int = 1,
                   say=None) -> tuple[int, dict]:
    """``(n, record)``: the largest sample count whose Monte Carlo checks are estimated to
    sample within ``seconds`` over ``workers`` processes (module docstring).

    ``plans_at(n)`` returns ``{name: [Check]}``, the run's plan at ``n`` samples (the plan
    depends on it: checks over the work budget are skipped). The plan at ``n_samples`` is
    piloted first, then the plan at the chosen count, until the count stays put (at most
    three rounds)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"the time budget must be a positive number of seconds, "
                         f"got {seconds!r}")
    say = say or (lambda message: None)
    by_name = {identity.name: identity for identity in identities}
    costs, started, n, estimate = {}, time.perf_counter(), int(n_samples), 0.0
    for _ in range(3):
        checks = [(name, c) for name, plan in plans_at(n).items() for c in plan
                  if c.route == "montecarlo"]
        for number, (name, check) in enumerate(checks, 1):
            if check.key not in costs:
                say(f"[budget] pilot {number}/{len(checks)}: {name} at {check.label} point")
                costs[check.key] = _pilot(check, by_name[name])
        checks = [c for _, c in checks]
        chosen = _largest(lambda count: _estimate(checks, costs, count, workers) <= seconds)
        estimate = _estimate(checks, costs, chosen, workers)
        if chosen == n:
            break
        n = chosen
    say(f"[budget] {n} samples per Monte Carlo check: about {estimate:.1f} s of sampling "
        f"estimated for a budget of {seconds:g} s")
    return n, {"seconds": float(seconds), "samples": n, "workers": workers,
               "estimated_sampling_seconds": round(estimate, 3),
               "pilot_seconds": round(time.perf_counter() - started, 3),
               "reproduce": f"--samples {n} gives the same statements, bit for bit"}


def _resolution(results) -> dict:
    finite = [r.resolution for r in results if r.resolution is not None
              and math.isfinite(r.resolution)]
    return {"checks": len(results), "median": float(np.median(finite)) if finite else None,
            "coarsest": max(finite) if finite else None}


def planned(identities, symbolic, plan, make, label, *, root: int, n_points: int, say,
            n_samples: int, large: bool, budget: float | None, workers: int) -> tuple:
    """``(n_samples, plans, budget record or None)`` for :func:`~dropout_theory.verify.verify`:
    each statement's checks by ``plan`` (and, with ``large``, its check at the sizes people
    use, built by ``make``), at ``n_samples`` or at the count a time ``budget`` buys."""
    def plans_at(n: int) -> dict:
        plans = {}
        for identity in identities:
            try:
                checks = plan(identity, root=root, n_points=n_points, n_samples=n,
                              proved=symbolic[identity.name].status == "proved")
                if large:  # the first typical point, as plan draws it
                    first = identity.draw_points(generator(root, identity.name, 1 << 30),
                                                 n_points)[0]
                    checks += [make(*c) for c in large_checks(identity, first, root=root,
                                                              n_samples=n)]
            except ValueError as exc:  # invalid at some point: name the statement
                raise ValueError(f"{label(identity)}: {exc}") from None
            plans[identity.name] = checks
        return plans
    budgeted = None
    if budget is not None:
        n_samples, budgeted = choose_samples(budget, identities, plans_at, say=say,
                                             n_samples=n_samples, workers=workers)
    return n_samples, plans_at(n_samples), budgeted


def record(verdicts, budgeted: dict | None = None, large: bool = False) -> dict:
    """Entries of the run's JSON: ``budget`` (the count chosen, and the resolution it bought:
    median and coarsest over the Monte Carlo checks that agree) and ``large`` (per statement,
    its check at the sizes people use: sizes, samples, status, z, resolution); empty when the
    run has neither."""
    out = {}
    if budgeted is not None:
        sampled = [r for v in verdicts for r in v.routes[1:]
                   if r.route == "montecarlo" and r.status == "agrees"]
        out["budget"] = {**budgeted, "resolution": _resolution(sampled)}
    if large:
        out["large"] = []
        for verdict in verdicts:
            for r in verdict.routes[1:]:
                if not is_large(r):
                    continue
                sizes = {p.name: int(r.point[p.name]) for p in verdict.identity.params
                         if p.integer and not p.shape}
                interval = r.detail() if callable(r.detail) else None
                rigorous = None if interval is None or not r.rhs else \
                    max(abs(interval[0]), abs(interval[1])) / abs(r.rhs)
                out["large"].append({"name": verdict.name, "label": r.label, "sizes": sizes,
                                     "status": r.status, "n_samples": r.n_samples, "z": r.z,
                                     "se": r.se, "resolution": r.resolution,
                                     "rigorous_resolution": rigorous})
        out["not_at_large"] = {v.name: NOT_AT_LARGE[v.name] for v in verdicts
                               if v.name in NOT_AT_LARGE}
    return out


def render(meta) -> str:
    """Text lines for the budget and the large checks of ``meta`` (empty when neither)."""
    lines = []
    budget = meta.get("budget")
    if budget:
        lines.append(f"time budget {budget['seconds']:g} s: {budget['samples']} samples per "
                     f"Monte Carlo check (about {budget['estimated_sampling_seconds']:.1f} s of "
                     f"sampling estimated, pilot {budget['pilot_seconds']:.1f} s); "
                     f"{budget['reproduce']}")
    resolution = (budget or {}).get("resolution") or {}
    if resolution.get("median") is not None:
        lines.append(f"resolution bought: relative errors above {resolution['median']:.3g} "
                     f"(median) / {resolution['coarsest']:.3g} (coarsest) over the "
                     f"{resolution['checks']} agreeing Monte Carlo checks")
    large = meta.get("large") or []
    if large:
        width = max(len(e["name"]) for e in large)
        lines.append("checks at the sizes people use (--large): resolution = smallest "
                     "relative error the check could detect")
        lines.append(f"{'statement':{width}s} {'sizes':18s} {'samples':>8s} {'status':10s} "
                     f"{'z':>7s} {'resolution':>10s} {'rigorous':>9s}")
        for e in large:
            sizes = " x ".join(f"{k}={v}" for k, v in e["sizes"].items())
            z = "-" if e["z"] is None else f"{e['z']:.2f}"
            lines.append(f"{e['name']:{width}s} {sizes:18s} {e['n_samples'] or 0:8d} "
                         f"{e['status']:10s} {z:>7s} {_ratio(e['resolution']):>10s} "
                         f"{_ratio(e['rigorous_resolution']):>9s}")
        lines.append("resolution: by the t test of batch means; rigorous: the smallest relative "
                     "error the empirical Bernstein gate could confirm (a fails needs both)")
    for name, why in (meta.get("not_at_large") or {}).items():
        lines.append(f"not checked at the sizes people use: {name}: {why}")
    return "\n".join(lines)


def _ratio(value) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.3g}"
