"""Dropout variants acting on activations, each with an injectable mask or noise.

Every variant multiplies its input by a random factor (AlphaDropout also adds a shift), so
``forward``/``backward`` live once in :class:`NoiseLayer` and each variant states only how
its noise is shaped, drawn and turned into a factor. ``mask=`` injects the variant's own
randomness (0/1 mask, Gaussian factor or uniforms, as each docstring says), so finite
differences and Monte Carlo routes see one fixed function. Eval mode is the identity for
every variant except :class:`StandardDropout`, whose definition scales by ``q`` at test time.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.special import expit, logit

from .._validation import (as_real_array, check_finite_array, check_p, check_positive_int,
                           keep_probability)
from ._common import check_mask, resolve_rng
from .dropout import bernoulli_mask
from .module import Module

__all__ = ["NoiseLayer", "StandardDropout", "SpatialDropout", "GaussianDropout", "AlphaDropout",
           "UOut", "DropBlock", "ConcreteDropout", "dropblock_gamma", "ALPHA_PRIME"]

#: Value a dropped SELU unit takes before the affine correction: ``-lambda * alpha``.
ALPHA_PRIME = -1.7580993408473766


def check_binary(mask: np.ndarray, *, name: str = "mask") -> np.ndarray:
    if not np.all((mask == 0.0) | (mask == 1.0)):
        raise ValueError(f"{name} must contain only 0 and 1 (keep = 1)")
    return mask


class NoiseLayer(Module):
    """Base of the activation variants: ``y = x * factor(noise) + shift(noise)``."""

    is_dropout = True
    min_ndim = 0

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.p = check_p(p)
        self.rng = rng
        self.mask: np.ndarray | None = None
        self.factor: np.ndarray | float = 1.0

    def forward(self, x, *, mask=None, rng=None):
        x = check_finite_array(x, name="x", ndim_min=self.min_ndim)
        if not self.training or (self.p == 0.0 and mask is None):
            self.mask, self.factor = None, self._eval_factor()
            return x * self.factor
        shape = self._noise_shape(x.shape)
        if mask is None:
            mask = self._draw(shape, resolve_rng(self, rng))
        self.mask = self._check_noise(check_mask(self._align(mask, shape), shape))
        self.factor = self._factor(self.mask)
        return x * self.factor + self._shift(self.mask)

    def backward(self, grad_out):
        return np.asarray(grad_out, dtype=np.float64) * self.factor

    # Defaults describe inverted Bernoulli dropout; variants override what differs.
    def _eval_factor(self):
        return 1.0

    def _noise_shape(self, shape):
        return shape

    def _align(self, mask, shape):
        return mask

    def _draw(self, shape, rng):
        return bernoulli_mask(shape, self.p, rng)

    def _check_noise(self, mask):
        return check_binary(mask)

    def _factor(self, mask):
        # p = 1 drops everything; PyTorch returns zeros rather than 0/0.
        return np.zeros_like(mask) if self.p == 1.0 else mask / (1.0 - self.p)

    def _shift(self, mask):
        return 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class StandardDropout(NoiseLayer):
    r"""Non-inverted (Srivastava et al. 2014) dropout: no scaling in training, ``q x`` at test.

    .. math:: y_{\text{train}} = m \odot x,\quad m_i \sim \mathrm{Bernoulli}(q), \qquad
              y_{\text{eval}} = q\, x

    Examples
    --------
    >>> layer = StandardDropout(p=0.25)
    >>> layer.forward(np.ones(2), mask=np.array([1.0, 0.0])).tolist()
    [1.0, 0.0]
    >>> layer.eval().forward(np.ones(2)).tolist()
    [0.75, 0.75]
    """

    def _eval_factor(self):
        return 1.0 - self.p

    def _factor(self, mask):
        return mask


class SpatialDropout(NoiseLayer):
    r"""One mask per channel (``torch.nn.Dropout2d``/``Dropout1d``), inverted scaling.

    The last ``n_spatial`` axes are spatial and the axis before them is the channel axis;
    every earlier axis (batch, sample) gets its own masks. ``n_spatial=2`` takes
    ``(..., N, C, H, W)``, ``n_spatial=1`` takes ``(..., N, C, L)``. An injected mask has
    shape ``(..., N, C)`` (or that with trailing singleton axes).

    .. math:: y_{ncs} = \frac{m_{nc}}{q} x_{ncs}

    Examples
    --------
    >>> layer = SpatialDropout(p=0.5, n_spatial=1)
    >>> layer.forward(np.ones((1, 2, 3)), mask=np.array([[1.0, 0.0]]))[0].tolist()
    [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]]
    """

    def __init__(self, p: float = 0.5, *, n_spatial: int = 2,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__(p, rng=rng)
        self.n_spatial = check_positive_int(n_spatial, name="n_spatial")
        self.min_ndim = self.n_spatial + 2

    def _noise_shape(self, shape):
        return shape[: -self.n_spatial] + (1,) * self.n_spatial

    def _align(self, mask, shape):
        mask = as_real_array(mask, name="mask")
        if mask.ndim == len(shape) - self.n_spatial:
            return mask.reshape(mask.shape + (1,) * self.n_spatial)
        return mask


class GaussianDropout(NoiseLayer):
    r"""Multiplicative Gaussian noise with the first two moments of inverted dropout.

    ``mask=`` injects the factor :math:`\xi` itself. ``p = 1`` is refused: the variance
    :math:`p/q` is infinite there.

    .. math:: y = \xi \odot x, \qquad \xi_i \sim \mathcal{N}\!\left(1, \tfrac{p}{1-p}\right)

    Examples
    --------
    >>> GaussianDropout(p=0.5).forward(np.ones(2), mask=np.array([0.5, 2.0])).tolist()
    [0.5, 2.0]
    """

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None) -> None:
        keep_probability(p)
        super().__init__(p, rng=rng)

    def _draw(self, shape, rng):
        return 1.0 + math.sqrt(self.p / (1.0 - self.p)) * rng.standard_normal(shape)

    def _check_noise(self, mask):
        return mask

    def _factor(self, mask):
        return mask


class UOut(NoiseLayer):
    r"""Li et al.'s (2019) "Uout": multiplicative uniform noise, the identity at test time.

    .. math:: y = x \odot (1 + r), \qquad r_i \sim U(-\beta, \beta)

    The noise has mean 1 and variance :math:`\beta^2/3`; ``p`` is the drop probability of
    inverted dropout with the same noise variance, :math:`p/q = \beta^2/3`. ``mask=``
    injects the factor :math:`1 + r` itself.

    Examples
    --------
    >>> UOut(beta=0.5).forward(np.ones(2), mask=np.array([0.9, 1.2])).tolist()
    [0.9, 1.2]
    >>> round(UOut(beta=1.5).p, 12)  # noise variance 0.75 = p/q
    0.428571428571
    """

    def __init__(self, beta: float, *, rng: np.random.Generator | None = None) -> None:
        if not (isinstance(beta, (int, float)) and math.isfinite(beta) and beta >= 0.0):
            raise ValueError(f"beta must be a finite number >= 0, got {beta!r}")
        kappa = beta ** 2 / 3.0
        super().__init__(kappa / (1.0 + kappa), rng=rng)
        self.beta = float(beta)

    def _draw(self, shape, rng):
        return 1.0 + rng.uniform(-self.beta, self.beta, shape)

    def _check_noise(self, mask):
        return mask

    def _factor(self, mask):
        return mask

    def __repr__(self) -> str:
        return f"UOut(beta={self.beta})"


class AlphaDropout(NoiseLayer):
    r"""``torch.nn.AlphaDropout``: dropped units go to :math:`\alpha'`, then an affine fix.

    With :math:`\alpha' = -\lambda\alpha` (:data:`ALPHA_PRIME`) the map keeps mean 0 and
    variance 1 for standard-normal inputs; ``p = 1`` returns zeros, as PyTorch does.

    .. math:: y = a\,(m \odot x + (1 - m)\,\alpha') + b, \quad
              a = \bigl(q + \alpha'^2 q (1-q)\bigr)^{-1/2}, \quad b = -a (1-q) \alpha'

    Examples
    --------
    >>> y = AlphaDropout(p=0.2).forward(np.zeros(2), mask=np.array([1.0, 0.0]))
    >>> bool(y[0] > 0 > y[1])
    True
    """

    def _affine_a(self) -> float:
        q = 1.0 - self.p
        return 1.0 / math.sqrt(q + ALPHA_PRIME ** 2 * q * self.p)

    def _factor(self, mask):
        return np.zeros_like(mask) if self.p == 1.0 else self._affine_a() * mask

    def _shift(self, mask):
        if self.p == 1.0:
            return np.zeros_like(mask)
        a = self._affine_a()
        return a * (1.0 - mask) * ALPHA_PRIME - a * self.p * ALPHA_PRIME


def dropblock_gamma(p: float, block_size: int, *sizes: int) -> float:
    r"""Seed rate of DropBlock (Ghiasi et al. 2018, eq. 1) for a map of the given ``sizes``.

    .. math:: \gamma = \frac{p}{b^n}\prod_{k=1}^{n}\frac{s_k}{s_k - b + 1}

    With a square 2-D map this is the paper's :math:`\frac{1 - \text{keep\_prob}}{b^2}
    \frac{f^2}{(f - b + 1)^2}`; one size gives the 1-D rate. Blocks overlap, so the realised
    drop rate is below ``p``.

    Examples
    --------
    >>> round(dropblock_gamma(0.1, 3, 7, 7), 6)
    0.021778
    >>> round(dropblock_gamma(0.1, 3, 7), 6)
    0.046667
    """
    p = check_p(p)
    b = check_positive_int(block_size, name="block_size")
    if not sizes:
        raise ValueError("dropblock_gamma needs the map's sizes")
    if b > min(sizes):
        raise ValueError(f"block_size must not exceed the feature map "
                         f"{'x'.join(map(str, sizes))}, got {b}")
    return p / b ** len(sizes) * math.prod(s / (s - b + 1) for s in sizes)


class DropBlock(NoiseLayer):
    r"""DropBlock on ``(..., N, C, H, W)`` (``n_spatial=2``) or ``(..., N, C, L)``
    (``n_spatial=1``): zero blocks of side ``block_size``, then renormalise.

    Seeds :math:`\sim \mathrm{Bernoulli}(\gamma)` (:func:`dropblock_gamma`) sit where a whole
    block fits; each seed zeroes the block at its top-left corner (:meth:`block_mask`). Kept
    units are scaled by ``count(M) / count_ones(M)`` over each ``(N, C, *spatial)`` draw, as
    in the paper's algorithm. An injected mask is the final 0/1 block mask of ``x``'s shape.

    .. math:: y = x \odot M \, \frac{|M|}{\sum M}

    Examples
    --------
    >>> mask = np.ones((1, 1, 2, 2)); mask[..., 0, 0] = 0.0
    >>> DropBlock(p=0.1, block_size=1).forward(np.ones((1, 1, 2, 2)), mask=mask).sum()
    np.float64(4.0)
    >>> DropBlock(p=0.1, block_size=2, n_spatial=1).block_mask(np.array([0, 1, 0])).tolist()
    [1.0, 0.0, 0.0, 1.0]
    """

    def __init__(self, p: float = 0.1, *, block_size: int = 3, n_spatial: int = 2,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__(p, rng=rng)
        self.block_size = check_positive_int(block_size, name="block_size")
        if n_spatial not in (1, 2):
            raise ValueError(f"n_spatial must be 1 or 2, got {n_spatial!r}")
        self.n_spatial = n_spatial
        self.min_ndim = n_spatial + 2

    def block_mask(self, seeds) -> np.ndarray:
        """The 0/1 keep mask of a map from its seeds: ``seeds`` (nonzero = seed) has the
        map's shape with each spatial size ``s`` replaced by ``s - block_size + 1`` (the
        positions where a whole block fits); each seed zeroes the block it starts."""
        seeds = np.asarray(seeds) != 0
        b, n = self.block_size, self.n_spatial
        valid = seeds.shape[-n:]
        blocked = np.zeros(seeds.shape[:-n] + tuple(v + b - 1 for v in valid), dtype=bool)
        for offset in itertools.product(range(b), repeat=n):
            window = tuple(slice(o, o + v) for o, v in zip(offset, valid))
            blocked[(Ellipsis, *window)] |= seeds
        return (~blocked).astype(np.float64)

    def _draw(self, shape, rng):
        if self.p == 1.0:
            # Overlapping blocks at rate gamma need not cover the map; p = 1 means drop all.
            return np.zeros(shape)
        b, sizes = self.block_size, shape[-self.n_spatial:]
        gamma = dropblock_gamma(self.p, b, *sizes)
        valid = tuple(s - b + 1 for s in sizes)
        return self.block_mask(rng.random(shape[:-self.n_spatial] + valid) < gamma)

    def _factor(self, mask):
        axes = tuple(range(-self.n_spatial - 2, 0))
        kept = mask.sum(axis=axes, keepdims=True)
        size = np.prod(mask.shape[-self.n_spatial - 2:])
        # Everything dropped (p = 1): zeros, not 0/0.
        return np.divide(mask * size, kept, out=np.zeros_like(mask), where=kept > 0)

    def __repr__(self) -> str:
        return (f"DropBlock(p={self.p}, block_size={self.block_size}, "
                f"n_spatial={self.n_spatial})")


class ConcreteDropout(NoiseLayer):
    r"""Concrete dropout (Gal, Hron & Kendall 2017): relaxed Bernoulli mask, learnable ``p``.

    The drop probability is the parameter ``p_logit`` (gradient in ``grads``); ``mask=``
    injects the uniforms :math:`u`. As ``temperature`` goes to 0 the mask tends to a
    Bernoulli(q) mask and the layer to inverted dropout.

    .. math:: z = \sigma\!\left(\frac{\operatorname{logit} p + \operatorname{logit} u}{t}
              \right), \qquad y = \frac{(1 - z) \odot x}{1 - p}

    Examples
    --------
    >>> layer = ConcreteDropout(p=0.5, temperature=0.1)
    >>> layer.forward(np.ones(2), mask=np.array([0.999, 0.001])).round(3).tolist()
    [0.0, 2.0]
    """

    def __init__(self, p: float = 0.1, *, temperature: float = 0.1,
                 rng: np.random.Generator | None = None) -> None:
        keep_probability(p)
        super().__init__(p, rng=rng)
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        self.temperature = float(temperature)
        self.zero_grad()

    # p lives in params as a logit so that SGD can learn it; NoiseLayer's ``self.p = ...``
    # goes through the setter.
    @property
    def p(self) -> float:
        return float(expit(self.params["p_logit"]))

    @p.setter
    def p(self, value) -> None:
        self.params["p_logit"] = np.array(logit(check_p(value)))

    def _draw(self, shape, rng):
        return rng.random(shape)

    def _check_noise(self, u):
        if np.any((u < 0.0) | (u > 1.0)):
            raise ValueError("mask must hold uniforms in [0, 1] for ConcreteDropout")
        # Clip like the reference code's +eps, so that u = 0 or 1 gives a finite logit.
        tiny = np.finfo(np.float64).eps
        return np.clip(u, tiny, 1.0 - tiny)

    def _factor(self, u):
        s = (self.params["p_logit"] + np.log(u) - np.log1p(-u)) / self.temperature
        self.z = expit(s)
        return (1.0 - self.z) / (1.0 - self.p)

    def forward(self, x, *, mask=None, rng=None):
        self.x = check_finite_array(x, name="x")
        return super().forward(self.x, mask=mask, rng=rng)

    def backward(self, grad_out):
        g = np.asarray(grad_out, dtype=np.float64)
        if self.mask is None:
            self.grads["p_logit"] = np.zeros(())
            return g.copy()
        z, scale = self.z, 1.0 / (1.0 - self.p)
        # d/dl of (1 - z)/(1 - p) with p = sigmoid(l): -z(1-z)/t * scale + (1 - z) * e^l.
        dfactor = -z * (1.0 - z) / self.temperature * scale + (1.0 - z) * (scale - 1.0)
        self.grads["p_logit"] = np.array((g * self.x * dfactor).sum())
        return g * self.factor

    def __repr__(self) -> str:
        return f"ConcreteDropout(p={self.p:.4g}, temperature={self.temperature})"
