"""Inverted dropout, as ``torch.nn.Dropout(p)`` computes it."""
from __future__ import annotations

import numpy as np

from .._validation import as_real_array, check_finite_array, check_p, check_shape
from .module import Module

__all__ = ["Dropout", "bernoulli_mask"]


def bernoulli_mask(shape, p: float, rng: np.random.Generator) -> np.ndarray:
    """Draw a 0/1 keep-mask of ``shape`` with keep probability ``q = 1 - p``.

    Masks come from uniforms thresholded at ``q`` so that a stream drawn in several chunks
    equals the stream drawn at once (results do not depend on memory chunking).

    Examples
    --------
    >>> m = bernoulli_mask((2, 3), 0.0, np.random.default_rng(0))
    >>> m.tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    q = 1.0 - check_p(p)
    return (rng.random(check_shape(shape)) < q).astype(np.float64)


class Dropout(Module):
    r"""Inverted dropout: in training ``y = m * x / q`` with ``m ~ Bernoulli(q)``, ``q = 1 - p``.

    .. math:: y_i = \frac{m_i x_i}{q}, \qquad \frac{\partial L}{\partial x_i}
              = \frac{m_i}{q} \frac{\partial L}{\partial y_i}

    ``p`` is the drop probability (PyTorch's meaning). ``p = 1`` outputs zeros, like PyTorch.
    In eval mode the layer is the identity. A mask can be injected (``mask=``) so that
    finite differences and simulations see one fixed function.

    Examples
    --------
    >>> layer = Dropout(p=0.5)
    >>> layer.forward(np.ones(4), mask=np.array([1.0, 0.0, 1.0, 0.0])).tolist()
    [2.0, 0.0, 2.0, 0.0]
    """

    #: Marks layers that MC-dropout inference keeps stochastic while the rest is in eval mode.
    is_dropout = True

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = check_p(p)
        self.rng = rng
        self.mask: np.ndarray | None = None

    def forward(self, x, *, mask=None, rng=None):
        x = check_finite_array(x, name="x")
        if not self.training or self.p == 0.0 and mask is None:
            self.mask = None
            return x.copy()
        if mask is None:
            rng = rng if rng is not None else self.rng
            if rng is None:
                raise ValueError("Dropout.forward needs rng= (or a mask=) in training mode")
            mask = bernoulli_mask(x.shape, self.p, rng)
        mask = as_real_array(mask, name="mask")
        if not np.all(np.isfinite(mask)):
            raise ValueError("mask must be finite")
        if mask.shape != x.shape:
            raise ValueError(f"mask must have the shape of x {x.shape}, got {mask.shape}")
        self.mask = mask
        return x * self._scale()

    def backward(self, grad_out):
        grad_out = np.asarray(grad_out, dtype=np.float64)
        if self.mask is None:
            return grad_out.copy()
        return grad_out * self._scale()

    def _scale(self) -> np.ndarray:
        # p = 1: every unit is dropped and the output is exactly zero (PyTorch returns zeros).
        if self.p == 1.0:
            return np.zeros_like(self.mask)
        return self.mask / (1.0 - self.p)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
