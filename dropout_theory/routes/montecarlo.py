r"""Monte Carlo route: sampled masks (or random variables) in independently seeded batches.

The node statistics are estimated on each of ``N_BATCHES`` batches; ``lhs - rhs``, a smooth
function of them, gets its estimate and standard error from the jackknife over batches, and
the z-test of :func:`~dropout_theory.routes.result.decide` adds the rigorous rounding bounds
of the estimate and of the standard error (and a second-order term for sides nonlinear in
the statistics). That test reports; a rejection must also pass a rigorous gate where the
columns' value ranges are known: every random statistic within its empirical Bernstein
interval (valid for any distribution, :mod:`~dropout_theory.sampling.bounds`) at the check's
false-alarm rate, and ``lhs - rhs`` evaluated over that box by ball arithmetic must still be
rejected, else the check is ``unresolved`` (more samples would decide). A random statistic
that never varied (an event rarer than ``1/n`` never drawn) makes a zero standard error that
is no evidence: such a check is ``unresolved``. A statement about probabilities alone is
judged by exact binomial intervals, valid for any count of events, none included.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.stats import beta as stats_beta

from ..sampling import (batch_statistics, empirical_bernstein, gamma, pooled_variance_bound,
                        resolution)
from ..sampling.montecarlo import BLOCK_ROWS
from ..symbolic.balls import Ball, from_interval
from .moments import prepare, undecided_events
from .registry import route
from .result import RouteResult, decide

__all__ = ["montecarlo", "judge_batches", "sample_batches", "bounded",
           "bernstein_interval"]


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
    within ``z2`` standard errors and ``|D_k| <= z2 se_k``, plus the error of the linear
    term's standard error, whose slope the jackknife takes at the estimate rather than at the
    truth; the check's false-alarm share is split half to the linear test, half to the ``K``
    statistics' deviations.
    """
    if prepared.curvature is None:
        return context.critical(identity.relation), None
    n, k = stats.values.shape
    critical = context.critical(identity.relation, share=0.5)
    z2 = context.critical("==", share=0.5 / k)
    deviation = z2 * stats.values.std(axis=0, ddof=1) / math.sqrt(n)
    box = [Ball(node.mid, node.rad + dev) for node, dev in zip(pooled, deviation)]
    with np.errstate(all="ignore"):
        # 1/2 D^T H D, and the jackknife's slope taken at the estimate, not the truth: the
        # linear term's spread may be off by |H| |D| se, i.e. critical/z2 of D^T H D more
        second = (0.5 + critical / z2) * float(deviation @ prepared.curvature(box) @ deviation)
    return critical, (second if math.isfinite(second) else math.inf)


def judge_batches(route_name, identity, point, prepared, stats, context, *,
                  rigorous: bool = True) -> RouteResult:
    """The test of ``lhs - rhs`` from batch statistics (shared with the replicate route).

    ``lhs - rhs`` is a function of the node statistics: its estimate and standard error come
    from the jackknife over batches (leave one batch out), which for a nonlinear function such
    as ``E(x**2) - E(x)**2`` captures the spread of the pooled estimate that per-batch values
    of the function would miss. A statement about probabilities only is judged by exact
    binomial intervals instead (:func:`_binomial`). ``rigorous=False`` skips the gate
    (calibration measures the t test alone)."""
    n = len(stats.values)
    pooled, left_out = _pooled(stats)
    undecided = undecided_events(prepared, pooled, gamma(4 * stats.n_samples + 64))
    if undecided is not None:
        return RouteResult(route_name, "unresolved", point, n_samples=stats.n_samples,
                           note=undecided)
    random = [k for k, r in enumerate(prepared.random_nodes) if r]
    if random and all(prepared.probability_nodes[k] for k in random):
        return _binomial(route_name, identity, point, prepared, stats, pooled, context)
    frozen = [k for k in random if np.ptp(stats.values[:, k]) == 0]
    if frozen:
        return RouteResult(route_name, "unresolved", point, n_samples=stats.n_samples,
                           note="a random statistic never varied in any sample (an event "
                                "rarer than 1/n never drawn): no evidence either way")
    if prepared.curvature is None:  # affine in the statistics: the pseudo-values are the
        # batches' own values, which carry their rounding once instead of about 2n times
        per_batch = [Ball(v, _radius(r)) for v, r in zip(stats.values.T, stats.rounding.T)]
        sides = [side.broadcast_to((n,)) for side in prepared.sides(per_batch)]
    else:
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
    gate, interval, note = None, None, ""
    if status == "disagrees" and rigorous:
        gate, interval, note = _gate(identity, prepared, stats, pooled, context)
        status = "disagrees" if gate is not None else "unresolved"
    return RouteResult(route_name, status, point, lhs=float(lhs.mid), rhs=float(rhs.mid),
                       difference=value, rounding=rounding, se=se, critical=critical,
                       second_order=second, n_samples=stats.n_samples, gate=gate,
                       interval=interval, note=note,
                       detail=lambda: bernstein_interval(prepared, stats, pooled, context),
                       z=(value / se if se > 0 else (0.0 if abs(value) <= rounding
                                                      else math.copysign(math.inf, value))),
                       resolution=resolution(se, float(rhs.mid), critical))


def bounded(prepared) -> bool:
    """Whether every random statistic is the mean of a column with a known finite range (the
    gate can then confirm a rejection rigorously)."""
    random = [k for k, r in enumerate(prepared.random_nodes) if r]
    if prepared.ranges is None or not random:
        return False
    for k in random:
        node = prepared.nodes[k]
        bounds = _candidates(prepared.ranges[node.a]) if node.kind == "mean" else []
        if not bounds or not all(math.isfinite(lo) and math.isfinite(hi)
                                 for lo, hi, *_ in bounds):
            return False
    return True


def _candidates(entry) -> list:
    """A column's range as candidates ``(lo, hi, bias, escape)`` (an exact ``(lo, hi)`` is
    one candidate with no clipping)."""
    if entry is None:
        return []
    return [(*entry, 0.0, 0.0)] if isinstance(entry, tuple) else list(entry)


def _bernstein_box(prepared, stats, pooled, delta):
    """Every random statistic's empirical Bernstein interval (each at ``delta`` over their
    number) around its pooled ball, or ``None`` when a random column's range is unknown."""
    random = [k for k, r in enumerate(prepared.random_nodes) if r]
    if not bounded(prepared) or stats.spread is None:
        return None
    box, size = list(pooled), stats.n_samples // len(stats.values)
    share = delta / len(random)
    for k in random:
        # a range that holds only while the samples stay in a core (normal entries clipped):
        # the chance that some sample left it is charged to this statistic's share, and the
        # mean of the clipped values is within ``bias`` of the true mean
        fitting = [c for c in _candidates(prepared.ranges[prepared.nodes[k].a])
                   if stats.n_samples * c[3] <= share / 2]
        if not fitting:
            return None
        lo, hi, bias, escape = fitting[0]
        escaped = stats.n_samples * escape
        width = float(hi - lo)
        variance = pooled_variance_bound(stats.values[:, k], _radius(stats.rounding[:, k]),
                                         stats.spread[:, k], _radius(stats.spread_rounding[:, k]),
                                         size, float(pooled[k].rad), width)
        half = empirical_bernstein(variance, stats.n_samples, width, share - escaped)
        box[k] = Ball(pooled[k].mid, pooled[k].rad + half + bias)
    return box


def _gate(identity, prepared, stats, pooled, context):
    """``(gate, interval, note)`` of a t-test rejection: ``gate`` names what the rejection
    rests on, ``None`` when the rigorous bound does not confirm it."""
    if not any(prepared.random_nodes):  # a deterministic quantity: rounding alone decides
        return "nothing random", None, ""
    box = _bernstein_box(prepared, stats, pooled, context.alpha / max(context.n_checks, 1))
    if box is None:
        return ("t approximation", None,
                "no value range is known for a random column: this rejection rests on the t "
                "approximation of batch means (its tail is measured, not proved)")
    lhs, rhs = prepared.sides(box)
    diff = lhs - rhs
    interval = (float(diff.lo), float(diff.hi))
    if decide(identity.relation, float(diff.mid), float(diff.rad)) == "disagrees":
        return "empirical Bernstein", interval, ""
    return (None, interval,
            "the t statistic rejects, but lhs - rhs over the rigorous empirical Bernstein "
            "intervals of the statistics (interval, at the check's false-alarm rate) still "
            "admits the claim: more samples would decide")


def bernstein_interval(prepared, stats, pooled, context):
    """``lhs - rhs`` over every random statistic's empirical Bernstein interval at the check's
    false-alarm rate, as ``(lo, hi)``, or ``None`` where no value range is known: a claim
    moved by more than ``max(|lo|, |hi|)`` is outside it, so the gate could confirm its
    rejection (the rigorous resolution of a check that agrees; computed on request, a
    :class:`RouteResult`'s ``detail``)."""
    if not any(prepared.random_nodes):
        return None
    box = _bernstein_box(prepared, stats, pooled, context.alpha / max(context.n_checks, 1))
    if box is None:
        return None
    lhs, rhs = prepared.sides(box)
    diff = lhs - rhs
    return float(diff.lo), float(diff.hi)


def _binomial(route_name, identity, point, prepared, stats, pooled, context) -> RouteResult:
    """Probabilities only: each is within its exact binomial (Clopper-Pearson) interval at
    its share of the check's false-alarm rate, whatever the count of events (none, one or
    all: the t approximation fails there), and ``lhs - rhs`` is evaluated over that box by
    ball arithmetic; the claim is rejected when the box cannot meet it."""
    n = stats.n_samples
    random = [k for k, r in enumerate(prepared.random_nodes) if r]
    if not all(np.isfinite(pooled[k].mid) for k in random):
        return RouteResult(route_name, "undefined", point, n_samples=n,
                           note="an event is undefined in some sample")
    share = context.alpha / max(context.n_checks, 1) / len(random)
    box = list(pooled)
    for k in random:
        lo_count = int(np.clip(np.floor(n * (pooled[k].mid - pooled[k].rad)), 0, n))
        hi_count = int(np.clip(np.ceil(n * (pooled[k].mid + pooled[k].rad)), 0, n))
        lo = stats_beta.ppf(share / 2, lo_count, n - lo_count + 1) if lo_count > 0 else 0.0
        hi = stats_beta.ppf(1 - share / 2, hi_count + 1, n - hi_count) if hi_count < n else 1.0
        box[k] = from_interval(float(lo), float(hi))
    estimate_lhs, estimate_rhs = prepared.sides(pooled)
    lhs, rhs = prepared.sides(box)
    diff = lhs - rhs
    status = decide(identity.relation, float(diff.mid), float(diff.rad))
    return RouteResult(route_name, status, point, lhs=float(estimate_lhs.mid),
                       rhs=float(estimate_rhs.mid),
                       difference=float((estimate_lhs - estimate_rhs).mid),
                       interval=(float(diff.lo), float(diff.hi)), rounding=float(diff.rad),
                       n_samples=n,
                       note="exact binomial intervals of the probabilities at the check's "
                            "share of alpha; interval: lhs - rhs over them")


#: most elementwise operations one block of a check draws at once (its memory bound)
BLOCK_WORK = 1 << 24


def block_rows(work: int) -> int:
    """Rows per block of a check whose sample costs ``work`` elementwise operations: at most
    :data:`~dropout_theory.sampling.montecarlo.BLOCK_ROWS`, fewer for large models, so a
    block's arrays stay near ``BLOCK_WORK`` elements whatever ``--samples`` is."""
    return int(min(BLOCK_ROWS, max(64, BLOCK_WORK // max(int(work), 1))))


def sample_batches(identity, point, claim, context):
    """``(prepared, stats)``: the model at ``point`` and its batch statistics (the part of the
    route that costs; :func:`judge_batches` judges them at any false-alarm rate)."""
    prepared = prepare(identity.model, identity, point, claim)
    stats = batch_statistics(prepared.draw, prepared.nodes, n_samples=context.n_samples,
                             root=context.root, name=context.keyed(identity),
                             block=block_rows(prepared.work))
    return prepared, stats


@route("montecarlo")
def montecarlo(identity, point, claim, context) -> RouteResult:
    return judge_batches("montecarlo", identity, point,
                         *sample_batches(identity, point, claim, context), context)
