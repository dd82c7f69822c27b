"""Moments of inverted and standard dropout on a linear unit."""
import numpy as np
import sympy as sp

from ..identity import GradientModel, Identity, MaskModel, Param, drop_probability, register
from ..network import Dropout, StandardDropout
from ..symbolic import Bernoulli, RandomSpace, expectation, variance
from ._common import (D, Q, W, X, d, i, inverted_unit, q, unit_differences, unit_range,
                      unit_scale, w, x)

NOTATION = "q = keep probability = 1 - p, m_i ~ Bernoulli(q) i.i.d., inverted scaling 1/q"


def _unit():
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    return space, sp.Sum(w[i] * x[i] * m[i] / q, (i, 1, d))


def _mean_model():
    space, s = _unit()
    return expectation(s, space)


def _variance_model():
    space, s = _unit()
    return variance(s, space)


def _units(point):
    return point["d"]


register(Identity(
    name="basics.inverted-mean",
    statement=r"E\left[\sum_{i=1}^{d} w_i x_i \frac{m_i}{q}\right] = \sum_{i=1}^{d} w_i x_i",
    source="seed 000 (inverted dropout section)", notation=NOTATION, params=(Q, D, W, X),
    rhs=sp.Sum(w[i] * x[i], (i, 1, d)), derive=_mean_model,
    model=MaskModel(inverted_unit, _units, "mean", rounding_scale=unit_scale,
                    value_bound=unit_range,
                    differences=lambda pt: unit_differences(pt["w"], pt["x"], pt)),
    wrong_claims=lambda rhs: {"standard-dropout-mean": q * rhs},
))

register(Identity(
    name="basics.inverted-variance",
    statement=r"\operatorname{Var}\left[\sum_{i=1}^{d} w_i x_i \frac{m_i}{q}\right]"
              r" = \frac{1-q}{q} \sum_{i=1}^{d} (w_i x_i)^2",
    source="REFERENCES.md (moments); seed 001 (noise variance)", notation=NOTATION,
    params=(Q, D, W, X), rhs=(1 - q) / q * sp.Sum((w[i] * x[i]) ** 2, (i, 1, d)),
    derive=_variance_model, model=MaskModel(inverted_unit, _units, "var",
                                            rounding_scale=unit_scale, value_bound=unit_range),
    wrong_claims=lambda rhs: {"drop-(1-q)": rhs / (1 - q)},
))

Y = sp.Symbol("y", real=True)


def _standard_model():
    space = RandomSpace()
    m = space.scalar("m", Bernoulli(q))
    return expectation(m * Y, space)


def _standard_layer(point, masks, noise):
    """Standard (Srivastava) dropout: kept units pass unscaled; test time scales by q."""
    layer = StandardDropout(drop_probability(point))
    return layer.forward(np.full(masks.shape, point["y"]), mask=masks)[:, 0]


register(Identity(
    name="basics.standard-scaling",
    statement=r"E[m\,y] = q\,y \text{ (non-inverted dropout; test-time scaling by } q"
              r"\text{ matches the training mean)}",
    source="seeds 002 and 003 (seed 003 writes p for the keep probability)",
    notation="q = keep probability; seed 003's p is this q; no scaling in training",
    params=(Q, Param("y", typical=(-3.0, 3.0))), rhs=q * Y, derive=_standard_model,
    model=MaskModel(_standard_layer, lambda point: 1, "mean",
                    rounding_scale=lambda point: abs(point["y"]),
                    value_bound=lambda point: (min(0.0, point["y"]), max(0.0, point["y"]))),
))

G, M, J = sp.IndexedBase("g", real=True), sp.IndexedBase("m", real=True), sp.Symbol("j",
                                                                                  integer=True)


def _backprop_model():
    """d/dx_j of L = sum_i g_i y_i with y_i = m_i x_i / q: the upstream gradient times m/q."""
    return sp.diff(sp.Sum(G[i] * M[i] * x[i] / q, (i, 1, d)), x[J])


register(Identity(
    name="basics.backprop-mask",
    statement=r"\frac{\partial L}{\partial x_j} = \frac{\partial L}{\partial y_j}"
              r"\frac{m_j}{q},\quad y = \frac{m \odot x}{q}",
    source="seed 002 (backpropagation through dropout; the same mask in both passes)",
    notation=NOTATION + "; g = dL/dy, the upstream gradient",
    params=(Q, D, X), rhs=G[J] * M[J] / q, derive=_backprop_model,
    model=GradientModel(lambda point: Dropout(drop_probability(point)), _units),
    wrong_claims=lambda rhs: {"mask-forgotten": rhs.xreplace({M[J]: 1})},
))
