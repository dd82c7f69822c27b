r"""Rigorous confidence intervals for means of bounded samples (no normal approximation).

The Monte Carlo route's t statistic of batch means is an approximation whose tail has been
measured, not proved, and a run's per-check false-alarm rate sits far in that tail (about
1e-9). A ``fails`` must not rest on it: where the per-sample values are known to lie in an
interval of width :math:`R`, the empirical Bernstein bound (Maurer & Pontil 2009, Theorem 4,
applied to both tails) holds for every distribution and every ``n >= 2``:

.. math:: P\Bigl(|\bar X_n - \mu| > \sqrt{\frac{2 V_n \ln(4/\delta)}{n}}
          + \frac{7 R \ln(4/\delta)}{3 (n - 1)}\Bigr) \le \delta,

with :math:`V_n` the unbiased sample variance. The first term is the t interval's with
:math:`\sqrt{2 \ln(4/\delta)}` in place of the t quantile (6.6 at :math:`\delta = 10^{-9}`,
where t(31) needs 8.2), the second the price of not knowing the distribution's shape, small
unless :math:`R` is many standard deviations (a mask kept with probability ``q`` has
:math:`R/\sigma \approx 1/\sqrt q`).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.stats import norm

from .tolerance import gamma

__all__ = ["empirical_bernstein", "pooled_variance_bound", "clipped_normal_tail",
           "NORMAL_CORES"]

#: the cores a normal entry may be clipped to, in standard deviations: the Monte Carlo
#: route's gate takes the smallest whose escape probability (2 Phi(-c) per entry and sample,
#: 2e-9 at 6, 3.6e-33 at 12) fits its false-alarm share
NORMAL_CORES = (6.0, 7.0, 8.0, 9.0, 10.0, 12.0)


def empirical_bernstein(variance: float, n: int, width: float, delta: float) -> float:
    """Half-width ``h`` with ``P(|mean - mu| > h) <= delta`` for ``n`` i.i.d. values in an
    interval of length ``width`` whose unbiased sample variance is at most ``variance``.

    Examples
    --------
    >>> round(empirical_bernstein(0.25, 10_000, 1.0, 1e-6), 4)
    0.0311
    """
    if n < 2 or not 0.0 < delta < 1.0 or width < 0 or variance < 0:
        raise ValueError(f"need n >= 2, 0 < delta < 1, width >= 0, variance >= 0; got "
                         f"n={n}, delta={delta}, width={width}, variance={variance}")
    log_term = math.log(4.0 / delta)
    half = math.sqrt(2.0 * variance * log_term / n) + 7.0 * width * log_term / (3.0 * (n - 1))
    return float(half * (1.0 + gamma(16)))


def pooled_variance_bound(means, means_rounding, variances, variances_rounding, size: int,
                          pooled_rounding: float, width: float) -> float:
    r"""An upper bound on the unbiased sample variance of the true values of all ``B *
    size`` samples, from ``B`` batches' means and unbiased variances with their rounding
    bounds: :math:`\sum_b (s - 1) v_b + s (m_b - \bar m)^2` over :math:`B s - 1`, each term
    rounded up (a mean within its rounding of the truth, ``pooled_rounding`` for the grand
    mean), capped by Popoviciu's bound :math:`R^2/4 \cdot n/(n - 1)` for values in an
    interval of width ``R``."""
    means = np.asarray(means, dtype=np.float64)
    n_batches = len(means)
    total = n_batches * size
    within = (size - 1) * (np.asarray(variances) + np.asarray(variances_rounding))
    spread = np.abs(means - means.mean()) + np.asarray(means_rounding) + pooled_rounding
    bound = float((within + size * spread * spread).sum()) / (total - 1)
    bound *= 1.0 + gamma(4 * n_batches + 16)
    cap = width * width / 4.0 * total / (total - 1) * (1.0 + gamma(8))
    return min(bound, cap) if math.isfinite(bound) else cap


def clipped_normal_tail(magnitude: float, degree: int, entries: int, core: float) -> tuple:
    r"""``(bias, escape)`` of a value polynomial of degree ``degree`` in ``entries`` standard
    normal entries, with every entry clipped to ``[-core, core]``, where ``magnitude`` bounds
    the value over the clipped box.

    ``escape`` bounds the probability that one sample has an entry outside the core
    (:math:`2 K \Phi(-c)`); ``bias`` bounds the shift of the mean by the clipping,
    :math:`\sum_j (U(c 2^{j+1}) + U(c))\, 2 K \Phi(-c 2^j)` over the shells
    :math:`c 2^j \le \max |z| < c 2^{j+1}`, where the bound ``U`` of a degree-``D``
    polynomial over a box of radius ``r >= 1`` grows at most by :math:`2^D` when ``r``
    doubles. Each shell's term is far below half the previous one, so the last of eight
    bounds all beyond it.

    Examples
    --------
    >>> bias, escape = clipped_normal_tail(24.0, 1, 1, 12.0)
    >>> bias < 1e-30, f"{escape:.2g}"
    (True, '3.6e-33')
    """
    if degree < 0 or entries < 1 or core < 1 or not magnitude >= 0:
        raise ValueError(f"need degree >= 0, entries >= 1, core >= 1, magnitude >= 0; got "
                         f"{degree}, {entries}, {core}, {magnitude}")
    log_terms = [math.log(max(magnitude, 1e-300)) + math.log(2.0 ** (degree * (j + 1)) + 1.0)
                 + math.log(2 * entries) + float(norm.logsf(core * 2.0 ** j))
                 for j in range(8)]
    bias = math.fsum(math.exp(t) for t in log_terms) + math.exp(log_terms[-1])
    escape = 2 * entries * float(norm.sf(core))
    return float(bias * (1.0 + gamma(64))), float(escape * (1.0 + gamma(8)))
