"""Every layer's backward against float64 central differences, masks injected.

One table of cases, one parametrized test; tolerances come from
``dropout_theory.network.gradcheck`` (derived from float precision and the step size).
"""
from __future__ import annotations

import numpy as np
import pytest

from dropout_theory.network import (
    SELU, AlphaDropout, BatchNorm1d, ConcreteDropout, CrossEntropyLoss, DropBlock, DropConnect,
    Dropout, DropoutRNN, GaussianDropout, Linear, Module, MSELoss, Quadratic, ReLU, Sequential,
    Sigmoid, Softmax, Softplus, SpatialDropout, StandardDropout, Tanh, TargetedDropout, UOut,
    bernoulli_mask, check_gradients)


class LossAsLayer(Module):
    """A loss with its target fixed, seen as a layer from input to a 0-d output."""

    def __init__(self, loss, target):
        super().__init__()
        self.loss, self.target = loss, target

    def forward(self, x, *, mask=None, rng=None):
        return np.asarray(self.loss.forward(x, self.target))

    def backward(self, grad_out):
        return self.loss.backward(float(np.asarray(grad_out)))


def _batchnorm(rng, *, training=True):
    bn = BatchNorm1d(4)
    bn.params["weight"][:] = rng.normal(size=4)
    bn.params["bias"][:] = rng.normal(size=4)
    bn.running_mean, bn.running_var = rng.normal(size=4), rng.uniform(0.5, 2.0, size=4)
    return bn.train(training)


def _network(rng):
    net = Sequential(Linear(3, 4, rng=rng), _batchnorm(rng), Tanh(), Dropout(0.4),
                     DropConnect(4, 5, p=0.3, rng=rng), SELU(), AlphaDropout(0.2),
                     Linear(5, 2, rng=rng))
    x = rng.normal(size=(2, 6, 3))
    masks = {3: bernoulli_mask((2, 6, 4), 0.4, rng), 4: bernoulli_mask((2, 6, 5, 4), 0.3, rng),
             6: bernoulli_mask((2, 6, 5), 0.2, rng)}
    return net, x, {"mask": masks}


def _concrete(rng):
    layer = ConcreteDropout(p=0.3, temperature=0.5)
    return layer, rng.normal(size=(3, 4)), {"mask": rng.uniform(0.05, 0.95, size=(3, 4))}


def _targeted(rng):
    layer = TargetedDropout(6, 3, p=0.5, gamma=0.5, rng=rng)
    return layer, rng.normal(size=(4, 6)), {"mask": bernoulli_mask((4, 3, 6), 0.5, rng)}


def _rnn(rng, *, variational):
    layer = DropoutRNN(3, 4, p=0.3, p_recurrent=0.4, variational=variational, rng=rng)
    t_axis = 1 if variational else 5
    masks = (bernoulli_mask((2, t_axis, 3), 0.3, rng), bernoulli_mask((2, t_axis, 4), 0.4, rng))
    return layer, rng.normal(size=(2, 5, 3)), {"mask": masks}


def _masked(layer, shape, mask_shape=None, *, p):
    def build(rng):
        return layer, rng.normal(size=shape), {"mask": bernoulli_mask(mask_shape or shape, p, rng)}
    return build


def _plain(layer, shape, *, scale=1.0):
    return lambda rng: (layer, rng.normal(scale=scale, size=shape), {})


CASES = {
    "Linear": lambda rng: (Linear(3, 2, rng=rng), rng.normal(size=(4, 3)), {}),
    "Linear-sample-axis": lambda rng: (Linear(3, 2, rng=rng), rng.normal(size=(2, 4, 3)), {}),
    "ReLU": _plain(ReLU(), (4, 5)),
    "Sigmoid": _plain(Sigmoid(), (4, 5), scale=2.0),
    "Tanh": _plain(Tanh(), (4, 5), scale=2.0),
    "Softplus": _plain(Softplus(beta=2.0, threshold=5.0), (4, 5), scale=2.0),
    "SELU": _plain(SELU(), (4, 5), scale=2.0),
    "Quadratic": _plain(Quadratic(), (4, 5)),
    "Softmax": _plain(Softmax(), (3, 5), scale=2.0),
    "CrossEntropyLoss": lambda rng: (LossAsLayer(CrossEntropyLoss(), np.array([0, 2, 4])),
                                     rng.normal(size=(3, 5)), {}),
    "CrossEntropyLoss-probs": lambda rng: (
        LossAsLayer(CrossEntropyLoss(), rng.dirichlet(np.ones(5), size=3)),
        rng.normal(size=(3, 5)), {}),
    "MSELoss": lambda rng: (LossAsLayer(MSELoss(), rng.normal(size=(3, 2))),
                            rng.normal(size=(3, 2)), {}),
    "Dropout": _masked(Dropout(0.3), (2, 4, 5), p=0.3),
    "StandardDropout": _masked(StandardDropout(0.3), (4, 5), p=0.3),
    "SpatialDropout2d": _masked(SpatialDropout(0.4), (3, 4, 2, 3), (3, 4), p=0.4),
    "SpatialDropout1d": _masked(SpatialDropout(0.4, n_spatial=1), (2, 3, 4, 5), (2, 3, 4), p=0.4),
    "GaussianDropout": lambda rng: (GaussianDropout(0.3), rng.normal(size=(4, 5)),
                                    {"mask": 1.0 + 0.6 * rng.normal(size=(4, 5))}),
    "UOut": lambda rng: (UOut(0.8), rng.normal(size=(4, 5)),
                         {"mask": rng.uniform(0.2, 1.8, size=(4, 5))}),
    "AlphaDropout": _masked(AlphaDropout(0.2), (4, 5), p=0.2),
    "DropBlock": _masked(DropBlock(0.3, block_size=2), (2, 2, 3, 5, 5), p=0.3),
    "ConcreteDropout": _concrete,
    "DropConnect": lambda rng: (DropConnect(4, 3, p=0.4, rng=rng), rng.normal(size=(2, 5, 4)),
                                {"mask": bernoulli_mask((2, 5, 3, 4), 0.4, rng)}),
    "DropConnect-shared-noninverted": lambda rng: (
        DropConnect(4, 3, p=0.4, inverted=False, rng=rng), rng.normal(size=(5, 4)),
        {"mask": bernoulli_mask((3, 4), 0.4, rng)}),
    "DropConnect-eval-noninverted": lambda rng: (
        DropConnect(4, 3, p=0.4, inverted=False, rng=rng).eval(), rng.normal(size=(5, 4)), {}),
    "TargetedDropout": _targeted,
    "BatchNorm1d-train": lambda rng: (_batchnorm(rng), rng.normal(1.0, 2.0, size=(6, 4)), {}),
    "BatchNorm1d-train-sample-axis": lambda rng: (_batchnorm(rng), rng.normal(size=(3, 5, 4)), {}),
    "BatchNorm1d-eval": lambda rng: (_batchnorm(rng, training=False), rng.normal(size=(6, 4)), {}),
    "DropoutRNN-variational": lambda rng: _rnn(rng, variational=True),
    "DropoutRNN-per-step": lambda rng: _rnn(rng, variational=False),
    "Sequential": _network,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_backward_matches_finite_differences(case):
    rng = np.random.default_rng([7, len(case)])
    layer, x, kwargs = CASES[case](rng)
    assert all(np.any(value != 0) for value in layer.params.values()), "trivial parameters"
    results = check_gradients(layer, x, rng=rng, forward_kwargs=kwargs)
    assert {r.name for r in results} == {"x", *layer.params}
    for r in results:
        assert r.ok, f"{case}: d/d{r.name} off by {r.worst_ratio:.3g} x the derived bound"


class _WrongBackward(Linear):
    """Linear whose weight gradient misses a relative 1e-6 (a plausible subtle bug)."""

    def backward(self, grad_out):
        grad_x = super().backward(grad_out)
        self.grads["weight"] = self.grads["weight"] * (1.0 + 1e-6)
        return grad_x


class _ForgetsMask(Dropout):
    """Dropout whose backward forgets the mask (the classic bug)."""

    def backward(self, grad_out):
        return np.asarray(grad_out) / (1.0 - self.p)


@pytest.mark.parametrize("layer_and_x", ["wrong-weight-grad", "forgets-mask"])
def test_gradcheck_rejects_wrong_backward(layer_and_x):
    rng = np.random.default_rng(11)
    if layer_and_x == "wrong-weight-grad":
        layer, x, kwargs = _WrongBackward(3, 2, rng=rng), rng.normal(size=(4, 3)), {}
    else:
        layer, x = _ForgetsMask(0.5), rng.normal(size=(4, 5))
        kwargs = {"mask": bernoulli_mask((4, 5), 0.5, rng)}
    results = check_gradients(layer, x, rng=rng, forward_kwargs=kwargs)
    assert not all(r.ok for r in results)
