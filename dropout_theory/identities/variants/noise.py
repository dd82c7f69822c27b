r"""Gaussian dropout against Bernoulli dropout: the two moments that agree, the one that does not.

``GaussianDropout`` multiplies by :math:`\xi \sim \mathcal N(1, p/q)`, the mean and variance of
the inverted Bernoulli factor :math:`m/q`. Every statement that uses only those two moments,
such as dropout's expected ridge loss, holds for both; the fourth central moment tells them
apart (Srivastava et al. 2014, sec. 10, chose the Gaussian to match two moments only).
"""
import numpy as np
import sympy as sp

from ...identity import Identity, MaskModel, Param, ReplicateModel, drop_probability, register
from ...network import Dropout, GaussianDropout
from ...symbolic import Bernoulli, Normal, RandomSpace, expectation
from .._common import Interval, keep_probability, q

NOTATION = ("q = keep probability = 1 - p; Gaussian dropout xi ~ N(1, (1-q)/q) "
            "(torch-style GaussianDropout(p)); inverted Bernoulli factor m/q, m ~ Bernoulli(q)")
SOURCE = "Srivastava et al. 2014, sec. 10 (multiplicative Gaussian noise); seeds 001, 003"
Q = Param("q", 0.0, 1.0, typical=(0.2, 0.95), edges=(1.0,))
i, j = sp.symbols("i j", integer=True)
n, d = sp.symbols("n d", integer=True, positive=True)
X, y, w = (sp.IndexedBase(s, real=True) for s in ("X", "y", "w"))
x0 = sp.Symbol("x", real=True)
RIDGE = sp.Sum((y[i] - sp.Sum(X[i, j] * w[j], (j, 1, d))) ** 2, (i, 1, n)) + (1 - q) / q * \
    sp.Sum(X[i, j] ** 2 * w[j] ** 2, (i, 1, n), (j, 1, d))


def _gaussian(space, name="xi", shape=True):
    law = Normal(1, sp.sqrt((1 - q) / q))
    return space.array(name, law) if shape else space.scalar(name, law)


def _ridge_model():
    space = RandomSpace()
    xi = _gaussian(space)
    return expectation(sp.Sum((y[i] - sp.Sum(X[i, j] * xi[i, j] * w[j], (j, 1, d))) ** 2,
                              (i, 1, n)), space)


def _ridge_losses(point, rng, count):
    """Squared loss of ``GaussianDropout(X) @ w`` against ``y``, one fresh noise draw per
    replicate (every entry of X its own factor, as dropout masks each example)."""
    layer = GaussianDropout(drop_probability(point))
    rows = np.broadcast_to(point["X"], (count,) + np.shape(point["X"]))
    noisy = layer.forward(rows, rng=rng) @ point["w"]
    return ((point["y"] - noisy) ** 2).sum(axis=-1)


register(Identity(
    name="variants.gaussian-moments",
    statement=r"E_\xi \sum_i \Bigl(y_i - \sum_j X_{ij}\xi_{ij} w_j\Bigr)^2 = \lVert y - Xw"
              r"\rVert^2 + \frac{1-q}{q}\sum_{ij} X_{ij}^2 w_j^2\ (\text{the inverted Bernoulli "
              r"dropout loss: only two moments enter})",
    source=SOURCE + "; seed 000/001 (the ridge equivalence, for Bernoulli masks)",
    notation=NOTATION, params=(Q, Param("n", 1, np.inf, typical=(1, 3), integer=True),
                               Param("d", 1, np.inf, typical=(1, 4), integer=True),
                               Param("X", shape=("n", "d")), Param("y", shape=("n",)),
                               Param("w", shape=("d",))),
    rhs=RIDGE, derive=_ridge_model,
    model=ReplicateModel(_ridge_losses, "mean", replicates=1 << 17, one_call=True),
    wrong_claims=lambda rhs: {
        "sd read as variance ((1-q)/q)^(1/2)": rhs.xreplace({(1 - q) / q: sp.sqrt((1 - q) / q)}),
        "plain L2 penalty (no X^2)": rhs.subs(X[i, j] ** 2, 1)},
))

# --- the fourth central moment: where the two noises differ ------------------------------

GAUSS_FOURTH = 3 * ((1 - q) / q) ** 2 * x0 ** 4
BERNOULLI_FOURTH = (1 - q) * ((1 - q) ** 3 + q ** 3) / q ** 3 * x0 ** 4
UNIT = (Q, Param("x", typical=(-2.0, 2.0)))


def _fourth(law):
    def derive():
        space = RandomSpace()
        if law == "gauss":
            factor = _gaussian(space, shape=False)
        else:
            factor = space.scalar("m", Bernoulli(q)) / q
        return expectation((factor * x0 - x0) ** 4, space)
    return derive


def _gauss_unit(point, masks, noise):
    """``(GaussianDropout(x) - x)^4`` with the factor ``1 + sqrt(p/q) z`` injected."""
    drop = drop_probability(point)
    factor = 1.0 + np.sqrt(drop / (1.0 - drop)) * noise
    out = GaussianDropout(drop).forward(np.full(noise.shape, point["x"]), mask=factor)
    return (out - point["x"]) ** 4


def _bernoulli_unit(point, masks, noise):
    out = Dropout(drop_probability(point)).forward(np.full(masks.shape, point["x"]), mask=masks)
    return (out[:, 0] - point["x"]) ** 4


def _bernoulli_fourth_range(point) -> tuple:
    """Two values: ``x^4`` (dropped) and ``(x / q - x)^4`` (kept)."""
    value = Interval.exact(point["x"])
    return Interval.hull(value.square().square(),
                         (value / keep_probability(point) - value).square().square()).bounds()


def _fourth_scale(point):
    """Terms of ``(x xi - x)^4`` expanded: ``(|x| (1 + 6 sd))^4`` bounds them for |z| <= 6
    (quadrature nodes of this degree are within 2.4); Bernoulli: ``(|x| / q)^4``."""
    keep = 1.0 - drop_probability(point)
    sd = np.sqrt((1.0 - keep) / keep) if keep > 0 else np.inf
    return (abs(point["x"]) * (2.0 + 6.0 * sd + 1.0 / keep)) ** 4


def _gauss_bound(point, radius):
    """``(x sd z)^4`` lies in ``[0, (|x| sd radius)^4]`` while ``|z| <= radius``."""
    # p/q >= 0: relu keeps its outward-rounded lower end (-0 at q = 1) inside sqrt's domain
    sd = (drop_probability(point) / keep_probability(point)).relu().increasing(np.sqrt)
    return (point["x"] * sd * Interval(-radius, radius)).square().square().bounds()


_GAUSS_MODEL = MaskModel(_gauss_unit, lambda point: 0, "mean", noise_degree=4,
                         rounding_scale=_fourth_scale, value_bound=_gauss_bound)

register(Identity(
    name="variants.gaussian-fourth-moment",
    statement=r"E[(\xi x - x)^4] = 3\left(\frac{1-q}{q}\right)^2 x^4",
    source=SOURCE, notation=NOTATION, params=UNIT, rhs=GAUSS_FOURTH, derive=_fourth("gauss"),
    model=_GAUSS_MODEL,
    # Bernoulli's fourth moment is no twin: it equals this one where 1 - 6q + 6q^2 = 0
    wrong_claims=lambda rhs: {"squared variance (no factor 3)": rhs / 3},
))

register(Identity(
    name="variants.bernoulli-fourth-moment",
    statement=r"E\left[\left(\frac{m}{q} x - x\right)^4\right] = \frac{(1-q)\bigl((1-q)^3 + "
              r"q^3\bigr)}{q^3} x^4",
    source="derived here (inverted dropout's fourth central moment)", notation=NOTATION,
    params=UNIT, rhs=BERNOULLI_FOURTH, derive=_fourth("bernoulli"),
    model=MaskModel(_bernoulli_unit, lambda point: 1, "mean", rounding_scale=_fourth_scale,
                    value_bound=_bernoulli_fourth_range),
    wrong_claims=lambda rhs: {"variance squared ((1-q)/q)^2 x^4": ((1 - q) / q) ** 2 * x0 ** 4},
))

register(Identity(
    name="variants.gaussian-matches-bernoulli",
    statement=r"E[(\xi x - x)^4] = E[(\tfrac{m}{q} x - x)^4]\ (\text{refuted: Gaussian dropout "
              r"matches the first two moments only; the difference is } \frac{(1-q)(1 - 6q + "
              r"6q^2)}{q^3} x^4)",
    source="the reading 'Gaussian dropout is Bernoulli dropout' beyond two moments; "
           "Srivastava et al. 2014 sec. 10 match two", notation=NOTATION, params=UNIT,
    rhs=BERNOULLI_FOURTH, derive=_fourth("gauss"), model=_GAUSS_MODEL, expected="refuted",
    wrong_claims=lambda rhs: {"no noise (0)": sp.Integer(0)},
))
