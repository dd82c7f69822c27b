r"""Dropout on weights chosen by magnitude (targeted dropout) and the max-norm constraint."""
import numpy as np
import sympy as sp

from ...identity import Identity, MaskModel, Param, drop_probability, register
from ...network import TargetedDropout, max_norm
from ...symbolic import Bernoulli, Derivation, RandomSpace, Step, expectation
from .._common import Interval, q

i, j, r = sp.symbols("i j r", integer=True)
d, k, R = sp.symbols("d k R", integer=True, positive=True)

# --- targeted dropout ---------------------------------------------------------------------

TARGET_NOTATION = ("q = keep probability = 1 - p (the drop rate among targets, Gomez et al.'s "
                   "alpha); each of the R rows of a d-input layer targets its k = floor(gamma "
                   "d) smallest-magnitude weights (gamma = targeting proportion, here "
                   "(k + 1/2)/d so that floor(gamma d) = k exactly); m_rj ~ Bernoulli(q)")


def _targeted_model():
    """Order the targets first in each row: the fraction of dropped weights."""
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    return expectation(sp.Sum(1 - m[r, j], (r, 1, R), (j, 1, k)) / (R * d), space)


def _dropped_fraction(point, masks, noise=None):
    """Fraction of weights ``TargetedDropout`` zeroes, read from the layer's weight factor."""
    rows, inputs = point["R"], point["d"]
    layer = TargetedDropout(inputs, rows, p=drop_probability(point),
                            gamma=(point["k"] + 0.5) / inputs, bias=False,
                            rng=np.random.default_rng(0))
    layer.weight[:] = point["W"]
    layer.forward(np.ones((len(masks), inputs)), mask=masks.reshape(len(masks), rows, inputs))
    return (np.broadcast_to(layer.w_factor, (len(masks), rows, inputs)) == 0.0).mean(axis=(1, 2))


register(Identity(
    name="variants.targeted-rate",
    statement=r"E\left[\frac{\#\{\text{dropped weights}\}}{R d}\right] = \gamma\,(1-q),"
              r"\ \gamma = \frac{k}{d}\ (\text{targeting proportion times drop rate})",
    source="Gomez et al. 2019 (targeted dropout); seed 002 ('Targeted Dropout')",
    notation=TARGET_NOTATION,
    params=(Param("q", 0.0, 1.0, typical=(0.1, 0.95), edges=(1.0,)),
            Param("k", 1, np.inf, typical=(1, 2), integer=True),
            Param("d", 3, np.inf, typical=(3, 5), integer=True),
            Param("R", 1, np.inf, typical=(1, 2), integer=True), Param("W", shape=("R", "d"))),
    rhs=(1 - q) * k / d, derive=_targeted_model,
    model=MaskModel(_dropped_fraction, lambda point: point["R"] * point["d"], "mean",
                    rounding_scale=lambda point: 1.0,
                    # only the k targets of each row can be dropped
                    value_bound=lambda point: (0.0, (Interval.exact(float(point["k"]))
                                                     / float(point["d"])).bounds()[1])),
    wrong_claims=lambda rhs: {"every weight a target (rate p)": 1 - q},
))

# --- max-norm -----------------------------------------------------------------------------

c, s, mu = sp.Symbol("c", positive=True), sp.Symbol("s", positive=True), sp.Symbol("mu")
w, g = sp.IndexedBase("w", real=True), sp.IndexedBase("g", real=True)
WG = sp.Sum(w[i] * g[i], (i, 1, d))
MAX_NOTATION = ("w in R^d with ||w|| = s c (s > 0 the ratio of its norm to the radius c); "
                "P = max_norm(., c), Srivastava et al.'s projection onto ||w|| <= c; g an "
                "arbitrary test vector (P(w).g for every g determines P(w)); deterministic "
                "(p = 0: no mask)")
MAX_SOURCE = "seed 003 ('Max-Norm Regularization'); Srivastava et al. 2014, sec. 5.1"


def _direction_times(rng, partial):
    u = rng.standard_normal(partial["d"])
    return u / np.linalg.norm(u) * partial["s"] * partial["c"]


#: the projection is deterministic: no mask is drawn (k = 0), and the routes' mask law is
#: pinned at p = 0 rather than left undefined
NO_DROPOUT = Param("p", 0.0, 0.0, typical=(0.0, 0.0))


def _max_params(low, high):
    return (NO_DROPOUT, Param("d", 1, np.inf, typical=(1, 5), integer=True),
            Param("c", 0.0, np.inf, typical=(0.5, 2.0)), Param("s", low, high, typical=(
                low, high)), Param("w", shape=("d",), sampler=_direction_times),
            Param("g", shape=("d",)))


def _lagrange(quantity):
    """Nearest point of the sphere ||z|| = c to w: z = w / (1 + mu), and ||z|| = c fixes mu;
    of the two roots the nearer one (distance |s - (1 + mu)| c) is mu = s - 1."""
    def derive():
        roots = sp.solve(s ** 2 * c ** 2 / (1 + mu) ** 2 - c ** 2, mu)
        nearest = min(roots, key=lambda root: abs((s - (1 + root)).subs(s, 2)))
        shrink = 1 / (1 + nearest)
        result = {"inner": WG * shrink, "distance": ((1 - shrink) * s * c) ** 2}[quantity]
        model = {"inner": sp.Sum(w[i] * g[i] / (1 + mu), (i, 1, d)),
                 "distance": sp.Sum((w[i] - w[i] / (1 + mu)) ** 2, (i, 1, d))}[quantity]
        return Derivation(sp.factor(result), [
            Step("model: z = w / (1 + mu), the stationary point of ||z - w||^2 on ||z|| = c",
                 model),
            Step("roots mu of ||w||^2 / (1 + mu)^2 = c^2 with ||w|| = s c", sp.Tuple(*roots)),
            Step("the nearer root", nearest), Step("result", result)])
    return derive


def _inside():
    return Derivation(WG, [Step("model: w with ||w|| = s c <= c is in the ball, its own "
                                "nearest point (P(w) = w)", sp.Sum(w[i] * g[i], (i, 1, d)))])


def _projected(quantity):
    def simulate(point, masks, noise=None):
        projected = max_norm(point["w"][None, :], c=point["c"])[0]
        value = projected @ point["g"] if quantity == "inner" else \
            np.sum((point["w"] - projected) ** 2)
        return np.full(len(masks), value)
    return simulate


def _max_scale(point):
    return float(np.abs(point["w"] * point["g"]).sum() + np.sum(point["w"] ** 2))


def _deterministic(quantity):
    return MaskModel(_projected(quantity), lambda point: 0, "mean", rounding_scale=_max_scale)


register(Identity(
    name="variants.max-norm",
    statement=r"P(w)\cdot g = \frac{c}{\lVert w\rVert} w\cdot g = \frac{w \cdot g}{s}"
              r"\ \text{for } \lVert w\rVert = s c > c\ (\text{direction kept, radius } c)",
    source=MAX_SOURCE, notation=MAX_NOTATION, params=_max_params(1.0, 3.0), rhs=WG / s,
    derive=_lagrange("inner"), model=_deterministic("inner"),
    wrong_claims=lambda rhs: {"no projection": WG, "unit radius": WG / (s * c)},
))

register(Identity(
    name="variants.max-norm-distance",
    statement=r"\lVert w - P(w)\rVert^2 = (\lVert w\rVert - c)^2 = (s-1)^2 c^2\ (\text{the "
              r"distance from } w \text{ to the ball: } P(w) \text{ is its nearest point})",
    source=MAX_SOURCE, notation=MAX_NOTATION, params=_max_params(1.0, 3.0),
    rhs=(s - 1) ** 2 * c ** 2, derive=_lagrange("distance"), model=_deterministic("distance"),
    wrong_claims=lambda rhs: {"difference of squared norms": (s ** 2 - 1) * c ** 2},
))

register(Identity(
    name="variants.max-norm-inside",
    statement=r"P(w) \cdot g = w \cdot g\ \text{for } \lVert w\rVert = s c \le c\ (\text{weights "
              r"inside the ball are unchanged})",
    source=MAX_SOURCE, notation=MAX_NOTATION, params=_max_params(0.05, 1.0), rhs=WG,
    derive=_inside, model=_deterministic("inner"),
    wrong_claims=lambda rhs: {"always put on the sphere": rhs / s},
))
