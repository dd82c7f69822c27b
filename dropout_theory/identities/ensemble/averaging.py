r"""Averaging sub-networks: weight scaling (exact for linear networks), normalized geometric
means (exact for a sigmoid unit and a softmax layer), and the arithmetic mean (approximate).

Every sub-network is the full network under one keep-mask (standard, non-inverted dropout
``StandardDropout``: kept units pass unscaled, the weight-scaled network multiplies by ``q``
at test time, which is the core's eval mode). A left side that is a *geometric* mean is not a
plain mean of per-mask outputs: its logarithm is. The models below therefore return per-mask
log-odds (sigmoid) or log-probability contrasts (softmax), whose mean is the logarithm of the
ratio of geometric means, and the statements say so.
"""
import numpy as np
import sympy as sp
from scipy.special import expit

from ...identity import Approximation, Identity, MaskModel, Param, drop_probability, register
from ...network import Sigmoid, Softmax
from ...sampling import gamma
from ...symbolic import Bernoulli, Derivation, RandomSpace, Step, expectation, variance
from .._common import Interval, Q, affine, d, i, masked_unit, q, unit_differences, w, x
from .._subnetworks import forward, linear, stacked

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


def _linear_range(point) -> tuple:
    """Every sub-network's output: the masked input, then each layer over the masked interval
    of the one before (an interval the 2^(d+2h) outputs stay in, not their hull)."""
    hidden = affine(point["W1"], Interval.exact(point["x"]).masked()).masked()
    hidden = affine(point["W2"], hidden).masked()
    return affine(np.atleast_2d(point["v"]), hidden).bounds()


def _linear_differences(point):
    """Flipping ``m1_i`` moves the output by at most ``(|v|^T |W2| |W1|)_i |x_i|``, ``m2_j``
    by ``(|v|^T |W2|)_j (|W1| |x|)_j`` and ``m3_k`` by ``|v_k| (|W2| |W1| |x|)_k`` (the other
    masks at their worst); sums of non-negative terms, rounded up by ``gamma``."""
    ax, aw1, aw2, av = (np.abs(np.asarray(point[n], dtype=np.float64))
                        for n in ("x", "W1", "W2", "v"))
    hidden = aw1 @ ax
    outer = av @ aw2
    bounds = np.concatenate([(outer @ aw1) * ax, outer * hidden, av * (aw2 @ hidden)])
    return bounds * (1.0 + 2.0 * gamma(ax.size + 2 * av.size + 8))


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
                    rounding_scale=_linear_scale, value_bound=_linear_range,
                    differences=_linear_differences),
    wrong_claims=lambda rhs: {"scaled once, not at every layer": q * _chain(),
                              "unscaled network (inverted-dropout habit)": _chain()},
))


# --- normalized geometric means: sigmoid and softmax -------------------------------------------

def _logistic_unit(point):
    return stacked([np.atleast_2d(point["w"])], [[point["b"]]], None,
                   drop_probability(point), input_dropout=True)


def _log_odds_sim(point, masks, noise=None):
    """log O_m - log(1 - O_m), O_m the core's Sigmoid output of the masked unit; 1 - O_m is
    the core's Sigmoid of the negated pre-activation, sigma(-z), so it does not round to 0
    once O_m rounds to 1 (z > 37: at d = 1024 the pre-activation's spread is about 32)."""
    net, dropouts = _logistic_unit(point)
    z = forward(net, dropouts, point["x"], masks, (point["d"],))
    sigmoid = Sigmoid()
    return (np.log(sigmoid.forward(z)) - np.log(sigmoid.forward(-z)))[:, 0]


def _logit_range(point) -> Interval:
    """Every sub-network's pre-activation ``sum_i w_i m_i x_i + b`` (no scaling)."""
    return masked_unit(point["w"], point["x"], point, inverted=False) + point["b"]


def _log_odds_scale(point):
    """The two logs cancel terms of at most |z| + 2 log 2 <= size + 2 (size = sum |w_i x_i|
    + |b| bounds |z|); sigma(z) and sigma(-z) (SciPy's ``expit``, a few ulps relative each)
    err by a few ulps absolutely after the log; z itself carries rounding of its terms' size,
    passed on with slope sigma(-z) + sigma(z) = 1."""
    size = float(np.abs(np.asarray(point["w"]) * point["x"]).sum() + abs(point["b"]))
    return 2.0 * size + 4.0


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
    # the log-odds of sigma(z) are z itself
    model=MaskModel(_log_odds_sim, lambda pt: pt["d"], "mean", rounding_scale=_log_odds_scale,
                    value_bound=lambda pt: _logit_range(pt).bounds(),
                    differences=lambda pt: unit_differences(pt["w"], pt["x"], pt,
                                                            inverted=False)),
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


def _log_softmax_range(point) -> tuple:
    """``sum_k a_k log O_k = sum_k a_k z_k - (sum_k a_k) lse(z)``: the first part is linear in
    the masks (coefficients ``(a^T W)_i x_i``), the second vanishes but for the rounding of
    the drawn contrast's sum, ``lse(z)`` between ``max_k z_k`` and that plus ``log K``."""
    a = Interval.exact(point["a"])
    coefficients = (Interval(a.lo[:, None], a.hi[:, None]) * point["W"]).sum(0)
    linear = (coefficients * point["x"]).masked().sum(-1) + (a * point["c"]).sum(-1)
    logits = affine(point["W"], Interval.exact(point["x"]).masked(), point["c"])
    log_k = Interval.exact(float(point["K"])).increasing(np.log)
    lse = Interval(np.max(logits.lo), np.max(logits.hi)) + Interval(0.0, log_k.hi)
    return (linear - a.sum(-1) * lse).bounds()


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
                    rounding_scale=_softmax_scale, value_bound=_log_softmax_range),
    wrong_claims=lambda rhs: {"unscaled weights": sp.Sum(a[k] * _logits(), (k, 1, K))},
))



# --- the arithmetic mean of sigmoid outputs is only approximated by weight scaling -------------

def sigmoid_outputs(point, masks, noise=None):
    """O_m = sigma(sum_i w_i m_i x_i + b) by the core's layers, per mask row."""
    net, dropouts = _logistic_unit(point)
    return Sigmoid().forward(forward(net, dropouts, point["x"], masks, (point["d"],)))[:, 0]


def _weight_scaled_logit(scale=q):
    return scale * sp.Sum(w[i] * x[i], (i, 1, d)) + b


def _arithmetic_model():
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    z = sp.Sum(w[i] * m[i] * x[i], (i, 1, d)) + b
    exact = sp.Function("E")(1 / (1 + sp.exp(-z)))
    spread = variance(z, space)
    mu = sp.Symbol("mu", real=True)
    sig = 1 / (1 + sp.exp(-mu))
    return Derivation(exact, [
        Step("E[sigma(z_m)] (no moment rule: sigma is not polynomial)", exact),
        Step("E[z_m] = q w.x + b, the weight-scaled input (engine)", expectation(z, space).result),
        Step("Var[z_m] (engine): O(p) as p -> 0", spread.result),
        Step("Taylor about mu = E z_m: E sigma(z_m) - sigma(mu) = sigma''(mu)/2 Var z_m + "
             "O(E|z_m - mu|^3), both O(p)", sp.diff(sig, mu, 2) / 2)])


register(Identity(
    name="ensemble.arithmetic-vs-geometric",
    statement=r"E_m[\sigma(z_m)] = \sigma(q\,w^\top x + b) + \Theta(p),\ z_m = \sum_i w_i m_i"
              r" x_i + b:\ \text{the weight-scaled unit is the NWGM, not the arithmetic mean"
              r" of the sub-networks; the gap is first order in the drop rate}",
    source="seed 000 ('for nonlinear activation functions ... no longer an exact equality but "
           "a useful approximation'); Baldi & Sadowski 2013",
    notation=NOTATION + "; one logistic unit; the claim is sigma of the weight-scaled input "
             "(= the NWGM, ensemble.nwgm-sigmoid)",
    params=(Param("q", 0.0, 1.0, typical=(0.3, 0.95), edges=(1.0,)),
            Param("d", 1, np.inf, typical=(1, 8), integer=True),
            Param("b", typical=(-1.0, 1.0)), Param("w", shape=("d",)), Param("x", shape=("d",))),
    rhs=1 / (1 + sp.exp(-_weight_scaled_logit())), derive=_arithmetic_model,
    expected="approximate",
    model=Approximation(MaskModel(sigmoid_outputs, lambda pt: pt["d"], "mean",
                                  rounding_scale=lambda pt: 1.0 + _log_odds_scale(pt),
                                  value_bound=lambda pt: _logit_range(pt).increasing(
                                      expit).bounds()), 1,
                        "drop", (1e-3, 1e-1)),
))
