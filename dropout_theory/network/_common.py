"""Small helpers shared by the layers: generator lookup, mask checks, gradient reduction."""
from __future__ import annotations

import numpy as np

from .._validation import as_real_array

__all__ = ["resolve_rng", "check_mask", "reduce_to_shape", "refuse_mask"]


def resolve_rng(layer, rng) -> np.random.Generator:
    """Return the generator given to ``forward``, else the one given at construction."""
    rng = rng if rng is not None else getattr(layer, "rng", None)
    if rng is None:
        raise ValueError(f"{type(layer).__name__}.forward needs rng= (or mask=) in training mode")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return rng


def check_mask(mask, shape, *, name: str = "mask") -> np.ndarray:
    """Return ``mask`` as float64 after checking it is finite and broadcasts to ``shape``."""
    arr = as_real_array(mask, name=name)
    try:
        fits = np.broadcast_shapes(arr.shape, tuple(shape)) == tuple(shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name} must broadcast to shape {tuple(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    return arr


def refuse_mask(layer, mask) -> None:
    """Deterministic layers take ``mask=`` only for a uniform signature; refuse a real one."""
    if mask is not None:
        raise ValueError(f"mask must be None for the deterministic layer {type(layer).__name__}")


def reduce_to_shape(grad: np.ndarray, shape) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach it."""
    shape = tuple(shape)
    extra = grad.ndim - len(shape)
    grad = grad.sum(axis=tuple(range(extra))) if extra > 0 else grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad
