"""Same inputs, weights and masks as ``torch.nn`` give the same outputs and gradients.

References come from ``torch_reference.npz`` (written by ``make_torch_reference.py`` with
torch in float64) and, when torch is importable, are recomputed live. Every tolerance is
``rounding_bound(scale, n_ops)``: the magnitude of the terms combined times the number of
rounded operations times float64's epsilon.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dropout_theory.network import (SELU, SGD, AlphaDropout, BatchNorm1d, CrossEntropyLoss,
                                    Dropout, DropoutRNN, Linear, MSELoss, ReLU, Sigmoid, Softmax,
                                    Softplus, SpatialDropout, Tanh, max_norm, rounding_bound,
                                    step_schedule)

REFERENCE = Path(__file__).with_name("torch_reference.npz")
# Elementwise steps of an activation or its derivative, each within a few ulps
# (exp/log/tanh); added to the length of any reduction on the path.
ELEMENTWISE_OPS = 10


def _file_reference():
    with np.load(REFERENCE) as data:
        return {key: data[key] for key in data.files}


def _live_reference():
    pytest.importorskip("torch")
    import make_torch_reference
    return make_torch_reference.compute()


@pytest.fixture(scope="module", params=["file", "live"])
def ref(request):
    return _file_reference() if request.param == "file" else _live_reference()


def assert_matches(ours, theirs, *, scale, n_ops, what):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    bound = rounding_bound(np.broadcast_to(scale, ours.shape), n_ops=n_ops)
    excess = np.abs(ours - theirs) - bound
    assert np.all(excess <= 0), f"{what}: worst excess {excess.max():.3g} over the bound"


def test_linear(ref):
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    layer.weight, layer.bias = ref["linear_w"], ref["linear_b"]
    x, g, w = ref["linear_x"], ref["linear_g"], ref["linear_w"]
    y = layer.forward(x)
    dx = layer.backward(g)
    n = ELEMENTWISE_OPS + x.shape[0] + x.shape[1]
    assert_matches(y, ref["linear_y"], scale=np.abs(x) @ np.abs(w).T + np.abs(ref["linear_b"]),
                   n_ops=n, what="Linear y")
    assert_matches(dx, ref["linear_dx"], scale=np.abs(g) @ np.abs(w), n_ops=n, what="Linear dx")
    assert_matches(layer.grads["weight"], ref["linear_dw"], scale=np.abs(g).T @ np.abs(x),
                   n_ops=n, what="Linear dW")
    assert_matches(layer.grads["bias"], ref["linear_db"], scale=np.abs(g).sum(0), n_ops=n,
                   what="Linear db")


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "softplus": Softplus,
               "selu": SELU, "softmax": Softmax}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation(ref, name):
    x, g = ref["act_x"], ref["act_g"]
    layer = ACTIVATIONS[name]()
    y, dx = layer.forward(x), layer.backward(g)
    ty, tdx = ref[f"act_{name}_y"], ref[f"act_{name}_dx"]
    n = ELEMENTWISE_OPS + x.shape[-1]
    # Terms combined in y' (e.g. 1 - y^2 for tanh, y (1 - y) for sigmoid) are O(1 + |y|)^2.
    dx_scale = np.abs(tdx) + np.abs(g) * (1.0 + np.abs(ty)) ** 2
    if name == "softmax":
        dx_scale = dx_scale + np.abs(ty) * (np.abs(g) * np.abs(ty)).sum(-1, keepdims=True)
    assert_matches(y, ty, scale=np.abs(ty), n_ops=n, what=f"{name} y")
    assert_matches(dx, tdx, scale=dx_scale, n_ops=n, what=f"{name} dx")


@pytest.mark.parametrize("kind", ["ce", "ceprob", "mse"])
def test_losses(ref, kind):
    if kind == "mse":
        loss, x, target = MSELoss(), ref["mse_x"], ref["mse_t"]
    else:
        target = ref["loss_target"] if kind == "ce" else ref["loss_probs"]
        loss, x = CrossEntropyLoss(), ref["loss_logits"]
    value, dx = loss.forward(x, target), loss.backward()
    n = ELEMENTWISE_OPS + x.size
    scale = np.abs(x).max() ** 2 + np.abs(x).max() + 1.0 if kind == "mse" else np.abs(x).max() + 1.0
    assert_matches(value, ref[f"{kind}_loss"], scale=scale, n_ops=n, what=f"{kind} loss")
    assert_matches(dx, ref[f"{kind}_dx"], scale=np.abs(ref[f"{kind}_dx"]) + 1.0 / x.shape[0],
                   n_ops=n, what=f"{kind} dx")


def _spatial(n_spatial):
    return lambda p: SpatialDropout(p, n_spatial=n_spatial)


DROPOUTS = {"dropout": (Dropout, 0), "dropout2d": (_spatial(2), 2), "dropout1d": (_spatial(1), 1),
            "alpha": (AlphaDropout, 0)}


@pytest.mark.parametrize("name", sorted(DROPOUTS))
def test_dropout_variants(ref, name):
    factory, n_spatial = DROPOUTS[name]
    p, x, g, mask = float(ref[f"{name}_p"]), ref[f"{name}_x"], ref[f"{name}_g"], ref[f"{name}_mask"]
    assert 0.0 < mask.mean() < 1.0, "the torch draw must keep some units and drop others"
    if n_spatial:
        # Torch's mask is constant over each channel; ours is given per channel.
        channel = mask[(...,) + (0,) * n_spatial]
        spread = channel.reshape(channel.shape + (1,) * n_spatial)
        assert np.array_equal(mask, np.broadcast_to(spread, mask.shape))
        mask = channel
    layer = factory(p)
    y, dx = layer.forward(x, mask=mask), layer.backward(g)
    scale = (np.abs(x) + 2.0) / (1.0 - p)
    assert_matches(y, ref[f"{name}_y"], scale=scale, n_ops=ELEMENTWISE_OPS, what=f"{name} y")
    assert_matches(dx, ref[f"{name}_dx"], scale=np.abs(g) / (1.0 - p), n_ops=ELEMENTWISE_OPS,
                   what=f"{name} dx")
    assert np.array_equal(layer.eval().forward(x), ref[f"{name}_eval"])


def _bn_from(ref):
    bn = BatchNorm1d(4, eps=1e-5, momentum=0.1)
    bn.params["weight"][:], bn.params["bias"][:] = ref["bn_w"], ref["bn_b"]
    bn.running_mean, bn.running_var = ref["bn_rm"].copy(), ref["bn_rv"].copy()
    return bn


def test_batchnorm_train_sample_axis_equals_successive_torch_calls(ref):
    bn, x, g = _bn_from(ref), ref["bn_x"], ref["bn_g"]
    y, dx = bn.forward(x), bn.backward(g)
    n_batch = x.shape[-2]
    n = ELEMENTWISE_OPS + 2 * n_batch
    xhat_scale = np.abs(bn.xhat) + 1.0
    gamma, beta = np.abs(ref["bn_w"]), np.abs(ref["bn_b"])
    assert_matches(y, ref["bn_train_y"], scale=gamma * xhat_scale + beta, n_ops=n, what="BN y")
    g_mean = np.abs(g).mean(-2, keepdims=True)
    dx_scale = gamma * bn.inv_std * (np.abs(g) + g_mean * xhat_scale ** 2)
    assert_matches(dx, ref["bn_train_dx"], scale=dx_scale, n_ops=n, what="BN dx")
    grad_scale = (np.abs(g) * xhat_scale).reshape(-1, 4).sum(0)
    for name in ("weight", "bias"):
        assert_matches(bn.grads[name], ref[f"bn_train_d{name[0]}"], scale=grad_scale,
                       n_ops=2 * n, what=f"BN d{name}")
    stat_scale = np.abs(ref["bn_rm"]) + np.abs(ref["bn_rv"]) + (x ** 2).max(axis=(0, 1))
    assert_matches(bn.running_mean, ref["bn_running_mean"], scale=stat_scale, n_ops=n, what="mean")
    assert_matches(bn.running_var, ref["bn_running_var"], scale=stat_scale, n_ops=n, what="var")


def test_batchnorm_eval_uses_running_statistics(ref):
    bn = _bn_from(ref).eval()
    x, g = ref["bn_x"][0], ref["bn_g"][0]
    # Torch ran eval after two training calls; load the running stats those calls produced.
    bn.running_mean, bn.running_var = ref["bn_running_mean"], ref["bn_running_var"]
    y, dx = bn.forward(x), bn.backward(g)
    gamma = np.abs(ref["bn_w"])
    n = ELEMENTWISE_OPS + x.shape[0]
    assert_matches(y, ref["bn_eval_y"], scale=gamma * (np.abs(bn.xhat) + 1) + np.abs(ref["bn_b"]),
                   n_ops=n, what="BN eval y")
    assert_matches(dx, ref["bn_eval_dx"], scale=gamma * bn.inv_std * np.abs(g), n_ops=n, what="dx")
    scale = (np.abs(g) * (np.abs(bn.xhat) + 1)).sum(0)
    assert_matches(bn.grads["weight"], ref["bn_eval_dw"], scale=scale, n_ops=n, what="BN eval dw")
    assert_matches(bn.grads["bias"], ref["bn_eval_db"], scale=scale, n_ops=n, what="BN eval db")


def test_batchnorm_momentum_none_is_torch_cumulative_average(ref):
    """Three calls one at a time, and the same three as one (S, N, C) call, then a reset."""
    x = ref["bn_cma_x"]
    one_by_one, batched = BatchNorm1d(4, momentum=None), BatchNorm1d(4, momentum=None)
    for batch in x:
        one_by_one.forward(batch)
    batched.forward(x)
    scale = (x ** 2).max(axis=(0, 1)) + 1.0
    n = ELEMENTWISE_OPS + 2 * x.shape[1] + x.shape[0]
    for bn in (one_by_one, batched):
        assert bn.num_batches_tracked == 3
        assert_matches(bn.running_mean, ref["bn_cma_running_mean"], scale=scale, n_ops=n,
                       what="cumulative mean")
        assert_matches(bn.running_var, ref["bn_cma_running_var"], scale=scale, n_ops=n,
                       what="cumulative var")
    batched.reset_running_stats()
    assert batched.num_batches_tracked == 0 and np.array_equal(batched.running_var, np.ones(4))
    batched.forward(x[0])
    assert_matches(batched.running_var, ref["bn_cma_reset_running_var"], scale=scale, n_ops=n,
                   what="after reset")


def test_rnn_without_dropout_is_torch_rnn(ref):
    rnn = DropoutRNN(3, 4, rng=np.random.default_rng(0))
    for name in rnn.params:
        rnn.params[name][...] = ref[f"rnn_{name}"]
    x, g = ref["rnn_x"], ref["rnn_g"]
    y, dx = rnn.forward(x), rnn.backward(g)
    steps = x.shape[-2]
    # Errors propagate through the T steps: norm-wise bounds, the backward one growing by
    # at most max(1, ||W_hh||_inf) per step (tanh' <= 1).
    w_ih, w_hh = (np.abs(ref[f"rnn_{k}"]).sum(-1).max() for k in ("weight_ih", "weight_hh"))
    term = 1.0 + (w_ih + w_hh) * (1.0 + np.abs(x).max())
    n = steps * (ELEMENTWISE_OPS + 3 + 4)
    assert_matches(y, ref["rnn_y"], scale=term, n_ops=n, what="RNN y")
    g_scale = np.abs(g).sum() * max(1.0, w_hh) ** steps * (1.0 + w_ih)
    assert_matches(dx, ref["rnn_dx"], scale=g_scale, n_ops=n, what="RNN dx")
    for name in rnn.params:
        assert_matches(rnn.grads[name], ref[f"rnn_d{name}"], scale=g_scale * term, n_ops=n,
                       what=f"RNN d{name}")


def test_sgd_momentum_weight_decay_and_step_schedule(ref):
    layer = Linear(3, 2, rng=np.random.default_rng(0))
    layer.weight, layer.bias = ref["sgd_w0"], ref["sgd_b0"]
    opt = SGD(layer, lr=step_schedule(0.1, step_size=2, gamma=0.5), momentum=0.9, weight_decay=0.01)
    loss, x, t = MSELoss(), ref["sgd_x"], ref["sgd_t"]
    for _ in range(5):
        loss.forward(layer.forward(x), t)
        layer.backward(loss.backward())
        opt.step()
    scale = sum(np.abs(a).max() for a in (ref["sgd_w0"], ref["sgd_b0"], x, t))
    n = 5 * (ELEMENTWISE_OPS + x.size)
    assert_matches(layer.weight, ref["sgd_w"], scale=scale ** 2, n_ops=n, what="SGD weight")
    assert_matches(layer.bias, ref["sgd_b"], scale=scale ** 2, n_ops=n, what="SGD bias")


def test_max_norm_differs_from_torch_renorm_only_by_its_documented_1e_minus_7(ref):
    w, c = ref["renorm_w"], float(ref["renorm_c"])
    ours = max_norm(w, c=c)
    norms = np.linalg.norm(w, axis=1, keepdims=True)
    assert np.any(norms > c)
    assert np.all(np.linalg.norm(ours, axis=1) <= c * (1 + 4 * np.finfo(float).eps))
    # torch.renorm scales by c / (norm + 1e-7) (PyTorch's constant, not a tolerance).
    torch_like = np.where(norms > c, ours * norms / (norms + 1e-7), w)
    assert_matches(torch_like, ref["renorm_y"], scale=np.abs(w), n_ops=ELEMENTWISE_OPS + 3,
                   what="renorm")
