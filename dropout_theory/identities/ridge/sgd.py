"""ridge.sgd-limit: what SGD with inverted input dropout converges to, over replicate runs.

The closed form is derived, not typed: the coefficients of the engine's gradient of the
expected loss are read off (``alpha X^T X w + beta diag(X^T X) w - gamma X^T y``) and the
stationary point ``(alpha X^T X + beta diag(X^T X))^{-1} gamma X^T y`` is written as a matrix
expression, whose ``u``-projection is the claim.
"""
import numpy as np
import sympy as sp
from sympy.matrices.expressions.diagonal import DiagonalMatrix

from ..._validation import check_finite_array, keep_probability
from ...identity import Identity, Param, ReplicateModel, register
from ...network import SGD, Dropout, MSELoss, ReplicaLinear
from ...symbolic import Derivation, Step
from ...symbolic.terms import _split, collect_terms, expand_terms
from .._common import d, w, x
from .models import LAMBDA, a, data_matrix, directional_gradient, i, l, n, u, y

__all__ = ["closed_form", "train_replicates"]

XM, YM, UM = sp.MatrixSymbol("x", n, d), sp.MatrixSymbol("y", n, 1), sp.MatrixSymbol("u", d, 1)


def closed_form(lam, ridge=None) -> sp.Expr:
    """``tr(u^T (X^T X + lam diag(X^T X) + ridge I)^{-1} X^T y)`` = ``u . w*``."""
    gram = XM.T * XM
    matrix = gram + sp.factor(lam) * DiagonalMatrix(gram)
    if ridge is not None:
        matrix = matrix + ridge * sp.Identity(d)
    return sp.Trace(UM.T * sp.Inverse(matrix) * XM.T * YM)


def minimizer() -> Derivation:
    """Read the gradient's coefficients off the derivation and solve the normal equations."""
    grad = directional_gradient()
    alpha, beta, gamma = sp.symbols("alpha beta gamma")
    shape = (alpha * sp.Sum(u[a] * x[i, a] * x[i, l] * w[l], (a, 1, d), (l, 1, d), (i, 1, n))
             + beta * sp.Sum(u[l] * w[l] * x[i, l] ** 2, (i, 1, n), (l, 1, d))
             - gamma * sp.Sum(u[l] * x[i, l] * y[i], (i, 1, n), (l, 1, d)))
    equations = [_split(t)[0] for t in collect_terms(expand_terms(grad.result - shape))]
    (solution,) = sp.solve(equations, [alpha, beta, gamma], dict=True)
    ratio = sp.cancel(solution[beta] / solution[alpha])
    scale = sp.cancel(solution[gamma] / solution[alpha])
    result = scale * closed_form(ratio)
    steps = [*grad.steps,
             Step("read off grad E[L] = alpha X^T X w + beta diag(X^T X) w - gamma X^T y",
                  sp.Tuple(*[solution[s] for s in (alpha, beta, gamma)])),
             Step("E[L] is a convex quadratic: the stationary point w* = (alpha X^T X + beta "
                  "diag(X^T X))^-1 gamma X^T y is the minimizer; u . w* =", result)]
    return Derivation(result, steps)


def _schedule(eta0: float, burn_in: int):
    """Constant steps during burn-in, then eta_t = eta0 / (1 + (t - T0)/T0)^0.6 (sum diverges,
    sum of squares converges: Robbins-Monro)."""
    return lambda t: eta0 if t < burn_in else eta0 / (1 + (t - burn_in) / burn_in) ** 0.6


def train_replicates(X, y, *, p, rng, n_replicates, batch_size=4, n_steps=None):
    """Averaged SGD iterates of ``n_replicates`` independent runs on ``(X, y)``: shape (R, d).

    Each step draws a minibatch of rows (with replacement) and fresh inverted-dropout masks
    per replicate; the loss is (1/2B) sum_b (y_b - x~_b . w)^2. The step size comes from the
    data's scale (eta0 = q / (2 mean ||x_i||^2)); averaging starts after a burn-in long enough
    for the plain curvature to forget the start w = 0 (exp(-30)).
    """
    X, y = check_finite_array(X, name="X"), check_finite_array(y, name="y")
    q_keep = keep_probability(p)
    n_rows, dim = X.shape
    eta0 = q_keep / (2 * np.mean(np.sum(X ** 2, axis=1)))
    model, layer, loss = ReplicaLinear(n_replicates, dim), Dropout(p), MSELoss(reduction="sum")
    # the run length only: curvature of the objective SGD sees, estimated from dropped inputs
    # as a practitioner could (64 mask draws), sets a burn-in that forgets w = 0 by exp(-30)
    dropped = layer.forward(np.broadcast_to(X, (64,) + X.shape), rng=rng)
    second = np.einsum("sij,sik->jk", dropped, dropped) / dropped[..., 0].size
    lowest = np.linalg.eigvalsh(second)[0]
    burn_in = int(min(20_000, np.ceil(30 / (eta0 * max(lowest, 1e-12)))))
    n_steps = 4 * burn_in if n_steps is None else n_steps
    opt = SGD(model, lr=_schedule(eta0, burn_in), average_start=burn_in)
    for _ in range(n_steps):
        rows = rng.integers(n_rows, size=(n_replicates, batch_size))
        pred = model.forward(layer.forward(X[rows], rng=rng))
        loss.forward(pred, y[rows][..., None])
        model.backward(loss.backward(1.0 / (2 * batch_size)))
        opt.step()
    return opt.average.average["weight"][:, 0, :]


def _simulate(point, rng, n_runs):
    """Per replicate: u . (averaged SGD iterate), trained by the network core."""
    return train_replicates(point["x"], point["y"], p=1 - point["q"], rng=rng,
                            n_replicates=n_runs) @ point["u"]


CLAIM = closed_form(LAMBDA)

register(Identity(
    name="ridge.sgd-limit",
    statement=r"E\bigl[u^\top \bar w_T\bigr] = u^\top\Bigl(X^\top X + \frac{1-q}{q}"
              r"\operatorname{diag}(X^\top X)\Bigr)^{-1}X^\top y,\ \bar w_T \text{ the "
              r"averaged SGD iterate with inverted input dropout}",
    source="issue 4 (what SGD converges to); Polyak-Ruppert averaging; Wager et al. 2013",
    notation="q = keep probability; minibatches of 4 rows with replacement, fresh masks per "
             "step and replicate; decaying steps, iterate averaging after burn-in; "
             "u a fixed direction",
    params=(Param("q", 0.0, 1.0, typical=(0.5, 0.9)),
            Param("n", 1, np.inf, typical=(8, 12), integer=True),
            Param("d", 1, np.inf, typical=(2, 3), integer=True),
            data_matrix("x", "scaled"), Param("y", shape=("n",)), Param("u", shape=("d",))),
    rhs=CLAIM, derive=minimizer,
    model=ReplicateModel(_simulate, "mean", replicates=256, one_call=True),
    wrong_claims=lambda rhs: {"least-squares": closed_form(0),
                              "penalty-missing-1/2": closed_form(2 * LAMBDA),
                              "diag(X^T X)->identity": closed_form(0, ridge=n * LAMBDA)},
))
