"""Wager et al. (2013): the dropout penalty of a GLM (logistic regression) and its quadratic
approximation. The exact penalty is computed by the network core (``CrossEntropyLoss`` on
two-class logits ``[0, eta]`` is the logistic loss ``A(eta) - y eta``, ``A = softplus``).
"""
import numpy as np
import sympy as sp

from ...identity import Approximation, Identity, MaskModel, Param, register
from ...symbolic import Bernoulli, Derivation, RandomSpace, Step, expectation, prove_equal
from .._common import Interval, Q, d, i, masked_unit, q, w, x
from .models import LAMBDA, data_matrix, l, logistic_losses, n, unit_vector, y

k = sp.Symbol("kk", integer=True)  # inner index of eta, apart from the canonical names
z = sp.IndexedBase("z", real=True)
s = sp.Symbol("s", positive=True)
A = sp.Function("A")
NOTATION = ("q = keep probability, p = 1 - q drop (Wager's delta); inverted input dropout "
            "x~_il = m_il x_il / q; logistic loss A(eta) - y eta, A(eta) = log(1 + e^eta)")
N = Param("n", 1, np.inf, typical=(1, 3), integer=True)
D = Param("d", 1, np.inf, typical=(1, 4), integer=True)
W = Param("w", shape=("d",))


def _unit_contribution_weights(rng, partial):
    """Weights drawn standard normal, then rescaled so that the largest row contribution
    ``max_i sum_l |w_l x_il|`` is 1: the scale ``s`` alone then sets the size of the
    per-feature contributions the quadratic approximation is about, whatever the draw (a
    drawn ``w`` near 0 would otherwise put the whole order sweep below rounding)."""
    weights = rng.standard_normal(partial["d"])
    return weights / np.abs(partial["x"] * weights).sum(axis=1).max()


def _eta(scale=1):
    return sp.Sum(scale * w[k] * x[i, k], (k, 1, d))


def _etas(m, scale=1):
    return sp.Sum(scale * w[l] * x[i, l] * m[i, l] / q, (l, 1, d)), _eta(scale)


def _labels_model():
    r"""E[penalty with labels y] - E[penalty with labels z]: A(eta~) cancels before E."""
    space = RandomSpace()
    noisy, eta = _etas(space.array("m", Bernoulli(q)))
    loss = lambda e, t: A(e) - t * e  # noqa: E731  (canonical-link GLM loss)
    diff = sp.Sum(loss(noisy, y[i]) - loss(eta, y[i]) - loss(noisy, z[i]) + loss(eta, z[i]),
                  (i, 1, n))
    return expectation(diff, space)


def _loss_scale(point, weights) -> float:
    r"""Bound on :math:`\sum_i E[A(\tilde\eta_i)] + A(\eta_i)` for ``weights``.

    The simulations return differences of logistic losses, which cancel: their rounding error
    scales with the losses, :math:`A(\eta) \le \log 2 + |\eta|`, and
    :math:`E|\tilde\eta_i| \le \sum_l |w_l x_{il}|` since :math:`E[m/q] = 1`.
    """
    contributions = np.abs(np.asarray(point["x"]) * np.asarray(weights)).sum(axis=-1)
    return float(np.sum(2.0 * np.log(2.0) + 2.0 * contributions))


def _labels_sim(point, masks, noise=None):
    """Per mask: sum_i [l(eta~_i, y_i) - l(eta_i, y_i)] - [same with labels z]."""
    def penalty(labels):
        return (logistic_losses(point, masks, labels)
                - logistic_losses(point, masks, labels, dropout=False)).sum(axis=-1)
    return penalty(point["y"]) - penalty(point["z"])


def _labels_range(point) -> tuple:
    """``l(eta, y) = A(eta) - y eta``, so the value is ``sum_i (z_i - y_i)(eta~_i - eta_i)``:
    linear in the masks, between the sums of its negative and of its positive terms."""
    labels = Interval.exact(point["z"]) - point["y"]
    coefficients = Interval(labels.lo[:, None], labels.hi[:, None]) * point["x"]
    eta = (Interval.exact(point["w"]) * point["x"]).sum(-1)
    noisy = masked_unit(point["w"], coefficients, point).sum(-1)
    return (noisy - (labels * eta).sum(-1)).bounds()


register(Identity(
    name="ridge.wager-labels",
    statement=r"R_y(w) = \sum_i E\,\ell(\tilde x_i\!\cdot\! w, y_i) - \ell(x_i\!\cdot\! w, y_i)"
              r"\ \text{does not depend on the labels: } R_y(w) - R_z(w) = 0",
    source="Wager, Wang, Liang 2013 (dropout penalty of a GLM); REFERENCES.md",
    notation=NOTATION + "; y, z two labelings in [0, 1] (soft labels allowed)",
    params=(Q, N, D, data_matrix("x"), unit_vector("y", ("n",)), unit_vector("z", ("n",)), W),
    rhs=sp.Integer(0), derive=_labels_model,
    model=MaskModel(_labels_sim, lambda pt: pt["n"] * pt["d"], "mean",
                    rounding_scale=lambda pt: 2.0 * _loss_scale(pt, pt["w"]),  # two labelings
                    value_bound=_labels_range),
    wrong_claims=lambda rhs: {
        "non-inverted-dropout": (1 - q) * sp.Sum((y[i] - z[i]) * w[l] * x[i, l],
                                                 (i, 1, n), (l, 1, d)),
        "label-weighted-penalty": LAMBDA / 2 * sp.Sum((y[i] - z[i]) * w[l] ** 2 * x[i, l] ** 2,
                                                      (i, 1, n), (l, 1, d))},
))


def logistic_curvature(eta):
    """A''(eta) = sigma(eta) (1 - sigma(eta)) of the logistic log-partition function."""
    return sp.exp(eta) / (1 + sp.exp(eta)) ** 2


#: Wager's quadratic penalty with weights s * w
QUADRATIC = LAMBDA / 2 * sp.Sum(s ** 2 * w[l] ** 2 * x[i, l] ** 2
                                * logistic_curvature(_eta(s)), (i, 1, n), (l, 1, d))


def _quadratic_model():
    """The exact penalty has no closed form; the engine derives its second-order Taylor part."""
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    noisy, eta = _etas(m, s)
    exact = sp.Function("E")(sp.Sum(A(noisy) - A(eta), (i, 1, n)))
    delta = noisy - eta
    taylor = expectation(sp.Sum(sp.Function("A'")(eta) * delta
                                + sp.Function("A''")(eta) * delta ** 2 / 2, (i, 1, n)), space)
    curvature = sp.Function("A''")
    logistic = taylor.result.replace(lambda e: getattr(e, "func", None) == curvature,
                                     lambda e: logistic_curvature(e.args[0]))
    status = prove_equal(logistic, QUADRATIC).status
    steps = [Step("exact penalty (no moment rule: A is not polynomial)", exact),
             *taylor.steps[1:],
             Step("second-order Taylor part with logistic A'' = sigma (1 - sigma)", logistic),
             Step(f"equals Wager's R^q as stated: {status}", QUADRATIC)]
    return Derivation(exact, steps)


def _quadratic_sim(point, masks, noise=None):
    """Per mask: sum_i A(eta~_i) - A(eta_i) with weights s * w (labels 0: A itself)."""
    scaled = {**point, "w": point["s"] * np.asarray(point["w"])}
    zeros = np.zeros(point["n"])
    return (logistic_losses(scaled, masks, zeros)
            - logistic_losses(scaled, masks, zeros, dropout=False)).sum(axis=-1)


_COMMON = dict(
    source="Wager, Wang, Liang 2013, quadratic approximation R^q; REFERENCES.md",
    params=(Param("q", 0.0, 1.0, typical=(0.5, 0.95)), N, D,
            Param("s", 0.0, np.inf, typical=(0.5, 1.5)), data_matrix("x"),
            Param("w", shape=("d",), sampler=_unit_contribution_weights)),
    rhs=QUADRATIC, derive=_quadratic_model,
)
def _penalty_range(point) -> tuple:
    """``sum_i A(eta~_i) - A(eta_i)``, ``A(t) = log(1 + e^t)`` increasing, with the weights
    ``s w`` the simulation uses."""
    weights = point["s"] * np.asarray(point["w"])

    def log_partition(values):
        return values.increasing(lambda t: np.logaddexp(0.0, t))
    noisy = masked_unit(weights, point["x"], point)
    plain = (Interval.exact(weights) * point["x"]).sum(-1)
    return (log_partition(noisy) - log_partition(plain)).sum(-1).bounds()


_PENALTY = MaskModel(_quadratic_sim, lambda pt: pt["n"] * pt["d"], "mean",
                     rounding_scale=lambda pt: _loss_scale(pt, pt["s"] * np.asarray(pt["w"])),
                     value_bound=_penalty_range)

QUADRATIC_APPROXIMATION = register(Identity(
    name="ridge.wager-quadratic",
    statement=r"R(sw) = \frac{1-q}{2q}\sum_{i,l} s^2 w_l^2 x_{il}^2 A''(s\,x_i\!\cdot\! w)"
              r" + O(s^4):\ \text{accurate for small per-feature contributions } s\,w_l x_{il}"
              r"\ (\text{relative error } O(s^2))",
    notation=NOTATION + "; s scales the weights, drawn with max_i sum_l |w_l x_il| = 1, so s is"
             " the largest row contribution",
    expected="approximate", model=Approximation(_PENALTY, 4, "s", (0.01, 0.1)), **_COMMON,
))

DROP_RATE_APPROXIMATION = register(Identity(
    name="ridge.wager-quadratic-drop-rate",
    statement=r"R(w) - R^q(w) = O(p^2)\ \text{as } p \to 0\ (\text{refuted: the error is }"
              r"\Theta(p)\text{, the order of the penalty itself})",
    notation=NOTATION + "; read as: the quadratic penalty is correct to leading order in p",
    expected="refuted", model=Approximation(_PENALTY, 2, "drop", (1e-3, 0.1)), **_COMMON,
))
