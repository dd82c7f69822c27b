"""Base class of the reference network core.

Every layer keeps ``forward`` and ``backward`` side by side. Arrays carry a leading sample
axis where the layer is stochastic, so S mask draws run as one batched computation.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Module"]


class Module:
    """A layer with ``forward``/``backward``, ``train()``/``eval()`` and named parameters.

    Subclasses store parameters as NumPy arrays in ``self.params`` and their gradients,
    with the same names and shapes, in ``self.grads`` (filled by ``backward``).
    """

    def __init__(self) -> None:
        self.training = True
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def train(self, mode: bool = True) -> "Module":
        """Switch to training mode (dropout active); returns ``self`` like PyTorch."""
        self.training = bool(mode)
        return self

    def eval(self) -> "Module":
        """Switch to evaluation mode (dropout is the identity)."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Reset every gradient to zeros."""
        for name, value in self.params.items():
            self.grads[name] = np.zeros_like(value)

    def forward(self, x, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad_out):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, x, **kwargs):
        return self.forward(x, **kwargs)
