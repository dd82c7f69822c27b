"""Procedures of the ``batchnorm`` family, run with the network core (no formula inside).

Replicates are BatchNorm channels: ``BatchNorm1d`` normalises each channel on its own, so an
input of shape ``(T, N, n)`` is ``T`` training steps of a batch of ``N`` for ``n`` independent
replicates at once (the layer applies the ``T`` momentum updates in order, as ``T``
successive PyTorch calls would).

Channel ``c`` draws its input from distribution ``c % 3``: Gaussian, uniform, or the skewed
shifted exponential, each with mean ``mu`` and standard deviation ``sigma``. Every batch of
replicates has the same composition, so batch means stay i.i.d.; a claim about "any
distribution with these two moments" is checked on all three in every run.
"""
from __future__ import annotations

import numpy as np

from ...identity import drop_probability
from ...network import BatchNorm1d, Dropout, Module, Sequential
from .theory import TINY

__all__ = ["DISTRIBUTIONS", "draw_inputs", "dropout_samples", "train",
           "over_normalisation", "next_input_over_normalisation", "recalibrate"]

#: input distributions by channel residue; each standardised to mean 0, variance 1
DISTRIBUTIONS = ("gaussian", "uniform", "exponential (skewness 2)")

#: BatchNorm eps of the ``order`` procedures: with PyTorch's 1e-5 the batch-normalised output
#: would have mean square s^2 / (s^2 + eps), 1 - O(1e-5); at 1e-12 the claims are exact to
#: O(1e-12), far below any resolution here.
TINY_EPS = float(TINY)  # the same constant the claims state exactly


def _standardised(kind: int, rng: np.random.Generator, shape) -> np.ndarray:
    if kind == 0:
        return rng.standard_normal(shape)
    if kind == 1:
        return rng.uniform(-np.sqrt(3.0), np.sqrt(3.0), shape)
    return rng.standard_exponential(shape) - 1.0


def draw_inputs(point: dict, rng: np.random.Generator, shape) -> np.ndarray:
    """Inputs of ``shape`` (channels last) with mean ``mu`` and std ``sigma``.

    ``point["dist"]`` (0, 1, 2), when present, fixes one distribution for every channel;
    by default channel ``c`` uses ``c % 3``.
    """
    dist = point.get("dist")
    z = np.empty(shape)
    n = shape[-1]
    for kind in range(len(DISTRIBUTIONS)):
        channels = np.arange(n) if dist == kind else (
            np.arange(kind, n, 3) if dist is None else np.arange(0))
        z[..., channels] = _standardised(kind, rng, shape[:-1] + (len(channels),))
    return point["mu"] + point["sigma"] * z


def dropout_samples(point: dict, rng: np.random.Generator, n: int) -> np.ndarray:
    """One ``Dropout(p)`` output per replicate, its input drawn from the channel's law."""
    x = draw_inputs(point, rng, (1, n))
    return Dropout(drop_probability(point)).forward(x, rng=rng)[0]


def train(noise: Module, point: dict, rng: np.random.Generator, n: int, *,
          noise_first: bool = True, eps: float = 1e-5, x=None, steps=None):
    """``T`` training steps of ``noise -> BN`` (or ``BN -> noise``) on batches of ``N``.

    Only the BN statistics are learned (gamma = 1 and beta = 0 are left alone: the
    running statistics of the first BN do not depend on any weight). ``x`` (shape
    ``(T, N, n)``) reuses input batches, so two networks can be compared on the same data.
    Returns the network in eval mode, its BN layer and the training output.
    """
    bn = BatchNorm1d(n, eps=eps, momentum=point["momentum"])
    net = Sequential(*([noise, bn] if noise_first else [bn, noise]))
    if x is None:
        x = draw_inputs(point, rng, (steps or point["T"], point["N"], n))
    out = net.train().forward(x, rng=rng)
    return net.eval(), bn, out


def test_gain(net: Module, n: int) -> np.ndarray:
    """Slope of the eval-mode network, per channel: it is affine at test time."""
    return net.forward(np.ones((1, n)))[0] - net.forward(np.zeros((1, n)))[0]


def over_normalisation(net: Module, point: dict, n: int) -> np.ndarray:
    r"""``1 / Var_test[output]`` for test inputs of variance ``sigma^2``: ``(rho + eps)/sigma^2``.

    The reciprocal of the test-time output variance (Li et al.'s shift) is linear in the
    learned running variance, so its expectation over training is exact.
    """
    return 1.0 / (test_gain(net, n) ** 2 * point["sigma"] ** 2)


def next_input_over_normalisation(net: Module, out: np.ndarray, point: dict,
                                  n: int) -> np.ndarray:
    """Training-time mean square of the next layer's input over its test-time variance.

    ``out`` is the last training output (the next layer's input in training); both phases
    have mean ``beta = 0`` there, so the mean square is the variance the next layer saw.
    """
    return (out[-1] ** 2).mean(axis=0) * over_normalisation(net, point, n)


def recalibrate(net: Module, bn: BatchNorm1d, point: dict, rng: np.random.Generator,
                n: int) -> None:
    """Re-estimate BN with dropout off: PyTorch's ``momentum=None`` cumulative average.

    After ``reset_running_stats()`` the ``k``-th batch gets the factor ``1/k``, so the
    running variance becomes the plain mean of the ``R`` unbiased batch variances.
    """
    net.eval()
    bn.train()
    bn.momentum = None
    bn.reset_running_stats()
    for _ in range(point["R"]):
        net.forward(draw_inputs(point, rng, (point["N"], n)), rng=rng)
    net.eval()
