"""Models of the ridge family: the dropout regression loss (symbolic) and its simulations.

Symbolic side: data ``x[i, l]`` (rows ``i = 1..n``, features ``l = 1..d``), weights ``w[l]``,
targets ``y[i]`` and masks ``m[i, l] ~ Bernoulli(q)`` as a 2-D i.i.d. random array, so every
result holds for symbolic ``n`` and ``d``. Simulation side: the network core's ``Dropout`` /
``StandardDropout`` layers on the data matrix, a ``Linear`` (or per-sample ``ReplicaLinear``)
map, and the ``MSELoss`` / ``CrossEntropyLoss`` losses.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from ...identity import Param, drop_probability, uniform_sampler
from ...network import (CrossEntropyLoss, Dropout, Linear, MSELoss, ReplicaLinear,
                        StandardDropout)
from ...symbolic import Bernoulli, Derivation, RandomSpace, Step, expectation
from ...symbolic.terms import collect_terms, expand_terms, terms_to_expr
from .._common import Interval, d, i, masked_unit, q, w, x

n = sp.Symbol("n", integer=True, positive=True)
l = sp.Symbol("l", integer=True)
a, b = sp.symbols("a b", integer=True)
y = sp.IndexedBase("y", real=True)
u = sp.IndexedBase("u", real=True)
v = sp.IndexedBase("v", real=True)
LAMBDA = (1 - q) / q

#: pieces of the claims, written once
PLAIN_LOSS = sp.Sum((y[i] - sp.Sum(w[l] * x[i, l], (l, 1, d))) ** 2, (i, 1, n)) / (2 * n)
SECOND_MOMENTS = sp.Sum(w[l] ** 2 * x[i, l] ** 2, (i, 1, n), (l, 1, d))   # ||Gamma w||^2
PENALTY = LAMBDA / (2 * n) * SECOND_MOMENTS


def _rows(style):
    def draw(rng, partial):
        z = rng.standard_normal((partial["n"], partial["d"]))
        if style == "second-moment":
            return z / np.sqrt((z ** 2).mean(axis=0))
        if style == "centered":
            shift = rng.uniform(0.5, 1.5, partial["d"]) * rng.choice([-1.0, 1.0], partial["d"])
            return (z - z.mean(axis=0)) / z.std(axis=0) + shift
        if style == "scaled":
            # unequal column scales: diag(X^T X) then differs visibly from a multiple of I
            return z * np.exp(rng.uniform(-1.0, 1.0, partial["d"]))
        return z
    return draw


def data_matrix(name="x", style=None) -> Param:
    """Data matrix ``(n, d)`` drawn standard normal, then rescaled per column by ``style``.

    ``"second-moment"``: (1/n) sum_i x_ij^2 = 1; ``"centered"``: mean ``mu_j`` with
    |mu_j| in [0.5, 1.5] and (1/n) sum_i (x_ij - mean_j)^2 = 1 (needs n >= 2); ``"scaled"``:
    column scales e^U, U ~ Uniform(-1, 1); ``None``: raw.
    """
    return Param(name, shape=("n", "d"), sampler=_rows(style))


def unit_vector(name, shape) -> Param:
    """A vector of entries uniform on [0, 1] (soft labels of a logistic model)."""
    return Param(name, shape=shape, sampler=uniform_sampler(0.0, 1.0, shape))


def _masks(space):
    return space.array("m", Bernoulli(q))


@lru_cache(maxsize=None)
def expected_loss() -> Derivation:
    r""":math:`E_m \frac{1}{2n}\sum_i (y_i - \sum_l w_l x_{il} m_{il}/q)^2` by the engine."""
    space = RandomSpace()
    m = _masks(space)
    loss = sp.Sum((y[i] - sp.Sum(w[l] * x[i, l] * m[i, l] / q, (l, 1, d))) ** 2,
                  (i, 1, n)) / (2 * n)
    return expectation(loss, space)


def srivastava_loss() -> Derivation:
    r""":math:`E\lVert y - (R * X) w\rVert^2` with unscaled masks ``R ~ Bernoulli(q)``."""
    space = RandomSpace()
    m = _masks(space)
    return expectation(sp.Sum((y[i] - sp.Sum(w[l] * x[i, l] * m[i, l], (l, 1, d))) ** 2,
                              (i, 1, n)), space)


def _collected(expr, deriv: Derivation, label: str) -> Derivation:
    terms = collect_terms(expand_terms(expr))
    result = terms_to_expr(terms)
    return Derivation(result, [*deriv.steps, Step(label, result)], terms)


def directional_gradient() -> Derivation:
    r""":math:`\sum_a u_a \partial E[L] / \partial w_a`, differentiating the derived E[L]."""
    deriv = expected_loss()
    return _collected(sp.Sum(u[a] * sp.diff(deriv.result, w[a]), (a, 1, d)), deriv,
                      "u . grad_w E[L] (differentiate the derived expectation)")


def hessian_form() -> Derivation:
    r""":math:`v^\top \nabla^2_w E[L]\, v` from the derived expectation."""
    deriv = expected_loss()
    second = sp.diff(deriv.result, w[a], w[b])
    return _collected(sp.Sum(v[a] * v[b] * second, (a, 1, d), (b, 1, d)), deriv,
                      "v^T Hess_w E[L] v (differentiate the derived expectation twice)")


def impose_row_mean(deriv: Derivation, value, label: str) -> Derivation:
    """Replace every ``sum_i x[i, l]**2`` by ``n * value(l)``: a constraint on the data.

    Only terms whose dependence on a row index is exactly ``x[i, l]**2`` are rewritten, so
    the plain loss (with cross products ``x[i, l] x[i, k]``) is untouched.
    """
    out = []
    for term in deriv.terms:
        for index, lo, hi in term.limits:
            if (lo, hi) != (1, n):
                continue
            on_row = [f for f in sp.Mul.make_args(term.body) if index in f.free_symbols]
            if len(on_row) == 1 and _is_square_of_x(on_row[0], index):
                col = on_row[0].base.indices[1]
                body = term.body / on_row[0] * n * value(col)
                term = type(term)(body, tuple(lim for lim in term.limits if lim[0] != index))
                break
        out.append(term)
    terms = collect_terms(out)
    result = terms_to_expr(terms)
    return Derivation(result, [*deriv.steps, Step(label, result)], terms)


def _is_square_of_x(factor, index) -> bool:
    base, exp = factor.as_base_exp()
    return (exp == 2 and isinstance(base, sp.Indexed) and base.base == x
            and base.indices[0] == index and index not in base.indices[1].free_symbols)


# ---- simulations: the network core computes every per-mask value -------------------------

def dropped_data(point, masks, layer_cls=Dropout):
    """The data matrix through a dropout layer, one mask per sample: shape (S, n, d)."""
    data = np.asarray(point["x"], dtype=np.float64)
    stack = np.broadcast_to(data, (masks.shape[0],) + data.shape)
    return layer_cls(drop_probability(point)).forward(stack, mask=masks.reshape(stack.shape))


def linear(weight) -> Linear:
    layer = Linear(len(weight), 1, bias=False)
    layer.weight = np.asarray(weight, dtype=np.float64)[None, :]
    return layer


def _squared_errors(point, masks, layer_cls):
    pred = linear(point["w"]).forward(dropped_data(point, masks, layer_cls))[..., 0]
    return MSELoss(reduction="none").forward(pred, np.broadcast_to(point["y"], pred.shape))


# --- value ranges over every mask (MaskModel.value_bound) -------------------------------------

def _dropped_rows(point, vector, *, inverted=True) -> Interval:
    """Per row ``i``: every value of ``sum_l vector_l x_il m_il (/ q)``."""
    return masked_unit(vector, point["x"], point, inverted=inverted)


def _residual_squares(point, inverted=True) -> Interval:
    return (Interval.exact(point["y"]) - _dropped_rows(point, point["w"], inverted=inverted)
            ).square()


def half_mse_range(point) -> tuple:
    return (_residual_squares(point).sum(-1) / (2.0 * point["n"])).bounds()


def sse_range(point) -> tuple:
    return _residual_squares(point, inverted=False).sum(-1).bounds()


def hessian_range(point) -> tuple:
    return (_dropped_rows(point, point["v"]).square().sum(-1) / float(point["n"])).bounds()


def gradient_range(point) -> tuple:
    """``(1/n) sum_i (u . x~_i)(w . x~_i - y_i)``: a product of the two rows' ranges (the
    same masks enter both: an enclosure, not the hull)."""
    residual = _dropped_rows(point, point["w"]) - point["y"]
    return ((_dropped_rows(point, point["u"]) * residual).sum(-1) / float(point["n"])).bounds()


def _row_terms(point, vector, keep) -> np.ndarray:
    """Per row: sum_l |x_il v_l| / keep, the terms a dropped row's dot product sums."""
    return np.abs(np.asarray(point["x"]) * np.asarray(vector)).sum(axis=1) / keep


def _keep(point) -> float:
    return 1.0 - drop_probability(point)


def loss_scale(point, *, inverted=True) -> float:
    """Bound on the terms a squared-error loss of the dropped data sums and cancels."""
    keep = _keep(point) if inverted else 1.0
    return float(((np.abs(point["y"]) + _row_terms(point, point["w"], keep)) ** 2).sum())


def hessian_scale(point) -> float:
    return float((_row_terms(point, point["v"], _keep(point)) ** 2).sum())


def gradient_scale(point) -> float:
    keep = _keep(point)
    return float((_row_terms(point, point["u"], keep)
                  * (_row_terms(point, point["w"], keep) + np.abs(point["y"]))).sum())


def half_mse_inverted(point, masks, noise=None):
    """Per mask: (1/2n) sum_i (y_i - Dropout(x)_i . w)^2, inverted dropout."""
    return _squared_errors(point, masks, Dropout).mean(axis=-1) / 2


def sse_standard(point, masks, noise=None):
    """Per mask: sum_i (y_i - (R * x)_i . w)^2, non-inverted (Srivastava) dropout."""
    return _squared_errors(point, masks, StandardDropout).sum(axis=-1)


def hessian_quadratic_form(point, masks, noise=None):
    """Per mask: v^T (X~^T X~ / n) v = ||X~ v||^2 / n, the Hessian of that mask's loss."""
    return (linear(point["v"]).forward(dropped_data(point, masks))[..., 0] ** 2).mean(axis=-1)


def gradient_projection(point, masks, noise=None):
    """Per mask: u . grad_w of (1/2n)||y - X~ w||^2, from the backward pass of the layer."""
    data = dropped_data(point, masks)
    layer = ReplicaLinear(len(masks), data.shape[-1],
                          weight=np.broadcast_to(point["w"], (len(masks), 1, data.shape[-1])))
    pred = layer.forward(data)
    target = np.broadcast_to(np.asarray(point["y"])[:, None], pred.shape)
    loss = MSELoss(reduction="sum")
    loss.forward(pred, target)
    layer.backward(loss.backward(1.0 / (2 * data.shape[1])))
    return layer.grads["weight"][:, 0, :] @ point["u"]


def logistic_losses(point, masks, labels, *, dropout=True):
    """Per mask and row: the logistic loss A(eta) - y eta of eta = x~_i . w (CrossEntropy)."""
    data = dropped_data(point, masks) if dropout else np.broadcast_to(
        point["x"], (len(masks),) + np.shape(point["x"]))
    eta = linear(point["w"]).forward(data)
    logits = np.concatenate([np.zeros_like(eta), eta], axis=-1)
    labels = np.broadcast_to(np.asarray(labels, dtype=np.float64)[:, None], eta.shape)
    target = np.concatenate([1.0 - labels, labels], axis=-1)
    return CrossEntropyLoss(reduction="none").forward(logits, target)
