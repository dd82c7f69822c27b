"""The sample axis, training (SGD, schedules, iterate averaging, max-norm) and MC dropout."""
from __future__ import annotations

import numpy as np
import pytest

from dropout_theory.network import (
    SGD, AlphaDropout, BatchNorm1d, CrossEntropyLoss, DropConnect, Dropout,
    Linear, MSELoss, ReLU, SELU, Sequential, SpatialDropout, bernoulli_mask, exponential_schedule,
    fit, mc_dropout_predict, step_schedule)

RNG = np.random.default_rng
EPS = np.finfo(np.float64).eps


def _network(rng):
    # No bias before BatchNorm: its gradient is exactly 0 in theory, pure rounding in practice.
    return Sequential(Linear(3, 6, bias=False, rng=rng), BatchNorm1d(6), ReLU(), Dropout(0.3),
                      DropConnect(6, 5, p=0.2, rng=rng), SELU(), AlphaDropout(0.1),
                      Linear(5, 2, rng=rng))


def test_batched_sample_axis_equals_a_loop_over_draws():
    rng = RNG(0)
    batched, looped = _network(RNG(1)), _network(RNG(1))
    n_samples, x = 4, rng.normal(size=(7, 3))
    masks = {3: bernoulli_mask((n_samples, 7, 6), 0.3, rng),
             4: bernoulli_mask((n_samples, 7, 5, 6), 0.2, rng),
             6: bernoulli_mask((n_samples, 7, 5), 0.1, rng)}
    y = batched.forward(np.broadcast_to(x, (n_samples,) + x.shape), mask=masks)
    g = rng.normal(size=y.shape)
    batched.backward(g)
    grads = {name: np.zeros_like(value) for name, value in looped.params.items()}
    for s in range(n_samples):
        y_s = looped.forward(x, mask={i: m[s] for i, m in masks.items()})
        np.testing.assert_allclose(y[s], y_s, rtol=64 * EPS, atol=64 * EPS)
        looped.backward(g[s])
        for name, value in looped.grads.items():
            grads[name] += value
    for name, value in batched.grads.items():
        scale = np.abs(grads[name]).max()
        np.testing.assert_allclose(value, grads[name], rtol=0, atol=64 * n_samples * EPS * scale)
    # BatchNorm's running statistics: S batched updates = S successive calls.
    np.testing.assert_allclose(batched[1].running_var, looped[1].running_var, rtol=64 * EPS)


@pytest.mark.parametrize("layer", [Dropout(0.4), SpatialDropout(0.4, n_spatial=1)])
def test_drawn_masks_do_not_depend_on_chunking(layer):
    x = RNG(2).normal(size=(6, 3, 4, 5))
    one_draw = layer.forward(x, rng=RNG(3))
    rng = RNG(3)
    chunks = np.concatenate([layer.forward(x[i:i + 2], rng=rng) for i in range(0, 6, 2)])
    np.testing.assert_array_equal(one_draw, chunks)


def test_sgd_projects_weights_to_max_norm_after_every_step():
    rng = RNG(4)
    net = Sequential(Linear(4, 8, rng=rng), ReLU(), Linear(8, 1, rng=rng))
    x, t = rng.normal(size=(32, 4)), rng.normal(size=(32, 1)) * 10.0
    opt = SGD(net, lr=0.5, momentum=0.9, c=0.5)
    loss = MSELoss()
    for _ in range(5):
        loss.forward(net.forward(x), t)
        net.backward(loss.backward())
        opt.step()
        for name in ("0.weight", "2.weight"):
            assert np.linalg.norm(net.params[name], axis=1).max() <= 0.5 * (1 + 4 * EPS)
    assert np.linalg.norm(net.params["0.weight"], axis=1).max() == pytest.approx(0.5, rel=4 * EPS)


def test_iterate_average_is_the_mean_of_the_iterates_after_start():
    rng = RNG(5)
    layer = Linear(2, 2, rng=rng)
    opt = SGD(layer, lr=exponential_schedule(0.1, gamma=0.9), average_start=2)
    history = []
    for _ in range(6):
        layer.grads = {name: rng.normal(size=value.shape) for name, value in layer.params.items()}
        opt.step()
        history.append(layer.weight.copy())
    expected = np.mean(history[2:], axis=0)
    np.testing.assert_allclose(opt.average.average["weight"], expected, rtol=16 * EPS)
    opt.average.copy_to(layer)
    np.testing.assert_array_equal(layer.weight, opt.average.average["weight"])


def test_schedules():
    schedule = step_schedule(0.8, step_size=3, gamma=0.5)
    assert [schedule(t) for t in (0, 2, 3, 6)] == [0.8, 0.8, 0.4, 0.2]
    with pytest.raises(ValueError, match="step_size"):
        step_schedule(0.1, step_size=0)


def test_fit_with_dropout_lowers_the_loss_of_a_separable_problem():
    rng = RNG(6)
    x = rng.normal(size=(200, 2))
    labels = (x[:, 0] + x[:, 1] > 0).astype(int)
    net = Sequential(Linear(2, 16, rng=rng), ReLU(), Dropout(0.2), Linear(16, 2, rng=rng))
    opt = SGD(net, lr=step_schedule(0.2, step_size=100, gamma=0.5), momentum=0.9, c=3.0)
    losses = fit(net, CrossEntropyLoss(), x, labels, optimizer=opt, n_steps=300,
                 batch_size=32, rng=rng)
    assert losses[-50:].mean() < 0.5 * losses[:10].mean()
    accuracy = (net.eval().forward(x).argmax(-1) == labels).mean()
    assert accuracy > 0.9


def test_mc_dropout_keeps_batchnorm_in_eval_and_dropout_on():
    rng = RNG(7)
    net = _network(rng)
    net.forward(rng.normal(size=(16, 3)), rng=rng)  # populate BatchNorm's running statistics
    bn = net[1]
    running = bn.running_mean.copy(), bn.running_var.copy()
    x = rng.normal(size=(5, 3))
    mean, var = mc_dropout_predict(net, x, n_samples=50, rng=RNG(8))
    # BatchNorm used (and kept) its running statistics; every layer is back in training mode.
    np.testing.assert_array_equal(bn.running_mean, running[0])
    np.testing.assert_array_equal(bn.running_var, running[1])
    assert all(layer.training for layer in net.modules()) and net.training
    # Same draws by hand: eval everywhere, dropout layers on, one batched pass.
    net.eval()
    for i in (3, 4, 6):
        net[i].train()
    passes = net.forward(np.broadcast_to(x, (50, 5, 3)), rng=RNG(8))
    np.testing.assert_array_equal(mean, passes.mean(axis=0))
    np.testing.assert_allclose(var, passes.var(axis=0), rtol=16 * EPS * 50)
    assert np.all(var > 0)
