r"""Alpha dropout (Klambauer et al. 2017): the affine constants, derived, and where they fail.

A dropped SELU unit is set to its saturation value :math:`\alpha' = -\lambda\alpha`, then
``y = a (m x + (1 - m) alpha') + b``. The engine derives the mean and variance of ``y`` for an
input of mean ``mu`` and variance ``nu``; ``sympy.solve`` gives the ``(a, b)`` that preserve
both, which reduce to Klambauer's constants at ``mu = 0``, ``nu = 1``. ``AlphaDropout`` uses
those constants, so its output has mean 0 and variance 1 for a standard-normal input, but
not for a constant input (seed 002 states the property without the input's law).
"""
import numpy as np
import sympy as sp

from ...identity import Identity, MaskModel, Param, drop_probability, register
from ...network import ALPHA_PRIME, AlphaDropout
from ...symbolic import Bernoulli, Derivation, Moments, Normal, RandomSpace, Step, expectation, \
    variance
from .._common import Interval, Q, keep_probability, q

NOTATION = ("q = keep probability = 1 - p (torch.nn.AlphaDropout(p)); m ~ Bernoulli(q); "
            "alpha' = -lambda*alpha = -1.7580993408473766 (the double PyTorch uses), dropped "
            "units are set to alpha', then y = a (m x + (1 - m) alpha') + b")
SOURCE = "Klambauer et al. 2017 (SNN), sec. 'New dropout technique'; seed 002 ('Alpha Dropout')"
#: the layer's alpha' as an exact rational (the double itself), so the algebra stays exact
AP = sp.Rational(ALPHA_PRIME)
A_SYM, MU, NU = sp.Symbol("alpha'", real=True), sp.Symbol("mu", real=True), \
    sp.Symbol("nu", positive=True)
a_, b_ = sp.symbols("a b", real=True)
C = sp.Symbol("c", real=True)
#: variance of m x + (1 - m) alpha' for a standard-normal x
V = q + AP ** 2 * q * (1 - q)
A_KLAMBAUER = V ** sp.Rational(-1, 2)
B_KLAMBAUER = -A_KLAMBAUER * (1 - q) * AP
#: the drop rates of the printed table
TABLE_RATES = (0.05, 0.1, 0.2, 0.5)


def _output(x, ap=A_SYM, a=a_, b=b_):
    space = RandomSpace()
    m = space.scalar("m", Bernoulli(q))
    return space, a * (m * x + (1 - m) * ap) + b


def solve_constants():
    """``(a, b)`` preserving mean ``mu`` and variance ``nu``, from the engine's moments."""
    space, y = _output(sp.Symbol("x", real=True))
    x = next(s for s in y.free_symbols if s.name == "x")
    space.variables[x] = Moments(MU, NU, "x")
    mean, var = expectation(y, space).result, variance(y, space).result
    solutions = sp.solve([mean - MU, var - NU], [a_, b_], dict=True)
    # a > 0 keeps the sign of the input (the other root mirrors it)
    positive = [s for s in solutions
                if s[a_].subs({q: sp.Rational(1, 2), A_SYM: -2, MU: 0, NU: 1}) > 0]
    (chosen,) = positive
    return mean, var, sp.simplify(chosen[a_]), sp.simplify(chosen[b_])


def constants_table(rates=TABLE_RATES):
    """``[(p, a, b)]`` of Klambauer's constants at the layer's alpha', as floats."""
    return [(p, float(A_KLAMBAUER.subs(q, 1 - sp.Rational(str(p)))),
             float(B_KLAMBAUER.subs(q, 1 - sp.Rational(str(p))))) for p in rates]


def _constants_steps():
    mean, var, a, b = solve_constants()
    at_standard = {MU: 0, NU: 1}
    klambauer_a = (q + A_SYM ** 2 * q * (1 - q)) ** sp.Rational(-1, 2)
    klambauer_b = -klambauer_a * (1 - q) * A_SYM
    same_a = sp.simplify(a.subs(at_standard) ** 2 - klambauer_a ** 2) == 0
    same_b = sp.simplify(b.subs(at_standard) / a.subs(at_standard) + (1 - q) * A_SYM) == 0
    table = sp.Matrix([[sp.Float(p, 3), sp.Float(av, 17), sp.Float(bv, 17)]
                       for p, av, bv in constants_table()])
    return [Step("E[y], input of mean mu and variance nu (engine)", mean),
            Step("Var[y] (engine)", var),
            Step("sympy.solve E[y] = mu, Var[y] = nu for (a, b), root a > 0: a", a),
            Step("... and b", b),
            Step(f"at mu = 0, nu = 1: a^2 equals Klambauer's (q + alpha'^2 q(1-q))^-1 "
                 f"({same_a}), b equals -a (1-q) alpha' ({same_b})",
                 sp.Tuple(klambauer_a, klambauer_b)),
            Step("numeric (p, a, b) at alpha' = -1.7580993408473766", table)]


def _standard_model(statistic):
    def derive():
        space, y = _output(sp.Symbol("x", real=True), AP, A_KLAMBAUER, B_KLAMBAUER)
        x = next(s for s in y.free_symbols if s.name == "x")
        space.variables[x] = Normal(0, 1)
        moment = (expectation if statistic == "mean" else variance)(y, space)
        steps = [moment.steps[0], *_constants_steps(), *moment.steps[1:]]
        return Derivation(sp.simplify(moment.result), steps, moment.terms)
    return derive


def _constant_model():
    space, y = _output(C, AP, A_KLAMBAUER, B_KLAMBAUER)
    moment = variance(y, space)
    return Derivation(sp.factor(moment.result), moment.steps, moment.terms)


def _scale(point):
    """Bound on the terms the layer adds: a |x| (|x| <= 6 for the nodes and draws that
    matter), a |alpha'| and |b|."""
    a = float(A_KLAMBAUER.subs(q, 1 - drop_probability(point)))
    return a * (6.0 + abs(point.get("c", 0.0)) + 2.0 * abs(ALPHA_PRIME))


def _output_range(point, inputs) -> tuple:
    """AlphaDropout's outputs for inputs in the interval ``inputs``: ``a x + b`` kept,
    ``a alpha' + b`` dropped (``a``, ``b`` the layer's affine fix), rounded outward."""
    if drop_probability(point) == 1.0:
        return 0.0, 0.0  # the layer returns zeros
    keep = keep_probability(point)
    a = 1.0 / (keep + Interval.exact(ALPHA_PRIME).square() * keep * (1.0 - keep)).increasing(
        np.sqrt)
    b = -(a * (1.0 - keep) * ALPHA_PRIME)
    return Interval.hull(a * inputs + b, a * ALPHA_PRIME + b).bounds()


def _constant_range(point) -> tuple:
    """A constant input takes two values: ``a c + b`` kept, ``a alpha' + b`` dropped."""
    return _output_range(point, Interval.exact(point["c"]))


def _normal_input(point, masks, noise):
    """AlphaDropout(p) of one standard-normal input per mask row."""
    layer = AlphaDropout(drop_probability(point))
    return layer.forward(noise[:, None], mask=masks)[:, 0]


def _normal_input_bound(point, radius):
    """AlphaDropout's output range while the standard-normal input stays within ``radius``."""
    return _output_range(point, Interval(-radius, radius))


def _constant_input(point, masks, noise):
    layer = AlphaDropout(drop_probability(point))
    return layer.forward(np.full(masks.shape, point["c"]), mask=masks)[:, 0]


def _one(point):
    return 1


#: twins: a with the exponent +1/2 (Var = V^2), keep and drop swapped in a, no correction
_VAR_TWINS = {"exponent +1/2 in a": V ** 2, "keep and drop swapped in a":
              V / V.subs(q, 1 - q, simultaneous=True), "no affine correction (a = 1)": V}

ALPHA_VARIANCE = register(Identity(
    name="variants.alpha-constants",
    statement=r"\operatorname{Var}[y] = 1,\ y = a\,(m x + (1-m)\alpha') + b,\ "
              r"a = \bigl(q + \alpha'^2 q(1-q)\bigr)^{-1/2},\ b = -a(1-q)\alpha',"
              r"\ x \sim \mathcal N(0, 1)\ (\text{a, b solved from mean and variance "
              r"preservation})",
    source=SOURCE, notation=NOTATION, params=(Q,), rhs=sp.Integer(1),
    derive=_standard_model("var"),
    model=MaskModel(_normal_input, _one, "var", noise_degree=1, rounding_scale=_scale,
                    value_bound=_normal_input_bound),
    wrong_claims=lambda rhs: dict(_VAR_TWINS),
))

register(Identity(
    name="variants.alpha-constants-mean",
    statement=r"E[y] = a(1-q)\alpha' + b = 0\ \text{for } x \sim \mathcal N(0, 1)"
              r"\ (\text{AlphaDropout keeps mean 0})",
    source=SOURCE, notation=NOTATION, params=(Q,), rhs=sp.Integer(0),
    derive=_standard_model("mean"),
    model=MaskModel(_normal_input, _one, "mean", noise_degree=1, rounding_scale=_scale,
                    value_bound=_normal_input_bound),
    wrong_claims=lambda rhs: {"no affine correction: (1-q) alpha'": (1 - q) * AP,
                              "keep and drop swapped, no correction: q alpha'": q * AP},
))

CONSTANT_PARAMS = (Q, Param("c", typical=(-2.0, 2.0)))
CONSTANT_VARIANCE = q * (1 - q) * (C - AP) ** 2 / V

register(Identity(
    name="variants.alpha-constant-input",
    statement=r"\operatorname{Var}[y] = 1 \text{ for a constant input } x = c"
              r"\ (\text{refuted: it is } q(1-q)(c-\alpha')^2 / (q + \alpha'^2 q (1-q)))",
    source="seed 002 ('Alpha dropout is designed to maintain the mean and variance', no "
           "input law stated); Klambauer et al. assume standard-normal inputs",
    notation=NOTATION + "; x = c deterministic", params=CONSTANT_PARAMS, rhs=sp.Integer(1),
    derive=_constant_model, expected="refuted",
    model=MaskModel(_constant_input, _one, "var", rounding_scale=_scale,
                    value_bound=_constant_range),
    wrong_claims=lambda rhs: {"no variance at all (0)": sp.Integer(0)},
))

register(Identity(
    name="variants.alpha-constant-input-variance",
    statement=r"\operatorname{Var}[y] = \frac{q(1-q)(c-\alpha')^2}{q + \alpha'^2 q(1-q)}"
              r",\ \text{i.e. sd } = a\,|c - \alpha'|\sqrt{q(1-q)}\ (x = c \text{ constant})",
    source="derived here (what AlphaDropout does to a constant input)",
    notation=NOTATION + "; x = c deterministic", params=CONSTANT_PARAMS, rhs=CONSTANT_VARIANCE,
    derive=_constant_model,
    model=MaskModel(_constant_input, _one, "var", rounding_scale=_scale,
                    value_bound=_constant_range),
    wrong_claims=lambda rhs: {"c instead of c - alpha'": q * (1 - q) * C ** 2 / V},
))
