"""Training (SGD with momentum, step-size schedules, iterate averaging, max-norm) and
MC-dropout inference (dropout on, BatchNorm in eval mode)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._validation import check_finite_array, check_positive_int
from .module import Module
from .weights import max_norm

__all__ = ["SGD", "IterateAverage", "step_schedule", "exponential_schedule", "fit",
           "mc_dropout_predict", "leaf_modules"]


def step_schedule(lr: float, *, step_size: int, gamma: float = 0.1) -> Callable[[int], float]:
    r"""``torch.optim.lr_scheduler.StepLR``: multiply the step size by ``gamma`` every
    ``step_size`` steps.

    .. math:: \eta_t = \eta_0 \, \gamma^{\lfloor t / \text{step\_size} \rfloor}

    Examples
    --------
    >>> [step_schedule(1.0, step_size=2, gamma=0.5)(t) for t in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    step_size = check_positive_int(step_size, name="step_size")
    return lambda t: lr * gamma ** (t // step_size)


def exponential_schedule(lr: float, *, gamma: float) -> Callable[[int], float]:
    r"""Exponential decay (Srivastava et al. 2014): :math:`\eta_t = \eta_0 \gamma^t`.

    Examples
    --------
    >>> exponential_schedule(2.0, gamma=0.5)(3)
    0.25
    """
    return lambda t: lr * gamma ** t


class IterateAverage:
    r"""Polyak-Ruppert average of the iterates after step ``start`` (initial values excluded).

    .. math:: \bar w_n = \frac{1}{n} \sum_{k=1}^{n} w_{\text{start}+k}

    Examples
    --------
    >>> avg = IterateAverage({"w": np.array([0.0])})
    >>> avg.update({"w": np.array([1.0])}); avg.update({"w": np.array([3.0])})
    >>> avg.average["w"].tolist()
    [2.0]
    """

    def __init__(self, params: dict[str, np.ndarray], *, start: int = 0) -> None:
        self.start, self.calls, self.seen = int(start), 0, 0
        self.average = {name: value.copy() for name, value in params.items()}

    def update(self, params: dict[str, np.ndarray]) -> None:
        """Fold the current parameters into the running mean once past ``start``."""
        self.calls += 1
        if self.calls <= self.start:
            return
        self.seen += 1
        for name, value in params.items():
            self.average[name] += (value - self.average[name]) / self.seen

    def copy_to(self, module: Module) -> None:
        """Write the averaged parameters into ``module`` in place."""
        for name, value in module.params.items():
            value[...] = self.average[name]


class SGD:
    r"""``torch.optim.SGD`` with momentum and weight decay, a step-size schedule, optional
    iterate averaging and a max-norm projection of every weight matrix after each step.

    .. math:: v_{t} = \mu v_{t-1} + (g_t + \lambda w_t), \quad v_1 = g_1 + \lambda w_1,
              \qquad w_{t+1} = \Pi_c\bigl(w_t - \eta_t v_t\bigr)

    ``lr`` is a number or a function of the step index (see :func:`step_schedule`). ``c``
    projects each row of every 2-D ``weight*`` parameter (:func:`max_norm`). ``average_start``
    turns on :class:`IterateAverage` from that step.

    Examples
    --------
    >>> from dropout_theory.network import Linear
    >>> layer = Linear(2, 1, rng=np.random.default_rng(0))
    >>> opt = SGD(layer, lr=0.1, momentum=0.9, c=1.0)
    >>> layer.grads["weight"][:] = 1.0; opt.step(); opt.t
    1
    """

    def __init__(self, module: Module, *, lr, momentum: float = 0.0,
                 weight_decay: float = 0.0, c: float | None = None,
                 average_start: int | None = None) -> None:
        if not (0.0 <= momentum < 1.0):
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.module, self.momentum, self.weight_decay, self.c = module, momentum, weight_decay, c
        self.schedule = lr if callable(lr) else (lambda t, lr=float(lr): lr)
        self.t = 0
        self.velocity: dict[str, np.ndarray] = {}
        self.average = (None if average_start is None
                        else IterateAverage(module.params, start=average_start))

    def step(self) -> None:
        """Update every parameter in place from the gradients left by ``backward``."""
        lr = self.schedule(self.t)
        grads = self.module.grads
        for name, w in self.module.params.items():
            d = grads[name] + self.weight_decay * w
            if self.momentum:
                v = self.velocity.get(name)
                d = self.velocity[name] = d.copy() if v is None else self.momentum * v + d
            w -= lr * d
            if self.c is not None and w.ndim == 2 and name.split(".")[-1].startswith("weight"):
                w[...] = max_norm(w, c=self.c)
        self.t += 1
        if self.average is not None:
            self.average.update(self.module.params)

    def zero_grad(self) -> None:
        self.module.zero_grad()


def fit(module: Module, loss, x, target, *, optimizer: SGD, n_steps: int,
        batch_size: int | None = None, rng: np.random.Generator) -> np.ndarray:
    """Run ``n_steps`` SGD steps on minibatches drawn without replacement; return the losses.

    The same ``rng`` draws minibatches and dropout masks, so a seed fixes the whole run.

    Examples
    --------
    >>> from dropout_theory.network import Linear, MSELoss
    >>> rng = np.random.default_rng(0); x = rng.normal(size=(32, 2))
    >>> layer = Linear(2, 1, rng=rng)
    >>> losses = fit(layer, MSELoss(), x, x[:, :1], optimizer=SGD(layer, lr=0.1),
    ...              n_steps=50, rng=rng)
    >>> bool(losses[-1] < losses[0])
    True
    """
    x = check_finite_array(x, name="x", ndim_min=1)
    n_steps = check_positive_int(n_steps, name="n_steps")
    target = np.asarray(target)
    if target.shape[:1] != x.shape[:1]:
        raise ValueError(f"target must have {x.shape[0]} rows like x, got shape {target.shape}")
    losses = np.empty(n_steps)
    module.train()
    for t in range(n_steps):
        rows = (slice(None) if batch_size is None
                else rng.choice(x.shape[0], size=batch_size, replace=False))
        losses[t] = loss.forward(module.forward(x[rows], rng=rng), target[rows])
        module.backward(loss.backward())
        optimizer.step()
    return losses


def leaf_modules(module: Module) -> list[Module]:
    """Every layer of ``module`` that is not a container."""
    return list(module.modules()) if hasattr(module, "modules") else [module]


def mc_dropout_predict(module: Module, x, *, n_samples: int, rng: np.random.Generator):
    r"""MC-dropout prediction (Gal & Ghahramani 2016): dropout on, BatchNorm in eval mode.

    The T = ``n_samples`` passes are one batched forward on an input of shape
    ``(T,) + x.shape``; the modes of every layer are restored afterwards.

    .. math:: \hat\mu = \frac{1}{T} \sum_t f_t(x), \qquad
              \hat\sigma^2 = \frac{1}{T} \sum_t f_t(x)^2 - \hat\mu^2

    Returns ``(mean, variance)`` over the T passes (variance with divisor T, the
    predictive-variance formula of the paper without the :math:`\tau^{-1}` term).

    Examples
    --------
    >>> from dropout_theory.network import Dropout, Linear, Sequential
    >>> rng = np.random.default_rng(0)
    >>> net = Sequential(Linear(3, 8, rng=rng), Dropout(0.5), Linear(8, 1, rng=rng))
    >>> mean, var = mc_dropout_predict(net, np.ones((4, 3)), n_samples=100, rng=rng)
    >>> mean.shape, bool((var > 0).all())
    ((4, 1), True)
    """
    n_samples = check_positive_int(n_samples, name="n_samples")
    x = check_finite_array(x, name="x", ndim_min=1)
    leaves = leaf_modules(module)
    modes = [(layer, layer.training) for layer in leaves]
    was_training = module.training
    try:
        module.eval()
        for layer in leaves:
            if getattr(layer, "is_dropout", False):
                layer.train()
        out = module.forward(np.broadcast_to(x, (n_samples,) + x.shape), rng=rng)
    finally:
        module.training = was_training
        for layer, mode in modes:
            layer.training = mode
    mean = out.mean(axis=0)
    return mean, ((out - mean) ** 2).mean(axis=0)
