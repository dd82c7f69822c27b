"""The packed-table unit of the fast Monte Carlo path and its NumPy sums over sampled masks
(the reference the compiled kernel of :mod:`._jit` reproduces bit for bit)."""
from __future__ import annotations

import numpy as np

from .bernoulli import bernoulli
from .tolerance import gamma

__all__ = ["PackedLinear", "numpy_sums", "doubled", "ROWS_PER_DRAW"]

#: mask rows drawn per sampler call (keeps a call's arrays in cache; fixed, so that a draw of
#: ``n`` rows is the same whatever chunk size its caller uses, for multiples of it)
ROWS_PER_DRAW = 128


def doubled(values, first, combine) -> np.ndarray:
    """``[first]`` doubled once per value: index bit ``j`` set means ``values[j]`` applied
    (``combine(old, value_j)``), applied in increasing ``j``."""
    out = np.array([first], dtype=np.float64)
    for value in values:
        out = np.concatenate([out, combine(out, value)])
    return out


class PackedLinear:
    r"""``masks @ a`` for boolean masks of shape (n, d), by byte tables.

    Each table entry is the sum of at most eight ``a_i`` and each row adds ``ceil(d / 8)``
    entries: the result errs from the exact :math:`\sum_i a_i m_i` by at most
    :attr:`rounding` :math:`= \gamma_{d + 8} \sum_i |a_i|` (the terms that may cancel). A row's
    entries are added by ``ndarray.sum`` (NumPy's pairwise order), which the compiled kernel
    reproduces.

    >>> unit = PackedLinear(np.array([1.0, 2.0, 4.0]))
    >>> unit(np.array([[True, False, True], [False, True, False]])).tolist()
    [5.0, 2.0]
    """

    def __init__(self, a):
        a = np.asarray(a, dtype=np.float64).ravel()
        if not np.all(np.isfinite(a)):
            raise ValueError("the unit's weights must be finite")
        self.d = a.size
        groups = np.zeros(-(-a.size // 8) * 8)
        groups[:a.size] = a
        groups = groups.reshape(-1, 8)
        self.tables = np.stack([doubled(g, 0.0, lambda t, v: t + v) for g in groups])
        self._flat = self.tables.ravel()
        self._offsets = (np.arange(len(groups)) * 256).astype(np.intp)
        self.rounding = gamma(a.size + 8) * float(np.abs(a).sum())

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        masks = np.asarray(masks, dtype=bool)
        if masks.ndim != 2 or masks.shape[1] != self.d:
            raise ValueError(f"masks must have shape (n, {self.d}), got {masks.shape}")
        packed = np.packbits(masks, axis=1, bitorder="little")
        return np.take(self._flat, self._offsets + packed).sum(axis=1)


def numpy_sums(unit: PackedLinear, q: float, rng, n: int, rows_per_call: int) -> np.ndarray:
    """The sums of ``n`` mask rows, drawn ``rows_per_call`` at a time (the NumPy path; the
    compiled kernel of :mod:`._jit` reproduces it bit for bit)."""
    out = np.empty(n)
    for start in range(0, n, rows_per_call):
        rows = min(rows_per_call, n - start)
        out[start:start + rows] = unit(bernoulli((rows, unit.d), q, rng))
    return out
