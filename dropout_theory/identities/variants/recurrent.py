r"""A linear recurrent state under recurrent dropout: one mask for all steps, or a fresh one each.

The state is :math:`h_t = a\, \frac{m_t}{q} h_{t-1}` (``Dropout`` then ``Linear(1, 1)`` of the
core, unrolled ``T`` steps from :math:`h_0`). With fresh masks the factors are independent,
so :math:`E h_T = a^T h_0` stays unbiased. With one shared (variational, Gal & Ghahramani
2016) mask the same factor enters ``T`` times and :math:`m^T = m`, so :math:`E h_T = q^{1-T}
a^T h_0`: inverted scaling corrects one use of a mask, not ``T``. The core's ``DropoutRNN``
is a tanh RNN, whose moments have no closed form; these identities use the linear state its
recurrent connection would carry without the tanh.
"""
import numpy as np
import sympy as sp

from ...identity import Identity, MaskModel, Param, drop_probability, register
from ...network import Dropout, Linear
from ...symbolic import Bernoulli, Derivation, RandomSpace, Step, expectation
from .._common import Interval, Q, keep_probability, q

T = sp.Symbol("T", integer=True, positive=True)
t = sp.Symbol("t", integer=True)
A, H0 = sp.Symbol("a", real=True), sp.Symbol("h_0", real=True)
NOTATION = ("q = keep probability = 1 - p; h_t = a (m_t / q) h_{t-1}, t = 1..T; fresh: m_t ~ "
            "Bernoulli(q) i.i.d. per step; variational: m_t = m for every t")
SOURCE = ("seed 002 ('Variational Dropout', 'Recurrent Dropout'); Gal & Ghahramani 2016; "
          "Semeniuta et al. 2016")
PARAMS = (Q, Param("T", 1, np.inf, typical=(1, 6), integer=True),
          Param("a", typical=(0.5, 1.5)), Param("h_0", typical=(-2.0, 2.0)))


def _fresh(power):
    def derive():
        space = RandomSpace()
        m = space.array("m", Bernoulli(q))
        model = (A * H0) ** power * sp.Product((m[t] / q) ** power, (t, 1, T)) * A ** (
            power * (T - 1))
        factor = expectation((m[1] / q) ** power, space)
        result = (A ** T * H0) ** power * sp.Product(factor.result, (t, 1, T)).doit()
        return Derivation(sp.powsimp(sp.expand_power_base(result, force=True)), [
            Step("model: E[h_T^%d] with fresh masks, independent across steps" % power, model),
            Step("one step's factor E[(m_t/q)^%d] (engine)" % power, factor.result),
            Step("independence: the product of the T factors' expectations", result)])
    return derive


def _shared(power):
    def derive():
        space = RandomSpace()
        m = space.scalar("m", Bernoulli(q))
        model = (A ** T * H0) ** power * (m / q) ** (power * T)
        result = (A ** T * H0) ** power * q ** (1 - power * T)
        return Derivation(sp.powsimp(sp.expand_power_base(result, force=True)), [
            Step("model: E[h_T^%d] with one mask m for all T steps" % power, model),
            Step("m^(kT) = m for a 0/1 mask and kT >= 1, so E[m^(kT)] = q", q),
            Step("E[h_T^k] = (a^T h_0)^k q / q^(kT)", result)])
    return derive


def _state(shared):
    def simulate(point, masks, noise=None):
        """``h_T`` through the core's Dropout and Linear(1, 1), unrolled ``T`` steps."""
        drop = Dropout(drop_probability(point))
        step = Linear(1, 1, bias=False, rng=np.random.default_rng(0))
        step.weight[:] = point["a"]
        h = np.full((len(masks), 1), point["h_0"])
        for k in range(point["T"]):
            h = step.forward(drop.forward(h, mask=masks[:, :1] if shared else masks[:, k:k + 1]))
        return h[:, 0]
    return simulate


def _scale(power):
    def scale(point):
        keep = 1.0 - drop_probability(point)
        return (abs(point["a"]) ** point["T"] * abs(point["h_0"]) / keep ** point["T"]) ** power
    return scale


def _state_range(power):
    """``h_T`` is 0 (a mask dropped) or ``(a / q)^T h_0`` (every mask kept), with fresh and
    shared masks alike; its square lies between 0 and the square of the latter."""
    def bound(point):
        state = Interval.exact(point["h_0"])
        for _ in range(point["T"]):
            state = state * point["a"] / keep_probability(point)
        state = Interval.hull(0.0, state)
        return (state if power == 1 else state.square()).bounds()
    return bound


def _square(simulate):
    return lambda point, masks, noise=None: simulate(point, masks) ** 2


FRESH_MEAN, SHARED_MEAN = A ** T * H0, q ** (1 - T) * A ** T * H0
FRESH_SECOND = A ** (2 * T) * H0 ** 2 * q ** (-T)
SHARED_SECOND = A ** (2 * T) * H0 ** 2 * q ** (1 - 2 * T)
_CASES = [
    ("variants.recurrent-masks", "E[h_T] = a^T h_0\\ (\\text{fresh masks: unbiased})", False, 1,
     FRESH_MEAN, SHARED_MEAN, "variational mean"),
    ("variants.recurrent-masks-variational", "E[h_T] = q^{1-T} a^T h_0\\ (\\text{one shared "
     "mask: biased upwards by } q^{1-T} \\text{ for } T \\ge 2)", True, 1, SHARED_MEAN,
     FRESH_MEAN, "fresh-mask mean (unbiased)"),
    ("variants.recurrent-masks-second", "E[h_T^2] = a^{2T} h_0^2 q^{-T}\\ (\\text{fresh "
     "masks})", False, 2, FRESH_SECOND, SHARED_SECOND, "variational second moment"),
    ("variants.recurrent-masks-variational-second", "E[h_T^2] = a^{2T} h_0^2 q^{1-2T}\\ "
     "(\\text{one shared mask})", True, 2, SHARED_SECOND, FRESH_SECOND,
     "fresh-mask second moment"),
]

for _name, _statement, _shared_mask, _power, _rhs, _other, _label in _CASES:
    _sim = _state(_shared_mask)
    register(Identity(
        name=_name, statement=_statement, source=SOURCE, notation=NOTATION, params=PARAMS,
        rhs=_rhs, derive=(_shared if _shared_mask else _fresh)(_power),
        model=MaskModel(_sim if _power == 1 else _square(_sim),
                        (lambda point: 1) if _shared_mask else (lambda point: point["T"]),
                        "mean", rounding_scale=_scale(_power), value_bound=_state_range(_power)),
        wrong_claims=lambda rhs, other=_other, label=_label: {label: other},
    ))
