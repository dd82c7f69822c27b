r"""Where the mask sits: one per channel (spatial dropout), one per weight (DropConnect), one per
input unit (dropout on the same linear layer), and what that does to variances and covariances.
"""
import numpy as np
import sympy as sp

from ...identity import Identity, MaskModel, Param, drop_probability, register
from ...network import Dropout, DropConnect, Linear, SpatialDropout
from ...symbolic import Bernoulli, RandomSpace, covariance, expectation, variance
from .._common import Interval, Q, masked_unit, q, unit_differences

c, l, i = sp.symbols("c l i", integer=True)
C, L, d = sp.symbols("C L d", integer=True, positive=True)
x = sp.IndexedBase("x", real=True)
u, v = sp.IndexedBase("u", real=True), sp.IndexedBase("v", real=True)
NOTATION = "q = keep probability = 1 - p, masks m ~ Bernoulli(q) i.i.d., inverted scaling 1/q"

# --- spatial dropout: one mask per channel ---------------------------------------------------

SPATIAL = (1 - q) / q * sp.Sum(sp.Sum(x[c, l], (l, 1, L)) ** 2, (c, 1, C))
ELEMENTWISE = (1 - q) / q * sp.Sum(x[c, l] ** 2, (c, 1, C), (l, 1, L))


def _spatial_model():
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    return variance(sp.Sum(m[c] * x[c, l] / q, (c, 1, C), (l, 1, L)), space)


def _spatial_sum(point, masks, noise=None):
    """Sum over channels and positions of ``SpatialDropout(p, n_spatial=1)`` on (N=1, C, L)."""
    layer = SpatialDropout(drop_probability(point), n_spatial=1)
    rows = np.broadcast_to(point["x"], (len(masks), 1) + np.shape(point["x"]))
    return layer.forward(rows, mask=masks[:, None, :]).sum(axis=(1, 2, 3))


def _spatial_range(point) -> tuple:
    """``sum_c m_c S_c / q`` with ``S_c = sum_l x_cl``: linear in the channel masks."""
    return masked_unit(1.0, Interval.exact(point["x"]).sum(-1), point).bounds()


def _abs_sum_scale(point):
    return float(np.abs(point["x"]).sum() / (1.0 - drop_probability(point)))


register(Identity(
    name="variants.spatial-correlation",
    statement=r"\operatorname{Var}\Bigl[\sum_{c,l} \frac{m_c}{q} x_{cl}\Bigr] = \frac{1-q}{q}"
              r"\sum_c \Bigl(\sum_l x_{cl}\Bigr)^2\ (\text{one mask per channel; element-wise "
              r"masks give } \tfrac{1-q}{q}\sum_{c,l} x_{cl}^2)",
    source="seed 002 ('Spatial Dropout (Dropout2D/3D)'); Tompson et al. 2015",
    notation=NOTATION + "; SpatialDropout(p, n_spatial=1) on (N = 1, C, L), m_c one mask per "
             "channel", params=(Q, Param("C", 1, np.inf, typical=(1, 3), integer=True),
                                Param("L", 1, np.inf, typical=(1, 4), integer=True),
                                Param("x", shape=("C", "L"))),
    rhs=SPATIAL, derive=_spatial_model,
    model=MaskModel(_spatial_sum, lambda point: point["C"], "var",
                    rounding_scale=_abs_sum_scale, value_bound=_spatial_range),
    wrong_claims=lambda rhs: {"element-wise masks": ELEMENTWISE},
))

# --- DropConnect against unit dropout on the same two-output linear layer --------------------

DC_VARIANCE = (1 - q) / q * sp.Sum(u[i] ** 2 * x[i] ** 2, (i, 1, d))
UNIT_COVARIANCE = (1 - q) / q * sp.Sum(u[i] * v[i] * x[i] ** 2, (i, 1, d))
LAYER_PARAMS = (Q, Param("d", 1, np.inf, typical=(1, 5), integer=True), Param("u", shape=("d",)),
                Param("v", shape=("d",)), Param("x", shape=("d",)))
DC_NOTATION = (NOTATION + "; a linear layer with rows u, v (two outputs), no bias; DropConnect "
               "masks every weight M_ri, unit dropout masks every input m_i (shared by both "
               "outputs)")
DC_SOURCE = "Wan et al. 2013 (DropConnect); seed 002 ('DropConnect')"


def _dropconnect_outputs():
    """``(u . x, v . x)`` pre-activations of DropConnect with masks ``M_1i, M_2i``."""
    space = RandomSpace()
    M = space.array("M", Bernoulli(q))
    first = sp.Sum(M[1, i] * u[i] * x[i] / q, (i, 1, d))
    second = sp.Sum(M[2, i] * v[i] * x[i] / q, (i, 1, d))
    return space, first, second


def _unit_outputs():
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    return (space, sp.Sum(m[i] * u[i] * x[i] / q, (i, 1, d)),
            sp.Sum(m[i] * v[i] * x[i] / q, (i, 1, d)))


def _weights(point):
    return np.stack([point["u"], point["v"]])


def _dropconnect_layer(point):
    layer = DropConnect(point["d"], 2, p=drop_probability(point), bias=False,
                        rng=np.random.default_rng(0))
    layer.weight[:] = _weights(point)
    return layer


def _centered_product(outputs, means):
    return (outputs[:, 0] - means[0]) * (outputs[:, 1] - means[1])


def _dropconnect_sim(kind):
    def simulate(point, masks, noise=None):
        layer = _dropconnect_layer(point)
        rows = np.broadcast_to(point["x"], (len(masks), point["d"]))
        out = layer.forward(rows, mask=masks.reshape(len(masks), 2, point["d"]))
        if kind == "var":
            return out[:, 0]
        return _centered_product(out, layer.eval().forward(point["x"]))
    return simulate


def _unit_dropout_sim(point, masks, noise=None):
    """Dropout(p) on the input, then the plain linear layer with the same rows."""
    linear = Linear(point["d"], 2, bias=False, rng=np.random.default_rng(0))
    linear.weight[:] = _weights(point)
    dropped = Dropout(drop_probability(point)).forward(
        np.broadcast_to(point["x"], masks.shape), mask=masks)
    return _centered_product(linear.forward(dropped), linear.forward(point["x"]))


def _first_output_range(point) -> tuple:
    """The first output ``sum_i M_1i u_i x_i / q``: linear in its masks."""
    return masked_unit(point["u"], point["x"], point).bounds()


def _first_output_differences(point):
    """Flipping ``M_1i`` moves the first output by ``|u_i x_i| / q``; the second output's
    masks ``M_2i`` do not move it."""
    return np.concatenate([unit_differences(point["u"], point["x"], point),
                           np.zeros(point["d"])])


def _centered_product_range(point) -> tuple:
    """``(u . x~ - u . x)(v . x~ - v . x)``: the product of the two outputs' centred ranges
    (exact for DropConnect's independent masks, an enclosure for unit dropout's shared ones)."""
    def centred(row):
        return masked_unit(point[row], point["x"], point) - (
            Interval.exact(point[row]) * point["x"]).sum(-1)
    return (centred("u") * centred("v")).bounds()


def _moment(statistic):
    space, first, _ = _dropconnect_outputs()
    return statistic(first, space)


def _product_scale(point):
    keep = 1.0 - drop_probability(point)
    a, b = (float(np.abs(point[k] * point["x"]).sum()) for k in ("u", "v"))
    return 4.0 * a * b / keep ** 2


register(Identity(
    name="variants.dropconnect-moments",
    statement=r"\operatorname{Var}\Bigl[\sum_i \frac{M_{1i}}{q} u_i x_i\Bigr] = \frac{1-q}{q}"
              r"\sum_i u_i^2 x_i^2\ (\text{mean } \textstyle\sum_i u_i x_i)",
    source=DC_SOURCE, notation=DC_NOTATION, params=LAYER_PARAMS, rhs=DC_VARIANCE,
    derive=lambda: _moment(variance),
    model=MaskModel(_dropconnect_sim("var"), lambda point: 2 * point["d"], "var",
                    rounding_scale=lambda pt: float(np.abs(pt["u"] * pt["x"]).sum())
                    / (1.0 - drop_probability(pt)), value_bound=_first_output_range),
    wrong_claims=lambda rhs: {"square of the sum": (1 - q) / q * sp.Sum(u[i] * x[i], (i, 1, d))
                              ** 2},
))




register(Identity(
    name="variants.dropconnect-mean",
    statement=r"E\Bigl[\sum_i \frac{M_{1i}}{q} u_i x_i\Bigr] = \sum_i u_i x_i",
    source=DC_SOURCE, notation=DC_NOTATION, params=LAYER_PARAMS,
    rhs=sp.Sum(u[i] * x[i], (i, 1, d)), derive=lambda: _moment(expectation),
    model=MaskModel(_dropconnect_sim("var"), lambda point: 2 * point["d"], "mean",
                    rounding_scale=lambda pt: float(np.abs(pt["u"] * pt["x"]).sum())
                    / (1.0 - drop_probability(pt)), value_bound=_first_output_range,
                    differences=_first_output_differences),
    wrong_claims=lambda rhs: {"second moment for the mean": rhs ** 2 + DC_VARIANCE},
))


def _covariance(outputs):
    def derive():
        space, first, second = outputs()
        return covariance(first, second, space)
    return derive


register(Identity(
    name="variants.dropconnect-covariance",
    statement=r"\operatorname{Cov}[u^\top (M_1 \odot x)/q,\ v^\top (M_2 \odot x)/q] = 0"
              r"\ (\text{each weight its own mask})",
    source=DC_SOURCE, notation=DC_NOTATION, params=LAYER_PARAMS, rhs=sp.Integer(0),
    derive=_covariance(_dropconnect_outputs),
    model=MaskModel(_dropconnect_sim("cov"), lambda point: 2 * point["d"], "mean",
                    rounding_scale=_product_scale, value_bound=_centered_product_range),
    wrong_claims=lambda rhs: {"unit dropout's covariance": UNIT_COVARIANCE,
                              "variance of one output": DC_VARIANCE},
))

register(Identity(
    name="variants.unit-dropout-covariance",
    statement=r"\operatorname{Cov}[u^\top (m \odot x)/q,\ v^\top (m \odot x)/q] = \frac{1-q}{q}"
              r"\sum_i u_i v_i x_i^2\ (\text{one mask per input, shared by both outputs})",
    source=DC_SOURCE + " (the comparison with dropout on the same layer)", notation=DC_NOTATION,
    params=LAYER_PARAMS, rhs=UNIT_COVARIANCE, derive=_covariance(_unit_outputs),
    model=MaskModel(_unit_dropout_sim, lambda point: point["d"], "mean",
                    rounding_scale=_product_scale, value_bound=_centered_product_range),
    wrong_claims=lambda rhs: {"DropConnect's zero covariance": sp.Integer(0)},
))
