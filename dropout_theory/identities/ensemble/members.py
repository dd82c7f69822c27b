"""Ensembles of sampled sub-networks: the gain of averaging T of them, and path survival."""
import numpy as np
import sympy as sp

from ...identity import Identity, MaskModel, Param, drop_probability, register
from ...network import Dropout, Sequential
from ...symbolic import Bernoulli, Derivation, RandomSpace, Step, expectation
from .._common import Interval, Q, d, i, masked_unit, q, w, x
from .._subnetworks import forward, linear, stacked
from .averaging import DIN, L, h, j, l


# --- ensemble gain and diversity ----------------------------------------------------------------

T = sp.Symbol("T", integer=True, positive=True)
t, y = sp.Symbol("t", integer=True), sp.Symbol("y", real=True)
#: E[D]: the expected squared disagreement of two independent members, 2 Var f
DISAGREEMENT = 2 * (1 - q) / q * sp.Sum((w[i] * x[i]) ** 2, (i, 1, d))


def _members(point, masks):
    """(S, T) predictions of T inverted-dropout sub-networks ``w . Dropout(p)(x)``."""
    n_members, width = point["T"], point["d"]
    net = Sequential(Dropout(drop_probability(point)), linear(np.atleast_2d(point["w"])))
    rows = np.broadcast_to(point["x"], (len(masks), n_members, width))
    return net.forward(rows, mask={0: masks.reshape(len(masks), n_members, width)})[..., 0]


def ensemble_gain(predictions, target):
    """``E_ind - E_ens`` along the last axis: mean member error minus the ensemble's
    (``target`` has the shape of ``predictions`` without its last axis, or is a scalar)."""
    target = np.asarray(target, dtype=np.float64)
    individual = ((predictions - target[..., None]) ** 2).mean(axis=-1)
    return individual - (predictions.mean(axis=-1) - target) ** 2


def pairwise_disagreement(predictions):
    """``D``: mean of ``(f_s - f_t)^2`` over the distinct pairs ``s < t`` (last axis)."""
    n = predictions.shape[-1]
    diffs = predictions[..., :, None] - predictions[..., None, :]
    return (diffs ** 2).sum(axis=(-2, -1)) / (n * (n - 1))


def _gain_sim(point, masks, noise=None):
    return ensemble_gain(_members(point, masks), point["y"])


def _gain_scale(point):
    return 4.0 * (float(np.abs(np.asarray(point["w"]) * point["x"]).sum())
                  / (1.0 - drop_probability(point)) + abs(point["y"])) ** 2


def _gain_range(point) -> tuple:
    """The gain is the members' (biased) sample variance: between 0 and a quarter of the
    squared width of the interval every member lies in (Popoviciu)."""
    member = masked_unit(point["w"], point["x"], point)
    width = Interval.exact(member.hi) - member.lo.item()
    return 0.0, float((width * 0.5).square().hi)


def _gain_model():
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    member = sp.Sum(w[i] * x[i] * m[t, i] / q, (i, 1, d))
    individual = sp.Sum((member - y) ** 2, (t, 1, T)) / T
    ensemble = (sp.Sum(member, (t, 1, T)) / T - y) ** 2
    return expectation(individual - ensemble, space)


register(Identity(
    name="ensemble.diversity",
    statement=r"E_m[E_{\mathrm{ind}} - E_{\mathrm{ens}}] = \frac{T-1}{2T}\, E_m[D],\ "
              r"E_m[D] = 2\operatorname{Var} f = \frac{2(1-q)}{q}\sum_i (w_i x_i)^2"
              r"\quad(E_{\mathrm{ind}} - E_{\mathrm{ens}} = \tfrac{T-1}{2T} D\text{ holds for "
              r"any } T \text{ predictions})",
    source="seed 000 ('E_ind - E_ens = (T-1)/(2T) D')",
    notation="q = keep probability; T sub-networks f_t = w . (m_t * x) / q (inverted dropout, "
             "independent masks), target y; E_ind = mean_t (f_t - y)^2, E_ens = (mean_t f_t - "
             "y)^2, D = mean over distinct pairs of (f_s - f_t)^2",
    params=(Q, Param("T", 2, np.inf, typical=(2, 4), integer=True), DIN,
            Param("y", typical=(-2.0, 2.0)), Param("w", shape=("d",)), Param("x", shape=("d",))),
    rhs=(T - 1) / (2 * T) * DISAGREEMENT, derive=_gain_model,
    model=MaskModel(_gain_sim, lambda pt: pt["T"] * pt["d"], "mean", rounding_scale=_gain_scale,
                    value_bound=_gain_range),
    wrong_claims=lambda rhs: {"(T-1)/T instead of (T-1)/(2T)": (T - 1) / T * DISAGREEMENT},
))


# --- path survival --------------------------------------------------------------------------------

def _path_count_sim(point, masks, noise=None):
    """Active input-to-output paths: a net of all-ones weights through L dropped layers of
    width h sums, over paths, the product of the masks on the path."""
    width, depth = point["h"], point["L"]
    weights = [np.ones((width, 1))] + [np.ones((width, width))] * (depth - 1) + \
        [np.ones((1, width))]
    net, dropouts = stacked(weights, [None] * (depth + 1), None, drop_probability(point))
    return forward(net, dropouts, [1.0], masks, (width,) * depth)[:, 0]


def _path_model():
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    layer = expectation(sp.Sum(m[l, j], (j, 1, h)), space)
    count = sp.Function("E")(sp.Product(sp.Sum(m[l, j], (j, 1, h)), (l, 1, L)))
    return Derivation(h ** L * q ** L, [
        Step("E[number of active paths] = E[prod over layers of kept units]", count),
        Step("layers are independent: product of E[kept units of one layer]",
             sp.Product(sp.Function("E")(sp.Sum(m[l, j], (j, 1, h))), (l, 1, L))),
        *layer.steps[1:], Step("one layer: h q (engine); L layers", h ** L * q ** L)])


PATH_SURVIVAL = register(Identity(
    name="ensemble.path-survival",
    statement=r"E[\#\text{active paths}] = h^L q^L = h^L (1-p)^L;\ h = 1: P(\text{a given path"
              r" is active}) = (1-p)^L",
    source="seed 000 ('the probability that any given path remains fully active is (1-p)^L')",
    notation="q = keep probability = 1 - p (seed 000's p is the drop rate); L dropped hidden "
             "layers of width h; a path is active when every unit on it is kept",
    params=(Q, Param("L", 1, np.inf, typical=(1, 4), integer=True),
            Param("h", 1, np.inf, typical=(1, 4), integer=True)),
    rhs=h ** L * q ** L, derive=_path_model,
    model=MaskModel(_path_count_sim, lambda pt: pt["L"] * pt["h"], "mean",
                    rounding_scale=lambda pt: float(pt["h"]) ** pt["L"],
                    # a count of paths: from none to all h^L (an integer, exact in a double)
                    value_bound=lambda pt: (0.0, float(pt["h"] ** pt["L"]))),
    wrong_claims=lambda rhs: {"q^L with q the drop probability": h ** L * (1 - q) ** L,
                              "the input unit dropped as well: q^(L+1)": h ** L * q ** (L + 1)},
))
