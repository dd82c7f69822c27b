r"""Monte Carlo route: batch statistics over independent, individually seeded batches.

Each of the ``N_BATCHES`` batches is cut into blocks of ``block`` rows, each drawn by its own
generator (keyed by check name, batch and block index) and accumulated in turn, so memory is
bounded by a block, not by ``n_samples``, and no choice of how to split the work can change a
result: a block is part of the check's definition (the routes derive it from the model's
size), and a sampler that consumes its stream unevenly (the exact byte sampler's ties) sees
the same stream whatever runs it. The batches run where :mod:`.executor` says (in process, a
process pool, a Dask cluster) and are reduced in batch order, so the result does not depend
on the number of workers either. A batch statistic is the mean, or the unbiased variance or
covariance, of per-sample columns; the standard error is the spread of the batch statistics.

Each batch statistic also carries a rigorous bound on its rounding error, from the samples'
own bounds ``r`` (their evaluation error) and the magnitudes the accumulation sums: for a
mean :math:`(\sum r_a + \gamma_{2n} \sum |a|)/n`, for a covariance of ``n`` samples

.. math:: \frac{1}{n-1}\Bigl[\sum |a| r_b + |\bar a| \sum r_b + \sum |b| r_a + |\bar b|
          \sum r_a + \sqrt{\textstyle\sum r_a^2 \sum r_b^2}
          + \gamma_{2n}\bigl(\sum |ab| + |\bar a| \sum |b| + |\bar b| \sum |a|
          + n |\bar a \bar b|\bigr)\Bigr],

the first five terms from :math:`\sum (a - \bar a)\beta = \sum (a - \bar a)(\beta - \bar\beta)`
with :math:`|a - \bar a| \le |a| + |\bar a|` and Cauchy-Schwarz, the last the floating-point
accumulation of the centered products (blocks merged by Chan et al.'s rule).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_positive_int
from .executor import run_tasks
from .seeds import generator
from .tolerance import N_BATCHES, gamma

__all__ = ["Estimate", "Node", "BatchStatistics", "batch_means", "batch_statistics",
           "BLOCK_ROWS"]


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate with its batch-means standard error."""

    value: float
    se: float
    n_samples: int

    @classmethod
    def from_batches(cls, stats, n_samples: int) -> "Estimate":
        """The mean of ``N_BATCHES`` independent batch statistics and its standard error."""
        stats = np.asarray(stats, dtype=np.float64)
        return cls(float(stats.mean()), float(stats.std(ddof=1) / np.sqrt(N_BATCHES)),
                   n_samples)


@dataclass(frozen=True)
class Node:
    """One statistic of per-sample columns: ``mean`` of column ``a``, unbiased ``var`` of
    ``a``, or ``cov`` of ``a`` and ``b``."""

    kind: str
    a: int
    b: int | None = None

    @property
    def columns(self) -> tuple:
        return (self.a, self.a if self.b is None else self.b)


class _Running:
    """Means and co-moment of two columns merged block by block (Chan et al.), with the sums
    the rounding bound needs."""

    def __init__(self):
        self.n, self.mean_a, self.mean_b, self.comoment = 0, 0.0, 0.0, 0.0
        self.sums = np.zeros(9)  # |a|, |b|, r_a, r_b, r_a^2, r_b^2, |ab|, |a| r_b, |b| r_a

    def add(self, a, b, ra, rb) -> None:
        n, mean_a, mean_b = a.size, float(a.mean()), float(b.mean())
        comoment = float(((a - mean_a) * (b - mean_b)).sum())
        total = self.n + n
        delta_a, delta_b = mean_a - self.mean_a, mean_b - self.mean_b
        self.comoment += comoment + delta_a * delta_b * self.n * n / total
        self.mean_a += delta_a * n / total
        self.mean_b += delta_b * n / total
        self.n = total
        abs_a, abs_b = np.abs(a), np.abs(b)
        self.sums += [abs_a.sum(), abs_b.sum(), ra.sum(), rb.sum(), (ra * ra).sum(),
                      (rb * rb).sum(), (abs_a * abs_b).sum(), (abs_a * rb).sum(),
                      (abs_b * ra).sum()]

    def statistic(self, kind: str) -> float:
        return self.mean_a if kind == "mean" else self.comoment / (self.n - 1)

    def rounding(self, kind: str) -> float:
        a, b, ra, rb, ra2, rb2, ab, a_rb, b_ra = self.sums
        g, n = gamma(2 * self.n + 4), self.n
        if kind == "mean":
            return float((ra + g * a) / n)
        ma, mb = abs(self.mean_a), abs(self.mean_b)
        values = a_rb + ma * rb + b_ra + mb * ra + np.sqrt(ra2 * rb2)
        accumulation = g * (ab + ma * b + mb * a + n * ma * mb)
        return float((values + accumulation) / (n - 1) * (1 + 8 * gamma(1)))


@dataclass(frozen=True)
class BatchStatistics:
    """``values[b, k]``: node ``k`` on batch ``b``; ``rounding[b, k]`` its rounding bound;
    ``spread[b, k]`` the unbiased sample variance of node ``k``'s first column on batch ``b``
    and ``spread_rounding[b, k]`` its rounding bound (a concentration bound needs them)."""

    values: np.ndarray
    rounding: np.ndarray
    n_samples: int
    spread: np.ndarray | None = None
    spread_rounding: np.ndarray | None = None


#: rows per block where a caller does not derive its own from the model's size
BLOCK_ROWS = 1 << 12


def _batch(draw, nodes, root: int, name: str, batch: int, size: int, block: int):
    running = [_Running() for _ in nodes]
    for number, start in enumerate(range(0, size, block)):
        # block 0 keeps the batch's own generator (one block per batch is the common case)
        rng = generator(root, name, batch) if number == 0 else \
            generator(root, name, batch, number)
        mids, rads = draw(rng, min(block, size - start))
        mids = np.asarray(mids, dtype=np.float64)
        rads = np.zeros_like(mids) if rads is None else np.asarray(rads, dtype=np.float64)
        for node, acc in zip(nodes, running):
            a, b = node.columns
            acc.add(mids[:, a], mids[:, b], rads[:, a], rads[:, b])
    # a mean node's co-moment is its column's (b = a): its sample variance comes for free
    return ([acc.statistic(node.kind) for node, acc in zip(nodes, running)],
            [acc.rounding(node.kind) for node, acc in zip(nodes, running)],
            [acc.statistic("var") if node.kind == "mean" else np.nan
             for node, acc in zip(nodes, running)],
            [acc.rounding("var") if node.kind == "mean" else np.nan
             for node, acc in zip(nodes, running)])


def batch_statistics(draw, nodes, *, n_samples: int, root: int, name: str,
                     block: int = BLOCK_ROWS, parallel: bool = True) -> BatchStatistics:
    """Statistics ``nodes`` of the columns ``draw(rng, n) -> (mids, rads)`` returns ((n, C)
    arrays; ``rads`` may be ``None`` for exact values), on ``N_BATCHES`` seeded batches, each
    drawn in blocks of at most ``block`` rows (module docstring).

    The batches run where :mod:`.executor` is configured (in process, a process pool, a Dask
    cluster) and are reduced in batch order: the result is bit-identical whatever runs them.
    ``parallel=False`` keeps them in process, in order (a ``draw`` with state of its own).
    """
    check_positive_int(n_samples, name="n_samples")
    check_positive_int(block, name="block")
    size = n_samples // N_BATCHES
    if size < 2:
        raise ValueError(f"n_samples must be at least {2 * N_BATCHES}, got {n_samples}")

    def task(b):
        return _batch(draw, nodes, root, name, b, size, block)

    rows = run_tasks(task, N_BATCHES) if parallel else [task(b) for b in range(N_BATCHES)]
    values, rounding, spread, spread_rounding = (np.array([r[k] for r in rows])
                                                 for k in range(4))
    return BatchStatistics(values, rounding, size * N_BATCHES, spread, spread_rounding)


def batch_means(sample, *, n_samples: int, root: int, name: str, statistic: str = "mean",
                block: int = BLOCK_ROWS) -> Estimate:
    """Estimate ``E[X]`` (``statistic="mean"``) or ``Var[X]`` (``"var"``) by batch means.

    ``sample(rng, n)`` returns ``n`` i.i.d. draws of ``X`` computed by the reference code.

    Examples
    --------
    >>> est = batch_means(lambda rng, n: rng.random(n), n_samples=6400, root=0, name="demo")
    >>> abs(est.value - 0.5) < 6 * est.se
    True
    """
    if statistic not in ("mean", "var"):
        raise ValueError(f"statistic must be 'mean' or 'var', got {statistic!r}")
    stats = batch_statistics(lambda rng, n: (np.asarray(sample(rng, n))[:, None], None),
                             [Node(statistic, 0)], n_samples=n_samples, root=root, name=name,
                             block=block)
    return Estimate.from_batches(stats.values[:, 0], stats.n_samples)
