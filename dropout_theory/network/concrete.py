r"""Concrete dropout's regularizer (Gal, Hron & Kendall 2017), so that ``p`` can be learned.

The KL term of concrete dropout for a dropout layer on ``K`` inputs followed by a weight
matrix ``W`` (``out x K``) is, as in the paper's reference code,

.. math:: R(W, p) = \frac{\lambda_w \lVert W\rVert_F^2}{1-p}
          + \lambda_d\, K \bigl(p \log p + (1-p)\log(1-p)\bigr),

with :math:`\lambda_w = l^2 / N` (prior length scale ``l``, ``N`` training points) and
:math:`\lambda_d = 2 / N`. The first term pushes ``p`` down, the negative entropy pushes it
towards 1/2, the data term of the loss pushes it down: with more data the regularizer
weighs less and the learned ``p`` drops (as the paper reports).
"""
from __future__ import annotations

import numpy as np

from .._validation import check_finite_array
from .module import Module
from .variants import ConcreteDropout

__all__ = ["ConcreteRegularizer"]


class ConcreteRegularizer(Module):
    r"""``forward(W)`` is :math:`R(W, p)` of the ``dropout`` layer it shares ``p_logit`` with.

    ``backward(g)`` returns :math:`g\, \partial R / \partial W` and sets
    ``grads["p_logit"]`` to :math:`g\, \partial R / \partial \ell` (``p = sigmoid(l)``); add
    both to the layers' own gradients before an optimizer step.

    .. math:: \frac{\partial R}{\partial \ell} = p(1-p)\left(\frac{\lambda_w
              \lVert W\rVert^2}{(1-p)^2} + \lambda_d K \log\frac{p}{1-p}\right)

    Examples
    --------
    >>> reg = ConcreteRegularizer(ConcreteDropout(p=0.5), weight_regularizer=1.0,
    ...                           dropout_regularizer=1.0)
    >>> round(float(reg.forward(np.ones((1, 2)))), 6)  # 2 / 0.5 + 2 * log(1/2)
    2.613706
    """

    def __init__(self, dropout: ConcreteDropout, *, weight_regularizer: float,
                 dropout_regularizer: float) -> None:
        super().__init__()
        if not isinstance(dropout, ConcreteDropout):
            raise ValueError(f"dropout must be a ConcreteDropout, got {type(dropout).__name__}")
        for name, value in (("weight_regularizer", weight_regularizer),
                            ("dropout_regularizer", dropout_regularizer)):
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        self.dropout = dropout
        self.weight_regularizer, self.dropout_regularizer = float(weight_regularizer), \
            float(dropout_regularizer)
        # the very array the dropout layer learns: a step on either moves both
        self.params = {"p_logit": dropout.params["p_logit"]}
        self.zero_grad()

    def forward(self, x, **kwargs):
        # p's setter replaces the dropout's array: follow it
        self.params["p_logit"] = self.dropout.params["p_logit"]
        self.x = check_finite_array(x, name="weight", ndim_min=2)
        p, k = self.dropout.p, self.x.shape[-1]
        entropy = p * np.log(p) + (1.0 - p) * np.log1p(-p)
        return np.asarray(self.weight_regularizer * np.sum(self.x ** 2) / (1.0 - p)
                          + self.dropout_regularizer * k * entropy)

    def backward(self, grad_out):
        g = float(np.asarray(grad_out, dtype=np.float64))
        p, k = self.dropout.p, self.x.shape[-1]
        d_p = (self.weight_regularizer * np.sum(self.x ** 2) / (1.0 - p) ** 2
               + self.dropout_regularizer * k * (np.log(p) - np.log1p(-p)))
        self.grads["p_logit"] = np.asarray(g * d_p * p * (1.0 - p))
        return g * 2.0 * self.weight_regularizer * self.x / (1.0 - p)

    def __repr__(self) -> str:
        return (f"ConcreteRegularizer({self.dropout!r}, weight_regularizer="
                f"{self.weight_regularizer}, dropout_regularizer={self.dropout_regularizer})")
