r"""Concrete dropout's relaxed mask and the Bernoulli mask it tends to (Gal, Hron & Kendall 2017).

The layer's relaxed drop indicator is :math:`z = \sigma((\operatorname{logit} p +
\operatorname{logit} u)/t)`, ``u`` uniform. Thresholding it, :math:`b = 1[z > 1/2] = 1[u > 1 -
p]`, gives a Bernoulli(p) drop mask at *every* temperature (a monotone coupling), and
:math:`z \to b` as :math:`t \to 0`. The distance has a bound: with :math:`v = \operatorname{logit}
p + L`, ``L`` logistic (density at most 1/4),

.. math:: E|z - b| = E\,\sigma(-|v|/t) \le \tfrac14 \int \sigma(-|v|/t)\,dv = \tfrac{\ln 2}{2}\,t,

so the relaxed mask's mean is within :math:`t \ln 2 / 2` of ``p`` (checked in the family's
tests on the layer). The mean itself has no closed form in the expectation engine's reach
(an integral of a logistic of a logit), so only the threshold identity is registered.
"""
import numpy as np
import sympy as sp

from ...identity import Identity, Param, ReplicateModel, drop_probability, register
from ...network import ConcreteDropout
from ...symbolic import Derivation, Step

p = sp.Symbol("p", positive=True)
u = sp.Symbol("u", positive=True)
t = sp.Symbol("t", positive=True)
NOTATION = ("p = drop probability (ConcreteDropout(p, temperature=t)); u ~ U(0, 1) the layer's "
            "uniforms; z = sigmoid((logit p + logit u)/t) the relaxed drop indicator, the layer "
            "outputs (1 - z) x / (1 - p)")


def _derive():
    logit_p = sp.log(p / (1 - p))
    (threshold,) = sp.solve(sp.Eq(logit_p + sp.log(u / (1 - u)), 0), u)
    result = sp.simplify(1 - threshold)
    return Derivation(result, [
        Step("model: P(z > 1/2), z = sigmoid((logit p + logit u)/t), t > 0",
             sp.Function("P")(sp.StrictGreaterThan(1 / (1 + sp.exp(-(logit_p + sp.log(
                 u / (1 - u))) / t)), sp.Rational(1, 2)))),
         Step("z > 1/2 iff logit p + logit u > 0 (t > 0); sympy.solve for the boundary u",
              threshold),
         Step("P(u > 1 - p) for u ~ U(0, 1), whatever t", result)])


def relaxed_indicator(point, uniforms):
    """``z`` for the given uniforms, read from ``ConcreteDropout``'s output on ones."""
    drop = drop_probability(point)
    layer = ConcreteDropout(drop, temperature=point["t"])
    out = layer.forward(np.ones(len(uniforms)), mask=uniforms)
    return 1.0 - out * (1.0 - drop)


register(Identity(
    name="variants.concrete-threshold",
    statement=r"P(z > 1/2) = p\ \text{at every temperature } t\ (b = 1[z > 1/2] \text{ is the "
              r"Bernoulli}(p) \text{ drop mask } z \text{ tends to as } t \to 0)",
    source="Gal, Hron & Kendall 2017 (concrete dropout); seed 002 ('Concrete Dropout')",
    notation=NOTATION, params=(Param("p", 0.0, 1.0, typical=(0.05, 0.6)),
                               Param("t", 0.0, np.inf, typical=(0.05, 1.0))),
    rhs=p, derive=_derive, probability="p",
    model=ReplicateModel(lambda point, rng, n: (relaxed_indicator(point, rng.random(n)) > 0.5)
                         .astype(float), "mean", replicates=1 << 17, one_call=True),
    wrong_claims=lambda rhs: {"squared (two independent thresholds)": p ** 2},
))
