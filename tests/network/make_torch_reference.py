"""Compute PyTorch reference outputs and gradients for the network core; save them to
``torch_reference.npz`` beside this file.

Run with a Python that has torch (it is not a dependency of the package)::

    /work/venv-torch/bin/python tests/network/make_torch_reference.py

Everything is float64. Dropout layers are PyTorch's own modules run under a fixed torch seed;
the mask each one drew is read back from its output, so the test can inject that mask into
our layer and compare outputs and gradients. ``compute()`` is also called by the test when
torch is importable, to recompute the references live.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).with_name("torch_reference.npz")


def _t(a, grad=True):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _np(t):
    return t.detach().numpy().copy()


def _run(fn, x, g):
    """Output of ``fn(x)`` and the gradient of ``sum(g * fn(x))`` with respect to ``x``."""
    xt = _t(x)
    y = fn(xt)
    y.backward(_t(g, grad=False))
    return _np(y), _np(xt.grad)


def _linear(rng, ref):
    x, w = rng.normal(size=(4, 3)), rng.normal(size=(2, 3))
    b, g = rng.normal(size=2), rng.normal(size=(4, 2))
    layer = torch.nn.Linear(3, 2)
    with torch.no_grad():
        layer.weight.copy_(_t(w, False)); layer.bias.copy_(_t(b, False))
    y, dx = _run(layer, x, g)
    ref.update(linear_x=x, linear_w=w, linear_b=b, linear_g=g, linear_y=y, linear_dx=dx,
               linear_dw=_np(layer.weight.grad), linear_db=_np(layer.bias.grad))


def _activations(rng, ref):
    x = np.concatenate([rng.normal(scale=2.0, size=(4, 5)), [[0.0, 21.0, -30.0, 19.5, 25.0]]])
    g = rng.normal(size=x.shape)
    ref.update(act_x=x, act_g=g)
    mods = {"relu": torch.nn.ReLU(), "sigmoid": torch.nn.Sigmoid(), "tanh": torch.nn.Tanh(),
            "softplus": torch.nn.Softplus(beta=1.0, threshold=20.0), "selu": torch.nn.SELU(),
            "softmax": torch.nn.Softmax(dim=-1)}
    for name, mod in mods.items():
        ref[f"act_{name}_y"], ref[f"act_{name}_dx"] = _run(mod, x, g)


def _losses(rng, ref):
    logits, target = rng.normal(size=(4, 5)), rng.integers(0, 5, size=4)
    probs = rng.dirichlet(np.ones(5), size=4)
    for name, tgt in [("ce", torch.tensor(target)), ("ceprob", _t(probs, False))]:
        xt = _t(logits)
        loss = torch.nn.CrossEntropyLoss()(xt, tgt)
        loss.backward()
        ref[f"{name}_loss"], ref[f"{name}_dx"] = _np(loss), _np(xt.grad)
    x, t = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    xt = _t(x)
    loss = torch.nn.MSELoss()(xt, _t(t, False))
    loss.backward()
    ref.update(loss_logits=logits, loss_target=target, loss_probs=probs, mse_x=x, mse_t=t,
               mse_loss=_np(loss), mse_dx=_np(xt.grad))


def _dropouts(rng, ref):
    cases = {"dropout": (torch.nn.Dropout(0.3), (6, 5)),
             "dropout2d": (torch.nn.Dropout2d(0.4), (3, 4, 2, 3)),
             "dropout1d": (torch.nn.Dropout1d(0.4), (3, 4, 5)),
             "alpha": (torch.nn.AlphaDropout(0.2), (6, 5))}
    for i, (name, (mod, shape)) in enumerate(cases.items()):
        x = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        g = rng.normal(size=shape)
        torch.manual_seed(1000 + i)
        y, dx = _run(mod.train(), x, g)
        # Kept units change with the input, dropped ones do not (0, or alpha dropout's constant).
        torch.manual_seed(1000 + i)
        y_shifted = _np(mod(_t(x + 1.0, False)))
        mask = (y != y_shifted).astype(np.float64)
        ref.update({f"{name}_x": x, f"{name}_g": g, f"{name}_y": y, f"{name}_dx": dx,
                    f"{name}_mask": mask, f"{name}_p": np.array(mod.p),
                    f"{name}_eval": _np(mod.eval()(_t(x, False)))})


def _batchnorm(rng, ref):
    bn = torch.nn.BatchNorm1d(4, eps=1e-5, momentum=0.1)
    w, b = rng.normal(size=4), rng.normal(size=4)
    rm, rv = rng.normal(size=4), rng.uniform(0.5, 2.0, size=4)
    with torch.no_grad():
        pairs = [(bn.weight, w), (bn.bias, b), (bn.running_mean, rm), (bn.running_var, rv)]
        for param, value in pairs:
            param.copy_(_t(value, False))
    x = rng.normal(loc=1.0, scale=2.0, size=(2, 6, 4))
    g = rng.normal(size=x.shape)
    ref.update(bn_w=w, bn_b=b, bn_rm=rm, bn_rv=rv, bn_x=x, bn_g=g)
    ys, dxs = zip(*[_run(bn.train(), x[k], g[k]) for k in range(2)])
    ref.update(bn_train_y=np.stack(ys), bn_train_dx=np.stack(dxs),
               bn_train_dw=_np(bn.weight.grad), bn_train_db=_np(bn.bias.grad),
               bn_running_mean=_np(bn.running_mean), bn_running_var=_np(bn.running_var))
    bn.weight.grad = bn.bias.grad = None
    y, dx = _run(bn.eval(), x[0], g[0])
    ref.update(bn_eval_y=y, bn_eval_dx=dx, bn_eval_dw=_np(bn.weight.grad),
               bn_eval_db=_np(bn.bias.grad))


def _rnn(rng, ref):
    rnn = torch.nn.RNN(3, 4, nonlinearity="tanh", batch_first=True)
    names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    with torch.no_grad():
        for name in names:
            param = getattr(rnn, f"{name}_l0")
            param.copy_(_t(rng.normal(scale=0.6, size=tuple(param.shape)), False))
    x, g = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 4))
    y, dx = _run(lambda t: rnn(t)[0], x, g)
    ref.update(rnn_x=x, rnn_g=g, rnn_y=y, rnn_dx=dx)
    for name in names:
        param = getattr(rnn, f"{name}_l0")
        ref[f"rnn_{name}"], ref[f"rnn_d{name}"] = _np(param), _np(param.grad)


def _sgd(rng, ref):
    layer = torch.nn.Linear(3, 2)
    w0, b0 = rng.normal(size=(2, 3)), rng.normal(size=2)
    with torch.no_grad():
        layer.weight.copy_(_t(w0, False)); layer.bias.copy_(_t(b0, False))
    x, t = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    opt = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(5):
        opt.zero_grad()
        torch.nn.MSELoss()(layer(_t(x, False)), _t(t, False)).backward()
        opt.step()
        sched.step()
    w = rng.normal(scale=2.0, size=(4, 3))
    ref.update(sgd_w0=w0, sgd_b0=b0, sgd_x=x, sgd_t=t, sgd_w=_np(layer.weight),
               sgd_b=_np(layer.bias), renorm_w=w, renorm_c=np.array(1.5),
               renorm_y=_np(torch.renorm(_t(w, False), 2, 0, 1.5)))


def _batchnorm_cumulative(rng, ref):
    """``momentum=None``: three training calls on fresh stats, then a reset and one more."""
    bn = torch.nn.BatchNorm1d(4, eps=1e-5, momentum=None)
    x = rng.normal(loc=-1.0, scale=3.0, size=(3, 5, 4))
    with torch.no_grad():
        for batch in x:
            bn.train()(_t(batch, False))
        ref.update(bn_cma_x=x, bn_cma_running_mean=_np(bn.running_mean),
                   bn_cma_running_var=_np(bn.running_var))
        bn.reset_running_stats()
        bn.train()(_t(x[0], False))
    ref.update(bn_cma_reset_running_var=_np(bn.running_var))


def compute() -> dict[str, np.ndarray]:
    """Every reference array, recomputed with the torch that is installed."""
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(20240611)
    ref: dict[str, np.ndarray] = {}
    for part in (_linear, _activations, _losses, _dropouts, _batchnorm, _rnn, _sgd,
                 _batchnorm_cumulative):
        part(rng, ref)
    ref["torch_version"] = np.array(torch.__version__)
    return {k: np.asarray(v) for k, v in ref.items()}


if __name__ == "__main__":
    np.savez_compressed(OUT, **compute())
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
