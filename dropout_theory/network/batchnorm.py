"""``BatchNorm1d`` with PyTorch's training/eval statistics and momentum rule.

Features sit on the last axis and the batch on the axis before it: ``(N, C)`` is one batch,
``(S, N, C)`` is S batches (mask draws) normalised separately, as S PyTorch calls would be.
With ``ncl=True`` the input is PyTorch's ``(N, C, L)`` (or ``(S, N, C, L)``): each channel is
normalised over the batch and length axes together.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_finite_array, check_positive_int
from ._common import refuse_mask
from .module import Module

__all__ = ["BatchNorm1d"]


class BatchNorm1d(Module):
    r"""Batch normalization over the batch axis (``torch.nn.BatchNorm1d`` on ``(N, C)``).

    Training normalises with the batch mean and *biased* batch variance and updates
    ``running = (1 - momentum) * running + momentum * batch`` with the *unbiased* variance;
    eval normalises with the running statistics. With a sample axis the S updates are
    applied in order, exactly as S successive PyTorch calls would apply them.
    ``momentum=None`` is PyTorch's cumulative moving average: the k-th batch since
    :meth:`reset_running_stats` gets the factor ``1/k``, so the running statistics are the
    plain mean of the batch statistics.

    .. math:: y = \gamma \, \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta

    Parameters are ``weight`` (:math:`\gamma`) and ``bias`` (:math:`\beta`), as in PyTorch.
    ``ncl=True`` reads ``(..., N, C, L)`` like ``torch.nn.BatchNorm1d`` on 3-D input: the
    statistics of a channel run over its ``N L`` values (unbiased divisor ``N L - 1``).

    Examples
    --------
    >>> bn = BatchNorm1d(2)
    >>> y = bn.forward(np.array([[1.0, 2.0], [3.0, 6.0]]))
    >>> bn.running_mean.round(12).tolist(), bn.running_var.round(12).tolist()
    ([0.2, 0.4], [1.1, 1.7])
    >>> BatchNorm1d(2, ncl=True).forward(np.arange(8.0).reshape(2, 2, 2)).shape
    (2, 2, 2)
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, *,
                 affine: bool = True, ncl: bool = False) -> None:
        super().__init__()
        self.ncl = bool(ncl)
        self.num_features = check_positive_int(num_features, name="num_features")
        if not (isinstance(eps, (int, float)) and eps > 0):
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        if momentum is not None and not (isinstance(momentum, (int, float))
                                         and 0.0 <= momentum <= 1.0):
            raise ValueError(f"momentum must be a number in [0, 1] or None, got {momentum!r}")
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        if affine:
            self.params["weight"] = np.ones(self.num_features)
            self.params["bias"] = np.zeros(self.num_features)
        self.zero_grad()
        self.reset_running_stats()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1 and no batch tracked, as in PyTorch."""
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        self.num_batches_tracked = 0

    def _gamma_beta(self):
        return self.params.get("weight", 1.0), self.params.get("bias", 0.0)

    def _to_rows(self, x):
        """``(..., N, C, L)`` as ``(..., N L, C)``: each channel's values in one column."""
        self.ncl_shape = x.shape
        moved = np.swapaxes(x, -1, -2)
        return moved.reshape(x.shape[:-3] + (x.shape[-3] * x.shape[-1], x.shape[-2]))

    def _from_rows(self, rows):
        n, c, length = self.ncl_shape[-3:]
        return np.swapaxes(rows.reshape(self.ncl_shape[:-3] + (n, length, c)), -1, -2)

    def forward(self, x, *, mask=None, rng=None):
        refuse_mask(self, mask)
        if self.ncl:
            x = check_finite_array(x, name="x", ndim_min=3)
            if x.shape[-2] != self.num_features:
                raise ValueError(f"x must be (..., N, {self.num_features}, L) with ncl=True, "
                                 f"got shape {x.shape}")
            return self._from_rows(self._forward_rows(self._to_rows(x)))
        return self._forward_rows(x)

    def _forward_rows(self, x):
        x = check_finite_array(x, name="x", ndim_min=2)
        if x.shape[-1] != self.num_features:
            raise ValueError(f"x must have {self.num_features} features on its last axis, "
                             f"got shape {x.shape}")
        self.batch_stats = self.training
        if self.training:
            if x.shape[-2] < 2:
                raise ValueError(f"x needs a batch of at least 2 per channel in training, "
                                 f"got shape {x.shape}")
            mean = x.mean(axis=-2, keepdims=True)
            var = x.var(axis=-2, keepdims=True)
            self._update_running(mean, var * x.shape[-2] / (x.shape[-2] - 1))
        else:
            mean, var = self.running_mean, self.running_var
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.xhat = (x - mean) * self.inv_std
        gamma, beta = self._gamma_beta()
        return gamma * self.xhat + beta

    def _update_running(self, mean, unbiased_var) -> None:
        # S sequential updates r <- (1-m) r + m b_k collapse to weights m (1-m)^(S-1-k).
        # momentum None: r_k = ((k-1) r_{k-1} + b_k) / k, i.e. the average since the reset.
        means = mean.reshape(-1, self.num_features)
        variances = unbiased_var.reshape(-1, self.num_features)
        m, s, seen = self.momentum, means.shape[0], self.num_batches_tracked
        self.num_batches_tracked = seen + s
        if m is None:
            weights, decay = np.full(s, 1.0 / (seen + s)), seen / (seen + s)
        else:
            weights = m * (1.0 - m) ** np.arange(s - 1, -1, -1)
            decay = (1.0 - m) ** s
        self.running_mean = decay * self.running_mean + weights @ means
        self.running_var = decay * self.running_var + weights @ variances

    def backward(self, grad_out):
        g = np.asarray(grad_out, dtype=np.float64)
        if self.ncl:
            return self._from_rows(self._backward_rows(self._to_rows_grad(g)))
        return self._backward_rows(g)

    def _to_rows_grad(self, g):
        shape = self.ncl_shape
        return np.swapaxes(g, -1, -2).reshape(shape[:-3] + (shape[-3] * shape[-1], shape[-2]))

    def _backward_rows(self, g):
        gamma, _ = self._gamma_beta()
        if "weight" in self.params:
            self.grads["weight"] = (g * self.xhat).reshape(-1, self.num_features).sum(axis=0)
            self.grads["bias"] = g.reshape(-1, self.num_features).sum(axis=0)
        dxhat = g * gamma
        if not self.batch_stats:
            return dxhat * self.inv_std
        # Batch statistics depend on every row: subtract the mean and the xhat-projection.
        mean_d = dxhat.mean(axis=-2, keepdims=True)
        mean_dx = (dxhat * self.xhat).mean(axis=-2, keepdims=True)
        return self.inv_std * (dxhat - mean_d - self.xhat * mean_dx)

    def __repr__(self) -> str:
        return (f"BatchNorm1d({self.num_features}, eps={self.eps}, momentum={self.momentum}"
                + (", ncl=True)" if self.ncl else ")"))
