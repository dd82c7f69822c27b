"""Seed 000's bias-variance decomposition of a dropout predictor, naive and inverted."""
import numpy as np
import sympy as sp

from ..identity import Identity, MaskModel, register
from ..network import StandardDropout
from ..plotting import FigureData, register_figure
from ..routes import Context, run
from ..symbolic import Bernoulli, Moments, RandomSpace, expectation
from ..sweeps import claim_value
from ._common import (D, P, Q, SIGMA, W, X, Interval, d, i, inverted_unit, masked_unit, p, q,
                      sigma, unit_scale, w, x)

_WX = sp.Sum(w[i] * x[i], (i, 1, d))
_WX2 = sp.Sum((w[i] * x[i]) ** 2, (i, 1, d))


def _squared_error(keep, scale):
    space = RandomSpace()
    m = space.array("m", Bernoulli(keep))
    eps = space.scalar("epsilon", Moments(0, sigma ** 2, "epsilon"))
    y_hat = sp.Sum(w[i] * m[i] * x[i], (i, 1, d)) / scale
    return expectation((y_hat - (_WX + eps)) ** 2, space)


#: seed 000's three error terms of the naive predictor (their sum is the claim)
NAIVE_TERMS = {"squared bias p^2 (w.x)^2": p ** 2 * _WX ** 2,
               "variance p(1-p) sum (w_i x_i)^2": p * (1 - p) * _WX2,
               "noise sigma^2": sigma ** 2}
NAIVE_CLAIM = sp.Add(*NAIVE_TERMS.values())


def _error_scale(point, keep) -> float:
    """Bound on the squared terms of (yhat - w.x - sigma z)^2: the noise nodes and draws that
    matter stay within |z| <= 6 (Gauss-Hermite nodes for this degree within 1.8)."""
    return (unit_scale(point, keep) + abs(float(point["w"] @ point["x"]))
            + 6 * point["sigma"]) ** 2


def _error_against_noisy_target(point, y_hat, noise):
    """(yhat - y)^2 with y = w . x + sigma * noise, per sample."""
    return (y_hat - point["w"] @ point["x"] - point["sigma"] * noise) ** 2


def _error_bound(point, y_hat, radius):
    """The squared error's range while |noise| <= radius, from yhat's range ``y_hat``."""
    target = (Interval.exact(point["w"]) * Interval.exact(point["x"])).sum()
    noise = point["sigma"] * Interval(-radius, radius)
    return (y_hat - target - noise).square().bounds()


def _naive_sim(point, masks, noise):
    """yhat = w . (m * x) from the non-inverted layer."""
    layer = StandardDropout(point["p"])
    y_hat = layer.forward(np.broadcast_to(point["x"], masks.shape), mask=masks) @ point["w"]
    return _error_against_noisy_target(point, y_hat, noise)


NAIVE = register(Identity(
    name="bias-variance.naive",
    statement=r"E_{m,\varepsilon}[(\hat y - y)^2 \mid x] = p^2 (w^\top x)^2"
              r" + p(1-p) \sum_i (w_i x_i)^2 + \sigma^2,\ \hat y = w^\top (m \odot x)",
    source="seed 000 (bias-variance of the naive predictor)",
    notation="p = drop probability, m_i ~ Bernoulli(1 - p), no scaling; eps mean 0, var sigma^2",
    params=(P, D, SIGMA, W, X), rhs=NAIVE_CLAIM, derive=lambda: _squared_error(1 - p, 1),
    model=MaskModel(_naive_sim, lambda point: point["d"], "mean", noise_degree=2,
                    rounding_scale=lambda point: _error_scale(point, 1.0),
                    value_bound=lambda point, r: _error_bound(
                        point, masked_unit(point["w"], point["x"], point, inverted=False), r)),
    probability="p", wrong_claims=lambda rhs: {"drop-noise-term": rhs - sigma ** 2},
))


def _inverted_sim(point, masks, noise):
    return _error_against_noisy_target(point, inverted_unit(point, masks), noise)


register(Identity(
    name="bias-variance.inverted",
    statement=r"E_{m,\varepsilon}[(\hat y - y)^2 \mid x] = 0 + \frac{1-q}{q}"
              r" \sum_i (w_i x_i)^2 + \sigma^2,\ \hat y = w^\top (m \odot x)/q",
    source="seed 000 (inverted dropout removes the bias)",
    notation="q = keep probability, m_i ~ Bernoulli(q), inverted scaling; eps mean 0, var sigma^2",
    params=(Q, D, SIGMA, W, X), rhs=(1 - q) / q * _WX2 + sigma ** 2,
    derive=lambda: _squared_error(q, q),
    model=MaskModel(_inverted_sim, lambda point: point["d"], "mean", noise_degree=2,
                    rounding_scale=lambda point: _error_scale(point, point["q"]),
                    value_bound=lambda point, r: _error_bound(
                        point, masked_unit(point["w"], point["x"], point), r)),
    wrong_claims=lambda rhs: {"drop-noise-term": rhs - sigma ** 2},
))


@register_figure("bias-variance-naive")
def _figure(root: int) -> FigureData:
    """The three error terms against p, with Monte Carlo totals from the layer code."""
    point = {"d": 4, "sigma": 0.5, "w": np.array([0.8, -0.4, 1.2, 0.6]),
             "x": np.array([1.0, 0.5, -0.3, 1.5])}
    grid = np.linspace(0.0, 1.0, 41)
    data = FigureData("bias-variance.naive (seed 000): error terms against the drop rate p",
                      "drop probability p", "expected squared error")
    for label, term in NAIVE_TERMS.items():
        data.curves.append((label, grid, [claim_value(term, {**point, "p": v}) for v in grid]))
    data.curves.append(("total (theory)", grid,
                        [claim_value(NAIVE_CLAIM, {**point, "p": v}) for v in grid]))
    sims = [run("montecarlo", NAIVE, {**point, "p": v}, NAIVE_CLAIM,
                Context(root=root, n_samples=1 << 14, key=f"figure#{k}"))
            for k, v in enumerate(np.linspace(0.1, 0.9, 9))]
    data.points.append(("simulated total (network core, 1 s.e.)",
                        [r.point["p"] for r in sims], [r.lhs for r in sims],
                        [r.se for r in sims]))
    return data
