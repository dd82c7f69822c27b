r"""SELU's constants as the fixed point of its first two moments (Klambauer et al. 2017).

For :math:`x \sim \mathcal N(0, 1)` SymPy integrates the two moments of
:math:`\mathrm{selu}_{\lambda,\alpha}(x)` exactly; both are linear in two transcendental
Gaussian integrals :math:`\kappa_1 = E[(e^x - 1) 1_{x \le 0}] = e^{1/2}\Phi(-1) - 1/2` and
:math:`\kappa_2 = E[(e^x - 1)^2 1_{x \le 0}]`. Those two numbers are carried as the exact
rationals of their nearest doubles, so that the canonical form can decide every residual
(a ``erf`` inside a residual would leave it undecided). SciPy's ``root`` then solves
"mean 0, second moment 1" and lands on the published constants to the last bit.

The network core's ``SELU`` has the published constants built in; another ``(lambda, alpha)``
is simulated by rescaling its two branches (``lambda/lambda_0`` on ``x > 0``,
``lambda alpha / (lambda_0 alpha_0)`` on ``x <= 0``), so every value still comes from the
layer.
"""
import mpmath
import numpy as np
import sympy as sp
from scipy.optimize import root

from ...identity import Identity, Param, ReplicateModel, register
from ...network import SELU, SELU_ALPHA, SELU_SCALE
from ...symbolic import Derivation, Step

LAM, ALPHA = sp.Symbol("lambda", positive=True), sp.Symbol("alpha", positive=True)
_X = sp.Symbol("x", real=True)
_PHI = sp.exp(-_X ** 2 / 2) / sp.sqrt(2 * sp.pi)
NOTATION = ("x ~ N(0, 1); selu(x) = lambda x (x > 0), lambda alpha (e^x - 1) (x <= 0); "
            "kappa_1 = E[(e^x - 1) 1{x <= 0}] = e^(1/2) Phi(-1) - 1/2, kappa_2 = "
            "E[(e^x - 1)^2 1{x <= 0}] = e^2 Phi(-2) - 2 e^(1/2) Phi(-1) + 1/2, each the exact "
            "rational of its nearest double")
SOURCE = "Klambauer et al. 2017 (SNN), eqs. (4)-(5) and the fixed point (0, 1); seed 002"
PARAMS = (Param("lambda", 0.0, np.inf, typical=(0.9, 1.2)),
          Param("alpha", 0.0, np.inf, typical=(1.2, 2.0)))


def _integral(expr, lo, hi):
    return sp.simplify(sp.integrate(expr * _PHI, (_X, lo, hi)))


def _rational(exact):
    """The exact rational of the double nearest to ``exact`` (evaluated to 40 digits)."""
    return sp.Rational(float(sp.N(exact, 40)))


#: Klambauer's closed forms of the two Gaussian integrals of the negative branch
KAPPA1_CLOSED = sp.exp(sp.Rational(1, 2)) * sp.erfc(1 / sp.sqrt(2)) / 2 - sp.Rational(1, 2)
KAPPA2_CLOSED = (sp.exp(2) * sp.erfc(sp.sqrt(2)) / 2
                 - sp.exp(sp.Rational(1, 2)) * sp.erfc(1 / sp.sqrt(2)) + sp.Rational(1, 2))
KAPPA1, KAPPA2 = _rational(KAPPA1_CLOSED), _rational(KAPPA2_CLOSED)
MEAN = LAM * (1 / (sp.sqrt(2) * sp.sqrt(sp.pi)) + ALPHA * KAPPA1)
SECOND = LAM ** 2 * (sp.Rational(1, 2) + ALPHA ** 2 * KAPPA2)


def moments_numeric(lam, alpha, *, digits=50):
    """``(E selu, E selu^2)`` evaluated with ``digits`` significant digits (mpmath's ``erfc``)
    and returned as doubles: near the root the mean is a difference of two numbers of size
    0.4, whose double evaluation would lose the last bits of the root."""
    with mpmath.workdps(digits):
        lam, alpha = mpmath.mpf(lam), mpmath.mpf(alpha)
        kappa1 = mpmath.exp(0.5) * mpmath.erfc(1 / mpmath.sqrt(2)) / 2 - 0.5
        kappa2 = (mpmath.exp(2) * mpmath.erfc(mpmath.sqrt(2)) / 2
                  - mpmath.exp(0.5) * mpmath.erfc(1 / mpmath.sqrt(2)) + 0.5)
        return (float(lam * (1 / mpmath.sqrt(2 * mpmath.pi) + alpha * kappa1)),
                float(lam ** 2 * (0.5 + alpha ** 2 * kappa2)))


def fixed_point():
    """``(lambda, alpha)`` with mean 0 and second moment 1, by ``scipy.optimize.root`` on the
    exact Gaussian integrals (:func:`moments_numeric`)."""
    solution = root(lambda v: np.subtract(moments_numeric(*v), (0.0, 1.0)), x0=[1.0, 1.5],
                    method="hybr", tol=1e-15)
    # status 3 ("no further improvement possible") is MINPACK's convergence at the last bit;
    # accept it only with residuals at rounding level
    residual = np.abs(solution.fun).max()
    if solution.status not in (1, 3) or residual > 4 * np.finfo(float).eps:
        raise RuntimeError(f"{solution.message} (residual {residual:.3g})")
    return tuple(float(v) for v in solution.x)


def _derivation(power, closed_form):
    def derive():
        positive = _integral(_X ** power, 0, sp.oo)
        negative = _integral((sp.exp(_X) - 1) ** power, -sp.oo, 0)
        kappa_closed = KAPPA1_CLOSED if power == 1 else KAPPA2_CLOSED
        kappa = KAPPA1 if power == 1 else KAPPA2
        same = sp.simplify(negative - kappa_closed) == 0
        model = LAM ** power * (sp.Integral(_X ** power * _PHI, (_X, 0, sp.oo)) + ALPHA ** power
                                * sp.Integral((sp.exp(_X) - 1) ** power * _PHI, (_X, -sp.oo, 0)))
        result = LAM ** power * (positive + ALPHA ** power * kappa)
        lam, alpha = fixed_point()
        steps = [Step("model: E[selu(x)^%d], x ~ N(0, 1)" % power, model),
                 Step("positive branch, integrated exactly", positive),
                 Step(f"negative branch, integrated exactly (equals Klambauer's closed form: "
                      f"{same})", negative),
                 Step("its value as the exact rational of the nearest double", kappa),
                 Step("moment", result),
                 Step("scipy.optimize.root of (E selu, E selu^2) = (0, 1): (lambda, alpha) "
                      f"= ({lam!r}, {alpha!r}); published ({SELU_SCALE!r}, {SELU_ALPHA!r})",
                      sp.Tuple(sp.Float(lam, 17), sp.Float(alpha, 17)))]
        return Derivation(result, steps)
    return derive


def selu_samples(power):
    """``selu(x)^power`` for standard-normal ``x``, from the core's SELU, branches rescaled
    to the point's ``(lambda, alpha)``."""
    def simulate(point, rng, n):
        x = rng.standard_normal(n)
        y = SELU().forward(x)
        scale = np.where(x > 0.0, point["lambda"] / SELU_SCALE,
                         point["lambda"] * point["alpha"] / (SELU_SCALE * SELU_ALPHA))
        return (scale * y) ** power
    return simulate


_REPLICATES = 1 << 17

register(Identity(
    name="variants.selu-fixed-point-mean",
    statement=r"E[\mathrm{selu}_{\lambda,\alpha}(x)] = \lambda\left(\frac{1}{\sqrt{2\pi}}"
              r" + \alpha\,\kappa_1\right),\ \kappa_1 = e^{1/2}\Phi(-1) - \tfrac12;"
              r"\ = 0 \text{ at } \alpha = 1.6732632423543772",
    source=SOURCE, notation=NOTATION, params=PARAMS, rhs=MEAN, derive=_derivation(1, MEAN),
    model=ReplicateModel(selu_samples(1), "mean", replicates=_REPLICATES, one_call=True),
    wrong_claims=lambda rhs: {"Phi(1) for Phi(-1) (kappa_1 + e^(1/2)(1 - 2 Phi(-1)))":
                              rhs.xreplace({KAPPA1: _rational(KAPPA1_CLOSED + sp.exp(
                                  sp.Rational(1, 2)) * (1 - sp.erfc(1 / sp.sqrt(2))))}),
                              "negative branch without -1": rhs - LAM * ALPHA / 2},
))

register(Identity(
    name="variants.selu-fixed-point",
    statement=r"E[\mathrm{selu}_{\lambda,\alpha}(x)^2] = \lambda^2\left(\tfrac12 + \alpha^2"
              r"\kappa_2\right);\ (E, E^2) = (0, 1) \text{ at } (\lambda, \alpha) = "
              r"(1.0507009873554805, 1.6732632423543772)\ (\text{scipy root})",
    source=SOURCE, notation=NOTATION, params=PARAMS, rhs=SECOND, derive=_derivation(2, SECOND),
    model=ReplicateModel(selu_samples(2), "mean", replicates=_REPLICATES, one_call=True),
    wrong_claims=lambda rhs: {"lambda instead of lambda^2": rhs / LAM,
                              "positive half dropped": rhs - LAM ** 2 / 2},
))
