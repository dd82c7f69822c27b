"""Networks of the `ensemble` and `mc-dropout` families, built from the network core's layers.

Content helpers, not machinery: each function builds a ``Sequential`` of the core's layers
with given weights and pushes injected keep-masks (or the core's own sampled masks) through
it, so that every simulated value is what a practitioner's code computes.
"""
from __future__ import annotations

import numpy as np

from ..network import Linear, Sequential, StandardDropout
from ..sampling import enumerate_masks
from ..sampling.networks import subnetwork_mean

__all__ = ["linear", "stacked", "split_masks", "forward", "ensemble_mean", "layered_mean"]


def linear(weight, bias=None) -> Linear:
    """A core ``Linear`` layer holding ``weight`` (out x in) and ``bias`` (or none)."""
    weight = np.atleast_2d(np.asarray(weight, dtype=np.float64))
    layer = Linear(weight.shape[1], weight.shape[0], bias=bias is not None,
                   rng=np.random.default_rng(0))
    layer.weight = weight
    if bias is not None:
        layer.bias = np.atleast_1d(np.asarray(bias, dtype=np.float64))
    return layer


def stacked(weights, biases, activation, drop: float, *, input_dropout: bool = False):
    """``[StandardDropout] Linear act StandardDropout ... Linear`` (dropout after every hidden
    activation, and on the input if asked); returns the net and the indices of its dropout
    layers. ``activation`` is a layer class (``Tanh``, ``ReLU``) or ``None`` (linear)."""
    layers, dropouts = [], []
    if input_dropout:
        dropouts.append(len(layers))
        layers.append(StandardDropout(drop))
    for k, (weight, bias) in enumerate(zip(weights, biases)):
        layers.append(linear(weight, bias))
        if k < len(weights) - 1:
            if activation is not None:
                layers.append(activation())
            dropouts.append(len(layers))
            layers.append(StandardDropout(drop))
    return Sequential(*layers), dropouts


def split_masks(masks, widths) -> list:
    """The columns of ``masks`` (S, sum(widths)) cut into consecutive blocks of ``widths``."""
    edges = np.cumsum([0, *widths])
    return [masks[:, a:b] for a, b in zip(edges[:-1], edges[1:])]


def forward(net, dropouts, x, masks, widths):
    """The net on input ``x`` under each mask row, the blocks injected in order; ``(S, out)``."""
    blocks = split_masks(masks, widths)
    rows = np.broadcast_to(np.asarray(x, dtype=np.float64), (len(masks), np.size(x)))
    return net.forward(rows, mask=dict(zip(dropouts, blocks)))


def ensemble_mean(values_of_masks, k: int, drop: float, *, chunk_bits: int = 16):
    """The exact average over all ``2**k`` sub-networks, ``sum_m P(m) f_m``: masks are
    enumerated in vectorized chunks of ``2**chunk_bits`` (no Python loop over masks) and
    ``values_of_masks(masks) -> (S, ...)`` is one batched forward per chunk."""
    total = 0.0
    for masks, probs in enumerate_masks(k, drop, chunk_bits=chunk_bits):
        values = np.asarray(values_of_masks(masks), dtype=np.float64)
        total = total + np.tensordot(probs, values, axes=(0, 0))
    return total


def layered_mean(weights, biases, activation, drop: float, x, *, input_dropout: bool = False,
                 values=None):
    """The exact average over all sub-networks of ``stacked(weights, biases, activation,
    drop, input_dropout=...)`` on input ``x`` without a mask matrix: pre-activations built by
    doubling, layer by layer (:func:`~dropout_theory.sampling.networks.subnetwork_mean`),
    the activation applied by the core's layer; ``2**20`` sub-networks in a fraction of a
    second. ``values(out)`` as in :func:`ensemble_mean` (default: the outputs)."""
    act = None if activation is None else activation().forward
    return subnetwork_mean(weights, biases, x, drop, activation=act,
                           input_dropout=input_dropout, values=values)
