"""Semantics of the dropout variants: modes, edge values of p, errors, mask structure.

Deterministic: masks are injected or drawn from fixed seeds and checked structurally, and
expectations are computed by exact enumeration of every mask.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from dropout_theory.network import check_gradients, rounding_bound
from dropout_theory.network import (
    ALPHA_PRIME, SELU_ALPHA, SELU_SCALE, AlphaDropout, BatchNorm1d, ConcreteDropout, DropBlock,
    DropConnect, Dropout, DropoutRNN, GaussianDropout, Linear, SpatialDropout, StandardDropout,
    TargetedDropout, UOut, dropblock_gamma)

RNG = np.random.default_rng


def _linear_like(layer, x):
    """The plain linear map with ``layer``'s parameters."""
    return x @ layer.weight.T + layer.bias


# name -> (factory(p, rng), input shape, reference output in eval mode or None for identity)
VARIANTS = {
    "Dropout": (lambda p, rng: Dropout(p, rng=rng), (3, 4)),
    "SpatialDropout": (lambda p, rng: SpatialDropout(p, rng=rng), (2, 3, 4, 4)),
    "GaussianDropout": (lambda p, rng: GaussianDropout(p, rng=rng), (3, 4)),
    "UOut": (lambda p, rng: UOut(np.sqrt(3 * p / (1 - p)), rng=rng), (3, 4)),
    "AlphaDropout": (lambda p, rng: AlphaDropout(p, rng=rng), (3, 4)),
    "DropBlock": (lambda p, rng: DropBlock(p, block_size=2, rng=rng), (2, 3, 5, 5)),
    "ConcreteDropout": (lambda p, rng: ConcreteDropout(p, rng=rng), (3, 4)),
    "DropConnect": (lambda p, rng: DropConnect(4, 2, p=p, rng=rng), (3, 4)),
    "TargetedDropout": (lambda p, rng: TargetedDropout(4, 2, p=p, rng=rng), (3, 4)),
    "DropoutRNN": (lambda p, rng: DropoutRNN(4, 2, p=p, p_recurrent=p, rng=rng), (3, 5, 4)),
}


def _reference_without_dropout(layer, x):
    if isinstance(layer, (DropConnect,)):
        return _linear_like(layer, x)
    if isinstance(layer, DropoutRNN):
        return DropoutRNN.forward(_copy_rnn(layer, p=0.0), x)
    return x


def _copy_rnn(layer, *, p):
    twin = DropoutRNN(layer.input_size, layer.hidden_size, p=p, p_recurrent=p)
    for name, value in layer.params.items():
        twin.params[name][...] = value
    return twin


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_eval_mode_is_the_layer_without_dropout(name):
    factory, shape = VARIANTS[name]
    rng = RNG(1)
    layer, x = factory(0.4, rng), rng.normal(size=shape)
    expected = _reference_without_dropout(layer, x)
    np.testing.assert_array_equal(layer.eval().forward(x), expected)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_p_zero_is_the_identity_in_training(name):
    factory, shape = VARIANTS[name]
    rng = RNG(2)
    layer, x = factory(0.0, rng), rng.normal(size=shape)
    np.testing.assert_array_equal(layer.forward(x, rng=rng), _reference_without_dropout(layer, x))


def test_standard_dropout_scales_by_q_at_test_time_and_not_in_training():
    layer, x = StandardDropout(0.25), RNG(3).normal(size=(2, 3))
    mask = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(layer.forward(x, mask=mask), x * mask)
    np.testing.assert_array_equal(layer.eval().forward(x), 0.75 * x)


@pytest.mark.parametrize("name", ["Dropout", "SpatialDropout", "AlphaDropout", "DropBlock"])
def test_p_one_gives_zeros(name):
    factory, shape = VARIANTS[name]
    rng = RNG(4)
    layer, x = factory(1.0, rng), rng.normal(size=shape)
    y = layer.forward(x, rng=rng)
    np.testing.assert_array_equal(y, np.zeros(shape))
    np.testing.assert_array_equal(layer.backward(np.ones(shape)), np.zeros(shape))


def test_p_one_drops_every_weight_and_every_recurrent_input():
    rng = RNG(5)
    layer, x = DropConnect(4, 2, p=1.0, rng=rng), rng.normal(size=(3, 4))
    np.testing.assert_array_equal(layer.forward(x, rng=rng), np.broadcast_to(layer.bias, (3, 2)))
    rnn = DropoutRNN(4, 2, p=1.0, p_recurrent=1.0, rng=rng)
    y = rnn.forward(rng.normal(size=(3, 5, 4)), rng=rng)
    bias_only = np.tanh(rnn.params["bias_ih"] + rnn.params["bias_hh"])
    np.testing.assert_array_equal(y, np.broadcast_to(bias_only, y.shape))


@pytest.mark.parametrize("factory", [GaussianDropout, ConcreteDropout])
def test_formulas_dividing_by_q_refuse_p_one(factory):
    with pytest.raises(ValueError, match=r"p = 1.*q = 1 - p = 0"):
        factory(1.0)


INVALID_P = [-0.1, 1.5, float("nan"), "0.5", True, None]


@pytest.mark.parametrize("name", sorted(set(VARIANTS) - {"UOut"}) + ["StandardDropout"])
@pytest.mark.parametrize("p", INVALID_P, ids=repr)
def test_invalid_p_is_a_value_error_naming_p_and_the_value(name, p):
    if name == "StandardDropout":
        factory = lambda p, rng: StandardDropout(p)  # noqa: E731
    else:
        factory = VARIANTS[name][0]
    with pytest.raises(ValueError, match=r"^p must .*got " + repr(p).replace(".", r"\.")):
        factory(p, RNG(0))


@pytest.mark.parametrize("beta", [-0.5, float("inf"), float("nan"), "1", None], ids=repr)
def test_uout_refuses_a_bad_half_width_naming_beta(beta):
    with pytest.raises(ValueError, match=r"^beta must .*got " + repr(beta).replace(".", r"\.")):
        UOut(beta)


def test_uout_noise_is_bounded_and_matches_dropout_noise_variance_through_p():
    layer = UOut(1.5, rng=RNG(7))
    y = layer.forward(np.ones((4000, 3)))
    assert -0.5 <= y.min() and y.max() <= 2.5 and not np.all(y == y[0])
    np.testing.assert_array_equal(layer.backward(np.ones((4000, 3))), y)
    q = 1.0 - layer.p  # inverted dropout's noise variance p/q equals beta^2/3
    assert abs(layer.p / q - 1.5 ** 2 / 3) <= 4 * np.finfo(float).eps


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_non_finite_input_is_refused_naming_x(name):
    factory, shape = VARIANTS[name]
    x = np.zeros(shape)
    x.flat[0] = np.nan
    with pytest.raises(ValueError, match=r"^x must be finite"):
        factory(0.3, RNG(0)).forward(x, rng=RNG(0))


@pytest.mark.parametrize("layer, x, message", [
    (Dropout(0.5), np.ones((2, 3)), r"mask must have the shape of x"),
    (SpatialDropout(0.5), np.ones((2, 3, 4)), r"^x must have at least 4 axes"),
    (SpatialDropout(0.5), np.ones((2, 3, 4, 4)), r"^mask must broadcast"),
    (DropBlock(0.5, block_size=5), np.ones((1, 1, 4, 4)), r"^block_size must not exceed"),
    (Linear(3, 2), np.ones((2, 4)), r"^x must have 3 features"),
    (BatchNorm1d(3), np.ones((2, 4)), r"^x must have 3 features"),
    (BatchNorm1d(3), np.ones((1, 3)), r"^x needs a batch of at least 2"),
    (DropConnect(3, 2), np.ones((2, 3)), r"^mask must broadcast"),
])
def test_wrong_shapes_are_value_errors(layer, x, message):
    mask = np.ones((5, 7)) if "mask" in message else None
    with pytest.raises(ValueError, match=message):
        layer.forward(x, mask=mask, rng=RNG(0))


def test_non_binary_mask_and_missing_generator_are_refused():
    with pytest.raises(ValueError, match=r"mask must contain only 0 and 1"):
        SpatialDropout(0.5, n_spatial=1).forward(np.ones((2, 3, 4)), mask=np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match=r"needs rng="):
        AlphaDropout(0.5).forward(np.ones(3))


def _all_masks(n):
    return [np.array(bits, dtype=float) for bits in itertools.product([0, 1], repeat=n)]


@pytest.mark.parametrize("inverted", [True, False])
def test_dropconnect_mean_by_exact_enumeration(inverted):
    rng = RNG(6)
    p, q = 0.3, 0.7
    layer, x = DropConnect(3, 1, p=p, inverted=inverted, rng=rng), rng.normal(size=3)
    mean = sum(q ** m.sum() * p ** (3 - m.sum()) * layer.forward(x, mask=m[None, :])
               for m in _all_masks(3))
    # E u = W v for inverted masks, q W v for the paper's unscaled masks (the eval output).
    expected = layer.eval().forward(x)
    # 8 masks, each output a 3-term sum: a few dozen roundings of terms of this size.
    scale = np.abs(layer.weight) @ np.abs(x) + np.abs(layer.bias)
    assert np.all(np.abs(mean - expected) <= 32 * np.finfo(float).eps * scale)
    mean_network = (1.0 if inverted else q) * layer.weight @ x + layer.bias
    assert np.all(np.abs(expected - mean_network) <= 8 * np.finfo(float).eps * scale)


def test_alpha_dropout_affine_constants_match_the_selu_fixed_point_formula():
    p = 0.2
    q = 1 - p
    layer = AlphaDropout(p)
    assert ALPHA_PRIME == pytest.approx(-SELU_SCALE * SELU_ALPHA, rel=4 * np.finfo(float).eps)
    a = (q + ALPHA_PRIME ** 2 * q * (1 - q)) ** -0.5
    b = -a * (1 - q) * ALPHA_PRIME
    x = np.array([0.3, -1.2])
    y = layer.forward(x, mask=np.array([1.0, 0.0]))
    np.testing.assert_allclose(y, [a * 0.3 + b, a * ALPHA_PRIME + b], rtol=4 * np.finfo(float).eps)
    # Mean 0 and variance 1 of a standard normal input survive (exact over the mask).
    mean = q * b + p * (a * ALPHA_PRIME + b)
    second = q * (a ** 2 + b ** 2) + p * (a * ALPHA_PRIME + b) ** 2
    assert abs(mean) < 8 * np.finfo(float).eps and abs(second - 1) < 8 * np.finfo(float).eps


def test_spatial_dropout_draws_one_mask_per_channel():
    rng = RNG(7)
    layer, x = SpatialDropout(0.5, rng=rng), np.ones((4, 6, 3, 3))
    y = layer.forward(x)
    per_channel = y.reshape(4, 6, -1)
    assert np.all(per_channel == per_channel[..., :1])
    assert set(np.unique(y)) == {0.0, 2.0}


def test_dropblock_gamma_is_the_paper_formula_and_masks_are_whole_blocks():
    keep_prob, b, f = 0.9, 3, 7
    assert dropblock_gamma(1 - keep_prob, b, f, f) == pytest.approx(
        (1 - keep_prob) / b ** 2 * f ** 2 / (f - b + 1) ** 2, rel=4 * np.finfo(float).eps)
    layer = DropBlock(0.3, block_size=b, rng=RNG(8))
    x = np.ones((2, 3, f, f))
    y = layer.forward(x)
    mask = layer.mask
    assert 0 < mask.sum() < mask.size
    # Every dropped unit lies in some fully dropped b x b square inside the map.
    covered = np.zeros_like(mask, dtype=bool)
    for i, j in itertools.product(range(f - b + 1), repeat=2):
        whole = np.all(mask[..., i:i + b, j:j + b] == 0, axis=(-2, -1))
        covered[..., i:i + b, j:j + b] |= whole[..., None, None]
    np.testing.assert_array_equal(covered, mask == 0)
    assert y.sum() == pytest.approx(x.size, rel=x.size * np.finfo(float).eps)


def test_targeted_dropout_drops_only_the_lowest_magnitude_weights():
    layer = TargetedDropout(4, 2, p=1.0, gamma=0.5, rng=RNG(9))
    layer.weight = np.array([[0.1, -2.0, 0.2, 3.0], [-5.0, 0.01, 1.0, -0.5]])
    np.testing.assert_array_equal(layer.targets(), [[1, 0, 1, 0], [0, 1, 0, 1]])
    x = np.eye(4)
    # x = I reads the effective weights column by column (bias added, then removed: 2 roundings).
    tol = 2 * np.finfo(float).eps * (np.abs(layer.weight).T + np.abs(layer.bias))
    dropped = layer.forward(x, rng=RNG(0)) - layer.bias
    assert np.all(np.abs(dropped - (layer.weight * (1 - layer.targets())).T) <= tol)
    kept = layer.forward(x, mask=np.ones((4, 2, 4))) - layer.bias
    assert np.all(np.abs(kept - layer.weight.T) <= tol)
    layer.prune_at_eval = True
    np.testing.assert_array_equal(layer.eval().forward(x) - layer.bias, dropped)


def test_concrete_dropout_tends_to_inverted_dropout_at_low_temperature():
    p, q = 0.3, 0.7
    u = np.array([0.05, 0.5, 0.69, 0.71, 0.95])
    layer = ConcreteDropout(p, temperature=1e-4)
    y = layer.forward(np.ones_like(u), mask=u)
    # Keep when u < q, as bernoulli_mask thresholds uniforms. |sigmoid(s) - step(s)| is at
    # most exp(-|s|), with s the tempered logit; add rounding of the 1/q scaling.
    s = (np.log(p / q) + np.log(u / (1 - u))) / layer.temperature
    bound = np.exp(-np.abs(s)) / q + 4 * np.finfo(float).eps / q
    assert np.all(np.abs(y - (u < q) / q) <= bound)


def test_recurrent_masks_variational_shared_over_time_and_per_step_not():
    x = np.ones((3, 6, 4))
    shared = DropoutRNN(4, 5, p=0.5, p_recurrent=0.5, variational=True, rng=RNG(10))
    shared.forward(x)
    assert np.all(shared.fx == shared.fx[:, :1]) and np.all(shared.fh == shared.fh[:, :1])
    per_step = DropoutRNN(4, 5, p=0.5, p_recurrent=0.5, variational=False, rng=RNG(10))
    per_step.forward(x)
    assert np.any(per_step.fx != per_step.fx[:, :1]) and np.any(per_step.fh != per_step.fh[:, :1])


def test_recurrent_dropout_cuts_the_recurrent_connection():
    rnn = DropoutRNN(2, 3, p_recurrent=0.5, rng=RNG(11))
    x = RNG(12).normal(size=(1, 4, 2))
    mask_h = np.ones((1, 4, 3))
    mask_h[0, 2] = 0.0  # step 2 sees no previous hidden state
    y = rnn.forward(x, mask=(None, mask_h))
    p = rnn.params
    fresh = np.tanh(x[0, 2] @ p["weight_ih"].T + p["bias_ih"] + p["bias_hh"])
    np.testing.assert_allclose(y[0, 2], fresh, rtol=4 * np.finfo(float).eps, atol=0)


def test_gaussian_dropout_draws_the_stated_noise():
    p, shape = 0.3, (4, 5)
    y = GaussianDropout(p).forward(np.ones(shape), rng=RNG(13))
    expected = 1.0 + np.sqrt(p / (1 - p)) * RNG(13).standard_normal(shape)
    np.testing.assert_array_equal(y, expected)


def test_container_and_loss_arguments_are_checked():
    from dropout_theory.network import CrossEntropyLoss, MSELoss, Sequential
    with pytest.raises(ValueError, match=r"^mask keys must be layer indices 0\.\.0, got \[3\]"):
        Sequential(Dropout(0.5)).forward(np.ones(2), mask={3: np.ones(2)})
    with pytest.raises(ValueError, match=r"^target class indices must lie in \[0, 2\]"):
        CrossEntropyLoss().forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"^target must broadcast to the input shape"):
        MSELoss().forward(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"^reduction must be one of"):
        MSELoss(reduction="avg")


def test_dropblock_1d_drops_whole_segments_and_injected_seeds_give_the_drawn_mask():
    b, length = 3, 9
    assert dropblock_gamma(0.2, b, length) == pytest.approx(
        0.2 / b * length / (length - b + 1), rel=4 * np.finfo(float).eps)
    layer = DropBlock(0.4, block_size=b, n_spatial=1, rng=RNG(11))
    x = np.ones((64, 2, 3, length))
    y = layer.forward(x)
    dropped = layer.mask == 0
    assert dropped.any() and not dropped.all()
    # every dropped position lies in a fully dropped segment of length b
    covered = np.zeros_like(dropped)
    for start in range(length - b + 1):
        whole = dropped[..., start:start + b].all(axis=-1)
        covered[..., start:start + b] |= whole[..., None]
    np.testing.assert_array_equal(covered, dropped)
    np.testing.assert_allclose(y.sum(axis=(-3, -2, -1)), 2 * 3 * length, rtol=1e-13)
    # the drawn mask is block_mask of the drawn seeds (same generator state)
    seeds = RNG(11).random((64, 2, 3, length - b + 1)) < dropblock_gamma(0.4, b, length)
    np.testing.assert_array_equal(layer.block_mask(seeds), layer.mask)


def test_batchnorm1d_ncl_normalises_each_channel_over_batch_and_length():
    rng = RNG(12)
    x = rng.normal(loc=[[1.0], [-2.0], [0.5]], scale=[[1.0], [3.0], [0.2]], size=(5, 3, 7))
    bn = BatchNorm1d(3, momentum=0.1, ncl=True)
    y = bn.forward(x)
    assert y.shape == x.shape
    per_channel = np.moveaxis(x, 1, 0).reshape(3, -1)  # the N L = 35 values of each channel
    mean, var = per_channel.mean(axis=1), per_channel.var(axis=1)
    expected = (x - mean[None, :, None]) / np.sqrt(var[None, :, None] + 1e-5)
    # both sides sum the 35 values of a channel: bound by the terms they combine
    scale = (np.abs(x) + np.abs(mean)[None, :, None]) / np.sqrt(var[None, :, None] + 1e-5)
    assert np.all(np.abs(y - expected) <= rounding_bound(scale, n_ops=2 * 35 + 16))
    assert np.all(np.abs(bn.running_mean - 0.1 * mean)
                  <= rounding_bound(np.abs(per_channel).mean(axis=1), n_ops=2 * 35 + 8))
    squares = (per_channel ** 2).mean(axis=1) + mean ** 2
    assert np.all(np.abs(bn.running_var - (0.9 + 0.1 * var * 35 / 34))
                  <= rounding_bound(1.0 + squares, n_ops=4 * 35 + 16))
    assert np.all(bn.eval().forward(x).shape == x.shape)
    with pytest.raises(ValueError, match=r"\(\.\.\., N, 3, L\)"):
        BatchNorm1d(3, ncl=True).forward(np.ones((5, 4, 7)))


def test_batchnorm1d_ncl_gradients_and_sample_axis():
    rng = RNG(13)
    results = check_gradients(BatchNorm1d(2, ncl=True), rng.normal(size=(4, 2, 3)), rng=rng)
    assert all(r.ok for r in results), [(r.name, r.worst_ratio) for r in results]
    x = rng.normal(size=(3, 4, 2, 5))  # S = 3 batches of (N, C, L)
    together = BatchNorm1d(2, ncl=True).forward(x)
    for s in range(3):
        np.testing.assert_array_equal(together[s], BatchNorm1d(2, ncl=True).forward(x[s]))
