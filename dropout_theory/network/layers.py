"""Linear layer, activations, softmax and the ``Sequential`` container (PyTorch semantics).

Every layer acts on the last axis and broadcasts over any leading axes, so an input of shape
``(S, N, features)`` (S mask draws of a batch of N) is one batched computation.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import expit

from .._validation import check_finite_array, check_positive_int
from ._common import refuse_mask
from .module import Module

__all__ = ["Linear", "ReLU", "Sigmoid", "Tanh", "Softplus", "SELU", "Quadratic", "Softmax",
           "Sequential", "SELU_ALPHA", "SELU_SCALE"]

#: SELU constants (Klambauer et al. 2017), the values ``torch.nn.SELU`` uses.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Linear(Module):
    r"""Affine map on the last axis, ``torch.nn.Linear``.

    .. math:: y = x W^\top + b, \qquad W \in \mathbb{R}^{\text{out} \times \text{in}}

    Weights and bias start uniform on :math:`[-1/\sqrt{\text{in}}, 1/\sqrt{\text{in}}]`, the
    distribution PyTorch's default initialization produces. ``backward`` sums parameter
    gradients over every leading axis (batch and sample axes).

    Examples
    --------
    >>> layer = Linear(3, 2, rng=np.random.default_rng(0))
    >>> layer.weight.shape, layer.forward(np.ones((5, 3))).shape
    ((2, 3), (5, 2))
    """

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_features = check_positive_int(in_features, name="in_features")
        self.out_features = check_positive_int(out_features, name="out_features")
        rng = rng if rng is not None else np.random.default_rng()
        bound = 1.0 / math.sqrt(self.in_features)
        self.params["weight"] = rng.uniform(-bound, bound, (self.out_features, self.in_features))
        if bias:
            self.params["bias"] = rng.uniform(-bound, bound, self.out_features)
        self.zero_grad()
        self.x: np.ndarray | None = None

    @property
    def weight(self) -> np.ndarray:
        return self.params["weight"]

    @weight.setter
    def weight(self, value) -> None:
        self.params["weight"] = self._checked(value, self.params["weight"].shape, "weight")

    @property
    def bias(self) -> np.ndarray | None:
        return self.params.get("bias")

    @bias.setter
    def bias(self, value) -> None:
        self.params["bias"] = self._checked(value, (self.out_features,), "bias")

    @staticmethod
    def _checked(value, shape, name) -> np.ndarray:
        arr = check_finite_array(value, name=name).copy()
        if arr.shape != tuple(shape):
            raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
        return arr

    def _check_input(self, x) -> np.ndarray:
        x = check_finite_array(x, name="x", ndim_min=1)
        if x.shape[-1] != self.in_features:
            raise ValueError(f"x must have {self.in_features} features on its last axis, "
                             f"got shape {x.shape}")
        return x

    def forward(self, x, *, mask=None, rng=None):
        refuse_mask(self, mask)
        self.x = self._check_input(x)
        # One 2-D product over all leading axes: BLAS sees S*N rows at once.
        self.x2d = self.x.reshape(-1, self.in_features)
        y = self.x2d @ self.weight.T
        if self.bias is not None:
            y += self.bias
        return y.reshape(self.x.shape[:-1] + (self.out_features,))

    def backward(self, grad_out):
        g = np.asarray(grad_out, dtype=np.float64)
        flat_g = g.reshape(-1, self.out_features)
        self.grads["weight"] = flat_g.T @ self.x2d
        if self.bias is not None:
            self.grads["bias"] = flat_g.sum(axis=0)
        return (flat_g @ self.weight).reshape(g.shape[:-1] + (self.in_features,))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.in_features}, {self.out_features})"


class _Elementwise(Module):
    """An activation ``y = f(x)``; subclasses give ``f`` and ``f'`` next to each other."""

    def forward(self, x, *, mask=None, rng=None):
        refuse_mask(self, mask)
        self.x = check_finite_array(x, name="x")
        return self._value(self.x)

    def backward(self, grad_out):
        return np.asarray(grad_out, dtype=np.float64) * self._derivative(self.x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(_Elementwise):
    r""":math:`y = \max(x, 0)`; the derivative at 0 is taken as 0, as in PyTorch.

    Examples
    --------
    >>> ReLU().forward(np.array([-1.0, 0.0, 2.0])).tolist()
    [0.0, 0.0, 2.0]
    """

    def _value(self, x):
        return np.maximum(x, 0.0)

    def _derivative(self, x):
        return (x > 0.0).astype(np.float64)


class Sigmoid(_Elementwise):
    r""":math:`y = 1 / (1 + e^{-x})`, :math:`y' = y (1 - y)`.

    Examples
    --------
    >>> Sigmoid().forward(np.array([0.0])).tolist()
    [0.5]
    """

    def _value(self, x):
        return expit(x)

    def _derivative(self, x):
        s = expit(x)
        return s * (1.0 - s)


class Tanh(_Elementwise):
    r""":math:`y = \tanh x`, :math:`y' = 1 - y^2`.

    Examples
    --------
    >>> Tanh().forward(np.array([0.0])).tolist()
    [0.0]
    """

    def _value(self, x):
        return np.tanh(x)

    def _derivative(self, x):
        return 1.0 - np.tanh(x) ** 2


class Softplus(_Elementwise):
    r"""``torch.nn.Softplus(beta, threshold)``: linear where :math:`\beta x` exceeds ``threshold``.

    .. math:: y = \tfrac{1}{\beta}\log(1 + e^{\beta x}), \qquad y' = \sigma(\beta x)

    Examples
    --------
    >>> round(float(Softplus().forward(np.array([0.0]))[0]), 6)
    0.693147
    """

    def __init__(self, *, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        if not beta > 0:
            raise ValueError(f"beta must be positive, got {beta!r}")
        self.beta, self.threshold = float(beta), float(threshold)

    def _value(self, x):
        bx = self.beta * x
        return np.where(bx > self.threshold, x, np.logaddexp(0.0, bx) / self.beta)

    def _derivative(self, x):
        bx = self.beta * x
        return np.where(bx > self.threshold, 1.0, expit(bx))


class SELU(_Elementwise):
    r"""Scaled ELU, ``torch.nn.SELU``; at 0 the derivative is the left one, as in PyTorch.

    .. math:: y = \lambda \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}

    Examples
    --------
    >>> SELU().forward(np.array([1.0])).tolist() == [SELU_SCALE]
    True
    """

    def _value(self, x):
        return SELU_SCALE * np.where(x > 0.0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0.0)))

    def _derivative(self, x):
        return SELU_SCALE * np.where(x > 0.0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0.0)))


class Quadratic(_Elementwise):
    r"""Quadratic activation :math:`y = x^2` (no PyTorch layer; used by exact moment identities).

    Examples
    --------
    >>> Quadratic().forward(np.array([-3.0])).tolist()
    [9.0]
    """

    def _value(self, x):
        return x * x

    def _derivative(self, x):
        return 2.0 * x


class Softmax(Module):
    r"""Softmax over the last axis (``torch.nn.Softmax(dim=-1)``).

    .. math:: y_k = \frac{e^{x_k}}{\sum_j e^{x_j}}, \qquad
              \frac{\partial L}{\partial x} = y \odot (g - \langle g, y \rangle)

    Examples
    --------
    >>> Softmax().forward(np.zeros(4)).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """

    def forward(self, x, *, mask=None, rng=None):
        refuse_mask(self, mask)
        x = check_finite_array(x, name="x", ndim_min=1)
        with np.errstate(over="ignore"):  # a shift below -1.8e308 is -inf: exp gives 0
            z = np.exp(x - x.max(axis=-1, keepdims=True))
        self.y = z / z.sum(axis=-1, keepdims=True)
        return self.y

    def backward(self, grad_out):
        g = np.asarray(grad_out, dtype=np.float64)
        return self.y * (g - (g * self.y).sum(axis=-1, keepdims=True))

    def __repr__(self) -> str:
        return "Softmax(dim=-1)"


class Sequential(Module):
    """Layers applied in order; ``train()``/``eval()`` reach every layer.

    ``forward(x, mask={i: m}, rng=rng)`` injects mask ``m`` into layer ``i`` and passes ``rng``
    to every layer. ``params``/``grads`` are built on access with PyTorch's ``"i.name"`` keys;
    the arrays are the layers' own, so an in-place update changes the layer.

    Examples
    --------
    >>> net = Sequential(Linear(3, 4, rng=np.random.default_rng(0)), ReLU(), Linear(4, 1))
    >>> net.forward(np.ones((2, 3))).shape, sorted(net.params)[:2]
    ((2, 1), ['0.bias', '0.weight'])
    """

    def __init__(self, *layers: Module) -> None:
        self.layers = list(layers)
        super().__init__()
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, Module):
                raise ValueError(f"layers[{i}] must be a Module, got {type(layer).__name__}")

    params = property(lambda self: self._collect("params"), lambda self, value: None)
    grads = property(lambda self: self._collect("grads"), lambda self, value: None)

    def _collect(self, attr: str) -> dict[str, np.ndarray]:
        return {f"{i}.{name}": value for i, layer in enumerate(getattr(self, "layers", []))
                for name, value in getattr(layer, attr).items()}

    def train(self, mode: bool = True) -> "Sequential":
        super().train(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def modules(self):
        """Yield every leaf layer, descending into nested containers."""
        for layer in self.layers:
            yield from (layer.modules() if isinstance(layer, Sequential) else [layer])

    def forward(self, x, *, mask=None, rng=None):
        masks = dict(mask or {})
        unknown = set(masks) - set(range(len(self.layers)))
        if unknown:
            raise ValueError(f"mask keys must be layer indices 0..{len(self.layers) - 1}, "
                             f"got {sorted(unknown)}")
        for i, layer in enumerate(self.layers):
            x = layer.forward(x, mask=masks.get(i), rng=rng)
        return x

    def backward(self, grad_out):
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential({inner})"
