"""Ball arithmetic on NumPy arrays: a midpoint and a radius that enclose every value.

A ball ``(mid, rad)`` stands for the reals in ``[mid - rad, mid + rad]``. Every operation
returns a ball that contains the exact result for all inputs inside the input balls, so a ball
that excludes 0 *certifies* a non-zero difference, while terms that cancel leave a radius as
large as the rounding of those terms, never of the tiny result. Rounding errors of ``+ - * /``
and ``sqrt`` are computed exactly (error-free transformations), so exact inputs with an exact
float result give radius 0: sums of 0/1 masks, ``1 * x`` and ``x - x`` stay exact and ties in
comparisons stay decided.

``rad = inf`` means unbounded: nothing is known, the value may be undefined. ``mid`` is NaN
where the value is undefined (log of a negative, 0/0) and ``±inf`` where it overflowed; both
come with ``rad = inf`` (internally a NaN radius means ``inf``), so nothing excludes 0 from
them and :meth:`Ball.is_finite` is False.
"""
from __future__ import annotations

import functools
import math
import operator

import numpy as np
from scipy import special

__all__ = ["U", "LIBM_ULPS", "Ball", "gamma", "add", "sub", "mul", "div", "ipow", "power",
           "sqrt", "exp", "log", "tanh", "erf", "absolute", "maximum", "minimum", "floor",
           "ceil", "compare", "and_", "or_", "not_", "where", "concatenate", "weighted_mean",
           "from_interval"]

U = 2.0 ** -53  #: unit roundoff of float64
#: Assumed worst error of np.exp/expm1/log/tanh/power and scipy.special.erf, in spacings of the
#: computed result. Measured here against mpmath at 200 bits over ~10^4 random inputs: exp 0.63,
#: log 0.56, tanh 1.02, erf 2.22, power 0.63; test_balls re-measures it on every machine.
#: erfc and ndtr are NOT accurate in ulps (relative error grows in the tails): never use them.
LIBM_ULPS = 4
TINY = 2.0 ** -1070  #: slack for roundings in the subnormal range (each errs by <= 2**-1075)
#: each radius formula below has at most ~20 roundings of non-negative terms (a library result
#: counts as 2 * LIBM_ULPS of them): multiplying by 1 + 32u rounds it up
_INFLATE = 1.0 + 32 * U
_SPLITTER = 134217729.0  # 2**27 + 1, Veltkamp
# Dekker's product is exact for |a|, |b| <= 2**995 and 2**-968 <= |a b| <= 2**1020 (margins)
_SPLIT_MAX, _PROD_MIN, _PROD_MAX, _MODERATE = 2.0 ** 995, 2.0 ** -958, 2.0 ** 1018, 2.0 ** -200
_CASCADE_MAX = 4096
_ERF_LIPSCHITZ = 1.1283791670955128  # 2/sqrt(pi) rounded up
_ZERO = np.zeros(())


def gamma(n: int) -> float:
    r"""Higham's :math:`\gamma_n = n u / (1 - n u)`, rounded up.

    >>> gamma(2) > 2 * U
    True
    """
    return float(np.nextafter(n * U / (1.0 - n * U), np.inf)) if n > 0 else 0.0


def _is_zero(r) -> bool:
    """A radius stored as a scalar 0: the whole ball is exact and ops can skip work."""
    return r is _ZERO or (getattr(r, "ndim", 0) == 0 and r == 0)


def _compact(r):
    return _ZERO if not np.any(r) else r


def _plus(a, b):
    return b if _is_zero(a) else a if _is_zero(b) else a + b


def _times(a, b):
    return _ZERO if _is_zero(a) or _is_zero(b) else a * b


def _nonzero(r):
    return False if _is_zero(r) else r != 0


def _round_up(r, inexact=None):
    """``r (1 + 32u) + TINY`` where inexact (default ``r != 0``), exactly 0 elsewhere;
    NaN -> inf."""
    if _is_zero(r) and inexact is None:
        return _ZERO
    up = np.fmin(r * _INFLATE + TINY, np.inf)
    return np.where(r != 0 if inexact is None else inexact, up, 0.0)


def _two_sum(a, b):
    """Knuth: ``s + e == a + b`` exactly (NaN ``e`` on overflow)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def _two_product_error(a, b, p):
    """Dekker: ``a b - p`` exactly, inside the ranges of ``_SPLIT_MAX`` and ``_PROD_*``."""
    ah, al = _split(a)
    bh, bl = _split(b)
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _extent(mid) -> tuple:
    """(a lower bound on the non-zero |mid|, the largest |mid|): 2**-200 unless smaller ones
    exist, which counting finds in two cheap passes (a masked minimum is slow)."""
    a = np.abs(mid)
    if a.size == 0:
        return math.inf, 0.0
    hi = float(np.fmax.reduce(a, axis=None))
    if np.count_nonzero(a < _MODERATE) == np.count_nonzero(a == 0):
        return _MODERATE, hi
    return float(np.min(a, where=a > 0, initial=np.inf)), hi


class Ball:
    """Midpoints ``mid`` and radii ``rad >= 0`` (float64, broadcast to one shape).

    Examples
    --------
    >>> third = Ball.exact(1.0) / 3          # 1/3 is not a double: a tiny radius
    >>> residual = third * 3 - 1
    >>> bool(residual.contains_zero()), float(residual.rad) < 1e-15
    (True, True)
    >>> float((Ball.exact(3.0) * 4 - 12).rad)  # exact inputs, exact result
    0.0
    """

    __slots__ = ("mid", "_rad", "_mag", "_unit")
    __array_priority__ = 1000  # ndarray <op> Ball defers to Ball

    def __init__(self, mid, rad=0.0):
        mid, rad = np.asarray(mid, dtype=np.float64), np.asarray(rad, dtype=np.float64)
        if np.any(np.isnan(rad)) or np.any(rad < 0):
            raise ValueError("a radius must be >= 0 (inf allowed), not NaN or negative")
        mid = np.broadcast_to(mid, np.broadcast_shapes(mid.shape, rad.shape))
        if not np.all(np.isfinite(mid)):
            rad = np.where(np.isfinite(mid), rad, np.inf)
        self.mid, self._rad, self._mag, self._unit = mid, _compact(rad), None, None

    @classmethod
    def exact(cls, x) -> "Ball":
        """Radius 0 at ``x`` (non-finite values become unbounded or undefined)."""
        return cls(x, 0.0)

    @classmethod
    def _make(cls, mid, rad, mag=None, unit=None) -> "Ball":
        ball = object.__new__(cls)
        ball.mid, ball._rad, ball._mag, ball._unit = mid, rad, mag, unit
        return ball

    @property
    def rad(self) -> np.ndarray:
        return np.broadcast_to(np.where(np.isnan(self._rad), np.inf, self._rad), self.shape)

    shape = property(lambda self: np.shape(self.mid))
    ndim = property(lambda self: np.ndim(self.mid))
    lo = property(lambda self: self._end(-np.inf), doc="Lower ends, rounded down.")
    hi = property(lambda self: self._end(np.inf), doc="Upper ends, rounded up.")

    def _end(self, side):
        m, r = self.mid, self.rad
        with np.errstate(invalid="ignore"):
            end = np.where(r == 0, m, np.nextafter(m + np.copysign(r, side), side))
            return np.where(np.isinf(r) | np.isnan(m), side, end)

    def contains_zero(self) -> np.ndarray:
        """0 is not excluded (true for unbounded and undefined balls: see :meth:`is_finite`)."""
        return (self.lo <= 0) & (self.hi >= 0)

    def excludes_zero(self) -> np.ndarray:
        """The value is certainly defined and non-zero."""
        return (self.lo > 0) | (self.hi < 0)

    def is_finite(self) -> np.ndarray:
        return np.isfinite(self.mid) & np.isfinite(self.rad)

    def __getitem__(self, index) -> "Ball":
        return Ball._make(self.mid[index], self._rad if _is_zero(self._rad) else self.rad[index])

    def reshape(self, *shape) -> "Ball":
        rad = self._rad if _is_zero(self._rad) else self.rad.reshape(*shape)
        return Ball._make(np.reshape(self.mid, *shape), rad, self._mag, self._unit)

    def broadcast_to(self, shape) -> "Ball":
        rad = self._rad if _is_zero(self._rad) else np.broadcast_to(self.rad, shape)
        return Ball._make(np.broadcast_to(self.mid, shape), rad, self._mag, self._unit)

    def magnitudes(self, refresh=False) -> tuple:
        """(lower bound of the non-zero |mid|, largest |mid|), cached or propagated."""
        if self._mag is None or refresh:
            self._mag = _extent(self.mid)
        return self._mag

    def is_unit(self) -> bool:
        """Exact with every midpoint in {-1, 0, 1} (masks): a product with it is exact."""
        if self._unit is None:
            m = self.mid
            head = np.asarray(m).flat[:64]  # a cheap first look (ravel would copy)
            with np.errstate(all="ignore"):
                self._unit = _is_zero(self._rad) and bool(np.all(head * head == np.abs(head))) and (
                    np.count_nonzero(m) == np.count_nonzero(m == 1)  # 0/1 masks: quick passes
                    or bool(np.all(m * m == np.abs(m))))
        return self._unit

    def __repr__(self) -> str:
        return f"Ball(mid={self.mid!r}, rad={self.rad!r})"

    __add__ = __radd__ = lambda self, other: add(self, other)
    __mul__ = __rmul__ = lambda self, other: mul(self, other)
    __sub__ = lambda self, other: sub(self, other)
    __rsub__ = lambda self, other: sub(other, self)
    __truediv__ = lambda self, other: div(self, other)
    __rtruediv__ = lambda self, other: div(other, self)
    __neg__ = lambda self: Ball._make(-self.mid, self._rad, self._mag, self._unit)
    __abs__ = lambda self: absolute(self)
    __pow__ = lambda self, other: power(self, other)

    def sum(self, axis=-1) -> "Ball":
        """Sum along ``axis``: exact TwoSum cascade up to 4096 terms, Higham's bound beyond.

        >>> Ball.exact([[1.0, 2.0, 3.0]]).sum(axis=1)
        Ball(mid=array([6.]), rad=array([0.]))
        """
        axis = axis % self.ndim
        n = self.shape[axis]
        if n == 0:
            return Ball._make(np.zeros(self.shape[:axis] + self.shape[axis + 1:]), _ZERO)
        with np.errstate(all="ignore"):
            rads = _ZERO if _is_zero(self._rad) else np.sum(
                np.broadcast_to(self._rad, self.shape), axis=axis)
            if n <= _CASCADE_MAX:
                mid, err = _cascade(self.mid, axis)
            else:
                mid = np.sum(self.mid, axis=axis)
                err = gamma(n - 1) * np.sum(np.abs(self.mid), axis=axis)
            r = _plus(rads, err)  # n-term sums of non-negative numbers: gamma_n rounds them up
            return Ball._make(mid, _round_up(r * (1 + gamma(2 * n + 2)) if n > 1 else r))

    def mean(self, axis=-1) -> "Ball":
        """Plain mean along ``axis`` (the sum divided by the count, both as balls)."""
        return div(self.sum(axis), float(self.shape[axis % self.ndim]))


def _cascade(mid, axis):
    """Pairwise TwoSum tree along ``axis``: the float sum and the sum of the |errors| (halves,
    not a loop over the axis: log2(n) vectorized steps, integer sums exact all the same)."""
    mid, err, extra = np.moveaxis(mid, axis, -1), None, []
    while mid.shape[-1] > 1:
        if mid.shape[-1] % 2:
            extra.append((mid[..., -1], None if err is None else err[..., -1]))
            mid, err = mid[..., :-1], None if err is None else err[..., :-1]
        half = mid.shape[-1] // 2
        mid, e = _two_sum(mid[..., :half], mid[..., half:])
        err = np.abs(e) if err is None else err[..., :half] + err[..., half:] + np.abs(e)
    mid, err = mid[..., 0], None if err is None else err[..., 0]
    for column, column_err in extra:
        mid, e = _two_sum(mid, column)
        err = functools.reduce(_plus, [t for t in (err, column_err) if t is not None], np.abs(e))
    return mid, _ZERO if err is None else _compact(err)


def _ball(x) -> Ball:
    return x if isinstance(x, Ball) else Ball.exact(x)


def add(a, b) -> Ball:
    """``a + b``: radius ``ra + rb + |TwoSum error|``."""
    a, b = _ball(a), _ball(b)
    with np.errstate(all="ignore"):
        s, e = _two_sum(a.mid, b.mid)
        if _is_zero(a._rad) and _is_zero(b._rad):
            return Ball._make(s, _compact(np.abs(e)))  # the exact error: nothing to round
        return Ball._make(s, _round_up(_plus(_plus(a._rad, b._rad), np.abs(e))))


def sub(a, b) -> Ball:
    """``a - b`` (negation is exact)."""
    return add(a, -_ball(b))


def _unit_product(a: Ball, b: Ball) -> Ball:
    """``a b`` for ``a`` exact in {-1, 0, 1}: exact, no error transformation needed."""
    with np.errstate(invalid="ignore"):  # 0 * inf -> NaN -> inf
        rad = _ZERO if _is_zero(b._rad) else np.fmin(np.abs(a.mid) * b._rad, np.inf)
        return Ball._make(a.mid * b.mid, rad, b._mag, True if b._unit else None)


def _product_is_safe(a: Ball, b: Ball, refresh=False) -> bool:
    """Is Dekker's product exact for every pair? (Propagated magnitudes, else measured.)"""
    (alo, ahi), (blo, bhi) = a.magnitudes(refresh), b.magnitudes(refresh)
    safe = alo * blo >= _PROD_MIN and ahi * bhi <= _PROD_MAX and max(ahi, bhi) <= _SPLIT_MAX
    return safe or (not refresh and _product_is_safe(a, b, True))


def _product_error(x, y, p, safe: bool):
    """|x y - p| exactly where Dekker is exact, else ``spacing(|p|)`` (an exact zero factor
    gives an exact product)."""
    err = np.abs(_two_product_error(x, y, p))
    if safe:
        return err
    ap = np.abs(p)
    ok = ((ap >= _PROD_MIN) & (ap <= _PROD_MAX) & (np.abs(x) <= _SPLIT_MAX)
          & (np.abs(y) <= _SPLIT_MAX))
    return np.where(~ok & (x != 0) & (y != 0), np.spacing(ap) + 2.0 ** -1074, err)


def mul(a, b) -> Ball:
    """``a b``: radius ``|x| ry + |y| rx + rx ry + |TwoProduct error|``."""
    a, b = _ball(a), _ball(b)
    if a.is_unit() or b.is_unit():
        return _unit_product(a, b) if a.is_unit() else _unit_product(b, a)
    x, y, rx, ry = a.mid, b.mid, a._rad, b._rad
    with np.errstate(all="ignore"):
        p = x * y
        err = _product_error(x, y, p, _product_is_safe(a, b))
        (alo, ahi), (blo, bhi) = a.magnitudes(), b.magnitudes()
        mag = (alo * blo * (1 - 4 * U), ahi * bhi * (1 + 4 * U))
        if _is_zero(rx) and _is_zero(ry):
            return Ball._make(p, _compact(err), mag)
        r = _plus(_plus(_plus(_times(np.abs(x), ry), _times(np.abs(y), rx)), _times(rx, ry)), err)
        # a product of non-zero radii/midpoints may underflow to 0: still inexact
        inexact = ((r != 0) | (_nonzero(rx) & ((y != 0) | _nonzero(ry)))
                   | (_nonzero(ry) & ((x != 0) | _nonzero(rx))))
        return Ball._make(p, _round_up(r, inexact), mag)


def _quotient_is_safe(a: Ball, b: Ball, refresh=False) -> bool:
    (alo, ahi), (blo, bhi) = a.magnitudes(refresh), b.magnitudes(refresh)
    safe = (ahi <= _PROD_MAX and (alo >= 2 * _PROD_MIN or alo == math.inf)
            and bhi <= _SPLIT_MAX and (ahi == 0 or ahi <= _SPLIT_MAX * blo))
    return safe or (not refresh and _quotient_is_safe(a, b, True))


def div(a, b) -> Ball:
    """``a / b``: radius ``(rx + |m| ry) / (|y| - ry) + |r| / |y|``, ``r = x - m y`` the exact
    remainder of the rounded quotient ``m``; unbounded where ``|y| <= ry``, undefined at 0."""
    a, b = _ball(a), _ball(b)
    x, y, rx, ry = a.mid, b.mid, a._rad, b._rad
    with np.errstate(all="ignore"):
        m = x / y
        p = m * y
        r = (x - p) - _two_product_error(m, y, p)  # exact: Sterbenz, then a representable result
        rounding = np.abs(r) / np.abs(y)
        if not _quotient_is_safe(a, b):
            am, ax = np.abs(m), np.abs(x)
            ok = (am <= _SPLIT_MAX) & (np.abs(y) <= _SPLIT_MAX) & (ax >= 2 * _PROD_MIN) & (
                ax <= _PROD_MAX)
            rounding = np.where(~ok & (x != 0), np.spacing(am) + 2.0 ** -1074, rounding)
        den = np.abs(y) - ry
        prop = _ZERO if _is_zero(rx) else rx / den
        if not _is_zero(ry):  # |x/y| <= |m| (1 + 2u); slack: ry / den may underflow
            prop = _plus(prop, (np.abs(m) * (1 + 2 * U)) * (ry / den + 2.0 ** -1074))
        inexact = (rounding != 0) | _nonzero(rx) | (_nonzero(ry) & (m != 0))
        rad = _round_up(_plus(prop, rounding), inexact)
        if not _is_zero(ry):  # the ball of y reaches 0
            rad = np.where(den > 0, rad, np.inf)
        m = np.where((y == 0) & (ry == 0), np.nan, m)  # x / 0 is undefined (its rad is NaN)
        return Ball._make(m, _compact(rad))


def absolute(a) -> Ball:
    """``|a|``, 1-Lipschitz: same radius."""
    a = _ball(a)
    return Ball._make(np.abs(a.mid), a._rad, a._mag, a._unit)


def _even(n) -> bool:
    return int(n) % 2 == 0 and int(n) != 0


def ipow(a, n) -> Ball:
    """``a ** n`` for integer ``n`` (scalar or array) by binary powering with ball products,
    so exact inputs stay exact; negative powers are ``1 / a ** |n|``.

    >>> float(ipow(Ball.exact(3.0), -2).mid * 9), float(ipow(Ball.exact(0.5), 40).rad)
    (1.0, 0.0)
    """
    a, n = _ball(a), np.asarray(n)
    if n.ndim == 0:
        k, result, base = abs(int(n)), None, a
        while k:
            result = (base if result is None else mul(result, base)) if k & 1 else result
            k >>= 1
            base = mul(base, base) if k else base
        result = result if result is not None else Ball._make(np.ones_like(a.mid), _ZERO)
        if _even(n) and np.any(result.lo < 0):  # an even power of a ball around 0 is >= 0
            result = from_interval(np.maximum(result.lo, 0.0), result.hi)
        return div(1.0, result) if n < 0 else result
    k, base = np.abs(n), a
    result = Ball._make(np.ones(np.broadcast_shapes(a.shape, n.shape)), _ZERO)
    while np.any(k):
        result, k, base = where(k & 1, mul(result, base), result), k >> 1, mul(base, base)
    return where(n < 0, div(1.0, result), result)


def from_interval(lo, hi) -> Ball:
    """The ball of ``[lo, hi]`` (it contains both ends); exact when its radius is computed
    exactly (0/1 indicators).

    >>> ball = from_interval(0.1, 1.0)
    >>> bool(ball.lo <= 0.1 and ball.hi >= 1.0)
    True
    """
    with np.errstate(all="ignore"):
        mid = np.where(lo == hi, lo, 0.5 * lo + 0.5 * hi)
        (d1, e1), (d2, e2) = _two_sum(hi, -mid), _two_sum(mid, -lo)
        rad = np.maximum(d1, d2)
        return Ball._make(mid, _compact(np.where((e1 != 0) | (e2 != 0), _round_up(rad), rad)))


def _libm(m, prop, inexact) -> Ball:
    """A ball around a library result ``m``: ``prop`` bounds the change over the input ball,
    ``LIBM_ULPS`` spacings the library's own error."""
    r = _plus(LIBM_ULPS * np.spacing(np.abs(m)), prop)
    return Ball._make(m, _compact(_round_up(r, inexact)))


def exp(a) -> Ball:
    """``exp(a)``: radius ``exp(x) expm1(rx)`` plus the library error; ``exp(0) = 1`` exactly."""
    a = _ball(a)
    with np.errstate(all="ignore"):
        m = np.exp(a.mid)
        prop = _ZERO if _is_zero(a._rad) else (m + LIBM_ULPS * np.spacing(m)) * np.expm1(a._rad)
        return _libm(m, prop, (a.mid != 0) | _nonzero(a._rad))


def log(a) -> Ball:
    """``log(a)``: radius ``rx / (x - rx)`` plus the library error; undefined for ``x <= 0``,
    unbounded if the ball reaches 0."""
    a = _ball(a)
    with np.errstate(all="ignore"):
        m = np.where(a.mid > 0, np.log(a.mid), np.nan)
        low = None if _is_zero(a._rad) else a.lo
        prop = _ZERO if low is None else np.where(low > 0, a._rad / low, np.inf)
        return _libm(m, prop, (a.mid != 1) | _nonzero(a._rad))


def tanh(a) -> Ball:
    """``tanh(a)``, 1-Lipschitz."""
    a = _ball(a)
    return _libm(np.tanh(a.mid), a._rad, (a.mid != 0) | _nonzero(a._rad))


def erf(a) -> Ball:
    """``erf(a)`` (``scipy.special.erf``), Lipschitz constant ``2 / sqrt(pi)``."""
    a = _ball(a)
    return _libm(special.erf(a.mid), _times(_ERF_LIPSCHITZ, a._rad),
                 (a.mid != 0) | _nonzero(a._rad))


def sqrt(a) -> Ball:
    """``sqrt(a)``: correctly rounded (half a spacing), exact iff ``s * s == x`` exactly;
    radius ``rx / (sqrt(x - rx) + s)``; undefined below 0, unbounded if the ball reaches it."""
    a = _ball(a)
    x, rx = a.mid, a._rad
    with np.errstate(all="ignore"):
        s = np.where(x >= 0, np.sqrt(x), np.nan)
        square = s * s
        exact = (square == x) & (_two_product_error(s, s, square) == 0)
        low, high = a.magnitudes()
        if low < 2 * _PROD_MIN or high > _PROD_MAX:  # where Dekker is not exact: inexact
            exact &= (x == 0) | ((x >= 2 * _PROD_MIN) & (x <= _PROD_MAX))
        r = 0.5 * np.spacing(s)
        if not _is_zero(rx):
            low = a.lo
            r = np.where(low >= 0, r + rx / (np.sqrt(low) + s), np.inf)
        return Ball._make(s, _compact(_round_up(r, ~exact | _nonzero(rx))))


def power(a, y) -> Ball:
    """``a ** y``: integer-valued exact ``y`` -> :func:`ipow`; otherwise defined for ``x >= 0``
    (undefined below, unbounded if the ball reaches below 0). The range over the box of ``x``
    and ``y`` is spanned by its corners (``t ** s`` is monotone in each argument).

    >>> float(power(Ball.exact(4.0), 0.5).mid), float(power(Ball.exact(2.0), 3.0).rad)
    (2.0, 0.0)
    """
    a, y = _ball(a), _ball(y)
    with np.errstate(invalid="ignore"):
        integral = _is_zero(y._rad) and bool(np.all((np.floor(y.mid) == y.mid)
                                                    & (np.abs(y.mid) < 2.0 ** 62)))
    if integral:
        return ipow(a, y.mid.astype(np.int64))
    if not np.ndim(y.mid) and _is_zero(y._rad) and y.mid == 0.5:
        return sqrt(a)
    x = a.mid
    with np.errstate(all="ignore"):
        m = np.where(x >= 0, np.power(x, y.mid), np.nan)
        r = LIBM_ULPS * np.spacing(np.abs(m))
        xs = [x] if _is_zero(a._rad) else [a.lo, a.hi]
        ys = [y.mid] if _is_zero(y._rad) else [y.lo, y.hi]
        if len(xs) + len(ys) > 2:
            r = functools.reduce(np.maximum, [np.abs(c - m) + LIBM_ULPS * np.spacing(np.abs(c))
                                              for c in (np.power(s, t) for s in xs for t in ys)])
            r = np.where(xs[0] >= 0, r, np.inf)
        exact = ((x == 0) & (y.mid > 0) | (x == 1)) & _is_zero(a._rad) & _is_zero(y._rad)
        return Ball._make(m, _compact(_round_up(r, ~exact)))


def _extreme(reduce, *args) -> Ball:
    """max/min are 1-Lipschitz in the sup norm: the largest radius."""
    args = [_ball(b) for b in args]
    rads = [b._rad for b in args if not _is_zero(b._rad)]
    return Ball._make(functools.reduce(reduce, [b.mid for b in args]),
                      functools.reduce(np.maximum, rads) if rads else _ZERO)


maximum = functools.partial(_extreme, np.maximum)
minimum = functools.partial(_extreme, np.minimum)
maximum.__doc__, minimum.__doc__ = "Elementwise max of balls.", "Elementwise min of balls."


def floor(a, rounding=np.floor) -> Ball:
    """``floor(a)``: exact when no integer lies in ``(x - rx, x + rx]``, else covers both."""
    a = _ball(a)
    if _is_zero(a._rad):
        return Ball(rounding(a.mid))
    return from_interval(rounding(a.lo), rounding(a.hi))


def ceil(a) -> Ball:
    """``ceiling(a)``, like :func:`floor`."""
    return floor(a, np.ceil)


_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}


def compare(op: str, a, b) -> Ball:
    """Indicator ball of ``a op b``: decided (0 or 1, exact) where the sign of ``a - b`` is
    certain or ``a - b`` is exactly 0; ``0.5 +- 0.5`` (both) elsewhere; undefined (NaN) where
    a side is (``log(m) > -1`` at ``m = 0`` is no event that happened or not).

    >>> float(compare(">=", Ball.exact(1.0) + 0.0, 1.0).mid)
    1.0
    """
    d = sub(a, b)
    with np.errstate(invalid="ignore"):
        value = _COMPARE[op](d.mid, 0).astype(np.float64)
        undefined = np.isnan(d.mid)
        if _is_zero(d._rad) and not np.any(undefined):
            return Ball._make(value, _ZERO, unit=True)
        decided = (d._rad == 0) | (np.abs(d.mid) > d._rad)
        mid = np.where(undefined, np.nan, np.where(decided, value, 0.5))
        return Ball._make(mid, np.where(undefined, np.inf, np.where(decided, 0.0, 0.5)))


def _logic(reduce, *args) -> Ball:
    """Indicator balls as intervals within [0, 1], combined end by end; undefined where any
    argument is."""
    args = list(map(_ball, args))
    ends = [(np.clip(b.lo, 0.0, 1.0), np.clip(b.hi, 0.0, 1.0)) for b in args]
    result = from_interval(*(functools.reduce(reduce, side) for side in zip(*ends)))
    undefined = functools.reduce(np.logical_or, [np.isnan(b.mid) for b in args])
    return where(undefined, Ball(np.nan, np.inf), result) if np.any(undefined) else result


and_ = functools.partial(_logic, np.minimum)
or_ = functools.partial(_logic, np.maximum)
and_.__doc__, or_.__doc__ = "Logical and of indicator balls.", "Logical or of indicator balls."


def not_(a) -> Ball:
    """Logical not of an indicator ball (undefined stays undefined)."""
    a = _ball(a)
    result = from_interval(1.0 - np.clip(a.hi, 0.0, 1.0), 1.0 - np.clip(a.lo, 0.0, 1.0))
    undefined = np.isnan(a.mid)
    return where(undefined, Ball(np.nan, np.inf), result) if np.any(undefined) else result


def where(condition, a, b) -> Ball:
    """Elementwise choice between two balls."""
    a, b = _ball(a), _ball(b)
    rad = _ZERO if _is_zero(a._rad) and _is_zero(b._rad) else np.where(condition, a.rad, b.rad)
    return Ball._make(np.where(condition, a.mid, b.mid), rad)


def concatenate(parts, axis=0) -> Ball:
    """Join balls along an existing axis."""
    mid = np.concatenate([p.mid for p in parts], axis=axis)
    if all(_is_zero(p._rad) for p in parts):
        return Ball._make(mid, _ZERO)
    return Ball._make(mid, np.concatenate([p.rad for p in parts], axis=axis))


def weighted_mean(values: Ball, weights, axis=0, weight_rel_error=0.0) -> Ball:
    r"""``sum_k w_k v_k`` over ``axis`` (weights of enumerated outcomes or quadrature nodes).

    .. math:: r = (1 + \epsilon_w) \sum_k |w_k| r_k + (\gamma_n + \epsilon_w) \sum_k |w_k v_k|

    with :math:`\epsilon_w` = ``weight_rel_error``, the caller's bound on the relative error of
    its weights (e.g. :math:`\gamma_k` for products of k probabilities). 1-D weights use BLAS
    dot products: every summation order keeps the :math:`\gamma_n` bound.

    >>> bool(weighted_mean(Ball.exact([0.0, 1.0]), [0.5, 0.5]).contains_zero())
    False
    """
    values, w = _ball(values), np.asarray(weights, dtype=np.float64)
    axis = axis % values.ndim
    n = values.shape[axis]
    if w.ndim == 1:
        total = lambda w, v: np.tensordot(w, v, axes=([0], [axis]))  # noqa: E731
    else:
        total = lambda w, v: np.sum(w * v, axis=axis)  # noqa: E731
    with np.errstate(all="ignore"):
        mid, aw = total(w, values.mid), np.abs(w)
        # n * 2**-1074: products that underflow
        r = (gamma(n) + weight_rel_error) * total(aw, np.abs(values.mid)) + n * 2.0 ** -1074
        if not _is_zero(values._rad):
            r = r + (1 + weight_rel_error) * total(aw, values.rad)
        return Ball._make(mid, _round_up(r * (1 + gamma(2 * n + 4))))
