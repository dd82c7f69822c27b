"""Argument checks shared by every layer of the package.

Errors name the argument and the value received, as ``DESIGN.md`` asks; the CLI turns
``ValueError`` into exit code 2 without a traceback.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_p", "keep_probability", "check_positive_int", "as_real_array",
           "check_finite_array", "check_shape", "check_run"]


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


def as_real_array(x, *, name: str) -> np.ndarray:
    """Return ``x`` as a float64 array; complex values are refused rather than silently
    cut to their real part, and what is not numbers is named."""
    if np.iscomplexobj(x):
        raise ValueError(f"{name} must be real, got complex values")
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers, got {type(x).__name__}") from exc


def check_finite_array(x, *, name: str, ndim_min: int = 0) -> np.ndarray:
    """Return ``x`` as a float64 array after checking it is finite and has enough axes."""
    arr = as_real_array(x, name=name)
    if arr.ndim < ndim_min:
        raise ValueError(f"{name} must have at least {ndim_min} axes, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {int(np.size(arr) - np.isfinite(arr).sum())} "
                         f"non-finite entries")
    return arr


def check_shape(shape, *, name: str = "shape") -> tuple:
    """Return ``shape`` as a tuple of non-negative ints (an int is a 1-D shape)."""
    dims = (shape,) if isinstance(shape, numbers.Integral) else shape
    try:
        dims = tuple(dims)
    except TypeError:
        raise ValueError(f"{name} must be a tuple of non-negative integers, got "
                         f"{shape!r}") from None
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0
               for n in dims):
        raise ValueError(f"{name} must be a tuple of non-negative integers, got {shape!r}")
    return tuple(int(n) for n in dims)


def check_run(*, root, n_samples, n_points, alpha) -> None:
    """The arguments of a verification run, checked before any work, each named.

    Examples
    --------
    >>> check_run(root=0, n_samples=10, n_points=4, alpha=1e-6)
    Traceback (most recent call last):
    ...
    ValueError: n_samples must be at least 64 (two per batch), got 10
    """
    from .sampling.tolerance import MIN_ALPHA, N_BATCHES  # sampling imports this module
    if isinstance(root, bool) or not isinstance(root, numbers.Integral) or \
            not 0 <= root < 1 << 63:
        raise ValueError(f"root must be a non-negative integer below 2**63, got {root!r}")
    check_positive_int(n_samples, name="n_samples")
    check_positive_int(n_points, name="n_points")
    if n_samples < 2 * N_BATCHES:
        raise ValueError(f"n_samples must be at least {2 * N_BATCHES} (two per batch), got "
                         f"{n_samples}")
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or \
            not MIN_ALPHA <= alpha < 1.0:  # also refuses nan
        raise ValueError(f"alpha must be a false-alarm rate in [{MIN_ALPHA:g}, 1), got "
                         f"{alpha!r}")
