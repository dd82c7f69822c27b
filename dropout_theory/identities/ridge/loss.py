"""Dropout in linear regression as data-dependent ridge (seeds 000, 001; Srivastava 2014
sec. 9): the expected loss, the unit-variance reading, the non-scaled form, the Hessian and
the gradient whose root is the minimizer."""
import numpy as np
import sympy as sp

from ...identity import Identity, MaskModel, Param, register
from .._common import Q, d, i, q, w, x
from .models import (LAMBDA, PENALTY, PLAIN_LOSS, SECOND_MOMENTS, a, data_matrix,
                     directional_gradient, expected_loss, gradient_projection, gradient_range,
                     gradient_scale, half_mse_inverted, half_mse_range, hessian_form,
                     hessian_quadratic_form, hessian_range, hessian_scale, impose_row_mean, l,
                     loss_scale, n, srivastava_loss, sse_range, sse_standard, u, v, y)

NOTATION = ("p = drop probability, q = 1 - p keep; m_il ~ Bernoulli(q) i.i.d. per row i and "
            "feature l; inverted input dropout x~_il = m_il x_il / q; lambda = (1-q)/q = p/(1-p)")
N = Param("n", 1, np.inf, typical=(1, 4), integer=True)
D = Param("d", 1, np.inf, typical=(1, 4), integer=True)
X, Y, W = data_matrix("x"), Param("y", shape=("n",)), Param("w", shape=("d",))
DATA = (Q, N, D, X, Y, W)


def _n_masks(point):
    return point["n"] * point["d"]


def _moment(simulate, bound, scale=loss_scale):
    return MaskModel(simulate, _n_masks, "mean", rounding_scale=scale, value_bound=bound)


def _without_half(rhs):
    """The penalty without its 1/2 (a common slip): the penalty term counted twice."""
    return {"penalty-missing-1/2": rhs + PENALTY}


def _identity_for_gamma(rhs, penalty=PENALTY, scale=1):
    """diag(X^T X) replaced by the identity (plain weight decay on ||w||^2)."""
    plain_decay = penalty.xreplace({x[i, l]: 1}) * scale
    return {"diag(X^T X)->identity": rhs - penalty + plain_decay}


register(Identity(
    name="ridge.expected-loss",
    statement=r"E_m \frac{1}{2n}\sum_{i=1}^n \Bigl(y_i - \sum_{l=1}^d w_l x_{il}"
              r"\frac{m_{il}}{q}\Bigr)^2 = \frac{1}{2n}\lVert y - Xw\rVert^2"
              r" + \frac{1-q}{2nq}\sum_{i=1}^n\sum_{l=1}^d w_l^2 x_{il}^2",
    source="seed 000 (implicit L2 regularization; seed writes p/(2n(1-p)) with p = drop); "
           "seed 001",
    notation=NOTATION, params=DATA, rhs=PLAIN_LOSS + PENALTY, derive=expected_loss,
    model=_moment(half_mse_inverted, half_mse_range),
    wrong_claims=lambda rhs: {**_without_half(rhs), **_identity_for_gamma(rhs)},
))

RIDGE = PLAIN_LOSS + LAMBDA / 2 * sp.Sum(w[l] ** 2, (l, 1, d))
UNIT = ("data normalized so that (1/n) sum_i x_il^2 = 1 for every feature l "
        "(second moment, not centered variance)")


def _unit_second_moment():
    return impose_row_mean(expected_loss(), lambda col: 1,
                           "impose (1/n) sum_i x_il^2 = 1 for every l")


register(Identity(
    name="ridge.unit-variance-lambda",
    statement=r"\tfrac{1}{n}\textstyle\sum_i x_{il}^2 = 1\ \forall l \Rightarrow E_m[L] ="
              r" \frac{1}{2n}\lVert y - Xw\rVert^2 + \frac{\lambda}{2}\lVert w\rVert^2,\ "
              r"\lambda = \frac{1-q}{q}\ (q = \tfrac12: \lambda = 1)",
    source="seed 001 ('when the features have unit variance ... ridge regression'); "
           "REFERENCES.md implicit ridge",
    notation=NOTATION + "; 'unit variance' must mean unit SECOND MOMENT (1/n) sum_i x_il^2 = 1",
    params=(Q, N, D, data_matrix("x", "second-moment"), Y, W), assumptions=(UNIT,),
    rhs=RIDGE, derive=_unit_second_moment, model=_moment(half_mse_inverted, half_mse_range),
    wrong_claims=lambda rhs: {"penalty-missing-1/2":
                              rhs + LAMBDA / 2 * sp.Sum(w[l] ** 2, (l, 1, d))},
))

XBAR = sp.IndexedBase("xbar", real=True)
#: ``xbar_l = (1/n) sum_i x_il`` of the point's data, so the derived penalty (which keeps the
#: column means) can be evaluated and compared with the simulation too
COLUMN_MEANS = Param("xbar", shape=("d",),
                     sampler=lambda rng, partial: np.asarray(partial["x"]).mean(axis=0))


def _unit_centered_variance():
    label = "impose (1/n) sum_i (x_il - xbar_l)^2 = 1, i.e. (1/n) sum_i x_il^2 = 1 + xbar_l^2"
    return impose_row_mean(expected_loss(), lambda col: 1 + XBAR[col] ** 2, label)


register(Identity(
    name="ridge.unit-variance-lambda-centered",
    statement=r"\tfrac{1}{n}\textstyle\sum_i (x_{il} - \bar x_l)^2 = 1\ \forall l \Rightarrow"
              r" E_m[L] = \frac{1}{2n}\lVert y - Xw\rVert^2 + \frac{1-q}{2q}\lVert w\rVert^2"
              r"\quad\text{(refuted unless every } \bar x_l = 0\text{: the penalty is }"
              r"\frac{1-q}{2q}\sum_l w_l^2 (1 + \bar x_l^2))",
    source="seed 001 read with 'unit variance' as the centered variance",
    notation=NOTATION + "; xbar_l = (1/n) sum_i x_il, data with non-zero column means",
    params=(Q, Param("n", 2, np.inf, typical=(2, 4), integer=True), D,
            data_matrix("x", "centered"), COLUMN_MEANS, Y, W),
    assumptions=("centered variance 1, mean != 0",),
    rhs=RIDGE, derive=_unit_centered_variance,
    model=_moment(half_mse_inverted, half_mse_range),
    expected="refuted",
))

GAMMA_W = q * (1 - q) * SECOND_MOMENTS
SRIVASTAVA = sp.Sum((y[i] - q * sp.Sum(w[l] * x[i, l], (l, 1, d))) ** 2, (i, 1, n)) + GAMMA_W

register(Identity(
    name="ridge.srivastava",
    statement=r"E_R\lVert y - (R * X) w\rVert^2 = \lVert y - qXw\rVert^2 + q(1-q)"
              r"\lVert\Gamma w\rVert^2,\ \Gamma = \operatorname{diag}(X^\top X)^{1/2}",
    source="Srivastava et al. 2014, sec. 9.1 (writes p for the keep probability)",
    notation="q = keep probability (Srivastava's p), R_il ~ Bernoulli(q), NO inverted scaling",
    params=DATA, rhs=SRIVASTAVA, derive=srivastava_loss,
    model=_moment(sse_standard, sse_range, lambda point: loss_scale(point, inverted=False)),
    wrong_claims=lambda rhs: {"fit-without-q": rhs - SRIVASTAVA + GAMMA_W + 2 * n * PLAIN_LOSS,
                              **_identity_for_gamma(rhs, GAMMA_W)},
))

HESSIAN = (sp.Sum(sp.Sum(v[l] * x[i, l], (l, 1, d)) ** 2, (i, 1, n)) / n
           + LAMBDA / n * sp.Sum(v[l] ** 2 * x[i, l] ** 2, (i, 1, n), (l, 1, d)))
_HESS_PSD = LAMBDA / n * sp.Sum(v[l] ** 2 * x[i, l] ** 2, (i, 1, n), (l, 1, d))

register(Identity(
    name="ridge.hessian",
    statement=r"\nabla_w^2 E_m[L] = \frac{1}{n}X^\top X + \frac{1-q}{nq}\operatorname{diag}"
              r"(X^\top X) \succeq \frac{1}{n}X^\top X,\ \text{checked as } v^\top\nabla^2 v",
    source="seed 000 ('dropout adds a positive semi-definite term to the original Hessian')",
    notation=NOTATION + "; v a fixed direction (the form v^T H v determines H)",
    params=(*DATA, Param("v", shape=("d",))), rhs=HESSIAN, derive=hessian_form,
    model=_moment(hessian_quadratic_form, hessian_range, hessian_scale),
    wrong_claims=lambda rhs: {"plain-hessian": rhs - _HESS_PSD,
                              "diag(X^T X)->identity": rhs - _HESS_PSD + LAMBDA * sp.Sum(
                                  v[l] ** 2, (l, 1, d))},
))

_GRAD_PENALTY = LAMBDA / n * sp.Sum(u[l] * w[l] * x[i, l] ** 2, (i, 1, n), (l, 1, d))
GRADIENT = (sp.Sum(u[a] * x[i, a] * x[i, l] * w[l], (a, 1, d), (l, 1, d), (i, 1, n))
            - sp.Sum(u[l] * x[i, l] * y[i], (i, 1, n), (l, 1, d))) / n + _GRAD_PENALTY

register(Identity(
    name="ridge.minimizer",
    statement=r"\nabla_w E_m[L] = \frac{1}{n}\bigl(A w - X^\top y\bigr),\ A = X^\top X + "
              r"\frac{1-q}{q}\operatorname{diag}(X^\top X) \succ 0 \Rightarrow w^\ast = "
              r"A^{-1}X^\top y\ \text{(checked as } u^\top\nabla_w)",
    source="seed 000 and REFERENCES.md ('the minimizer has a closed form'); issue 4",
    notation=NOTATION + "; u a fixed direction; A > 0 when no column of X is zero",
    params=(*DATA, Param("u", shape=("d",))), rhs=GRADIENT, derive=directional_gradient,
    model=_moment(gradient_projection, gradient_range, gradient_scale),
    wrong_claims=lambda rhs: {"penalty-missing-1/2": rhs + _GRAD_PENALTY,
                              "diag(X^T X)->identity": rhs - _GRAD_PENALTY + LAMBDA / n * sp.Sum(
                                  u[l] * w[l], (l, 1, d))},
))
