"""Monte Carlo route: batch means over independent, individually seeded batches.

Each of the ``N_BATCHES`` batches has its own generator (keyed by check name and batch index)
and is streamed in chunks of bounded size, so memory does not grow with ``n_samples`` and the
result does not depend on the chunk size. The batch statistic is the mean or the unbiased
variance of the per-sample values; the standard error is the spread of the batch statistics.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_positive_int
from .seeds import generator
from .tolerance import N_BATCHES

__all__ = ["Estimate", "batch_means"]


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


def _batch_statistic(sample, rng, size: int, chunk: int, statistic: str) -> float:
    count, mean, m2 = 0, 0.0, 0.0
    for start in range(0, size, chunk):
        values = np.asarray(sample(rng, min(chunk, size - start)), dtype=np.float64)
        n, mu = values.size, float(values.mean())
        delta = mu - mean
        m2 += float(((values - mu) ** 2).sum()) + delta ** 2 * count * n / (count + n)
        mean += delta * n / (count + n)
        count += n
    return mean if statistic == "mean" else m2 / (count - 1)


def batch_means(sample, *, n_samples: int, root: int, name: str, statistic: str = "mean",
                chunk: int = 1 << 15) -> Estimate:
    """Estimate ``E[X]`` (``statistic="mean"``) or ``Var[X]`` (``"var"``) by batch means.

    ``sample(rng, n)`` returns ``n`` i.i.d. draws of ``X`` computed by the reference code.

    Examples
    --------
    >>> est = batch_means(lambda rng, n: rng.random(n), n_samples=6400, root=0, name="demo")
    >>> abs(est.value - 0.5) < 6 * est.se
    True
    """
    check_positive_int(n_samples, name="n_samples")
    if statistic not in ("mean", "var"):
        raise ValueError(f"statistic must be 'mean' or 'var', got {statistic!r}")
    size = n_samples // N_BATCHES
    if size < 2:
        raise ValueError(f"n_samples must be at least {2 * N_BATCHES}, got {n_samples}")
    stats = np.array([_batch_statistic(sample, generator(root, name, b), size, chunk, statistic)
                      for b in range(N_BATCHES)])
    return Estimate.from_batches(stats, size * N_BATCHES)
