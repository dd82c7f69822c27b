r"""The weight-scaling rule with nonlinear hidden layers: exact for one hidden layer read out
linearly, first order in the drop rate from two hidden layers on (seed 001).

Network: ``x -> h1 = tanh(W1 x + c1) -> dropout -> tanh(W2 . + c2) -> dropout -> v``,
standard dropout after every hidden layer; the weight-scaled network is the core's eval mode
(every dropped layer multiplies by ``q``). Nothing random happens before the first dropout, so
the registered statement starts from the first hidden layer's activations ``h1`` (any values
in (-1, 1)); that keeps its right side small enough for SymPy to tell twins apart quickly.
With one hidden layer only the linear readout sees the mask, so the rule is exact
(``mc-dropout.linear-unbiased`` with ``h = tanh(W x + c)``); the second hidden layer puts a
nonlinearity behind a mask. The figure ``ensemble-depth-gap`` measures 1 to 6 hidden layers.
"""
import numpy as np
import sympy as sp

from ...identity import (Approximation, Identity, MaskModel, Param, drop_probability, register,
                         uniform_sampler)
from ...network import ReLU, Tanh
from ...symbolic import Derivation, Step
from .._common import Interval, affine, q
from .._subnetworks import forward, stacked
from .averaging import NOTATION, j, k

H = sp.Symbol("H", integer=True, positive=True)
h1, W2, c2, v = (sp.IndexedBase(n, real=True) for n in ("h1", "W2", "c2", "v"))
ACTIVATIONS = {"tanh": Tanh, "relu": ReLU}


def deep_net(weights, biases, drop, activation="tanh", *, input_dropout=False):
    """Hidden layers ``act(W . + c)`` each followed by standard dropout, linear readout
    (and dropout on the input first, if asked)."""
    return stacked(weights, biases, ACTIVATIONS[activation], drop, input_dropout=input_dropout)


def _deep_sim(point, masks, noise=None):
    """h1 -> StandardDropout -> Linear(W2, c2) -> Tanh -> StandardDropout -> Linear(v)."""
    net, dropouts = deep_net([point["W2"], np.atleast_2d(point["v"])], [point["c2"], None],
                             drop_probability(point), input_dropout=True)
    return forward(net, dropouts, point["h1"], masks, (point["H"], point["H"]))[:, 0]


def _deep_scale(point):
    """Bound on the terms summed: |v| (tanh <= 1) and the pre-activations they pass."""
    pre = np.abs(point["W2"]).sum() + np.abs(point["c2"]).sum()
    return float(np.abs(point["v"]).sum() * (1.0 + pre))


def _deep_range(point) -> tuple:
    """The masked h1, the tanh layer over that box (tanh increasing), masked, read out."""
    hidden = affine(point["W2"], Interval.exact(point["h1"]).masked(), point["c2"])
    return affine(np.atleast_2d(point["v"]), hidden.increasing(np.tanh).masked()).bounds()


def _hidden(scale):
    return sp.tanh(sp.Sum(W2[k, j] * scale * h1[j], (j, 1, H)) + c2[k])


WEIGHT_SCALED = q * sp.Sum(v[k] * _hidden(q), (k, 1, H))


def _deep_model():
    m1, m2 = sp.IndexedBase("m1", real=True), sp.IndexedBase("m2", real=True)
    exact = sp.Function("E")(sp.Sum(v[k] * m2[k] * _hidden(m1[j]), (k, 1, H)))
    return Derivation(exact, [
        Step("E over m1, m2 (no moment rule: tanh is not polynomial)", exact),
        Step("E over m2 is exact (a linear readout): q sum_k v_k E_m1[tanh(...)]",
             q * sp.Sum(v[k] * sp.Function("E")(_hidden(m1[j])), (k, 1, H))),
        Step("weight scaling replaces E_m1[tanh(u)] by tanh(E_m1 u): a Jensen gap "
             "tanh''/2 Var u + ..., Var u = q(1-q) sum_j W2_kj^2 tanh(.)^2 = O(p)",
             WEIGHT_SCALED)])


register(Identity(
    name="ensemble.depth-gap",
    statement=r"E_m[f_m(x)] = f_{\mathrm{ws}}(x) + \Theta(p)\ \text{with two tanh hidden "
              r"layers}:\ \text{the weight-scaling rule is 'exact only for single hidden "
              r"layers'; beyond, an approximation first order in the drop rate}",
    source="seed 001 ('The weight scaling inference rule ... is exact only for single hidden "
           "layers. For deep networks, it is an approximation whose quality degrades with "
           "depth')",
    notation=NOTATION + "; f_m: x -> h1 = tanh(W1 x + c1) -> m1 -> tanh(W2 . + c2) -> m2 -> v"
             ", f_ws its eval mode (q at each dropped layer); H hidden units per layer; the "
             "first layer is deterministic, so h1 in (-1, 1) is the parameter",
    params=(Param("q", 0.0, 1.0, typical=(0.3, 0.95), edges=(1.0,)),
            Param("H", 1, np.inf, typical=(1, 4), integer=True),
            Param("h1", shape=("H",), sampler=uniform_sampler(-1.0, 1.0, ("H",))),
            Param("W2", shape=("H", "H")), Param("c2", shape=("H",)), Param("v", shape=("H",))),
    rhs=WEIGHT_SCALED, derive=_deep_model, expected="approximate",
    model=Approximation(MaskModel(_deep_sim, lambda pt: 2 * pt["H"], "mean",
                                  rounding_scale=_deep_scale, value_bound=_deep_range),
                        1, "drop", (1e-3, 1e-1)),
))
