"""Argument checks shared by every layer of the package.

Errors name the argument and the value received, as ``DESIGN.md`` asks; the CLI turns
``ValueError`` into exit code 2 without a traceback.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_p", "keep_probability", "check_positive_int", "check_finite_array"]


def check_p(p, *, name: str = "p") -> float:
    """Return ``p`` as a float after checking it is a drop probability in ``[0, 1]``.

    ``p = 1`` is legal (a layer then outputs zeros, as in PyTorch); formulas that divide by
    ``q = 1 - p`` call :func:`keep_probability` instead, which refuses it.

    Examples
    --------
    >>> check_p(0.25)
    0.25
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise ValueError(f"{name} must be a number in [0, 1], got {p!r}")
    value = float(p)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a drop probability in [0, 1], got {p!r}")
    return value


def keep_probability(p, *, name: str = "p") -> float:
    """Return ``q = 1 - p`` for formulas that divide by ``q``; refuse ``p = 1``.

    Examples
    --------
    >>> keep_probability(0.25)
    0.75
    """
    value = check_p(p, name=name)
    if value == 1.0:
        raise ValueError(
            f"{name} = 1 drops every unit: this formula divides by the keep probability "
            f"q = 1 - {name} = 0 and is undefined there"
        )
    return 1.0 - value


def check_positive_int(value, *, name: str) -> int:
    """Return ``value`` as an int after checking it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_finite_array(x, *, name: str, ndim_min: int = 0) -> np.ndarray:
    """Return ``x`` as a float64 array after checking it is finite and has enough axes."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers, got {type(x).__name__}") from exc
    if arr.ndim < ndim_min:
        raise ValueError(f"{name} must have at least {ndim_min} axes, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {int(np.size(arr) - np.isfinite(arr).sum())} "
                         f"non-finite entries")
    return arr
