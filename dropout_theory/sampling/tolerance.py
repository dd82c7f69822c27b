"""The one place where critical values and floating-point tolerances are computed.

Monte Carlo checks use batch means over ``N_BATCHES`` independent batches, so the statistic
``(estimate - claim) / se`` follows Student's t with ``N_BATCHES - 1`` degrees of freedom, not
N(0, 1): the critical value is a t quantile. With the normal quantile, a run at family-wise
rate 1e-6 would raise false alarms an order of magnitude more often than stated.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["N_BATCHES", "DEFAULT_ALPHA", "MIN_ALPHA", "z_crit", "resolution", "gamma", "float_tolerance"]

#: independent batches per Monte Carlo check (batch means give the standard error)
N_BATCHES = 32
#: family-wise false-alarm rate of a whole run
DEFAULT_ALPHA = 1e-6
#: the smallest family-wise rate a run accepts (its critical values stay finite)
MIN_ALPHA = 1e-300


def z_crit(alpha: float = DEFAULT_ALPHA, n_checks: int = 1, *, two_sided: bool = True) -> float:
    """Critical value so that ``n_checks`` true checks raise any alarm with rate ``<= alpha``.

    Bonferroni split, Student t with ``N_BATCHES - 1`` degrees of freedom.

    Examples
    --------
    >>> round(z_crit(0.05, 1), 3)
    2.04
    """
    if not MIN_ALPHA <= alpha < 1.0 or math.isnan(alpha):
        raise ValueError(f"alpha must be a false-alarm rate in [{MIN_ALPHA:g}, 1), got {alpha!r}")
    if n_checks < 1:
        raise ValueError(f"n_checks must be a positive integer, got {n_checks!r}")
    tail = alpha / n_checks / (2.0 if two_sided else 1.0)
    critical = float(stats.t.isf(tail, df=N_BATCHES - 1))
    if not (math.isfinite(critical) and critical > 0):
        # a tail below the smallest double: no finite critical value, so every check would
        # reject; that must be an error, never a verdict
        raise ValueError(f"alpha = {alpha!r} split over {n_checks} checks leaves a tail of "
                         f"{tail:.3g}, below what float64 can test; use a larger alpha")
    return critical


def resolution(se: float, claim: float, critical: float) -> float:
    """Smallest relative error the check could detect: ``critical * se / |claim|``."""
    return math.inf if claim == 0 else critical * se / abs(claim)


def gamma(n_ops: int) -> float:
    r"""Higham's :math:`\gamma_n = n u / (1 - n u)`, ``u`` the unit roundoff of float64."""
    u = np.finfo(np.float64).eps / 2.0
    if n_ops * u >= 1.0:
        raise ValueError(f"n_ops = {n_ops} is too large for a float64 error bound")
    return n_ops * u / (1.0 - n_ops * u)


def float_tolerance(magnitude: float, n_ops: int) -> float:
    """Bound on the rounding error of a sum of ``n_ops`` terms whose absolute sum is ``magnitude``."""
    return gamma(n_ops) * magnitude
