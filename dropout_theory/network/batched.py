"""A linear map with one weight per independent replicate, for training many runs at once."""
from __future__ import annotations

import numpy as np

from .._validation import check_finite_array, check_positive_int
from ._common import refuse_mask
from .module import Module

__all__ = ["ReplicaLinear"]


class ReplicaLinear(Module):
    r"""``R`` independent linear maps without bias, one per replicate (leading axis).

    .. math:: y_{r\cdots} = x_{r\cdots} W_r^\top, \qquad
              \frac{\partial L}{\partial W_r} = \sum_{\cdots} g_{r\cdots}^\top x_{r\cdots}

    Unlike :class:`Linear`, whose weight is shared across the sample axis, each replicate
    ``r`` owns ``W_r`` of shape ``(out, in)``, so ``R`` training runs advance in one batched
    step of :class:`SGD` and never see each other's gradients.

    Examples
    --------
    >>> layer = ReplicaLinear(2, 3, 1)
    >>> layer.forward(np.ones((2, 5, 3))).shape
    (2, 5, 1)
    """

    def __init__(self, n_replicas: int, in_features: int, out_features: int = 1, *,
                 weight=None) -> None:
        super().__init__()
        shape = (check_positive_int(n_replicas, name="n_replicas"),
                 check_positive_int(out_features, name="out_features"),
                 check_positive_int(in_features, name="in_features"))
        weight = np.zeros(shape) if weight is None else check_finite_array(weight, name="weight")
        if weight.shape != shape:
            raise ValueError(f"weight must have shape {shape}, got {weight.shape}")
        self.params["weight"] = weight.astype(np.float64, copy=True)
        self.zero_grad()
        self.x: np.ndarray | None = None

    def forward(self, x, *, mask=None, rng=None):
        refuse_mask(self, mask)
        x = check_finite_array(x, name="x", ndim_min=2)
        n_replicas, _, in_features = self.params["weight"].shape
        if x.shape[0] != n_replicas or x.shape[-1] != in_features:
            raise ValueError(f"x must have shape ({n_replicas}, ..., {in_features}), "
                             f"got {x.shape}")
        self.x = x.reshape(n_replicas, -1, in_features)
        y = self.x @ np.swapaxes(self.params["weight"], 1, 2)
        return y.reshape(x.shape[:-1] + (y.shape[-1],))

    def backward(self, grad_out):
        g = np.asarray(grad_out, dtype=np.float64).reshape(self.x.shape[0], self.x.shape[1], -1)
        self.grads["weight"] = np.swapaxes(g, 1, 2) @ self.x
        out = g @ self.params["weight"]
        return out.reshape(self.x.shape)

    def __repr__(self) -> str:
        n_replicas, out_features, in_features = self.params["weight"].shape
        return f"ReplicaLinear({n_replicas}, {in_features}, {out_features})"
