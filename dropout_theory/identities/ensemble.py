r"""Dropout as an ensemble: weight scaling, normalized geometric means, diversity, paths.

Every sub-network is the full network under one keep-mask (standard, non-inverted dropout
``StandardDropout``: kept units pass unscaled, the weight-scaled network multiplies by ``q``
at test time, which is the core's eval mode). A left side that is a *geometric* mean is not a
plain mean of per-mask outputs: its logarithm is. The models below therefore return per-mask
log-odds (sigmoid) or log-probability contrasts (softmax), whose mean is the logarithm of the
ratio of geometric means, and the statements say so.
"""
import numpy as np
import sympy as sp

from ..identity import Identity, MaskModel, Param, drop_probability, register
from ..network import Dropout, Sequential, Sigmoid, Softmax
from ..symbolic import Bernoulli, Derivation, RandomSpace, Step, expectation
from ._common import Q, d, i, q, w, x
from ._subnetworks import forward, linear, stacked

NOTATION = ("q = keep probability = 1 - p; standard (Srivastava) dropout: m ~ Bernoulli(q) "
            "i.i.d., kept units unscaled in training, the weight-scaled network multiplies "
            "by q at test time (the network core's eval mode)")
j, k, l = sp.symbols("j k l", integer=True)
h = sp.Symbol("h", integer=True, positive=True)
K = sp.Symbol("K", integer=True, positive=True)
L = sp.Symbol("L", integer=True, positive=True)
b = sp.Symbol("b", real=True)
W, W1, W2 = (sp.IndexedBase(n, real=True) for n in ("W", "W1", "W2"))
v, a, c = (sp.IndexedBase(n, real=True) for n in ("v", "a", "c"))

DIN = Param("d", 1, np.inf, typical=(1, 4), integer=True)
WIDTH = Param("h", 1, np.inf, typical=(1, 3), integer=True)


# --- the weight-scaled deep linear network is the exact ensemble mean -------------------------

def _linear_net(point):
    weights = [point["W1"], point["W2"], np.atleast_2d(point["v"])]
    return stacked(weights, [None] * 3, None, drop_probability(point), input_dropout=True)


def _linear_sim(point, masks, noise=None):
    net, dropouts = _linear_net(point)
    return forward(net, dropouts, point["x"], masks, (point["d"], point["h"], point["h"]))[:, 0]


def _linear_scale(point):
    """|v|^T |W2| |W1| |x|: bounds every term the masked products sum."""
    return float(np.abs(point["v"]) @ np.abs(point["W2"]) @ np.abs(point["W1"])
                 @ np.abs(point["x"]))


def _chain(scale_first=1, scale_second=1, scale_third=1):
    inner = sp.Sum(W1[j, i] * scale_first * x[i], (i, 1, d))
    return sp.Sum(v[k] * scale_third * sp.Sum(W2[k, j] * scale_second * inner, (j, 1, h)),
                  (k, 1, h))


def _linear_model():
    space = RandomSpace()
    m1, m2, m3 = (space.array(n, Bernoulli(q)) for n in ("m1", "m2", "m3"))
    return expectation(_chain(m1[i], m2[j], m3[k]), space)


register(Identity(
    name="ensemble.weight-scaling-linear",
    statement=r"E_m\Big[\sum_k v_k m^{(3)}_k \sum_j W^{(2)}_{kj} m^{(2)}_j \sum_i W^{(1)}_{ji}"
              r" m^{(1)}_i x_i\Big] = q^3\, v^\top W^{(2)} W^{(1)} x\ \text{(the average of all"
              r" } 2^{d+2h}\text{ sub-networks is the weight-scaled network, exactly)}",
    source="seed 000 ('exact for linear models'); seed 001 ('for linear activations, exactly')",
    notation=NOTATION + "; deep linear network x -> W1 (h x d) -> W2 (h x h) -> v, dropout "
             "on the input and on both hidden layers (masks m1, m2, m3)",
    params=(Q, DIN, WIDTH, Param("W1", shape=("h", "d")), Param("W2", shape=("h", "h")),
            Param("v", shape=("h",)), Param("x", shape=("d",))),
    rhs=q ** 3 * _chain(), derive=_linear_model,
    model=MaskModel(_linear_sim, lambda pt: pt["d"] + 2 * pt["h"], "mean",
                    rounding_scale=_linear_scale),
    wrong_claims=lambda rhs: {"scaled once, not at every layer": q * _chain(),
                              "unscaled network (inverted-dropout habit)": _chain()},
))


# --- normalized geometric means: sigmoid and softmax -------------------------------------------

def _logistic_unit(point):
    return stacked([np.atleast_2d(point["w"])], [[point["b"]]], None,
                   drop_probability(point), input_dropout=True)


def _log_odds_sim(point, masks, noise=None):
    """log O_m - log(1 - O_m), O_m the core's Sigmoid output of the masked unit."""
    net, dropouts = _logistic_unit(point)
    out = Sigmoid().forward(forward(net, dropouts, point["x"], masks, (point["d"],)))[:, 0]
    return np.log(out) - np.log1p(-out)


def _log_odds_scale(point):
    """log(1 - O) from a rounded O loses about u / (1 - O) <= u e^{|z|}; z itself carries
    rounding of its terms' size, passed on with slope 1."""
    size = float(np.abs(np.asarray(point["w"]) * point["x"]).sum() + abs(point["b"]))
    return 2.0 * size + 4.0 * np.exp(size)


def _sigmoid_model():
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    z = sp.Sum(w[i] * m[i] * x[i], (i, 1, d)) + b
    lhs = sp.Function("E")(sp.log(1 / (1 + sp.exp(-z))) - sp.log(1 - 1 / (1 + sp.exp(-z))))
    t = sp.Symbol("t", real=True)
    logit = sp.simplify(sp.expand_log(sp.log(1 / (1 + sp.exp(-t)))
                                      - sp.log(1 - 1 / (1 + sp.exp(-t))), force=True))
    if logit != t:  # the step below rests on log(sigma(t) / (1 - sigma(t))) = t
        raise ValueError(f"log-odds of the logistic function simplified to {logit}, not t")
    mean = expectation(z, space)
    return Derivation(mean.result, [Step("log G - log G' = E[log O_m - log(1 - O_m)]", lhs),
                                    Step("log(sigma(t) / (1 - sigma(t))) = t (SymPy)",
                                         sp.Function("E")(z)),
                                    *mean.steps[1:]])


register(Identity(
    name="ensemble.nwgm-sigmoid",
    statement=r"\log\frac{G}{G'} = E_m[\log O_m - \log(1 - O_m)] = q\, w^\top x + b,\ "
              r"G = \prod_m O_m^{P(m)},\ G' = \prod_m (1 - O_m)^{P(m)};\ \text{so }"
              r"\mathrm{NWGM} = \frac{G}{G + G'} = \sigma(q\, w^\top x + b)",
    source="Baldi & Sadowski 2013 (REFERENCES.md); seed 001 cites it",
    notation=NOTATION + "; one logistic unit O_m = sigma(sum_i w_i m_i x_i + b); the mean of "
             "the per-mask log-odds is log(G / G'), and sigma of it is the NWGM",
    params=(Q, Param("d", 1, np.inf, typical=(1, 8), integer=True),
            Param("b", typical=(-1.0, 1.0)), Param("w", shape=("d",)), Param("x", shape=("d",))),
    rhs=q * sp.Sum(w[i] * x[i], (i, 1, d)) + b, derive=_sigmoid_model,
    model=MaskModel(_log_odds_sim, lambda pt: pt["d"], "mean", rounding_scale=_log_odds_scale),
    wrong_claims=lambda rhs: {"unscaled weights": sp.Sum(w[i] * x[i], (i, 1, d)) + b},
))


def _contrast(rng, partial):
    """A contrast over the K classes (entries sum to 0): it cancels the log-partition."""
    draw = rng.standard_normal(partial["K"])
    return draw - draw.mean()


def _log_softmax_sim(point, masks, noise=None):
    """sum_k a_k log O_{m,k}, O_m the core's Softmax of the masked layer."""
    net, dropouts = stacked([point["W"]], [point["c"]], None, drop_probability(point),
                            input_dropout=True)
    out = Softmax().forward(forward(net, dropouts, point["x"], masks, (point["d"],)))
    return np.log(out) @ point["a"]


def _softmax_scale(point):
    """log O_k is rounded by about (K + 4) u plus the rounding of the logits, relative to
    their terms' size (at most twice, through the log-partition)."""
    size = float(np.abs(point["W"] * point["x"]).sum() + np.abs(point["c"]).sum())
    return float(np.abs(point["a"]).sum()) * (point["K"] + 4 + 4 * size)


def _logits(scale=1, mask=1):
    return sp.Sum(W[k, i] * scale * mask * x[i], (i, 1, d)) + c[k]


def _softmax_model():
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    z = _logits(mask=m[i])
    lse = sp.log(sp.Sum(sp.exp(z.xreplace({k: j})), (j, 1, K)))
    mean = expectation(sp.Sum(a[k] * z, (k, 1, K)), space)
    return Derivation(mean.result, [
        Step("sum_k a_k log G_k = E[sum_k a_k log O_{m,k}]",
             sp.Function("E")(sp.Sum(a[k] * (z - lse), (k, 1, K)))),
        Step("sum_k a_k = 0 cancels the log-partition", sp.Function("E")(sp.Sum(a[k] * z,
                                                                            (k, 1, K)))),
        *mean.steps[1:]])


register(Identity(
    name="ensemble.nwgm-softmax",
    statement=r"\sum_k a_k \log G_k = E_m\Big[\sum_k a_k \log O_{m,k}\Big] = \sum_k a_k"
              r" (q\,W x + c)_k\ \ \forall a: \textstyle\sum_k a_k = 0;\ \text{so }"
              r"\frac{G_k}{\sum_j G_j} = \operatorname{softmax}(q\,W x + c)_k",
    source="Baldi & Sadowski 2013 (REFERENCES.md); seed 001 ('for a single-layer network "
           "with softmax output, the test-time prediction is exactly the geometric mean')",
    notation=NOTATION + "; O_m = softmax(W (m * x) + c) over K classes, G_k = prod_m "
             "O_{m,k}^{P(m)}; contrasts a (sum 0) determine the renormalized vector",
    params=(Q, Param("d", 1, np.inf, typical=(1, 6), integer=True),
            Param("K", 2, np.inf, typical=(2, 4), integer=True), Param("W", shape=("K", "d")),
            Param("c", shape=("K",)), Param("x", shape=("d",)),
            Param("a", shape=("K",), sampler=_contrast)),
    rhs=sp.Sum(a[k] * _logits(scale=q), (k, 1, K)), derive=_softmax_model,
    model=MaskModel(_log_softmax_sim, lambda pt: pt["d"], "mean",
                    rounding_scale=_softmax_scale),
    wrong_claims=lambda rhs: {"unscaled weights": sp.Sum(a[k] * _logits(), (k, 1, K))},
))


# --- ensemble gain and diversity ----------------------------------------------------------------

T = sp.Symbol("T", integer=True, positive=True)
t, y = sp.Symbol("t", integer=True), sp.Symbol("y", real=True)
#: E[D]: the expected squared disagreement of two independent members, 2 Var f
DISAGREEMENT = 2 * (1 - q) / q * sp.Sum((w[i] * x[i]) ** 2, (i, 1, d))


def _members(point, masks):
    """(S, T) predictions of T inverted-dropout sub-networks ``w . Dropout(p)(x)``."""
    n_members, width = point["T"], point["d"]
    net = Sequential(Dropout(drop_probability(point)), linear(np.atleast_2d(point["w"])))
    rows = np.broadcast_to(point["x"], (len(masks), n_members, width))
    return net.forward(rows, mask={0: masks.reshape(len(masks), n_members, width)})[..., 0]


def ensemble_gain(predictions, target):
    """``E_ind - E_ens`` along the last axis: mean member error minus the ensemble's."""
    individual = ((predictions - target) ** 2).mean(axis=-1)
    return individual - (predictions.mean(axis=-1) - target) ** 2


def pairwise_disagreement(predictions):
    """``D``: mean of ``(f_s - f_t)^2`` over the distinct pairs ``s < t`` (last axis)."""
    n = predictions.shape[-1]
    diffs = predictions[..., :, None] - predictions[..., None, :]
    return (diffs ** 2).sum(axis=(-2, -1)) / (n * (n - 1))


def _gain_sim(point, masks, noise=None):
    return ensemble_gain(_members(point, masks), point["y"])


def _gain_scale(point):
    return 4.0 * (float(np.abs(np.asarray(point["w"]) * point["x"]).sum())
                  / (1.0 - drop_probability(point)) + abs(point["y"])) ** 2


def _gain_model():
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    member = sp.Sum(w[i] * x[i] * m[t, i] / q, (i, 1, d))
    individual = sp.Sum((member - y) ** 2, (t, 1, T)) / T
    ensemble = (sp.Sum(member, (t, 1, T)) / T - y) ** 2
    return expectation(individual - ensemble, space)


register(Identity(
    name="ensemble.diversity",
    statement=r"E_m[E_{\mathrm{ind}} - E_{\mathrm{ens}}] = \frac{T-1}{2T}\, E_m[D],\ "
              r"E_m[D] = 2\operatorname{Var} f = \frac{2(1-q)}{q}\sum_i (w_i x_i)^2"
              r"\quad(E_{\mathrm{ind}} - E_{\mathrm{ens}} = \tfrac{T-1}{2T} D\text{ holds for "
              r"any } T \text{ predictions})",
    source="seed 000 ('E_ind - E_ens = (T-1)/(2T) D')",
    notation="q = keep probability; T sub-networks f_t = w . (m_t * x) / q (inverted dropout, "
             "independent masks), target y; E_ind = mean_t (f_t - y)^2, E_ens = (mean_t f_t - "
             "y)^2, D = mean over distinct pairs of (f_s - f_t)^2",
    params=(Q, Param("T", 2, np.inf, typical=(2, 4), integer=True), DIN,
            Param("y", typical=(-2.0, 2.0)), Param("w", shape=("d",)), Param("x", shape=("d",))),
    rhs=(T - 1) / (2 * T) * DISAGREEMENT, derive=_gain_model,
    model=MaskModel(_gain_sim, lambda pt: pt["T"] * pt["d"], "mean", rounding_scale=_gain_scale),
    wrong_claims=lambda rhs: {"(T-1)/T instead of (T-1)/(2T)": (T - 1) / T * DISAGREEMENT},
))


# --- path survival --------------------------------------------------------------------------------

def _path_count_sim(point, masks, noise=None):
    """Active input-to-output paths: a net of all-ones weights through L dropped layers of
    width h sums, over paths, the product of the masks on the path."""
    width, depth = point["h"], point["L"]
    weights = [np.ones((width, 1))] + [np.ones((width, width))] * (depth - 1) + \
        [np.ones((1, width))]
    net, dropouts = stacked(weights, [None] * (depth + 1), None, drop_probability(point))
    return forward(net, dropouts, [1.0], masks, (width,) * depth)[:, 0]


def _path_model():
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    layer = expectation(sp.Sum(m[l, j], (j, 1, h)), space)
    count = sp.Function("E")(sp.Product(sp.Sum(m[l, j], (j, 1, h)), (l, 1, L)))
    return Derivation(h ** L * q ** L, [
        Step("E[number of active paths] = E[prod over layers of kept units]", count),
        Step("layers are independent: product of E[kept units of one layer]",
             sp.Product(sp.Function("E")(sp.Sum(m[l, j], (j, 1, h))), (l, 1, L))),
        *layer.steps[1:], Step("one layer: h q (engine); L layers", h ** L * q ** L)])


register(Identity(
    name="ensemble.path-survival",
    statement=r"E[\#\text{active paths}] = h^L q^L = h^L (1-p)^L;\ h = 1: P(\text{a given path"
              r" is active}) = (1-p)^L",
    source="seed 000 ('the probability that any given path remains fully active is (1-p)^L')",
    notation="q = keep probability = 1 - p (seed 000's p is the drop rate); L dropped hidden "
             "layers of width h; a path is active when every unit on it is kept",
    params=(Q, Param("L", 1, np.inf, typical=(1, 4), integer=True),
            Param("h", 1, np.inf, typical=(1, 4), integer=True)),
    rhs=h ** L * q ** L, derive=_path_model,
    model=MaskModel(_path_count_sim, lambda pt: pt["L"] * pt["h"], "mean",
                    rounding_scale=lambda pt: float(pt["h"]) ** pt["L"]),
    wrong_claims=lambda rhs: {"q^L with q the drop probability": h ** L * (1 - q) ** L,
                              "the input unit dropped as well: q^(L+1)": h ** L * q ** (L + 1)},
))
