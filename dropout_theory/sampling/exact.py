"""Exact route: enumerate all ``2**k`` keep-masks with their probabilities, in chunks."""
from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
from scipy.special import roots_hermitenorm, roots_legendre

from .._validation import check_p
from .tolerance import gamma

__all__ = ["enumerate_masks", "enumerate_counts", "count_masks", "exact_mean", "exact_moments",
           "gauss_rule", "MAX_NODES", "probability_error", "TINY_WEIGHT"]

MAX_MASK_BITS = 24
#: most quadrature nodes per variable (exact up to polynomial degree 2 * MAX_NODES - 1)
MAX_NODES = 9
_U = 2.0 ** -53


def enumerate_masks(k: int, p: float, *, chunk_bits: int = 16):
    """Yield ``(masks, probabilities)`` chunks covering all ``2**k`` masks of length ``k``.

    ``masks`` has shape (chunk, k) with 1 = kept; a mask with ``r`` ones has probability
    ``q**r * p**(k - r)``.

    Examples
    --------
    >>> masks, probs = next(enumerate_masks(2, 0.25))
    >>> masks.tolist(), probs.tolist()
    ([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0.0625, 0.1875, 0.1875, 0.5625])
    """
    p = check_p(p)
    if not 0 <= k <= MAX_MASK_BITS:
        raise ValueError(f"k must be between 0 and {MAX_MASK_BITS} for exact enumeration, got {k}")
    total, step = 1 << k, 1 << min(k, chunk_bits)
    bits = np.arange(k, dtype=np.int64)
    for start in range(0, total, step):
        index = np.arange(start, start + step, dtype=np.int64)
        masks = ((index[:, None] >> bits) & 1).astype(np.float64)
        kept = masks.sum(axis=1)
        yield masks, (1.0 - p) ** kept * p ** (k - kept)


#: count patterns less probable than this are left out of :func:`enumerate_counts` (their
#: total probability is returned as a bound instead: weights below it would lose their
#: relative accuracy as subnormal doubles)
TINY_WEIGHT = 2.0 ** -960


@functools.lru_cache(maxsize=64)
def _binomial_weights(r: int, p: float) -> np.ndarray:
    """``C(r, k) q^k p^(r-k)`` for ``k = 0..r`` with ``q = 1 - p`` exactly (40 digits, then
    rounded to the nearest double: relative error at most one unit roundoff)."""
    if p in (0.0, 1.0):  # every position kept, or none
        return np.eye(r + 1)[r if p == 0.0 else 0]
    with mpmath.workdps(40):
        keep, drop = 1 - mpmath.mpf(p), mpmath.mpf(p)
        # C(r, k) q^k p^(r-k) by the ratio of consecutive terms (no exponent range limit;
        # r multiplications at 40 digits stay far inside one unit roundoff of a double)
        weights, term = [], drop ** r
        for k in range(r + 1):
            weights.append(float(term))
            term = term * (r - k) / (k + 1) * keep / drop
        return np.array(weights)


def enumerate_counts(groups: tuple, p: float):
    """Every pattern of kept counts over groups of exchangeable mask positions.

    ``groups`` are the sizes of consecutive blocks of positions whose masks a model only
    sees through the number kept in each block (a unit whose inputs share one weight).
    Returns ``(counts, weights, rel_error, tiny)``: the (N, G) kept counts, their
    probabilities ``prod_g C(r_g, k_g) q^k_g p^(r_g - k_g)`` and the weights' relative error
    against the declared ``p`` (one rounding per factor, plus :func:`probability_error` per
    position). ``tiny`` marks the patterns below :data:`TINY_WEIGHT`, whose weights are set to
    0: each has probability below ``2 * TINY_WEIGHT`` (a computed weight below the threshold
    errs by ``rel`` relatively, or by less than 2**-1070 where it is subnormal), for the
    caller to bound. Any representative mask with these counts has the same value.

    >>> counts, weights, _, tiny = enumerate_counts((2,), 0.5)
    >>> counts.ravel().tolist(), weights.tolist(), int(tiny.sum())
    ([0, 1, 2], [0.25, 0.5, 0.25], 0)
    """
    p = check_p(p)
    grids = np.meshgrid(*[np.arange(r + 1) for r in groups], indexing="ij")
    counts = np.stack([g.ravel() for g in grids], axis=1)
    weights = np.ones(len(counts))
    for g, r in enumerate(groups):
        weights = weights * _binomial_weights(int(r), p)[counts[:, g]]
    rel = gamma(2 * len(groups) + 1) + sum(groups) * probability_error(1.0 - p)
    tiny = weights < TINY_WEIGHT
    weights[tiny] = 0.0
    return counts, weights, rel, tiny


def count_masks(groups: tuple, counts: np.ndarray) -> np.ndarray:
    """Representative (N, k) masks of kept ``counts``: the first ``k_g`` positions of each
    group kept.

    >>> count_masks((2, 1), np.array([[1, 1], [2, 0]])).tolist()
    [[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """
    offsets = np.concatenate([[0], np.cumsum(groups)[:-1]])
    position = np.arange(int(sum(groups)))
    group = np.repeat(np.arange(len(groups)), groups)
    return (position[None, :] - offsets[group][None, :]
            < counts[:, group]).astype(np.float64)


def probability_error(keep: float, radius: float = 0.0) -> float:
    """Relative error of each factor ``q`` or ``1 - q`` of :func:`enumerate_masks`'s
    probabilities, against the true keep probability (a ball ``keep +- radius``).

    ``enumerate_masks`` receives ``p = fl(1 - q)`` and forms ``fl(1 - p)``: one of the two
    subtractions is exact (Sterbenz), the other errs by at most ``u min(q, 1 - q)``, relative
    ``u max(1, (1-q)/q, q/(1-q))`` to the smaller factor; a factor of probability 0 or 1
    (q = 0 or 1) is exact. Pass the declared probability's own radius too.

    >>> probability_error(1.0), probability_error(0.5) == 2.0 ** -53
    (0.0, True)
    """
    if not 0.0 < keep < 1.0:
        return 0.0 if radius == 0 else math.inf
    u = 2.0 ** -53
    ratio = max(1.0, (1.0 - keep) / keep, keep / (1.0 - keep))
    return u * ratio + radius / min(keep, 1.0 - keep)


def exact_moments(fn, k: int, p: float, *, n_nodes: int = 1):
    r"""``(E[f], E[f^2], E|f|)`` of ``f = fn(masks, noise)`` over all ``2**k`` masks and a
    standard normal noise, integrated by Gauss-Hermite quadrature with ``n_nodes`` nodes.

    ``fn`` maps (S, k) masks and (S,) noise values to (S,) values. ``E[f]`` is exact when
    ``f`` is a polynomial of degree at most ``2 n_nodes - 1`` in the noise, ``E[f^2]`` when
    ``f^2`` is; ``E|f|`` bounds the rounding error.

    Examples
    --------
    >>> exact_moments(lambda m, z: m[:, 0] + z, 1, 0.25, n_nodes=2)
    (0.75, 1.75, ...)
    """
    nodes, weights = roots_hermitenorm(n_nodes)
    weights = weights / weights.sum()
    first = second = magnitude = 0.0
    for masks, probs in enumerate_masks(k, p):
        for node, weight in zip(nodes, weights):
            values = np.asarray(fn(masks, np.full(len(masks), node)), dtype=np.float64)
            first += float((probs * weight) @ values)
            second += float((probs * weight) @ values ** 2)
            magnitude += float((probs * weight) @ np.abs(values))
    return first, second, magnitude


def exact_mean(fn, k: int, p: float):
    """``(E[fn(m)], E[|fn(m)|])`` over all masks; ``fn`` maps (S, k) masks to (S,) values.

    The second number is the magnitude that bounds the rounding error of the first.
    """
    first, _, magnitude = exact_moments(lambda masks, _: fn(masks), k, p)
    return first, magnitude


@functools.lru_cache(maxsize=None)
def gauss_rule(kind: str, n: int):
    r"""``(nodes, node_radius, weights, weight_rel_error)`` of the ``n``-point Gauss rule for
    a standard normal (``kind="normal"``: roots of the probabilists' Hermite polynomial) or a
    uniform on [-1, 1] (``"uniform"``: Legendre), with weights summing to 1:
    :math:`E[f] = \sum_k w_k f(t_k)` exactly for polynomials of degree at most ``2n - 1``.

    The nodes and weights are the doubles nearest to the exact ones, which are computed at 60
    digits (SciPy's rule refined by Newton's method): ``node_radius`` bounds each node's
    distance from the exact root and ``weight_rel_error`` each weight's relative error, so a
    caller that evaluates in ball arithmetic at ``nodes +- node_radius`` gets the quadrature
    sum of the exact rule.

    Examples
    --------
    >>> nodes, radius, weights, _ = gauss_rule("normal", 2)
    >>> float(weights @ nodes ** 2), bool(radius.max() < 1e-15)
    (1.0, True)
    """
    if kind not in ("normal", "uniform") or not 1 <= n <= MAX_NODES:
        raise ValueError(f"a Gauss rule needs kind 'normal' or 'uniform' and 1 <= n <= "
                         f"{MAX_NODES}, got {kind!r}, {n}")
    start = (roots_hermitenorm if kind == "normal" else roots_legendre)(n)[0]
    with mpmath.workdps(60):
        exact_nodes, exact_weights = zip(*[_refined(kind, n, mpmath.mpf(float(t)))
                                           for t in start])
        nodes = np.array([float(t) for t in exact_nodes])
        weights = np.array([float(w) for w in exact_weights])
        radius = np.array([float(abs(mpmath.mpf(float(t)) - t)) for t in exact_nodes])
        rel = max(float(abs(mpmath.mpf(float(w)) - w) / w) for w in exact_weights)
    # each difference was rounded to a double: one more unit roundoff covers that
    return nodes, np.nextafter(radius * (1 + 2 * _U), np.inf), weights, rel * (1 + 2 * _U) + _U


def _orthogonal(kind: str, n: int, x):
    """``(p_n(x), p_{n-1}(x))``: probabilists' Hermite or Legendre, by their recurrences."""
    previous, current = mpmath.mpf(1), x
    if n == 0:
        return previous, mpmath.mpf(0)
    for k in range(1, n):
        following = x * current - k * previous if kind == "normal" else \
            ((2 * k + 1) * x * current - k * previous) / (k + 1)
        previous, current = current, following
    return current, previous


def _refined(kind: str, n: int, t):
    """A root of the rule's polynomial by Newton from ``t``, and its normalized weight."""
    for _ in range(8):
        p, q = _orthogonal(kind, n, t)
        # Hermite: He_n' = n He_{n-1}; Legendre: (1 - x^2) P_n' = n (P_{n-1} - x P_n)
        derivative = n * q if kind == "normal" else n * (q - t * p) / (1 - t * t)
        t = t - p / derivative
    _, q = _orthogonal(kind, n, t)
    if kind == "normal":
        return t, mpmath.factorial(n - 1) / (n * q * q)
    derivative = n * q / (1 - t * t)  # at a root of P_n
    return t, 1 / ((1 - t * t) * derivative ** 2)
