"""Exact route: enumerate all ``2**k`` keep-masks with their probabilities, in chunks."""
from __future__ import annotations

import numpy as np

from .._validation import check_p

__all__ = ["enumerate_masks", "exact_mean"]

MAX_MASK_BITS = 24


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


def exact_mean(fn, k: int, p: float):
    """``(E[fn(m)], E[|fn(m)|])`` over all masks; ``fn`` maps (S, k) masks to (S,) values.

    The second number is the magnitude that bounds the rounding error of the first.
    """
    mean = magnitude = 0.0
    for masks, probs in enumerate_masks(k, p):
        values = np.asarray(fn(masks), dtype=np.float64)
        mean += float(probs @ values)
        magnitude += float(probs @ np.abs(values))
    return mean, magnitude
