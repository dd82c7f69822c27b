"""Dropout on weights (DropConnect, targeted dropout) and the max-norm constraint.

Weight masks have shape ``(..., out_features, in_features)`` where ``...`` are the input's
leading axes: every example of every sample draw sees its own thinned weight matrix, as in
Wan et al. (2013). An injected mask may drop leading axes to share one matrix across them.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_finite_array, check_p
from ._common import check_mask, reduce_to_shape, resolve_rng
from .dropout import bernoulli_mask
from .layers import Linear
from .variants import check_binary

__all__ = ["DropConnect", "TargetedDropout", "max_norm"]


class DropConnect(Linear):
    r"""A :class:`Linear` whose weights are dropped one by one (Wan et al. 2013).

    With ``inverted=True`` (default, like ``Dropout``) kept weights are scaled by ``1/q`` and
    eval mode is the plain linear layer. With ``inverted=False`` training uses the paper's
    unscaled mask and eval mode the mean network :math:`q W`, so :math:`E u = q W v`.

    .. math:: y = \bigl((M \odot W) / s\bigr)\,x + b, \qquad M_{ij} \sim
              \mathrm{Bernoulli}(q), \quad s = q \text{ (inverted) or } 1

    Examples
    --------
    >>> layer = DropConnect(2, 1, p=0.5, inverted=False, rng=np.random.default_rng(0))
    >>> y = layer.forward(np.ones(2), mask=np.array([[1.0, 0.0]]))
    >>> bool(np.isclose(y[0], layer.weight[0, 0] + layer.bias[0]))
    True
    """

    is_dropout = True

    def __init__(self, in_features: int, out_features: int, *, p: float = 0.5,
                 inverted: bool = True, bias: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__(in_features, out_features, bias=bias, rng=rng)
        self.p, self.inverted, self.rng = check_p(p), bool(inverted), rng
        self.mask: np.ndarray | None = None

    def _weight_mask(self, x, mask, rng) -> np.ndarray | None:
        if not self.training or (self.p == 0.0 and mask is None):
            return None
        shape = x.shape[:-1] + self.weight.shape
        if mask is None:
            return bernoulli_mask(shape, self.p, resolve_rng(self, rng))
        return check_binary(check_mask(mask, shape))

    def _factor(self, mask):
        """What multiplies ``W`` elementwise: a scalar without a mask, else an array."""
        if mask is None:
            return 1.0 if self.training or self.inverted else 1.0 - self.p
        if not self.inverted:
            return mask
        # p = 1 drops every weight; zeros rather than 0/0, as Dropout does.
        return np.zeros_like(mask) if self.p == 1.0 else mask / (1.0 - self.p)

    def forward(self, x, *, mask=None, rng=None):
        self.x = self._check_input(x)
        self.mask = self._weight_mask(self.x, mask, rng)
        self.w_factor = self._factor(self.mask)
        self.w_eff = self.w_factor * self.weight
        if np.ndim(self.w_factor) == 0:
            y = self.x @ self.w_eff.T
        else:
            y = (self.w_eff @ self.x[..., None])[..., 0]
        return y + self.bias if self.bias is not None else y

    def backward(self, grad_out):
        g = np.asarray(grad_out, dtype=np.float64)
        if self.bias is not None:
            self.grads["bias"] = g.reshape(-1, self.out_features).sum(axis=0)
        if np.ndim(self.w_factor) == 0:
            flat = g.reshape(-1, self.out_features).T @ self.x.reshape(-1, self.in_features)
            self.grads["weight"] = self.w_factor * flat
            return g @ self.w_eff
        outer = g[..., :, None] * self.x[..., None, :]
        self.grads["weight"] = reduce_to_shape(outer * self.w_factor, self.weight.shape)
        return (g[..., None, :] @ self.w_eff)[..., 0, :]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.in_features}, {self.out_features}, p={self.p}, "
                f"inverted={self.inverted})")


class TargetedDropout(DropConnect):
    r"""Targeted weight dropout (Gomez et al. 2019): drop only among the smallest weights.

    In each row of ``weight`` (the incoming weights of one output unit) the
    ``floor(gamma * in_features)`` weights of smallest magnitude are targets; each target is
    dropped with probability ``p``, other weights are always kept, and nothing is rescaled
    (as in the paper's code). Eval mode is the plain layer; ``prune_at_eval=True`` instead
    removes every target at test time, as the paper's code does. ``mask=`` injects the
    Bernoulli(q) draws; entries outside the targets are ignored.

    .. math:: W^{\text{eff}}_{ij} = W_{ij}\,\bigl(1 - T_{ij}(1 - m_{ij})\bigr)

    Examples
    --------
    >>> layer = TargetedDropout(4, 1, p=1.0, gamma=0.5, rng=np.random.default_rng(0))
    >>> layer.weight[:] = [[0.1, -2.0, 0.2, 3.0]]
    >>> layer.forward(np.ones(4), mask=np.zeros((1, 4))) - layer.bias
    array([1.])
    """

    def __init__(self, in_features: int, out_features: int, *, p: float = 0.5,
                 gamma: float = 0.5, prune_at_eval: bool = False, bias: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__(in_features, out_features, p=p, inverted=False, bias=bias, rng=rng)
        self.gamma = check_p(gamma, name="gamma")
        self.prune_at_eval = bool(prune_at_eval)

    def targets(self) -> np.ndarray:
        """0/1 array of ``weight``'s shape marking the lowest-magnitude weights of each row."""
        k = int(np.floor(self.gamma * self.in_features))
        rank = np.argsort(np.argsort(np.abs(self.weight), axis=1, kind="stable"), axis=1)
        return (rank < k).astype(np.float64)

    def _factor(self, mask):
        if mask is None:
            return 1.0 - self.targets() if self.prune_at_eval and not self.training else 1.0
        return 1.0 - self.targets() * (1.0 - mask)

    def __repr__(self) -> str:
        return (f"TargetedDropout({self.in_features}, {self.out_features}, p={self.p}, "
                f"gamma={self.gamma})")


def max_norm(weight, *, c: float) -> np.ndarray:
    r"""Project each row of ``weight`` (a unit's incoming weights) onto the ball of radius c.

    Srivastava et al. (2014, sec. 5.1). Same as ``torch.renorm(w, 2, 0, c)`` except that
    PyTorch divides by ``norm + 1e-7``; here rows inside the ball are returned unchanged and
    rows outside land exactly on the sphere.

    .. math:: w_i \leftarrow w_i \min\!\left(1, \frac{c}{\lVert w_i \rVert_2}\right)

    Examples
    --------
    >>> max_norm(np.array([[6.0, 8.0], [0.3, 0.4]]), c=5.0).tolist()
    [[3.0, 4.0], [0.3, 0.4]]
    """
    w = check_finite_array(weight, name="weight", ndim_min=2)
    if not (isinstance(c, (int, float)) and c > 0):
        raise ValueError(f"c must be a positive number, got {c!r}")
    norms = np.linalg.norm(w, axis=-1, keepdims=True)
    return w * np.minimum(1.0, c / np.where(norms > 0.0, norms, 1.0))
