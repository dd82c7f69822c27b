"""Cross-entropy and mean-squared-error losses (``torch.nn`` semantics, class axis last).

``forward(input, target)`` returns the loss; ``backward(grad_out=1.0)`` returns the gradient
with respect to ``input``. Leading axes (a sample axis S before the batch axis N) are
averaged like the batch axis under ``reduction="mean"``, so the gradient of the mean loss over
S mask draws comes out of one call.
"""
from __future__ import annotations

import numpy as np
from scipy.special import log_softmax

from .._validation import check_finite_array

__all__ = ["CrossEntropyLoss", "MSELoss"]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


class _Loss:
    def __init__(self, *, reduction: str = "mean") -> None:
        self.reduction = _check_reduction(reduction)

    def _reduce(self, per_item: np.ndarray):
        if self.reduction == "none":
            return per_item
        total = per_item.sum()
        return float(total / per_item.size if self.reduction == "mean" else total)

    def _unreduce(self, grad_out, shape) -> np.ndarray:
        # d(reduced)/d(per_item): 1/size for mean, 1 for sum, grad_out itself for none.
        g = np.asarray(grad_out, dtype=np.float64)
        if self.reduction == "none":
            return np.broadcast_to(g, shape)
        size = int(np.prod(shape))
        return np.full(shape, float(g) / (size if self.reduction == "mean" else 1.0))

    def __call__(self, input, target):
        return self.forward(input, target)


class CrossEntropyLoss(_Loss):
    r"""``torch.nn.CrossEntropyLoss`` on logits with classes on the last axis.

    ``target`` holds class indices (shape broadcasting to ``input.shape[:-1]``) or, if it is
    a float array of ``input``'s shape, class probabilities.

    .. math:: \ell = -\sum_k t_k \log \operatorname{softmax}(x)_k, \qquad
              \frac{\partial \ell}{\partial x} = \operatorname{softmax}(x) - t

    Examples
    --------
    >>> round(CrossEntropyLoss().forward(np.zeros((2, 4)), np.array([0, 3])), 6)
    1.386294
    """

    def forward(self, input, target):
        x = check_finite_array(input, name="input", ndim_min=1)
        self.onehot = self._target_distribution(target, x.shape)
        self.logp = log_softmax(x, axis=-1)
        return self._reduce(-(self.onehot * self.logp).sum(axis=-1))

    def backward(self, grad_out=1.0):
        g = self._unreduce(grad_out, self.logp.shape[:-1])
        return g[..., None] * (np.exp(self.logp) * self.onehot.sum(axis=-1, keepdims=True)
                               - self.onehot)

    @staticmethod
    def _target_distribution(target, shape) -> np.ndarray:
        t = np.asarray(target)
        if np.issubdtype(t.dtype, np.floating) and t.shape == shape:
            return check_finite_array(t, name="target")
        if not np.issubdtype(t.dtype, np.integer):
            raise ValueError(f"target must be integer class indices or float probabilities of "
                             f"shape {shape}, got dtype {t.dtype} and shape {t.shape}")
        n_classes = shape[-1]
        if t.size and (t.min() < 0 or t.max() >= n_classes):
            raise ValueError(f"target class indices must lie in [0, {n_classes - 1}], "
                             f"got range [{t.min()}, {t.max()}]")
        try:
            t = np.broadcast_to(t, shape[:-1])
        except ValueError:
            raise ValueError(f"target must broadcast to {shape[:-1]}, got {t.shape}") from None
        return (t[..., None] == np.arange(n_classes)).astype(np.float64)


class MSELoss(_Loss):
    r"""``torch.nn.MSELoss``: mean of squared differences.

    .. math:: \ell = \frac{1}{n}\sum_i (x_i - t_i)^2, \qquad
              \frac{\partial \ell}{\partial x_i} = \frac{2 (x_i - t_i)}{n}

    Examples
    --------
    >>> MSELoss().forward(np.array([1.0, 3.0]), np.array([0.0, 0.0]))
    5.0
    """

    def forward(self, input, target):
        x = check_finite_array(input, name="input")
        t = check_finite_array(target, name="target")
        try:
            fits = np.broadcast_shapes(x.shape, t.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"target must broadcast to the input shape {x.shape}, got {t.shape}")
        self.diff = x - t
        return self._reduce(self.diff ** 2)

    def backward(self, grad_out=1.0):
        return self._unreduce(grad_out, self.diff.shape) * 2.0 * self.diff
