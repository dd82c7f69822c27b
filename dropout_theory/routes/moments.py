"""How the exact and Monte Carlo routes see a moment model at one point.

A model at a point becomes per-sample *columns* (the random quantities), *nodes* (statistics
of columns: mean, variance, covariance) and the two *sides* as functions of the node values.
The exact route computes the nodes over every outcome with its probability, the Monte Carlo
route over sampled batches; both then judge ``lhs - rhs`` the same way. One ``prepare`` per
model type, dispatched on the type (:class:`~dropout_theory.identity.MaskModel` here,
:class:`~dropout_theory.identity.ExpressionModel` in :mod:`.expressions`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import singledispatch
from typing import Callable

import numpy as np

from ..identity import Approximation, MaskModel, drop_probability
from ..sampling import (NORMAL_CORES, TINY_WEIGHT, Node, bernoulli_mask, clipped_normal_tail,
                        count_masks, enumerate_counts, enumerate_masks, gamma, gauss_rule,
                        probability_error)
from ..symbolic.balls import Ball, weighted_mean
from ..symbolic.evaluate import evaluate_ball

__all__ = ["Prepared", "prepare", "claim_ball", "statistics", "undecided_events",
           "statistic_prepared", "EXACT_MAX_OUTCOMES"]

#: most outcomes (mask patterns times quadrature nodes) the exact route enumerates
EXACT_MAX_OUTCOMES = 1 << 18
#: most Bernoulli entries the exact route enumerates
EXACT_MAX_BITS = 16
#: most mask elements the exact route pushes through the network at one point, and per chunk
EXACT_MAX_ELEMENTS = 1 << 29
_CHUNK_ELEMENTS = 1 << 17


@dataclass
class Prepared:
    """A model at one point, as the numeric routes need it.

    ``outcomes()`` returns ``(columns, weights, weight_rel_error)`` over every outcome of
    positive probability (``None`` for ``n_outcomes`` when that is out of reach); ``draw(rng,
    n)`` returns ``(mids, rads)`` of ``n`` sampled rows; ``sides(stats)`` maps node values
    (balls, scalars or one per batch) to the balls of the left and right sides;
    ``curvature(box)``, for sides nonlinear in the node values, bounds ``|d^2 (lhs - rhs) /
    d stat_j d stat_k|`` over a box of node values (``None``: the sides are linear);
    ``ranges[c]``, where known, is an interval ``(lo, hi)`` holding every exact value of
    column ``c`` (the Monte Carlo route's rigorous gate needs it; ``None``: unbounded or not
    declared), or a list of candidates ``(lo, hi, bias, escape)`` for values clipped to a
    core that one sample leaves with probability at most ``escape``, shifting the mean by at
    most ``bias`` (the route takes the tightest its false-alarm share allows).
    """

    nodes: list
    n_outcomes: int | None
    outcomes: Callable
    draw: Callable
    sides: Callable
    work: int
    random_nodes: list
    probability_nodes: list
    curvature: Callable | None = None
    ranges: list | None = None


@singledispatch
def prepare(model, identity, point, claim) -> Prepared:
    raise TypeError(f"{identity.name}: the {type(model).__name__} has no exact or Monte Carlo "
                    f"route")


@prepare.register
def _(model: Approximation, identity, point, claim) -> Prepared:
    return prepare(model.model, identity, point, claim)


def claim_ball(claim, point) -> Ball:
    """The claimed right side at ``point`` (both ``p`` and ``q`` supplied), rigorously."""
    drop = drop_probability(point) if ("p" in point or "q" in point) else None
    extra = {} if drop is None else {"p": drop, "q": 1.0 - drop}
    # the declared parameter comes last so it is used exactly, not as 1 - (1 - q)
    return evaluate_ball(claim, {**extra, **point})


@prepare.register
def _(model: MaskModel, identity, point, claim) -> Prepared:
    k, drop = int(model.n_masks(point)), drop_probability(point)
    scale = float(model.rounding_scale(point)) if model.rounding_scale is not None else 0.0
    # a priori bound of the network computation per sample: the terms it sums and cancels
    # are at most |value| + rounding_scale (the model declares the latter)
    per_sample = gamma(8 * k + 32)

    variance = model.statistic == "var"
    # Var[x] = E[(x - c)^2] - E[x - c]^2 from two means, not from batch variances: where the
    # first-order part of a variance estimate vanishes (x two-valued and symmetric, q = 1/2)
    # batch variances are chi-square-like and their t-test has a tail 10^5 times its nominal
    # rate at 1e-8; as a nonlinear side the second-order part is bounded instead. c, a pilot
    # estimate of the mean (its own stream, independent of the checks' batches: any constant
    # is exact), keeps the cancellation small and E[x - c] near 0, so the rigorous gate's
    # box around E[x - c] barely widens the variance.
    center = _pilot_mean(model, point, k, drop) if variance else 0.0

    bounds = _value_bounds(identity, model, point)

    def columns(masks, noise):
        values = np.asarray(model.simulate(point, masks, noise), dtype=np.float64)
        rads = per_sample * (np.abs(values) + scale)
        for core, lo, hi in bounds:  # a wrong declaration is an error, never a verdict
            outside = (np.abs(noise) <= core) & ((values + rads < lo) | (values - rads > hi))
            if np.any(outside):
                raise ValueError(f"{identity.name}: the model returned "
                                 f"{values[np.argmax(outside)]!r}, outside its declared "
                                 f"value_bound [{lo!r}, {hi!r}] at {point}")
        if not variance:
            return values[:, None], rads[:, None]
        shifted = Ball(values, rads) - center
        square = shifted * shifted
        return (np.stack([shifted.mid, square.mid], axis=1),
                np.stack([shifted.rad, square.rad], axis=1))

    def draw(rng, n):
        masks = bernoulli_mask((n, k), drop, rng)
        return columns(masks, rng.standard_normal(n))

    degree = model.noise_degree * (2 if model.statistic == "var" else 1)
    n_nodes = degree // 2 + 1
    groups = None if model.exchangeable is None else \
        tuple(int(g) for g in model.exchangeable(point))

    def outcomes():
        if groups is not None:
            return _counted(identity, columns, groups, drop, n_nodes)
        (masks, probs), = enumerate_masks(k, drop, chunk_bits=max(k, 1))
        keep = probs > 0
        masks, probs = masks[keep], probs[keep]
        # the network takes the nearest doubles of the exact nodes; their offsets (below one
        # unit roundoff of the node) move each value by far less than the declared scale
        nodes, _, weights, weight_error = gauss_rule("normal", n_nodes)
        mids, rads = columns(np.tile(masks, (n_nodes, 1)), np.repeat(nodes, len(masks)))
        return (Ball(mids, rads), np.outer(weights, probs).ravel(),
                gamma(2 * k + 4) + k * probability_error(1.0 - drop) + weight_error)

    rhs = claim_ball(claim, point)
    if groups is not None:
        if sum(groups) != k or min(groups, default=1) < 1:
            raise ValueError(f"{identity.name}: exchangeable blocks {groups} must be positive "
                             f"and add up to the {k} masks")
        n_outcomes = n_nodes * int(np.prod([g + 1 for g in groups], dtype=float))
        enumerable = n_outcomes <= EXACT_MAX_OUTCOMES and n_outcomes * k <= EXACT_MAX_ELEMENTS
    else:
        n_outcomes = n_nodes << k if k <= EXACT_MAX_BITS else None
        enumerable = k <= EXACT_MAX_BITS and (n_nodes << k) <= EXACT_MAX_OUTCOMES
    ranges = _ranges(bounds, model.noise_degree, center, variance)
    if ranges is not None and model.differences is not None and not variance \
            and model.noise_degree == 0:
        spread = _differences(identity, model, point, k, drop, per_sample, scale)
        ranges[0] = concentration_cores(spread, ranges[0])
    return statistic_prepared(model.statistic, rhs, n_outcomes if enumerable else None,
                              outcomes, draw, 8 * k + 32, k > 0 or model.noise_degree > 0,
                              ranges)


#: the pilot sample that centres a variance (here and for a claim's Var/Cov) has its own
#: stream, never a check's, and an odd number of rows, so a two-valued x is never centred
#: exactly between its values (its square column would be constant, which the Monte Carlo
#: route cannot tell from an event never drawn)
PILOT_SEED = 0x9E3779B9
PILOT_ROWS = 1023


def pilot_center(values) -> float:
    """The mean of a pilot sample's finite values (0 when there are none)."""
    values = np.asarray(values, dtype=np.float64)
    finite = values[np.isfinite(values)]
    center = float(finite.mean()) if finite.size else 0.0
    return center if math.isfinite(center) else 0.0


def _pilot_mean(model, point, k, drop) -> float:
    rng = np.random.default_rng(PILOT_SEED)
    return pilot_center(model.simulate(point, bernoulli_mask((PILOT_ROWS, k), drop, rng),
                                       rng.standard_normal(PILOT_ROWS)))


#: random masks at which a model's declared bounded differences are spot-checked (each with
#: every coordinate flipped), and the most mask entries the check draws in all
DIFFERENCE_ROWS, DIFFERENCE_ELEMENTS = 4, 1 << 21
#: the chances of leaving a concentration core the Monte Carlo gate may pick from (the
#: first whose chance over all samples fits its false-alarm share, so the narrowest)
CORE_ESCAPES = tuple(10.0 ** -e for e in (8, 10, 12, 14, 16, 20, 25, 30, 40, 60, 100))


def _differences(identity, model, point, k, drop, per_sample, scale) -> float:
    """``sum L_i^2`` (rounded up) of the declared bounded differences, after checking them:
    at a few random masks (the pilot's stream) every coordinate is flipped (a random subset
    of them where ``k`` is so large that all would exceed ``DIFFERENCE_ELEMENTS``), and each
    change must be within ``L_i`` plus both values' rounding bounds."""
    diffs = np.asarray(model.differences(point), dtype=np.float64)
    if diffs.shape != (k,) or not np.all(np.isfinite(diffs)) or np.any(diffs < 0):
        raise ValueError(f"{identity.name}: differences must be {k} finite non-negative "
                         f"bounds, got shape {diffs.shape} at {point}")
    rng = np.random.default_rng(PILOT_SEED + 1)
    rows = max(1, min(DIFFERENCE_ROWS, DIFFERENCE_ELEMENTS // max(k * (k + 1), 1)))
    coords = np.arange(k) if rows * k * (k + 1) <= DIFFERENCE_ELEMENTS else \
        np.sort(rng.choice(k, max(1, DIFFERENCE_ELEMENTS // (rows * k) - 1), replace=False))
    base = bernoulli_mask((rows, k), drop, rng)
    flipped = np.repeat(base, len(coords), axis=0)
    at = (np.arange(len(flipped)), np.tile(coords, rows))
    flipped[at] = 1.0 - flipped[at]
    values = np.asarray(model.simulate(point, np.concatenate([base, flipped]),
                                       np.zeros(rows + len(flipped))), dtype=np.float64)
    rads = per_sample * (np.abs(values) + scale)
    before = values[:rows].repeat(len(coords))
    change = np.abs(values[rows:] - before) - rads[:rows].repeat(len(coords)) - rads[rows:]
    bad = change > np.tile(diffs[coords], rows)
    if np.any(bad):
        where = int(np.tile(coords, rows)[np.argmax(bad)])
        raise ValueError(f"{identity.name}: flipping mask {where} changed the value by more "
                         f"than its declared difference {diffs[where]!r} at {point}")
    return float(np.sum(diffs * diffs) * (1.0 + gamma(k + 4)))


def concentration_cores(spread: float, candidates: list) -> list:
    r"""Range candidates ``(lo, hi, bias, escape)`` of a mean column whose value has bounded
    differences with :math:`S = \sum_i L_i^2` (``spread``), narrowest first, followed by
    ``candidates`` (the worst case over all masks). By McDiarmid's inequality a value leaves
    :math:`[\mu - t, \mu + t]` with chance at most :math:`e = 2 e^{-2t^2/S}`; the gate
    charges ``n e`` to its false-alarm share (no sample left the core, so the samples are
    those of the value clipped to it) and widens the interval by the clipped mean's offset,
    at most :math:`\int_t^\infty 2 e^{-2s^2/S} ds = \sqrt{\pi S/2}\,
    \mathrm{erfc}(t \sqrt{2/S}) \le \sqrt{\pi S/2}\, e/2`. Only the core's width enters
    the bound, so its unknown centre :math:`\mu` does not matter; ``(-t, t)`` stands for
    it. Cores no narrower than the worst case are left out."""
    worst = min((hi - lo for lo, hi, *_ in candidates), default=math.inf)
    cores = []
    for escape in CORE_ESCAPES:
        half = math.sqrt(spread * math.log(2.0 / escape) / 2.0) * (1.0 + gamma(8))
        bias = math.sqrt(math.pi * spread / 2.0) * escape / 2.0 * (1.0 + gamma(8))
        if 2.0 * half < worst:
            cores.append((-half, half, bias, escape))
    return cores + list(candidates)


def _value_bounds(identity, model, point) -> list:
    """``[(core, lo, hi)]``: the declared interval of the values while ``|noise| <= core``
    (one per core in ``NORMAL_CORES`` for a model with noise; ``core = inf`` without)."""
    if model.value_bound is None:
        return []
    noisy = model.noise_degree > 0
    result = []
    for core in NORMAL_CORES if noisy else (math.inf,):
        lo, hi = (float(b) for b in (model.value_bound(point, core) if noisy
                                     else model.value_bound(point)))
        if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
            raise ValueError(f"{identity.name}: value_bound must be finite (lo, hi) with lo "
                             f"<= hi, got ({lo!r}, {hi!r}) at {point}")
        result.append((core, lo, hi))
    return result


def _ranges(bounds, degree, center, variance):
    """The columns' range candidates (:class:`Prepared`) from the value's declared ones: the
    value (or its offset from ``center`` and that offset's square, of twice the degree in the
    noise), clipped where the noise leaves a core, rounded outward."""
    if not bounds:
        return None
    columns = [[], []] if variance else [[]]
    for core, lo, hi in bounds:
        lo, hi = _outward(lo - center, hi - center)
        parts = [(lo, hi, degree)]
        if variance:
            low = 0.0 if lo <= 0.0 <= hi else min(lo * lo, hi * hi)
            parts.append((*_outward(low, max(lo * lo, hi * hi)), 2 * degree))
        for column, (a, b, d) in zip(columns, parts):
            tail = (0.0, 0.0) if math.isinf(core) else \
                clipped_normal_tail(max(abs(a), abs(b)), d, 1, core)
            column.append((a, b, *tail))
    return columns


def _outward(lo, hi):
    """An interval computed in floating point, rounded outward."""
    return (float(np.nextafter(lo - gamma(4) * abs(lo), -np.inf)),
            float(np.nextafter(hi + gamma(4) * abs(hi), np.inf)))


def statistic_prepared(statistic, rhs, n_outcomes, outcomes, draw, work, random,
                       ranges=None) -> Prepared:
    """The left side as the mean of column 0, or (``statistic="var"``) as the variance
    ``m2 - m1^2`` of the means of columns 0 (``x`` minus a constant) and 1 (its square), a
    nonlinear side whose constant curvature the Monte Carlo route's second-order allowance
    bounds; ``ranges`` are the columns' (:class:`Prepared`)."""
    if statistic == "var":
        return Prepared([Node("mean", 0), Node("mean", 1)], n_outcomes, outcomes, draw,
                        lambda stats: (stats[1] - stats[0] * stats[0], rhs), work,
                        random_nodes=[random, random], probability_nodes=[False, False],
                        curvature=lambda box: np.array([[2.0, 0.0], [0.0, 0.0]]),
                        ranges=ranges)
    return Prepared([Node("mean", 0)], n_outcomes, outcomes, draw,
                    lambda stats: (stats[0], rhs), work, random_nodes=[random],
                    probability_nodes=[False], ranges=ranges)


def _counted(identity, columns, groups, drop, n_nodes):
    """The outcomes of a model with exchangeable blocks: kept counts with Binomial weights,
    one representative mask each, pushed through the network in chunks. Patterns too
    improbable for an accurate double weight become one pseudo-outcome carrying their total
    probability with a value ball covering all of their values."""
    counts, probs, rel, tiny = enumerate_counts(groups, drop)
    k = sum(groups)
    _check_exchangeable(identity, columns, groups, counts)
    nodes, _, weights, weight_error = gauss_rule("normal", n_nodes)
    rows = max(1, _CHUNK_ELEMENTS // max(k, 1))
    parts = [columns(count_masks(groups, counts[start:start + rows]),
                     np.full(len(counts[start:start + rows]), node))
             for node in nodes for start in range(0, len(counts), rows)]
    mids = np.concatenate([m for m, _ in parts])
    rads = np.concatenate([r for _, r in parts])
    w = np.outer(weights, probs).ravel()
    if tiny.any():
        left_out = np.tile(tiny, n_nodes)
        cover = (np.abs(mids[left_out]) + rads[left_out]).max(axis=0)
        mass = float(left_out.sum()) * 2 * TINY_WEIGHT * (1 + weight_error)
        mids, rads = mids[~left_out], rads[~left_out]
        mids = np.vstack([mids, np.zeros((1, mids.shape[1]))])
        rads = np.vstack([rads, cover[None, :]])
        w = np.append(w[~left_out], mass)
    return Ball(mids, rads), w, gamma(2) + rel + weight_error


def _check_exchangeable(identity, columns, groups, counts, n_checks: int = 8):
    """Refuse a model whose value changes when masks are shuffled within a declared block
    (the count enumeration would silently compute another quantity)."""
    rng = np.random.default_rng(len(counts))
    rows = counts[rng.integers(0, len(counts), n_checks)]
    masks = count_masks(groups, rows)
    shuffled = masks.copy()
    offsets = np.concatenate([[0], np.cumsum(groups)])
    for a, b in zip(offsets[:-1], offsets[1:]):
        shuffled[:, a:b] = rng.permuted(masks[:, a:b], axis=1)
    zero = np.zeros(n_checks)
    (m1, r1), (m2, r2) = columns(masks, zero), columns(shuffled, zero)
    if np.any(np.abs(m1 - m2) > r1 + r2):
        raise ValueError(f"{identity.name}: the model declares exchangeable mask blocks "
                         f"{groups}, but its value changes when masks are shuffled within a "
                         f"block")


def statistics(nodes, columns: Ball, weights, weight_rel_error: float) -> list[Ball]:
    """Every node over enumerated outcomes: weighted means, and centered (co)variances."""
    means = {}

    def mean(c):
        if c not in means:
            means[c] = weighted_mean(columns[:, c], weights, weight_rel_error=weight_rel_error)
        return means[c]

    result = []
    for node in nodes:
        if node.kind == "mean":
            result.append(mean(node.a))
            continue
        a, b = node.columns
        centered = (columns[:, a] - mean(a)) * (columns[:, b] - mean(b))
        result.append(weighted_mean(centered, weights, weight_rel_error=weight_rel_error))
    return result


def undecided_events(prepared, nodes, accumulation: float) -> str | None:
    """Why the check resolves nothing, when events inside ``P`` could not be decided.

    A decided indicator is exact (radius 0) and an undecided one is ``0.5 +- 0.5``, so a
    probability's radius beyond ``accumulation`` (the bound the route's summation alone can
    produce) means some outcomes' events were undecided: their two sides are equal up to
    rounding, and the probability is not known."""
    widths = [float(node.rad) for node, p in zip(nodes, prepared.probability_nodes)
              if p and np.isfinite(node.mid)]  # an undefined event is judged 'undefined'
    if widths and max(widths) > accumulation:
        return (f"the comparison inside P(...) is undecided at rounding level (its two sides "
                f"are equal up to rounding) for up to {max(widths):.3g} of the probability mass")
    return None
