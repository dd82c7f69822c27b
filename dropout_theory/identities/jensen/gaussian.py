r"""The Gaussian approximation of a dropout pre-activation, and the probit identities built on it.

A unit ``z = b + sum_i w_i x_i m_i / q`` has mean ``mu = b + w . x`` and variance
``s^2 = (1-q)/q sum_i w_i^2 x_i^2``; treating ``z`` as ``N(mu, s^2)`` gives
``E[relu(z)] = mu Phi(mu/s) + s phi(mu/s)`` (Wang & Manning 2013). The error of that step
shrinks with the width as the central limit theorem allows: its leading term is the skewness
of ``z``, ``sum_i (w_i x_i)^3 E[(m/q - 1)^3] / s^3 ~ d^{-1/2}``.
"""
from functools import partial

import numpy as np
import sympy as sp
from scipy import optimize, special, stats

from ...identity import Approximation, ExpressionModel, Identity, MaskModel, Param, \
    RandomVariable, register
from ...network import Dropout, Linear, ReLU
from ...symbolic import Bernoulli, Derivation, Normal, RandomSpace, Step, expectation, \
    variance
from ...symbolic.operators import E
from ...symbolic.statements import derive_statement
from .._common import d, i, masked_unit, q, unit_scale, w, x

mu = sp.Symbol("mu", real=True)
s = sp.Symbol("s", positive=True)
lam = sp.Symbol("lambda", positive=True)
t = sp.Symbol("t", real=True)


def Phi(u):
    return (1 + sp.erf(u / sp.sqrt(2))) / 2


def phi(u):
    return sp.exp(-u ** 2 / 2) / sp.sqrt(2 * sp.pi)


def gaussian_relu_mean(mean, sd):
    """``E[relu(Z)]`` for ``Z ~ N(mean, sd^2)``."""
    return mean * Phi(mean / sd) + sd * phi(mean / sd)


# --- the ReLU unit at growing width ---------------------------------------------------------

#: the second block's weight is -GOLDEN times the first's: an irrational ratio, so the kept
#: counts of the two blocks never line up on one lattice (a one-weight unit is a lattice
#: variable, whose E[relu] oscillates with d around the Gaussian value)
GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0


def _blocks(point):
    return point["d"] // 2, point["d"] - point["d"] // 2


def _two_block_weights(rng, partial):
    """Weights ``a`` on the first half and ``-GOLDEN a`` on the second, ``a`` chosen so that
    the pre-activation's dropout variance ``(1-q)/q sum_i w_i^2`` is 1 at every width."""
    first, second = _blocks(partial)
    a = np.sqrt(partial["q"] / (1.0 - partial["q"]) / (first + second * GOLDEN ** 2))
    return np.concatenate([np.full(first, a), np.full(second, -GOLDEN * a)])


def _unit_layers(point):
    """Dropout on the inputs, then a Linear unit whose bias puts the mean at ``mu``."""
    weights, inputs = np.asarray(point["w"]), np.asarray(point["x"])
    linear = Linear(point["d"], 1, rng=np.random.default_rng(0))
    linear.params["weight"] = weights[None, :]
    linear.params["bias"] = np.array([point["mu"] - weights @ inputs])
    return Dropout(1.0 - point["q"]), linear, ReLU()


def relu_unit(point, masks, noise=None):
    """``relu(b + w . (m x / q))`` per mask row, by the network core's layers."""
    dropout, linear, relu = _unit_layers(point)
    hidden = dropout.forward(np.broadcast_to(point["x"], masks.shape), mask=masks)
    return relu.forward(linear.forward(hidden))[:, 0]


def _relu_unit_range(point) -> tuple:
    """relu (increasing) of the unit's masked range plus the layer's bias."""
    bias = float(_unit_layers(point)[1].params["bias"][0])
    return (masked_unit(point["w"], point["x"], point) + bias).relu().bounds()


def _relu_unit_scale(point) -> float:
    bias = abs(point["mu"] - float(np.asarray(point["w"]) @ np.asarray(point["x"])))
    return unit_scale(point) + bias + abs(point["mu"])


_MEAN = mu  # the unit's mean b + w . x, a parameter of the statement
_SD = sp.sqrt((1 - q) / q * sp.Sum(w[i] ** 2 * x[i] ** 2, (i, 1, d)))
RELU_GAUSSIAN = gaussian_relu_mean(_MEAN, _SD)


def _relu_gaussian_derivation():
    """The Gaussian approximation's two moments from the engine, then the Gaussian integral."""
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    centered = sp.Sum(w[i] * x[i] * (m[i] / q - 1), (i, 1, d))
    mean_step = expectation(mu + centered, space)
    var_step = variance(mu + centered, space)
    sd = sp.Symbol("sigma", positive=True)
    integral = sp.integrate((mu + sd * t) * phi(t), (t, -mu / sd, sp.oo))
    exact = sp.Function("E")(sp.Max(0, mu + centered))
    return Derivation(exact, [
        Step("exact: z = mu + sum_i w_i x_i (m_i/q - 1) (bias b = mu - w.x); no moment rule "
             "for E[relu(z)] (every mask inside one kink)", exact),
        Step("E[z] by the engine", mean_step.result),
        Step("Var[z] by the engine", var_step.result),
        Step("Gaussian approximation z ~ N(mu, sigma^2): E[relu] = integral of (mu + sigma t) "
             "phi(t) over t > -mu/sigma", sp.simplify(integral)),
        Step("with sigma^2 = Var[z]", RELU_GAUSSIAN),
    ])


RELU_GAUSSIAN_IDENTITY = register(Identity(
    name="jensen.relu-gaussian",
    statement=r"E[\operatorname{relu}(z)] \approx \mu\,\Phi(\mu/s) + s\,\varphi(\mu/s),\ "
              r"z = b + \sum_{i=1}^{d} w_i x_i m_i/q,\ \mu = E z,\ s^2 = \frac{1-q}{q}"
              r"\sum_i w_i^2 x_i^2\ \text{(error } \Theta(d^{-1/2})\text{: the skewness of } z)",
    source="Wang & Manning 2013 (fast dropout); REFERENCES.md (Gaussian approximation)",
    notation="q = keep probability; a unit of width d whose inputs x_i = 1 carry two weights "
             "(a on half of them, -0.618 a on the other half) scaled so that s = 1; mu is the "
             "unit's mean (its bias b = mu - w.x)",
    params=(Param("q", 0.0, 1.0, typical=(0.65, 0.9)),
            Param("d", 2, np.inf, typical=(2, 8), integer=True),
            Param("mu", typical=(0.5, 2.0)),
            Param("w", shape=("d",), sampler=_two_block_weights),
            Param("x", shape=("d",), sampler=lambda rng, partial: np.ones(partial["d"]))),
    rhs=RELU_GAUSSIAN, derive=_relu_gaussian_derivation, expected="approximate",
    model=Approximation(MaskModel(relu_unit, lambda pt: pt["d"], "mean",
                                  rounding_scale=_relu_unit_scale, exchangeable=_blocks,
                                  value_bound=_relu_unit_range),
                        order=0.5, parameter="d", range=(50, 500)),
    wrong_claims=lambda rhs: {
        "variance-without-(1-q)/q": gaussian_relu_mean(_MEAN, sp.sqrt(
            sp.Sum(w[i] ** 2 * x[i] ** 2, (i, 1, d)))),
        "relu-of-the-mean": sp.Max(0, _MEAN)},
))


# --- probit: exact for a Gaussian z, and the logistic sigmoid through it ---------------------

def _gaussian_space():
    space = RandomSpace()
    return space, space.scalar("z", Normal(mu, s))


PROBIT = Phi(lam * mu / sp.sqrt(1 + lam ** 2 * s ** 2))


def _probit_derivation():
    r"""``F(mu) = E[Phi(lambda z)]`` and the claim ``G(mu)`` both vanish as ``mu -> -oo``
    (dominated convergence; Phi is bounded) and have the same derivative in ``mu``: the
    derivative of ``F`` is a Gaussian integral SymPy evaluates in closed form."""
    exact = E(sp.Function("Phi")(lam * sp.Symbol("z", real=True)))
    d_exact = sp.integrate(lam * phi(lam * (mu + s * t)) * phi(t), (t, -sp.oo, sp.oo))
    d_claim = sp.diff(PROBIT, mu)
    same = sp.simplify(d_exact - d_claim) == 0
    steps = [Step("z = mu + s t, t ~ N(0, 1): F(mu) = E[Phi(lambda z)]", exact),
             Step("dF/dmu = lambda E[phi(lambda z)], a Gaussian integral", d_exact),
             Step("d/dmu of Phi(lambda mu / sqrt(1 + lambda^2 s^2))", d_claim),
             Step("their difference simplifies to 0" if same else
                  "their difference does not simplify to 0", sp.simplify(d_exact - d_claim)),
             Step("F and the claim -> 0 as mu -> -oo, so F equals it" if same else
                  "no conclusion", PROBIT if same else exact)]
    return Derivation(PROBIT if same else exact, steps)


def _expression(lhs, label):
    space, z = _gaussian_space()
    lhs = lhs(z)
    model = ExpressionModel(lhs, (RandomVariable("z", "Normal", (mu, s)),), space, label=label)
    return lhs, space, model


_GAUSSIAN_PARAMS = (Param("mu", typical=(-3.0, 3.0)), Param("s", 0.0, np.inf, typical=(0.1, 2.0)))
_PROBIT_LHS, _, _PROBIT_MODEL = _expression(lambda z: E(Phi(lam * z)), "jensen.probit-sigmoid")

register(Identity(
    name="jensen.probit-sigmoid",
    statement=r"E[\Phi(\lambda z)] = \Phi\left(\frac{\lambda\mu}{\sqrt{1+\lambda^2 s^2}}\right),"
              r"\ z \sim N(\mu, s^2)\ \text{(exact)}",
    source="REFERENCES.md (Gaussian approximation; probit averaging)",
    notation="z ~ Normal(mean mu, standard deviation s); Phi, phi the standard normal cdf, pdf",
    params=(*_GAUSSIAN_PARAMS, Param("lambda", 0.0, np.inf, typical=(0.2, 3.0))),
    rhs=PROBIT, derive=_probit_derivation, model=_PROBIT_MODEL,
    wrong_claims=lambda rhs: {"variance-ignored": Phi(lam * mu),
                              "sd-not-variance": Phi(lam * mu / sp.sqrt(1 + lam * s))},
))

KAPPA = sp.sqrt(sp.pi / 8)  # sigma(x) ~ Phi(KAPPA x): equal slopes at 0


def _logistic_gap(x_value):
    return special.expit(x_value) - stats.norm.cdf(float(KAPPA) * x_value)


#: sup_x |sigma(x) - Phi(sqrt(pi/8) x)| (SciPy; 0.0176712 at x = +-2.7636), rounded up
_SUP = -optimize.minimize_scalar(lambda v: -abs(_logistic_gap(v)), bounds=(0.0, 6.0),
                                 method="bounded", options={"xatol": 1e-10}).fun
LOGISTIC_BOUND = sp.Rational(177, 10000)
assert _SUP < float(LOGISTIC_BOUND) < 1.01 * _SUP


def _logistic(u):
    return 1 / (1 + sp.exp(-u))


_LOGISTIC_LHS, _LOGISTIC_SPACE, _LOGISTIC_MODEL = _expression(
    lambda z: E(_logistic(z) - Phi(KAPPA * z)), "jensen.probit-sigmoid-logistic")

register(Identity(
    name="jensen.probit-sigmoid-logistic",
    statement=r"E[\sigma(z)] = \Phi\left(\frac{\kappa\mu}{\sqrt{1+\kappa^2 s^2}}\right),\ "
              r"\kappa = \sqrt{\pi/8}\ \text{(refuted as an identity: } \sigma(x) \ne"
              r"\Phi(\kappa x)\text{; checked as } E[\sigma(z) - \Phi(\kappa z)] = 0"
              r"\text{ with the probit identity)}",
    source="MacKay 1992 / Wang & Manning 2013 (probit approximation of the logistic); "
           "REFERENCES.md",
    notation="z ~ Normal(mu, s); sigma the logistic sigmoid; E[Phi(kappa z)] is the closed form "
             "by jensen.probit-sigmoid, so the claim is E[sigma(z) - Phi(kappa z)] = 0",
    params=_GAUSSIAN_PARAMS, rhs=sp.Integer(0),
    derive=partial(derive_statement, _LOGISTIC_LHS, _LOGISTIC_SPACE), model=_LOGISTIC_MODEL,
    expected="refuted",
))

_SQUARED_LHS, _SQUARED_SPACE, _SQUARED_MODEL = _expression(
    lambda z: E(_logistic(z) - Phi(KAPPA * z)) ** 2, "jensen.probit-sigmoid-logistic-bound")

register(Identity(
    name="jensen.probit-sigmoid-logistic-bound",
    statement=r"\left|E[\sigma(z)] - \Phi\left(\frac{\kappa\mu}{\sqrt{1+\kappa^2 s^2}}\right)"
              r"\right| \le 0.0177 = \text{(rounded up) } \sup_x |\sigma(x) - \Phi(\kappa x)|",
    source="the probit approximation's error, bounded by its worst case at a point",
    notation="z ~ Normal(mu, s); kappa = sqrt(pi/8); written as (E[sigma(z) - Phi(kappa z)])^2 "
             "<= 0.0177^2",
    params=_GAUSSIAN_PARAMS, rhs=LOGISTIC_BOUND ** 2,
    derive=partial(derive_statement, _SQUARED_LHS, _SQUARED_SPACE), model=_SQUARED_MODEL,
    relation="<=",
    wrong_claims=lambda rhs: {"a-tenth-of-the-bound": rhs / 100,
                              "a-third-of-the-bound": rhs / 9},
))
