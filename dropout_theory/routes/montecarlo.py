r"""Monte Carlo route: sampled masks (or random variables) in independently seeded batches.

The node statistics are estimated on each of ``N_BATCHES`` batches; ``lhs - rhs``, a smooth
function of them, gets its estimate and standard error from the jackknife over batches. The z-test of
:func:`~dropout_theory.routes.result.decide` adds the rigorous rounding bounds of the
estimate and of the standard error. A random statistic that never varied (an event rarer
than ``1/n`` never drawn) makes a zero standard error that is no evidence: such a check is
``unresolved``, except for probabilities, which are bounded by the unseen-event rule: ``N``
equal indicators put the probability within ``k/N`` of the observed one except with
probability ``exp(-k)``, ``exp(-k)`` the check's share of the run's false-alarm rate.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ..sampling import batch_statistics, gamma, resolution
from ..symbolic.balls import Ball
from .moments import prepare
from .registry import route
from .result import RouteResult, decide, violation

__all__ = ["montecarlo", "judge_batches"]


def _radius(r):
    """A rounding bound that could not be computed (an undefined value) bounds nothing."""
    return np.where(np.isnan(r), np.inf, r)


def _pooled(stats):
    """Each node over all batches, and leaving out each batch in turn (balls)."""
    values, rounding = stats.values, _radius(stats.rounding)
    n = len(values)
    with np.errstate(all="ignore"):  # undefined values stay NaN, their bounds infinite
        total, total_rounding = values.sum(axis=0), rounding.sum(axis=0)
        accumulation = gamma(n + 2) * np.abs(values).sum(axis=0)
        pooled = [Ball(t / n, _radius((r + a) / n))
                  for t, r, a in zip(total, total_rounding, accumulation)]
        left_out = [Ball((t - v) / (n - 1), _radius((r - rv + a) / (n - 1) * (1 + gamma(4))))
                    for t, v, r, rv, a in zip(total, values.T, total_rounding, rounding.T,
                                              accumulation)]
    return pooled, left_out


def _jackknife(pooled, left_out, n):
    """Pseudo-values ``n g - (n - 1) g_(-b)``: batch means of a smooth function of several
    statistics, with the function's own bias of order 1/n removed (for a linear function
    they are the batches' own values)."""
    return (pooled * float(n) - left_out * float(n - 1)).broadcast_to((n,))


def _second_order(identity, prepared, stats, pooled, context):
    """The critical value of the linear term, and the bound on the second-order term of a
    side nonlinear in its statistics (``None`` for linear sides).

    The jackknife estimates the spread of the linear term of ``g(stats)``; where it vanishes
    (``E(x**2) - E(x)**2`` against ``Var(x)``: the statistic is degenerate) the estimate is
    all second order, ``1/2 D^T H D`` with ``D`` the statistics' sampling errors, far from
    Student's t. That term is bounded by the curvature ``|H|`` over the box of statistics
    within ``z2`` standard errors and ``|D_k| <= z2 se_k``; the check's false-alarm share is
    split half to the linear test, half to the ``K`` statistics' deviations.
    """
    if prepared.curvature is None:
        return context.critical(identity.relation), None
    n, k = stats.values.shape
    critical = context.critical(identity.relation, share=0.5)
    z2 = context.critical("==", share=0.5 / k)
    deviation = z2 * stats.values.std(axis=0, ddof=1) / math.sqrt(n)
    box = [Ball(node.mid, node.rad + dev) for node, dev in zip(pooled, deviation)]
    with np.errstate(all="ignore"):
        second = 0.5 * float(deviation @ prepared.curvature(box) @ deviation)
    return critical, (second if math.isfinite(second) else math.inf)


def judge_batches(route_name, identity, point, prepared, stats, context) -> RouteResult:
    """The z-test of ``lhs - rhs`` from batch statistics (shared with the replicate route).

    ``lhs - rhs`` is a function of the node statistics: its estimate and standard error come
    from the jackknife over batches (leave one batch out), which for a nonlinear function such
    as ``E(x**2) - E(x)**2`` captures the spread of the pooled estimate that per-batch values
    of the function would miss."""
    n = len(stats.values)
    pooled, left_out = _pooled(stats)
    sides = [_jackknife(a, b, n) for a, b in zip(prepared.sides(pooled),
                                                 prepared.sides(left_out))]
    pseudo = sides[0] - sides[1]
    lhs, rhs, diff = (side.mean(axis=0) for side in (*sides, pseudo))
    value, rounding = float(diff.mid), float(diff.rad)
    finite = np.all(np.isfinite(pseudo.mid))
    se = float(pseudo.mid.std(ddof=1) / math.sqrt(n)) if finite else math.nan
    se_rounding = float(np.max(pseudo.rad)) * math.sqrt(n / (n - 1)) / math.sqrt(n)
    critical, second = _second_order(identity, prepared, stats, pooled, context)
    status = decide(identity.relation, value, rounding + (second or 0.0), se, se_rounding,
                    critical)
    result = RouteResult(route_name, status, point, lhs=float(lhs.mid), rhs=float(rhs.mid),
                         difference=value, rounding=rounding, se=se, critical=critical,
                         second_order=second, n_samples=stats.n_samples,
                         z=(value / se if se > 0 else (0.0 if abs(value) <= rounding
                                                        else math.copysign(math.inf, value))),
                         resolution=resolution(se, float(rhs.mid), critical))
    if status == "disagrees":
        _frozen(result, identity, prepared, stats, pooled, context)
    return result


def _frozen(result, identity, prepared, stats, overall, context) -> None:
    """No variation in some random statistic: a zero se is no evidence of no sampling error."""
    frozen = [k for k, random in enumerate(prepared.random_nodes)
              if random and np.ptp(stats.values[:, k]) == 0]
    if not frozen:
        return
    result.resolution, result.z = None, None
    if not all(prepared.probability_nodes[k] for k in frozen):
        result.status = "unresolved"
        result.note = "a random statistic never varied in any sample: no evidence either way"
        return
    width = math.log(context.n_checks / context.alpha) / stats.n_samples
    ends = [sorted({min(1.0, max(0.0, overall[k].mid - width)),
                    min(1.0, max(0.0, overall[k].mid + width))}) for k in frozen]
    corners = []
    for corner in itertools.product(*ends):
        values = list(overall)
        for k, v in zip(frozen, corner):
            values[k] = Ball(v, overall[k].rad)
        lhs, rhs = prepared.sides(values)
        corners.append(float((lhs - rhs).mid))
    excess = min(violation(identity.relation, d) for d in corners)
    if identity.relation == "==" and min(corners) < 0 < max(corners):
        excess = 0.0
    result.status = "disagrees" if excess > result.rounding else "agrees"
    result.note = (f"probabilities never seen to vary, bounded within {width:.3g} by the "
                   f"unseen-event rule: lhs - rhs in [{min(corners):.3g}, {max(corners):.3g}]")


@route("montecarlo")
def montecarlo(identity, point, claim, context) -> RouteResult:
    prepared = prepare(identity.model, identity, point, claim)
    stats = batch_statistics(prepared.draw, prepared.nodes, n_samples=context.n_samples,
                             root=context.root, name=context.keyed(identity))
    return judge_batches("montecarlo", identity, point, prepared, stats, context)
