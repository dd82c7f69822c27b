"""Figures of the ``batchnorm`` family: data from trained layers; ``plotting`` only draws.

The identities without a dedicated figure get a sweep of their claim over ``q`` (or Uout's
``beta``) with replicate checks from the network core, at fewer replicates than ``verify``.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from ...identity import registered
from ...network import Dropout
from ...plotting import FigureData, register_figure
from ...sampling import generator
from ...sweeps import claim_value, sweep
from .._common import q, sigma
from . import simulation as sim
from .theory import TINY, delta, e_rho, inflated

#: the layer of both dedicated figures: long enough that (1 - momentum)^T is 3e-5
POINT = {"mu": 1.0, "sigma": 1.0, "N": 32, "T": 100, "momentum": 0.1}
DROPS = np.linspace(0.1, 0.8, 8)
GRID = np.linspace(0.02, 0.85, 60)
FIGURE_RUNS = 1 << 11  # replicates per simulated point of the sweeps
SHIFT_RUNS = 1 << 9    # the dedicated figures' layers train for T = 100 steps


def _curve(expr, grid, **fixed):
    return [claim_value(expr, {**POINT, **fixed, "p": p, "q": 1.0 - p}) for p in grid]


def _mean_se(values):
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


def _points(label, simulate, root, key):
    """Mean and standard error of ``simulate(point, rng)`` over trained replicates, per p."""
    stats = [_mean_se(simulate({**POINT, "p": p, "q": 1.0 - p}, generator(root, key, j)))
             for j, p in enumerate(DROPS)]
    return (label, DROPS, [m for m, _ in stats], [s for _, s in stats])


@register_figure("batchnorm-test-shift")
def _shift_figure(root: int) -> FigureData:
    """Train and test variance of BN's input and the test-time output variance against p."""
    data = FigureData("Dropout->BN: learned and test variance (mu = sigma = 1)",
                      "drop probability p", "variance")
    data.curves += [("training variance sigma^2/q + mu^2 (1-q)/q", GRID, _curve(inflated, GRID)),
                    ("test-time input variance sigma^2", GRID, _curve(sigma ** 2, GRID)),
                    ("Delta = q sigma^2 / (sigma^2 + mu^2 (1-q)) (Li et al.)", GRID,
                     _curve(delta, GRID))]

    def trained(point, rng):
        return sim.train(Dropout(point["p"]), point, rng, SHIFT_RUNS)

    data.points.append(_points("running variance of trained BN (1 s.e.)",
                               lambda pt, rng: trained(pt, rng)[1].running_var, root,
                               "batchnorm#figure-running"))
    data.points.append(_points("test-time output variance of trained BN (1 s.e.)",
                               lambda pt, rng: 1.0 / sim.over_normalisation(
                                   trained(pt, rng)[0], pt, SHIFT_RUNS),
                               root, "batchnorm#figure-shift"))
    return data


def _order_shift(noise_first, at):
    def simulate(point, rng):
        net, _, out = sim.train(Dropout(point["p"]), point, rng, SHIFT_RUNS,
                                noise_first=noise_first, eps=sim.TINY_EPS)
        return (sim.next_input_over_normalisation(net, out, point, SHIFT_RUNS) if at
                else sim.over_normalisation(net, point, SHIFT_RUNS))
    return simulate


@register_figure("batchnorm-order")
def _order_figure(root: int) -> FigureData:
    """Over-normalisation at BN and at the next layer's input, both orders side by side.

    Plotted as omega = Var_train / Var_test (not its reciprocal Delta): in order B the next
    layer's training input is exactly 0 when a whole batch is dropped, so 1/omega has no mean.
    """
    omega_a = (e_rho(inflated) + TINY) / sigma ** 2
    omega_b = (e_rho(sigma ** 2) + TINY) / sigma ** 2
    data = FigureData("omega = Var_train/Var_test: Dropout->BN (A), BN->Dropout (B)",
                      "drop probability p", "omega (1 = no shift; 1/Delta for A)")
    theory = [("A at BN = A at next input: E[omega_A] -> 1/Delta", omega_a),
              ("B at BN: E[omega_B] -> 1", omega_b),
              ("B at next layer's input: E[omega_B]/q -> 1/q", omega_b / q)]
    data.curves += [(label, GRID, _curve(expr, GRID)) for label, expr in theory]
    for label, first, at in (("A at BN", True, 0), ("A at next input", True, 1),
                             ("B at BN", False, 0), ("B at next input", False, 1)):
        data.points.append(_points(f"{label}: trained layers (1 s.e.)", _order_shift(first, at),
                                   root, f"batchnorm#figure-order-{int(first)}{at}"))
    return data


def _sweep(name, param, low, high, label):
    """Claim against ``param`` with replicate checks from the network core at 9 values."""
    def make(root: int) -> FigureData:
        identity = registered()[name]
        fewer = dataclasses.replace(identity.model, replicates=FIGURE_RUNS)
        return sweep(dataclasses.replace(identity, model=fewer), root=root, param=param,
                     span=(low, high), inner=(low, high), label=label)
    return make


for _name in ("mean-preserved", "variance-inflation", "running-variance", "order-seed002",
              "order-seed000", "recalibration", "uout-matched"):
    register_figure(f"batchnorm-{_name}")(
        _sweep(f"batchnorm.{_name}", "q", 0.1, 0.95, "keep probability q"))
register_figure("batchnorm-uout")(
    _sweep("batchnorm.uout", "beta", 0.05, 1.6, "Uout half-width beta"))
