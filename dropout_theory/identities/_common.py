"""Symbols and parameter declarations shared by identity modules (content, not machinery)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..identity import Param, drop_probability
from ..network import Dropout
from ..sampling import gamma

q = sp.Symbol("q", positive=True)
p = sp.Symbol("p", positive=True)
d = sp.Symbol("d", integer=True, positive=True)
sigma = sp.Symbol("sigma", positive=True)
i = sp.Symbol("i", integer=True)
w = sp.IndexedBase("w", real=True)
x = sp.IndexedBase("x", real=True)

Q = Param("q", 0.0, 1.0, typical=(0.1, 0.95), edges=(1.0,))  # q = 1: no unit dropped
P = Param("p", 0.0, 1.0, typical=(0.05, 0.9), edges=(0.0,))
D = Param("d", 1, np.inf, typical=(1, 6), integer=True)
SIGMA = Param("sigma", 0.0, np.inf, typical=(0.1, 2.0))
W = Param("w", shape=("d",))
X = Param("x", shape=("d",))


def unit_scale(point, scale=None) -> float:
    """Bound on the terms ``w . (m x) / scale`` sums (``scale``: q by default): the rounding
    of the simulated unit is relative to them, not to its possibly cancelled value."""
    keep = 1.0 - drop_probability(point) if scale is None else scale
    return float(np.abs(np.asarray(point["w"]) * np.asarray(point["x"])).sum() / keep)


#: ulps by which a library function (exp, log1p, tanh, expit) may miss its exact value: glibc
#: and SciPy measure below 2.5 (symbolic.balls.LIBM_ULPS re-measures 4 on every machine)
LIBRARY_ULPS = 8


def _down(v, ulps=1):
    v = np.asarray(v, dtype=np.float64)
    for _ in range(ulps):
        v = np.nextafter(v, -np.inf)
    return v


def _up(v, ulps=1):
    v = np.asarray(v, dtype=np.float64)
    for _ in range(ulps):
        v = np.nextafter(v, np.inf)
    return v


@dataclass(frozen=True)
class Interval:
    """Elementwise intervals ``[lo, hi]`` (arrays) for declaring a MaskModel's
    ``value_bound``: every operation rounds outward (a correctly rounded operation errs by at
    most half an ulp, a library function by ``LIBRARY_ULPS``, a sum of ``n`` terms by
    ``gamma(n)`` of their magnitudes), so the result holds the exact value of the same formula
    at every exact input in the operands. Worst case over masks: a term ``t`` a keep-mask may
    zero becomes ``t.masked()``, the hull of 0 and ``t``."""

    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def exact(cls, value) -> "Interval":
        value = np.asarray(value, dtype=np.float64)
        return cls(value, value)

    @classmethod
    def hull(cls, *parts) -> "Interval":
        parts = [_interval(v) for v in parts]
        return cls(np.minimum.reduce([v.lo for v in parts]),
                   np.maximum.reduce([v.hi for v in parts]))

    def masked(self) -> "Interval":
        """``m * self`` for a 0/1 mask ``m``."""
        return Interval(np.minimum(self.lo, 0.0), np.maximum(self.hi, 0.0))

    def __add__(self, other) -> "Interval":
        other = _interval(other)
        return Interval(_down(self.lo + other.lo), _up(self.hi + other.hi))

    __radd__ = __add__

    def __neg__(self) -> "Interval":
        return Interval(-self.hi, -self.lo)

    def __sub__(self, other) -> "Interval":
        return self + (-_interval(other))

    def __rsub__(self, other) -> "Interval":
        return _interval(other) + (-self)

    def __mul__(self, other) -> "Interval":
        other = _interval(other)
        products = [self.lo * other.lo, self.lo * other.hi, self.hi * other.lo,
                    self.hi * other.hi]
        return Interval(_down(np.minimum.reduce(products)), _up(np.maximum.reduce(products)))

    __rmul__ = __mul__

    def __truediv__(self, other) -> "Interval":
        other = _interval(other)
        if not (np.all(other.lo > 0) or np.all(other.hi < 0)):
            raise ValueError("Interval division by an interval holding 0")
        quotients = [self.lo / other.lo, self.lo / other.hi, self.hi / other.lo,
                     self.hi / other.hi]
        return Interval(_down(np.minimum.reduce(quotients)),
                        _up(np.maximum.reduce(quotients)))

    def __rtruediv__(self, other) -> "Interval":
        return _interval(other) / self

    def square(self) -> "Interval":
        low, high = self.lo * self.lo, self.hi * self.hi
        straddles = (self.lo <= 0.0) & (self.hi >= 0.0)
        return Interval(np.where(straddles, 0.0, _down(np.minimum(low, high))),
                        _up(np.maximum(low, high)))

    def relu(self) -> "Interval":
        return Interval(np.maximum(self.lo, 0.0), np.maximum(self.hi, 0.0))

    def increasing(self, function) -> "Interval":
        """``function`` (non-decreasing, a library function) of every value."""
        return Interval(_down(function(self.lo), LIBRARY_ULPS),
                        _up(function(self.hi), LIBRARY_ULPS))

    def sum(self, axis=-1) -> "Interval":
        n = np.shape(self.lo)[axis]
        slack = gamma(n + 2)
        return Interval(_down(self.lo.sum(axis) - slack * np.abs(self.lo).sum(axis)),
                        _up(self.hi.sum(axis) + slack * np.abs(self.hi).sum(axis)))

    def bounds(self) -> tuple:
        """``(lo, hi)`` of a single interval, as ``value_bound`` returns it."""
        return float(np.min(self.lo)), float(np.max(self.hi))


def _interval(value) -> Interval:
    return value if isinstance(value, Interval) else Interval.exact(value)


def keep_probability(point) -> Interval:
    """The keep probability as the point declares it (``q``, or ``1 - p`` exactly) and as a
    layer built with the drop probability ``p`` (a double, ``1 - q`` rounded) keeps."""
    drop = Interval.exact(drop_probability(point))
    declared = Interval.exact(point["q"]) if "q" in point else 1.0 - drop
    return Interval.hull(declared, 1.0 - drop, Interval.exact(1.0 - drop_probability(point)))


def masked_unit(weights, inputs, point, inverted=True) -> Interval:
    """Every value of ``sum_i weights_i m_i inputs_i (/ q if inverted)`` over masks (the
    last axis is summed): between the sums of the negative and of the positive terms."""
    terms = _interval(weights) * _interval(inputs)
    if inverted:
        terms = terms / keep_probability(point)
    return terms.masked().sum(-1)


def unit_differences(weights, inputs, point, inverted=True) -> np.ndarray:
    """Bounded differences of ``sum_i weights_i m_i inputs_i (/ q if inverted)``: flipping
    mask ``i`` moves it by ``|weights_i inputs_i| (/ q)``, rounded up (the declaration a
    MaskModel's ``differences`` asks for)."""
    terms = _interval(weights) * _interval(inputs)
    if inverted:
        terms = terms / keep_probability(point)
    return np.maximum(np.abs(terms.lo), np.abs(terms.hi))


def unit_range(point) -> tuple:
    """Every value ``w . (m x) / q`` can take lies between the sums of its negative and of its
    positive terms (rounded outward)."""
    return masked_unit(point["w"], point["x"], point).bounds()


def inverted_unit(point, masks, noise=None):
    """``w . Dropout(p)(x)`` for each mask row, computed by the network core's layer."""
    layer = Dropout(drop_probability(point))
    x_rows = np.broadcast_to(point["x"], masks.shape)
    return layer.forward(x_rows, mask=masks) @ point["w"]


def affine(weight, inputs, bias=None) -> Interval:
    """``weight @ inputs + bias`` over every value of the interval vector ``inputs``."""
    inputs = _interval(inputs)
    out = (Interval.exact(weight) * Interval(inputs.lo[..., None, :], inputs.hi[..., None, :])
           ).sum(-1)
    return out if bias is None else out + bias
