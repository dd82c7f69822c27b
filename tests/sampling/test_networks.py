"""The layer-by-layer sub-network enumeration against the network core's forward pass under
every mask (the mask-matrix enumeration), and in exact rationals for a linear net."""
import itertools
from fractions import Fraction

import numpy as np
import pytest

from dropout_theory.identities._subnetworks import ensemble_mean, forward, layered_mean, stacked
from dropout_theory.network import ReLU, Tanh
from dropout_theory.sampling.networks import subnetwork_mean


def _net(rng, depth, width, inputs, outputs):
    fans = [inputs] + [width] * depth
    weights = [rng.standard_normal((width, f)) / np.sqrt(f) for f in fans[:-1]]
    weights.append(rng.standard_normal((outputs, width)))
    biases = [0.1 * rng.standard_normal(width) for _ in range(depth)] + [rng.standard_normal(outputs)]
    return weights, biases, rng.standard_normal(inputs)


@pytest.mark.parametrize("depth, width, inputs, activation, input_dropout",
                         [(2, 3, 4, Tanh, True), (2, 5, 3, ReLU, False), (1, 12, 8, Tanh, False),
                          (3, 4, 3, None, True)])
def test_layered_mean_is_the_average_of_the_core_forward_under_every_mask(
        depth, width, inputs, activation, input_dropout):
    rng = np.random.default_rng(depth * 100 + width)
    weights, biases, x = _net(rng, depth, width, inputs, 2)
    net, dropouts = stacked(weights, biases, activation, 0.3, input_dropout=input_dropout)
    widths = ((inputs,) if input_dropout else ()) + (width,) * depth

    def moments(out):
        return np.concatenate([out, out ** 2], axis=1)
    reference = ensemble_mean(lambda m: moments(forward(net, dropouts, x, m, widths)),
                              sum(widths), 0.3)
    layered = layered_mean(weights, biases, activation, 0.3, x, input_dropout=input_dropout,
                           values=moments)
    assert np.allclose(layered, reference, rtol=1e-12, atol=1e-13)
    # a wrong drop rate is seen (the test can fail)
    wrong = layered_mean(weights, biases, activation, 0.31, x, input_dropout=input_dropout,
                         values=moments)
    assert not np.allclose(wrong, reference, rtol=1e-6)


def test_linear_net_in_exact_rationals():
    rng = np.random.default_rng(3)
    weights, biases, x = _net(rng, 2, 3, 2, 1)
    p = 0.375
    got = float(subnetwork_mean(weights, biases, x, p, input_dropout=True)[0])
    fr = [[[Fraction(float(v)) for v in row] for row in np.atleast_2d(w)] for w in weights]
    fb = [[Fraction(float(v)) for v in b] for b in biases]
    fp, fq = Fraction(p), 1 - Fraction(p)
    total = Fraction(0)
    for mask in itertools.product((0, 1), repeat=2 + 3 + 3):
        h = [Fraction(float(v)) * m for v, m in zip(x, mask[:2])]
        offset = 2
        for k, (w, b) in enumerate(zip(fr, fb)):
            z = [b[i] + sum(w[i][j] * h[j] for j in range(len(h))) for i in range(len(w))]
            if k < len(fr) - 1:
                h = [v * m for v, m in zip(z, mask[offset:offset + len(z)])]
                offset += len(z)
            else:
                h = z
        prob = 1
        for m in mask:
            prob *= fq if m else fp
        total += prob * h[0]
    assert abs(Fraction(got) - total) < Fraction(1, 10 ** 13)


def test_too_many_masked_units_are_refused():
    weights = [np.ones((30, 1)), np.ones((1, 30))]
    with pytest.raises(ValueError, match="masked units"):
        subnetwork_mean(weights, [None, None], np.ones(1), 0.5, input_dropout=True)
