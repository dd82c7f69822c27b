"""Run every route of the chosen identities and turn the results into verdicts."""
from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field

import numpy as np
import sympy as sp
from scipy import stats

from .identity import drop_probability
from .network import bernoulli_mask, check_gradients
from .sampling import (DEFAULT_ALPHA, N_BATCHES, Estimate, batch_means, enumerate_masks,
                       exact_moments, float_tolerance, generator, resolution, z_crit)
from .sampling.exact import MAX_MASK_BITS
from .symbolic import prove_equal
from .symbolic.evaluate import evaluate

__all__ = ["RouteResult", "Verdict", "verify", "check_route", "approximation_order"]

#: the ``order`` route's sweep: decades added on each side of an identity's ``order_range``,
#: points per decade, and how far clear of rounding an error must stand to enter the fit
ORDER_WIDEN = 2
ORDER_PER_DECADE = 4
ORDER_CLEARANCE = 10.0

EXACT_MAX_MASKS = 16
#: the gradient route runs 4k forward passes under each of 2^k masks: k = 10 is ~40000 passes
GRADIENT_MAX_MASKS = 10


@dataclass
class RouteResult:
    route: str
    status: str
    point: dict | None = None
    estimate: float | None = None
    claim: float | None = None
    se: float | None = None
    z: float | None = None
    tolerance: float | None = None
    resolution: float | None = None
    residual: str | None = None
    #: ``order`` route: fitted log-log slope of |exact - claim|, of |exact|, local slopes
    order: float | None = None
    quantity_order: float | None = None
    local_slopes: list | None = None


@dataclass
class Verdict:
    name: str
    expected: str
    verdict: str
    routes: list = field(default_factory=list)

    @property
    def matches(self) -> bool:
        wanted = {"holds": "holds", "refuted": "fails", "approximate": "approximate"}
        return wanted[self.expected] == self.verdict


def _call(identity, point, masks, noise):
    if identity.noise_degree:
        return identity.simulate(point, masks, noise)
    return identity.simulate(point, masks)


def _exact(identity, point, claim) -> RouteResult:
    """All 2^k masks, times Gauss-Hermite nodes exact for the noise polynomial degree."""
    k = identity.n_masks(point)
    # Gauss-Hermite with n nodes is exact up to degree 2n - 1; a variance needs f^2
    degree = identity.noise_degree * (2 if identity.statistic == "var" else 1)
    n_nodes = degree // 2 + 1
    first, second, magnitude = exact_moments(
        lambda masks, noise: _call(identity, point, masks, noise), k, drop_probability(point),
        n_nodes=n_nodes)
    estimate = first if identity.statistic == "mean" else second - first ** 2
    scale = magnitude if identity.statistic == "mean" else second + magnitude ** 2
    if identity.rounding_scale is not None:
        scale += identity.rounding_scale(point)
    tol = float_tolerance(scale + abs(claim), (2 ** k) * n_nodes + 4 * k)
    status = "agrees" if abs(estimate - claim) <= tol else "disagrees"
    return RouteResult("exact", status, point, estimate, claim, tolerance=tol)


def _z_test(route, point, claim, est, critical) -> RouteResult:
    """The statistical contract's z-test of a batch-means estimate against the claim."""
    diff = est.value - claim
    if est.se == 0.0:
        z = 0.0 if diff == 0 else np.inf
    else:
        z = diff / est.se
    status = "agrees" if abs(z) <= critical else "disagrees"
    return RouteResult(route, status, point, est.value, claim, est.se, float(z),
                       critical * est.se, resolution(est.se, claim, critical))


def _montecarlo(identity, point, claim, *, root, key, n_samples, critical) -> RouteResult:
    k, drop = identity.n_masks(point), drop_probability(point)

    def sample(rng, n):
        masks = bernoulli_mask((n, k), drop, rng)
        return _call(identity, point, masks, rng.standard_normal(n))

    est = batch_means(sample, n_samples=n_samples, root=root, name=key,
                      statistic=identity.statistic)
    return _z_test("montecarlo", point, claim, est, critical)


def _replicate(identity, point, claim, *, root, key, critical) -> RouteResult:
    """Independent replicate runs of a procedure (training), batched over the leading axis."""
    if identity.one_call:
        est = _batches_of_one_call(identity, point, generator(root, key, 0))
    else:
        est = batch_means(lambda rng, n: identity.simulate(point, rng, n),
                          n_samples=identity.replicates, root=root, name=key,
                          statistic=identity.statistic, chunk=identity.replicates)
    return _z_test("replicate", point, claim, est, critical)


def _batches_of_one_call(identity, point, rng) -> Estimate:
    """All replicates in one vectorized call, split into ``N_BATCHES`` consecutive batches.

    The replicates of one call are i.i.d. (each has its own weights and draws), so the batch
    statistics are i.i.d. too; one call saves the per-step overhead of ``N_BATCHES`` short
    training runs.
    """
    values = np.asarray(identity.simulate(point, rng, identity.replicates), dtype=np.float64)
    if values.shape != (identity.replicates,) or identity.replicates % N_BATCHES:
        raise ValueError(f"{identity.name}: one_call needs replicates divisible by {N_BATCHES} "
                         f"and one value per replicate, got {values.shape}")
    batches = values.reshape(N_BATCHES, -1)
    stats = batches.mean(axis=1) if identity.statistic == "mean" else batches.var(axis=1, ddof=1)
    return Estimate.from_batches(stats, values.size)


def _at(identity, point, h) -> dict:
    """``point`` with the approximation parameter set to ``h`` (drop rate or named param)."""
    if identity.order_in != "drop":
        return {**point, identity.order_in: h}
    return {**point, identity.probability: h if identity.probability == "p" else 1.0 - h}


def order_sweep(identity, point, rhs):
    """``(h, E - C, |E|, rounding bound)`` on the wide geometric sweep of the ``order`` route:
    ``identity.order_range`` widened by ``ORDER_WIDEN`` decades on each side (kept inside the
    parameter's domain), ``ORDER_PER_DECADE`` points per decade."""
    low = identity.order_range[0] / 10.0 ** ORDER_WIDEN
    high = min(identity.order_range[1] * 10.0 ** ORDER_WIDEN, _order_ceiling(identity) / 2)
    grid = np.geomspace(low, high, int(np.ceil(np.log10(high / low) * ORDER_PER_DECADE)) + 1)
    exact = [_exact(identity, pt, claim_value(rhs, pt))
             for pt in (_at(identity, point, h) for h in grid)]
    return (grid, np.array([r.estimate - r.claim for r in exact]),
            np.array([abs(r.estimate) for r in exact]), np.array([r.tolerance for r in exact]))


def _order_ceiling(identity) -> float:
    """The (exclusive) upper end of the swept parameter's domain."""
    if identity.order_in == "drop":
        return 1.0
    return next(prm.high for prm in identity.params if prm.name == identity.order_in)


def order_window(grid, signed, quantity, tolerance):
    """``(h, |E - C|, |E|)`` on the asymptotic window of an :func:`order_sweep`, or ``None``.

    The window is the lowest decade of the sweep (``ORDER_PER_DECADE + 1`` points) on which
    the error has one sign and stands ``ORDER_CLEARANCE`` times clear of the exact route's
    rounding bound, so rounding moves each log-error by at most 1/``ORDER_CLEARANCE`` and the
    slope far less than the 1/2 of the integer-order rule. Lowest, because the order is a
    statement about ``h -> 0``: above a sign change of the error (a nearly cancelling leading
    coefficient) or far up the sweep, higher-order terms take over.
    """
    clear = (np.abs(signed) > ORDER_CLEARANCE * tolerance) & (quantity > 0)
    width = ORDER_PER_DECADE + 1
    for first in range(len(grid) - width + 1):
        window = slice(first, first + width)
        signs = np.sign(signed[window])
        if clear[window].all() and np.all(signs == signs[0]):
            return grid[window], np.abs(signed[window]), quantity[window]
    return None


def approximation_order(identity, point, rhs, *, sweep=None) -> RouteResult:
    r"""Measured order of the error of an approximate claim, by exact mask enumeration.

    On a geometric sweep of ``h`` around ``identity.order_range``, the exact expectation ``E``
    (all masks through the network core) and the claim ``C`` give ``e(h) = |E - C|``; the
    least-squares slope of ``log e`` on ``log h`` over the asymptotic window
    (:func:`order_window`) is the measured order. The claim agrees with its declared integer
    order ``k`` when

    .. math:: \operatorname{round}(\text{slope of } e) = k
              \quad\text{and}\quad k > \operatorname{round}(\text{slope of } |E|),

    i.e. the error has the declared order *and* vanishes faster than the quantity itself: a
    claim off by a constant factor (error of the quantity's own order) is no approximation.
    No tolerance is chosen: orders are integers and slopes are rounded. The order cannot be
    measured (``inconclusive``) without a window of a decade, when the window's local slopes
    do not all round to the fitted order (it straddles a change of regime, e.g. the rounding
    floor below and higher-order terms above a nearly cancelling leading coefficient), and for
    identities with more than ``EXACT_MAX_MASKS`` masks. ``sweep``, the
    :func:`order_sweep` of this point, is computed unless given.
    """
    if identity.n_masks(point) > min(EXACT_MAX_MASKS, MAX_MASK_BITS):
        return RouteResult("order", "inconclusive", point, claim=identity.order)
    window = order_window(*(sweep or order_sweep(identity, point, rhs)))
    if window is None:
        return RouteResult("order", "inconclusive", point, claim=identity.order)
    grid, error, quantity = window
    fit = stats.linregress(np.log(grid), np.log(error))
    scale = stats.linregress(np.log(grid), np.log(quantity)).slope
    measured = int(np.rint(fit.slope))
    local = np.diff(np.log(error)) / np.diff(np.log(grid))
    if np.any(np.rint(local) != measured):
        status = "inconclusive"
    elif measured == identity.order and identity.order > int(np.rint(scale)):
        status = "agrees"
    else:
        status = "disagrees"
    return RouteResult("order", status, point, float(fit.slope), identity.order,
                       float(fit.stderr), order=float(fit.slope), quantity_order=float(scale),
                       local_slopes=local)


def claim_value(rhs, point) -> float:
    """The claimed value: the right side evaluated at ``point`` (p and q both supplied)."""
    drop = drop_probability(point)
    # the declared parameter comes last so it is used exactly, not as 1 - (1 - q)
    return evaluate(rhs, {"p": drop, "q": 1.0 - drop, **point})


def gradient_pairs(identity, point, rhs, *, root, key):
    """Yield ``(mask, claim, FD result)`` for every one of the ``2**k`` masks of ``point``."""
    rng = generator(root, key, 0)
    k = identity.n_masks(point)
    if k > GRADIENT_MAX_MASKS:
        raise ValueError(f"{identity.name}: the gradient route enumerates all 2^{k} masks; "
                         f"at most {GRADIENT_MAX_MASKS} units are supported, got {k}")
    point = {**point, "g": rng.standard_normal(k)}
    j = sp.Symbol("j", integer=True)
    for masks, _ in enumerate_masks(k, drop_probability(point)):
        for mask in masks:
            at = {**point, "m": mask}
            claim = np.array([claim_value(rhs.xreplace({j: n + 1}), at) for n in range(k)])
            (result,) = [r for r in check_gradients(identity.layer(at), at["x"], rng=rng,
                                                    forward_kwargs={"mask": mask},
                                                    grad_out=at["g"]) if r.name == "x"]
            yield mask, claim, result


def _gradient(identity, point, rhs, *, root, key) -> RouteResult:
    """Central differences of the layer under every injected mask against the claimed gradient.

    All ``2**k`` masks are enumerated (k is small), so a claim that is wrong for some mask,
    such as one that forgets the mask, cannot pass by the luck of one drawn mask.
    """
    worst, tolerance, agrees = 0.0, np.inf, True
    for _, claim, result in gradient_pairs(identity, point, rhs, root=root, key=key):
        gap = np.abs(claim - result.numeric)
        agrees &= result.ok and bool(np.all(gap <= result.bound))
        worst, tolerance = max(worst, float(gap.max())), min(tolerance, float(result.bound.min()))
    return RouteResult("gradient", "agrees" if agrees else "disagrees", point, worst,
                       tolerance=tolerance)


def check_route(identity, route, point, rhs, *, root=0, n_samples=1 << 17,
                critical=None, key=None) -> RouteResult:
    """One numeric route at one point against the claim ``rhs`` (a SymPy expression)."""
    if route == "gradient":
        return _gradient(identity, point, rhs, root=root, key=key or identity.name)
    if route == "order":
        return approximation_order(identity, point, rhs)
    claim = claim_value(rhs, point)
    if route == "exact":
        return _exact(identity, point, claim)
    critical = z_crit(DEFAULT_ALPHA, 1) if critical is None else critical
    if route == "replicate":
        return _replicate(identity, point, claim, root=root, key=key or identity.name,
                          critical=critical)
    return _montecarlo(identity, point, claim, root=root, key=key or identity.name,
                       n_samples=n_samples, critical=critical)


def _plan(identities, root, n_points):
    plan = []
    for identity in identities:
        rng = generator(root, identity.name, 1 << 30)
        points = [identity.draw_point(rng) for _ in range(n_points)]
        plan.append((identity, points))
    return plan


def verify(identities, *, root=0, n_samples=1 << 17, alpha=DEFAULT_ALPHA, n_points=3,
           progress=True) -> tuple[list[Verdict], dict]:
    """Verdicts for ``identities``; ``alpha`` is the run's family-wise false-alarm rate."""
    plan = _plan(identities, root, n_points)
    n_mc = sum(len(points) for identity, points in plan if identity.kind != "gradient")
    critical = z_crit(alpha, max(n_mc, 1))
    verdicts = []
    for number, (identity, points) in enumerate(plan, 1):
        if progress:
            print(f"[{number}/{len(plan)}] {identity.name}", file=sys.stderr, flush=True)
        lhs, rhs = identity.symbolic()
        proof = prove_equal(lhs, rhs)
        routes = [RouteResult("symbolic", proof.status, residual=str(proof.residual))]
        for index, point in enumerate(points):
            routes += _numeric_routes(identity, point, rhs, root=root, n_samples=n_samples,
                                      critical=critical, key=f"{identity.name}#{index}")
        routes += _edges(identity, points[0], rhs)
        verdict = _overall(routes) if identity.order is None else _approximate(routes)
        verdicts.append(Verdict(identity.name, identity.expected, verdict, routes))
    meta = {"seed": root, "alpha": alpha, "samples": n_samples, "n_montecarlo_checks": n_mc,
            "z_crit": critical}
    return verdicts, meta


def _numeric_routes(identity, point, rhs, *, root, n_samples, critical, key) -> list:
    """Every numeric route of ``identity`` at one drawn point."""
    if identity.kind in ("gradient", "replicate"):
        return [check_route(identity, identity.kind, point, rhs, root=root, critical=critical,
                            key=key)]
    routes = []
    if identity.n_masks(point) <= min(EXACT_MAX_MASKS, MAX_MASK_BITS):
        routes.append(check_route(identity, "exact", point, rhs))
    routes.append(check_route(identity, "montecarlo", point, rhs, root=root,
                              n_samples=n_samples, critical=critical, key=key))
    if identity.order is not None:
        routes.append(approximation_order(identity, point, rhs))
    return routes


def _edges(identity, point, rhs) -> list:
    """Exact checks at the domain edges (``q = 1``, ``p = 0``) of a moment identity: sampling
    there is deterministic, so only enumeration can judge, and a formula may be wrong only
    there."""
    if identity.kind != "moment":
        return []
    return [check_route(identity, "exact", edge, rhs) for edge in identity.edge_points(point)
            if identity.n_masks(edge) <= min(EXACT_MAX_MASKS, MAX_MASK_BITS)]


def _overall(routes) -> str:
    statuses = {r.status for r in routes}
    if statuses & {"refuted", "disagrees"}:
        return "fails"
    if "inconclusive" in statuses:
        return "inconclusive"
    return "holds"


def _approximate(routes) -> str:
    """Verdict of a claimed approximation: ``approximate`` when the claim is not exact (the
    symbolic route does not prove it or a numeric route disagrees) and every ``order`` route
    measured the declared order; ``fails`` when an order differs; ``holds`` when it is exact."""
    orders = [r for r in routes if r.route == "order"]
    if not orders or any(r.status == "inconclusive" for r in orders):
        return "inconclusive"
    if any(r.status == "disagrees" for r in orders):
        return "fails"
    others = [r for r in routes if r.route != "order"]
    if any(r.status in ("refuted", "disagrees") for r in others):
        return "approximate"
    return "holds" if all(r.status in ("proved", "agrees") for r in others) else "inconclusive"


def to_json(verdicts, meta) -> dict:
    """The stable ``--json`` schema documented in the README."""
    def clean(route):
        data = asdict(route)
        if data["point"] is not None:
            data["point"] = {k: np.asarray(v).tolist() for k, v in data["point"].items()}
        for key in ("z", "resolution"):
            if data[key] is not None and not np.isfinite(data[key]):
                data[key] = None
        if data["local_slopes"] is not None:
            data["local_slopes"] = np.asarray(data["local_slopes"]).tolist()
        return data
    rows = [{"name": v.name, "expected": v.expected, "verdict": v.verdict,
             "matches_expected": v.matches, "measured_order": measured_order(v),
             "routes": [clean(r) for r in v.routes]}
            for v in verdicts]
    summary = {"identities": len(rows), "matching": sum(r["matches_expected"] for r in rows)}
    return {"schema": "dropout-theory/verify/1", **meta, "identities": rows, "summary": summary}


def measured_order(verdict) -> float | None:
    """The fitted error order of an approximate identity (mean over its points), else None."""
    slopes = [r.order for r in verdict.routes if r.route == "order" and r.order is not None]
    return float(np.mean(slopes)) if slopes else None


def sweep(identity, *, root: int = 0, n_points: int = 9, n_samples: int = 1 << 14):
    """Claim against the probability parameter, with Monte Carlo points from the layer code.

    The default figure of an identity: the other parameters are fixed at one seeded point.
    """
    from .plotting import FigureData
    _, rhs = identity.symbolic()
    point = identity.draw_point(generator(root, identity.name, 1 << 31))
    name = identity.probability
    label = "keep probability q" if name == "q" else "drop probability p"
    data = FigureData(f"{identity.name}: claim against {name}", label, "value")
    grid = np.linspace(0.05, 0.95, 37)
    data.curves.append(("claim (symbolic right side)", grid,
                        [claim_value(rhs, {**point, name: v}) for v in grid]))
    route = "replicate" if identity.kind == "replicate" else "montecarlo"
    sims = [check_route(identity, route, {**point, name: v}, rhs, root=root,
                        n_samples=n_samples, key=f"{identity.name}#figure{k}")
            for k, v in enumerate(np.linspace(0.1, 0.9, n_points))]
    label = "simulated (network core, 1 s.e.)" if route == "montecarlo" else \
        "independent training runs (network core, 1 s.e.)"
    data.points.append((label, [r.point[name] for r in sims], [r.estimate for r in sims],
                        [r.se for r in sims]))
    return data


def gradient_figure(identity, *, root: int = 0):
    """Claimed gradient against central differences of the layer, for every mask."""
    from .plotting import FigureData
    _, rhs = identity.symbolic()
    point = identity.draw_point(generator(root, identity.name, 1 << 31))
    pairs = list(gradient_pairs(identity, point, rhs, root=root, key=f"{identity.name}#figure"))
    numeric = np.concatenate([r.numeric for _, _, r in pairs])
    claim = np.concatenate([c for _, c, _ in pairs])
    data = FigureData(f"{identity.name}: {len(pairs)} masks, d = {identity.n_masks(point)}",
                      "central finite difference of the layer", "claimed gradient")
    span = [float(numeric.min()), float(numeric.max())]
    data.curves.append(("y = x", span, span))
    data.points.append(("every entry under every mask", numeric, claim, None))
    return data
