r"""Fast paths for one linear (or ReLU) unit under dropout: its pre-activation
:math:`z(m) = b + \sum_i a_i m_i` over sampled masks, and over all ``2**k`` masks exactly.

Sampled: :class:`~dropout_theory.sampling.packed.PackedLinear` packs a boolean mask row into
bytes and sums one 256-entry table per group of eight positions (``d / 8`` table look-ups per
row instead of ``d`` multiply-adds on a float mask); :func:`dropout_sum_draw` draws the masks
with the exact byte sampler (:func:`~dropout_theory.sampling.bernoulli.bernoulli`) and feeds
:func:`~dropout_theory.sampling.montecarlo.batch_statistics`, through the compiled kernel of
:mod:`._jit` where it loads (:mod:`._kernels`; the same bits either way).

Exact: :func:`unit_mean` enumerates the masks by subset doubling: the pre-activations and
probabilities of the low ``L`` positions' ``2**L`` masks are built by doubling (``z`` and
``z + a_j``), and every pattern of the high positions adds one number to all of them; no mask
matrix is formed.
"""
from __future__ import annotations

import math

import numpy as np

from .._validation import check_p
from . import _kernels
from .bernoulli import keep_digits
from .exact import MAX_MASK_BITS, probability_error
from .packed import ROWS_PER_DRAW, PackedLinear, doubled, numpy_sums
from .tolerance import gamma

__all__ = ["PackedLinear", "dropout_sum_draw", "unit_mean", "ROWS_PER_DRAW"]


def dropout_sum_draw(weights, x, q: float):
    r"""A ``draw(rng, n)`` for :func:`~dropout_theory.sampling.batch_statistics`: ``n``
    samples of :math:`S = \sum_i w_i x_i m_i / q`, :math:`m_i \sim` Bernoulli(q) exactly.

    The coefficients ``c_i = w_i x_i / q`` are rounded once each (relative ``2u``); the
    returned radius bounds the table sums' rounding. Rows are drawn :data:`ROWS_PER_DRAW` at
    a time, so memory does not grow with ``n``.

    >>> from dropout_theory.sampling import Node, batch_statistics
    >>> draw = dropout_sum_draw(np.ones(16), np.ones(16), 0.5)
    >>> stats = batch_statistics(draw, [Node("var", 0)], n_samples=1 << 14, root=0, name="doc")
    >>> bool(abs(stats.values.mean() - 16.0) < 1.0)  # Var = 16 * (1 - q) / q
    True
    """
    q = float(q)
    if not 0.0 < q <= 1.0:
        raise ValueError(f"q must be in (0, 1], got {q!r}")
    unit = PackedLinear(np.asarray(weights, dtype=np.float64) * np.asarray(x) / q)
    digits = keep_digits(q) if q < 1.0 else ()
    jit = q < 1.0 and _kernels.load() is not None  # loaded here: forked workers inherit it

    def draw(rng, n):
        if jit and _kernels.usable(rng):
            out = _kernels.jit_dropout_sums(rng, n, unit.d, digits, unit._flat, ROWS_PER_DRAW)
        else:
            out = numpy_sums(unit, q, rng, n, ROWS_PER_DRAW)
        return out[:, None], np.full((n, 1), unit.rounding)

    return draw


def unit_mean(a, bias: float, p: float, *, relu: bool = True, low_bits: int = 16):
    r"""``(E[f], bound)``: the exact mean of :math:`f = \mathrm{relu}(b + \sum_i a_i m_i)`
    (or the linear :math:`b + \sum_i a_i m_i` with ``relu=False``) over all ``2**k`` keep
    masks, ``P(m_i = 1) = 1 - p``, with a rigorous bound on its rounding error.

    The bound covers: each pre-activation, a sum of at most ``k + 1`` terms, errs by at most
    :math:`\gamma_{k+1} A` with :math:`A = |b| + \sum |a_i|` (the terms that may cancel, not
    ``|z|``), which ReLU (1-Lipschitz) does not enlarge; each probability, a product of ``k``
    factors, by :math:`\gamma_{k+1}` relatively and by :func:`probability_error` per factor
    (compounded); the weighted sum by :math:`\gamma_{2^L + 2^{k-L} + 2}` times
    :math:`\sum P |f|`.

    >>> unit_mean(np.array([1.0, -2.0]), 0.5, 0.5)[0]  # relu of 0.5, 1.5, -1.5, -0.5
    0.5
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    p, bias = check_p(p), float(bias)
    k = a.size
    if k > MAX_MASK_BITS + 8:
        raise ValueError(f"at most {MAX_MASK_BITS + 8} masks, got {k}")
    if not (np.all(np.isfinite(a)) and math.isfinite(bias)):
        raise ValueError("the unit's weights and bias must be finite")
    q = 1.0 - p
    low = min(k, low_bits)
    z_low = doubled(a[:low], bias, lambda z, v: z + v)
    p_low = _probabilities(low, p)
    high = a[low:]
    z_high = doubled(high, 0.0, lambda z, v: z + v)
    p_high = _probabilities(k - low, p)
    total = magnitude = 0.0
    for zh, ph in zip(z_high, p_high):
        if ph == 0.0:
            continue
        values = z_low + zh
        if relu:
            np.maximum(values, 0.0, out=values)
        weights = p_low * ph
        # multiply and sum, not a BLAS dot: the same error bound, and no thread start-up
        total += float((weights * values).sum())
        magnitude += float((weights * np.abs(values)).sum())
    # |sum P_t f_t - fl(sum P_c f_c)| <= sum P_t |f_t - f_c| + sum |P_t - P_c| |f_c| + the
    # summation's error: value_error (the true P_t sum to 1), then prob_rel (1 + prob_rel)
    # and sum_error times sum P_c |f_c|, which the computed magnitude underestimates by at
    # most the factor 1 - sum_error
    spread = abs(bias) + float(np.abs(a).sum())
    value_error = gamma(k + 2) * spread
    per_factor = k * probability_error(q)  # (1 + e)^k - 1 <= k e / (1 - k e)
    drift = per_factor / (1.0 - per_factor) if per_factor < 1.0 else math.inf
    g = gamma(k + 1)
    prob_rel = g + drift + g * drift
    sum_error = gamma((1 << low) + (1 << (k - low)) + 2)
    bound = value_error + (prob_rel * (1 + prob_rel) + sum_error) * magnitude / (1 - sum_error)
    return total, float(bound * (1 + 8 * gamma(1)))  # the bound's own evaluation


def _probabilities(n: int, p: float) -> np.ndarray:
    """Probabilities of the ``2**n`` masks of ``n`` positions, bit ``j`` of the index = kept,
    each a product of ``n`` factors ``q`` or ``p`` (in position order)."""
    out = np.ones(1)
    q = 1.0 - p
    for _ in range(n):
        out = np.concatenate([out * p, out * q])
    return out
