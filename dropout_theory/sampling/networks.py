r"""Exact averages over every sub-network of a fully connected dropout network, layer by layer.

A network ``[dropout] Linear act dropout Linear ... Linear`` (standard dropout: a kept unit
passes unscaled) under keep-mask ``m`` computes, at each dropout-then-Linear step,
:math:`z = b + \sum_j W_{:, j}\, m_j h_j`. Over all ``2**w`` masks of the ``w`` inputs of the
step, these pre-activations are built by doubling (``z`` and ``z + W_{:, j} h_j`` for each
position ``j``), for every sub-network state reached so far, with the masks' probabilities
multiplied alongside; the activation then acts on all of them at once. So ``2**k``
sub-networks (``k`` masked units in all) cost about ``2**k`` times the output width in
additions, and no mask matrix or per-mask forward pass is formed: ``2**20`` sub-networks of a
two-layer net take milliseconds where pushing ``2**20`` mask rows through the layers takes
seconds (``dropout-theory bench``).

The result is a floating-point value without a certified rounding bound (it is meant for
sweeps and figures, and is tested against the forward pass of the network core under every
mask); the exact route keeps its own certified enumeration.
"""
from __future__ import annotations

import numpy as np

from .._validation import check_p
from .exact import MAX_MASK_BITS

__all__ = ["subnetwork_mean"]


def _mask_probabilities(n: int, p: float) -> np.ndarray:
    """Probabilities of the ``2**n`` masks of ``n`` positions, bit ``j`` of the index = kept
    (a product of ``n`` factors ``q`` or ``p``, in position order)."""
    out = np.ones(1)
    q = 1.0 - p
    for _ in range(n):
        out = np.concatenate([out * p, out * q])
    return out


def _masked_linear(h, probs, weight, bias, p):
    """Every mask of ``h``'s columns: ``(z, probs)`` with ``z`` (S * 2**w, out), sub-network
    ``s`` and mask ``m`` at row ``s * 2**w + m``."""
    n, w = h.shape
    z = np.broadcast_to(bias, (n, 1, weight.shape[0])).copy()
    for j in range(w):
        z = np.concatenate([z, z + (h[:, j, None] * weight[:, j])[:, None, :]], axis=1)
    return (z.reshape(n << w, weight.shape[0]),
            (probs[:, None] * _mask_probabilities(w, p)[None, :]).ravel())


def subnetwork_mean(weights, biases, x, p: float, *, activation=None, input_dropout=False,
                    values=None):
    r"""``sum_m P(m) values(f_m)`` over every keep-mask ``m`` of the network
    ``[dropout] Linear act dropout ... Linear`` on input ``x``: dropout (drop probability
    ``p``, no scaling) after every hidden activation and on the input if ``input_dropout``;
    ``activation(z)`` maps pre-activations elementwise (``None``: linear); ``values(out)``
    maps the outputs ``(S, out)`` of ``S`` sub-networks to ``(S, ...)`` (default: the outputs).

    >>> w = [np.array([[1.0, 2.0]])]  # one Linear, input dropout: E = q (1 + 2)
    >>> float(subnetwork_mean(w, [np.zeros(1)], np.ones(2), 0.25, input_dropout=True)[0])
    2.25
    """
    p = check_p(p)
    weights = [np.atleast_2d(np.asarray(wt, dtype=np.float64)) for wt in weights]
    biases = [np.zeros(wt.shape[0]) if b is None else np.asarray(b, dtype=np.float64)
              for wt, b in zip(weights, biases)]
    masked = sum(wt.shape[1] for wt in weights[1:]) + (weights[0].shape[1] if input_dropout
                                                       else 0)
    if masked > MAX_MASK_BITS + 4:
        raise ValueError(f"at most {MAX_MASK_BITS + 4} masked units, got {masked}")
    act = (lambda z: z) if activation is None else activation
    h = np.asarray(x, dtype=np.float64).reshape(1, -1)
    probs = np.ones(1)
    for k, (weight, bias) in enumerate(zip(weights, biases)):
        if k > 0 or input_dropout:
            z, probs = _masked_linear(h, probs, weight, bias, p)
        else:
            z = h @ weight.T + bias
        h = act(z) if k < len(weights) - 1 else z
    out = h if values is None else np.asarray(values(h), dtype=np.float64)
    return np.tensordot(probs, out, axes=(0, 0))
