"""A tanh recurrent layer with input and recurrent dropout, variational or per step.

Gal & Ghahramani (2016) share one mask over all time steps ("variational"); the older
practice draws a new mask at every step. Both are here, on the input-to-hidden and on the
hidden-to-hidden connection.
"""
from __future__ import annotations

import math

import numpy as np

from .._validation import check_finite_array, check_p, check_positive_int
from ._common import check_mask, resolve_rng
from .dropout import bernoulli_mask
from .module import Module
from .variants import check_binary

__all__ = ["DropoutRNN"]


class DropoutRNN(Module):
    r"""Elman RNN (``torch.nn.RNN(tanh, batch_first=True)``, one layer) with dropout masks.

    Input ``x`` has shape ``(..., T, input_size)``; the output is every hidden state,
    ``(..., T, hidden_size)``, starting from :math:`h_0 = 0`. ``p`` drops inputs, ``p_recurrent``
    drops the previous hidden state (inverted scaling). ``variational=True`` draws one mask per
    sequence, shared over time; ``False`` draws one per step. ``mask=(m_x, m_h)`` injects
    both masks, each broadcasting to ``(..., T, features)`` (use a time axis of length 1 for
    a shared mask).

    .. math:: h_t = \tanh\!\Bigl(W_{ih} \tfrac{m^x_t \odot x_t}{q_x} + b_{ih}
              + W_{hh} \tfrac{m^h_t \odot h_{t-1}}{q_h} + b_{hh}\Bigr)

    Examples
    --------
    >>> rnn = DropoutRNN(3, 4, p=0.2, p_recurrent=0.2, rng=np.random.default_rng(0))
    >>> rnn.forward(np.ones((2, 5, 3))).shape
    (2, 5, 4)
    """

    is_dropout = True

    def __init__(self, input_size: int, hidden_size: int, *, p: float = 0.0,
                 p_recurrent: float = 0.0, variational: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.input_size = check_positive_int(input_size, name="input_size")
        self.hidden_size = check_positive_int(hidden_size, name="hidden_size")
        self.p, self.p_recurrent = check_p(p), check_p(p_recurrent, name="p_recurrent")
        self.variational, self.rng = bool(variational), rng
        init = rng if rng is not None else np.random.default_rng()
        bound = 1.0 / math.sqrt(self.hidden_size)
        h, i = self.hidden_size, self.input_size
        for name, shape in [("weight_ih", (h, i)), ("weight_hh", (h, h)),
                            ("bias_ih", (h,)), ("bias_hh", (h,))]:
            self.params[name] = init.uniform(-bound, bound, shape)
        self.zero_grad()

    def _factor(self, p, mask, shape, rng):
        """Inverted-dropout factor ``m / q`` broadcast to ``shape``; 1 when dropout is off."""
        if not self.training or (p == 0.0 and mask is None):
            return np.ones(shape)
        if mask is None:
            draw = shape[:-2] + (1, shape[-1]) if self.variational else shape
            mask = bernoulli_mask(draw, p, resolve_rng(self, rng))
        mask = check_binary(check_mask(mask, shape))
        return np.broadcast_to(np.zeros_like(mask) if p == 1.0 else mask / (1.0 - p), shape)

    def forward(self, x, *, mask=None, rng=None):
        x = check_finite_array(x, name="x", ndim_min=2)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"x must have shape (..., T, {self.input_size}), got {x.shape}")
        mask_x, mask_h = (None, None) if mask is None else mask
        lead_t = x.shape[:-1]
        self.fx = self._factor(self.p, mask_x, x.shape, rng)
        self.fh = self._factor(self.p_recurrent, mask_h, lead_t + (self.hidden_size,), rng)
        self.x_in = x * self.fx
        p = self.params
        pre_in = self.x_in @ p["weight_ih"].T + p["bias_ih"] + p["bias_hh"]
        hs = np.zeros(lead_t[:-1] + (lead_t[-1] + 1, self.hidden_size))
        for t in range(lead_t[-1]):
            h_in = hs[..., t, :] * self.fh[..., t, :]
            hs[..., t + 1, :] = np.tanh(pre_in[..., t, :] + h_in @ p["weight_hh"].T)
        self.hs = hs
        return hs[..., 1:, :].copy()

    def backward(self, grad_out):
        g = np.asarray(grad_out, dtype=np.float64)
        w_hh = self.params["weight_hh"]
        da = np.zeros_like(g)
        dh_next = np.zeros(g.shape[:-2] + (self.hidden_size,))
        for t in reversed(range(g.shape[-2])):
            da[..., t, :] = (g[..., t, :] + dh_next) * (1.0 - self.hs[..., t + 1, :] ** 2)
            dh_next = (da[..., t, :] @ w_hh) * self.fh[..., t, :]
        flat = da.reshape(-1, self.hidden_size)
        h_in = self.hs[..., :-1, :] * self.fh
        self.grads["weight_ih"] = flat.T @ self.x_in.reshape(-1, self.input_size)
        self.grads["weight_hh"] = flat.T @ h_in.reshape(-1, self.hidden_size)
        self.grads["bias_ih"] = flat.sum(axis=0)
        self.grads["bias_hh"] = self.grads["bias_ih"].copy()
        return (da @ self.params["weight_ih"]) * self.fx

    def __repr__(self) -> str:
        return (f"DropoutRNN({self.input_size}, {self.hidden_size}, p={self.p}, "
                f"p_recurrent={self.p_recurrent}, variational={self.variational})")
