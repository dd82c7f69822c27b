"""Jensen gaps: how a nonlinear activation turns dropout noise into a bias (seed 000).

The gap of an activation ``f`` at a unit is ``E[f(train output)] - f(eval output)``: the
training-time mean of the activation minus the activation of the deterministic test-time
pre-activation, both computed by the network core's layers.
"""
import numpy as np
import sympy as sp
from scipy.special import expit

from ...identity import Identity, MaskModel, Param, register
from ...network import Dropout, Quadratic, ReLU, Sigmoid, Softplus, StandardDropout, Tanh
from ...symbolic import Bernoulli, RandomSpace, expectation
from .._common import (D, Q, W, X, Interval, d, i, inverted_unit, keep_probability, masked_unit,
                       q, unit_scale, w, x)

NOTATION = "q = keep probability = 1 - p, m ~ Bernoulli(q); inverted dropout scales by 1/q"
SEED = "seed 000, Jensen's inequality paragraph"
SEED_NOTATION = ("seed 000 writes p for the KEEP probability: its p is this q (drop "
                 "probability 1 - q); no scaling")

y = sp.Symbol("x", real=True)  # a scalar input (the seed's x)
SCALAR = Param("x", typical=(-3.0, 3.0))  # four strata: two negative inputs, two positive

#: activation name -> (network core layer, SymPy function)
ACTIVATIONS = {
    "quadratic": (Quadratic, lambda t: t ** 2),
    "relu": (ReLU, lambda t: sp.Max(0, t)),
    # no threshold: PyTorch's switch to the identity at 20 is a jump of 2e-9, not convex
    "softplus": (lambda: Softplus(threshold=np.inf), lambda t: sp.log(1 + sp.exp(t))),
    "sigmoid": (Sigmoid, lambda t: 1 / (1 + sp.exp(-t))),
    "tanh": (Tanh, sp.tanh),
}


#: activation name -> the activation over an Interval (each is monotone, or the square)
INTERVAL_ACTIVATIONS = {
    "quadratic": Interval.square,
    "relu": Interval.relu,
    "softplus": lambda v: v.increasing(lambda t: np.logaddexp(0.0, t)),
    "sigmoid": lambda v: v.increasing(expit),
    "tanh": lambda v: v.increasing(np.tanh),
}


def _apply(name, values):
    return ACTIVATIONS[name][0]().forward(values)


def _gap_scale(name, pre_bound: float) -> float:
    """Bound on the terms of ``f(train) - f(eval)`` and on how far the rounding of a
    pre-activation below ``pre_bound`` in magnitude can move them (``f`` Lipschitz with
    constant ``2 pre_bound`` for the square, 1 for the others; values at most that bound)."""
    if name == "quadratic":
        return 4.0 * pre_bound ** 2
    return 4.0 * (pre_bound + 1.0)


# --- the seed's quadratic gap, a scalar input ---------------------------------------------

def _scalar_gap_model(scale):
    space = RandomSpace()
    m = space.scalar("m", Bernoulli(q))
    return lambda: expectation((m * y / scale) ** 2 - y ** 2 * (q / scale) ** 2, space)


def _scalar_gap_sim(layer_type, name):
    def simulate(point, masks, noise=None):
        layer = layer_type(1.0 - point["q"])
        inputs = np.full(masks.shape, point["x"])
        train = layer.forward(inputs, mask=masks)[:, 0]
        test = layer.eval().forward(inputs)[:, 0]
        return _apply(name, train) - _apply(name, test)
    return simulate


def _scalar_gap_range(layer_type, name):
    """``f(train) - f(test)`` takes two values: the unit dropped (train output 0) or kept
    (``x``, or ``x / q`` inverted); the test output is ``q x`` (standard) or ``x``."""
    def bound(point):
        f, value, keep = INTERVAL_ACTIVATIONS[name], Interval.exact(point["x"]), \
            keep_probability(point)
        kept, test = (value, value * keep) if layer_type is StandardDropout else \
            (value / keep, value)
        return (Interval.hull(f(Interval.exact(0.0)), f(kept)) - f(test)).bounds()
    return bound


def _scalar_bound(point):
    return _gap_scale("quadratic", abs(point["x"]) / max(point["q"], 1e-300))


register(Identity(
    name="jensen.quadratic-standard",
    statement=r"B(x) = E[f(m x)] - f(E[m x]) = x^2 p(1-p),\ f(z) = z^2"
              r"\quad(\text{seed's } p = \text{keep} = q:\ x^2 q(1-q))",
    source=SEED, notation=SEED_NOTATION + "; f(E[m x]) is the test-time output q x squared",
    params=(Q, SCALAR), rhs=y ** 2 * q * (1 - q), derive=_scalar_gap_model(1),
    model=MaskModel(_scalar_gap_sim(StandardDropout, "quadratic"), lambda pt: 1, "mean",
                    rounding_scale=_scalar_bound,
                    value_bound=_scalar_gap_range(StandardDropout, "quadratic")),
    # q(1 - q) is symmetric in p and q: the seed's formula is right in either reading
    wrong_claims=lambda rhs: {"inverted-formula": y ** 2 * (1 - q) / q,
                              "keep-only": q * y ** 2},
))

register(Identity(
    name="jensen.quadratic-inverted",
    statement=r"E\left[\left(\frac{m x}{q}\right)^2\right] - x^2 = x^2\,\frac{1-q}{q}"
              r"\ \text{(inverted dropout: the test-time output is } x)",
    source=SEED + " (inverted masks); REFERENCES.md (moments)", notation=NOTATION,
    params=(Q, SCALAR), rhs=y ** 2 * (1 - q) / q, derive=_scalar_gap_model(q),
    model=MaskModel(_scalar_gap_sim(Dropout, "quadratic"), lambda pt: 1, "mean",
                    rounding_scale=_scalar_bound,
                    value_bound=_scalar_gap_range(Dropout, "quadratic")),
    wrong_claims=lambda rhs: {"seed-formula-q(1-q)": y ** 2 * q * (1 - q),
                              "missing-1/q": y ** 2 * (1 - q)},
))

register(Identity(
    name="jensen.quadratic-inverted-seed",
    statement=r"E\left[\left(\frac{m x}{q}\right)^2\right] - x^2 = x^2 p(1-p)"
              r"\ \text{(seed 000's formula applied to inverted dropout; refuted: the gap is }"
              r"x^2 (1-q)/q\text{, larger by } 1/q^2)",
    source=SEED + ", read for the inverted dropout every framework uses",
    notation=SEED_NOTATION + "; masks scaled by 1/q as in torch.nn.Dropout",
    params=(Q, SCALAR), rhs=y ** 2 * q * (1 - q), derive=_scalar_gap_model(q),
    model=MaskModel(_scalar_gap_sim(Dropout, "quadratic"), lambda pt: 1, "mean",
                    rounding_scale=_scalar_bound,
                    value_bound=_scalar_gap_range(Dropout, "quadratic")),
    expected="refuted",
))


# --- a whole linear unit s = sum_i w_i x_i m_i / q ------------------------------------------

def _unit(space):
    m = space.array("m", Bernoulli(q))
    return sp.Sum(w[i] * x[i] * m[i] / q, (i, 1, d)), sp.Sum(w[i] * x[i], (i, 1, d))


def _unit_gap_model(name):
    def derive():
        space = RandomSpace()
        noisy, mean = _unit(space)
        f = ACTIVATIONS[name][1]
        return expectation(f(noisy) - f(mean), space)
    return derive


def unit_gap(name):
    """``simulate(point, masks)``: f(train output) - f(eval output) per mask, the unit
    ``w . Dropout(x)`` computed by the core in both modes (eval: ``w . x``)."""
    def simulate(point, masks, noise=None):
        test = Dropout(1.0 - point["q"]).eval().forward(np.asarray(point["x"], dtype=float))
        mean = np.full(len(masks), float(test @ np.asarray(point["w"])))
        return _apply(name, inverted_unit(point, masks)) - _apply(name, mean)
    return simulate


def _unit_gap_range(name):
    """``f(s) - f(w . x)`` with ``s`` anywhere in the unit's masked range."""
    def bound(point):
        f = INTERVAL_ACTIVATIONS[name]
        mean = (Interval.exact(point["w"]) * point["x"]).sum(-1)
        return (f(masked_unit(point["w"], point["x"], point)) - f(mean)).bounds()
    return bound


def _unit_model(name):
    return MaskModel(unit_gap(name), lambda pt: pt["d"], "mean",
                     rounding_scale=lambda pt: _gap_scale(name, unit_scale(pt)),
                     value_bound=_unit_gap_range(name))


_VARIANCE = (1 - q) / q * sp.Sum((w[i] * x[i]) ** 2, (i, 1, d))

register(Identity(
    name="jensen.variance-link",
    statement=r"E[f(s)] - f(E[s]) = \operatorname{Var}[s] = \frac{1-q}{q}\sum_{i=1}^{d}"
              r"(w_i x_i)^2,\quad f(z) = z^2,\ s = \sum_i w_i x_i m_i / q",
    source=SEED + " (\"directly related to the variance of the pre-activation\")",
    notation=NOTATION, params=(Q, D, W, X), rhs=_VARIANCE,
    derive=_unit_gap_model("quadratic"), model=_unit_model("quadratic"),
    wrong_claims=lambda rhs: {"missing-1/q": rhs * q, "standard-q(1-q)": rhs * q ** 2},
))

#: twins of "gap >= 0" that overstate the gap: each is provably above it when Var[s] > 0
_CONVEX = {
    # E relu(s) - relu(mu) = (E|s| - |mu|) / 2 <= E|s - mu| / 2 <= sd / 2; the quadratic
    # unit's gap Var carried over to a ReLU
    "relu": ("ReLU", {"at-least-one-sd": sp.sqrt(_VARIANCE), "at-least-the-variance": _VARIANCE}),
    # softplus'' <= 1/4, so the gap is at most Var / 8 (not Var / 2, as curvature 1 would give)
    "softplus": ("softplus", {"at-least-half-the-variance": _VARIANCE / 2,
                              "at-least-the-variance": _VARIANCE}),
    # the gap of z^2 is exactly Var, not the second moment E[s^2] = Var + (w . x)^2
    "quadratic": ("z^2", {"at-least-twice-the-variance": 2 * _VARIANCE,
                          "at-least-the-second-moment": _VARIANCE
                          + sp.Sum(w[i] * x[i], (i, 1, d)) ** 2}),
}

for _name, (_label, _twins) in _CONVEX.items():
    register(Identity(
        name="jensen.convex-nonnegative" + ("" if _name == "relu" else f"-{_name}"),
        statement=rf"E[f(s)] - f(E[s]) \ge 0\ \text{{for the convex }} f = \text{{{_label}}},"
                  r"\ s = \sum_i w_i x_i m_i / q\ \text{(at every input)}",
        source=SEED + " (Jensen's inequality for convex activations)", notation=NOTATION,
        params=(Q, D, W, X), rhs=sp.Integer(0), derive=_unit_gap_model(_name),
        model=_unit_model(_name), relation=">=",
        wrong_claims=lambda rhs, twins=_twins: twins,
    ))


# --- sigmoid and tanh: the gap takes both signs --------------------------------------------

def _scalar_activation_model(name):
    def derive():
        space = RandomSpace()
        m = space.scalar("m", Bernoulli(q))
        f = ACTIVATIONS[name][1]
        return expectation(f(m * y / q) - f(y), space)
    return derive


for _name in ("sigmoid", "tanh"):
    for _relation, _suffix, _sign, _tex in ((">=", "", "non-negative", r"\ge"),
                                            ("<=", "-nonpositive", "non-positive", r"\le")):
        register(Identity(
            name=f"jensen.{_name}-sign{_suffix}",
            statement=rf"E[f(m x / q)] - f(x) {_tex} 0"
                      rf"\ \text{{for }} f = \text{{{_name}}}\ (\text{{refuted: the gap is "
                      r"negative for } x > 0 \text{ and positive for } x < 0)",
            source=f"{SEED}: \"dropout introduces a systematic, {_sign} bias\" read for a "
                   f"{_name} unit (neither convex nor concave)",
            notation=NOTATION, params=(Q, SCALAR), rhs=sp.Integer(0),
            derive=_scalar_activation_model(_name),
            model=MaskModel(_scalar_gap_sim(Dropout, _name), lambda pt: 1, "mean",
                            rounding_scale=lambda pt, n=_name: _gap_scale(
                                n, abs(pt["x"]) / pt["q"]),
                            value_bound=_scalar_gap_range(Dropout, _name)),
            relation=_relation, expected="refuted",
        ))


# --- dropout before or after an activation ---------------------------------------------------

def _placement_model(name, scalar=False):
    """E sum_i (f(m_i x_i / q) - m_i f(x_i) / q)^2: zero exactly when dropout commutes."""
    def derive():
        space = RandomSpace()
        f = ACTIVATIONS[name][1]
        if scalar:
            m = space.scalar("m", Bernoulli(q))
            return expectation((f(m * y / q) - m * f(y) / q) ** 2, space)
        m = space.array("m", Bernoulli(q))
        return expectation(sp.Sum((f(m[i] * x[i] / q) - m[i] * f(x[i]) / q) ** 2,
                                  (i, 1, d)), space)
    return derive


def _placement_sim(name):
    def simulate(point, masks, noise=None):
        inputs = np.broadcast_to(np.asarray(point["x"], dtype=np.float64), masks.shape)
        before = _apply(name, Dropout(1.0 - point["q"]).forward(inputs, mask=masks))
        after = Dropout(1.0 - point["q"]).forward(_apply(name, inputs), mask=masks)
        return ((before - after) ** 2).sum(axis=1)
    return simulate


def _alternating_signs(rng, partial):
    """Standard normal magnitudes with signs +, -, +, ...: both sides of the kink at 0 are
    exercised at every drawn point."""
    return np.abs(rng.standard_normal(partial["d"])) * (-1.0) ** np.arange(partial["d"])


def _placement_scale(point):
    return _gap_scale("quadratic", float(np.abs(point["x"]).sum()) / point["q"] + 1.0)


register(Identity(
    name="jensen.relu-homogeneity",
    statement=r"\operatorname{relu}\left(\frac{m_i x_i}{q}\right) = \frac{m_i}{q}"
              r"\operatorname{relu}(x_i)\ \text{for every mask: }"
              r"E\sum_i \left(\operatorname{relu}(m_i x_i/q) - m_i\operatorname{relu}(x_i)/q"
              r"\right)^2 = 0\ \text{(dropout before or after a ReLU is the same layer)}",
    source="REFERENCES.md (ReLU is positively homogeneous)", notation=NOTATION,
    params=(Q, D, Param("x", shape=("d",), sampler=_alternating_signs)), rhs=sp.Integer(0),
    derive=_placement_model("relu"),
    # relu(m x / q) and m relu(x) / q are the same product for x > 0 and both 0 otherwise:
    # every value is exactly 0
    model=MaskModel(_placement_sim("relu"), lambda pt: pt["d"], "mean",
                    rounding_scale=_placement_scale, value_bound=lambda pt: (0.0, 0.0)),
    # what the squared difference would be if one side forgot the 1/q
    wrong_claims=lambda rhs: {"scale-forgotten": (1 - q) ** 2 / q
                              * sp.Sum(sp.Max(0, x[i]) ** 2, (i, 1, d)),
                              "noise-variance": (1 - q) / q
                              * sp.Sum(sp.Max(0, x[i]) ** 2, (i, 1, d))},
))

def _sigmoid_placement_range(point):
    """Two values: a dropped unit gives ``sigma(0)^2 = 1/4``, a kept one ``(sigma(x / q) -
    sigma(x) / q)^2``."""
    value, keep = Interval.exact(point["x"]), keep_probability(point)
    sigmoid = INTERVAL_ACTIVATIONS["sigmoid"]
    kept = (sigmoid(value / keep) - sigmoid(value) / keep).square()
    return Interval.hull(Interval.exact(0.25), kept).bounds()


register(Identity(
    name="jensen.sigmoid-homogeneity",
    statement=r"E\left(\sigma(m x/q) - m\,\sigma(x)/q\right)^2 = 0\ \text{(dropout commutes "
              r"with a sigmoid; refuted: a dropped unit gives } \sigma(0) = 1/2 \ne 0)",
    source="REFERENCES.md (sigmoid is not homogeneous); the ReLU statement carried over",
    notation=NOTATION, params=(Q, SCALAR), rhs=sp.Integer(0),
    derive=_placement_model("sigmoid", scalar=True),
    model=MaskModel(lambda pt, masks, noise=None: _placement_sim("sigmoid")(
        {**pt, "x": np.array([pt["x"]])}, masks), lambda pt: 1, "mean",
        rounding_scale=lambda pt: _placement_scale({**pt, "x": np.array([pt["x"]])}),
        value_bound=_sigmoid_placement_range),
    expected="refuted",
))
