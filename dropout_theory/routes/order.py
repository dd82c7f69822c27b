r"""Order route: the measured order of the error of an approximation, by exact enumeration.

On a geometric sweep of ``h`` (the drop rate, or the parameter the approximation names), the
exact route gives ``e(h) = |E - C|`` between the exact quantity ``E`` and the claim ``C``;
the least-squares slope of ``log e`` on ``log h`` over the asymptotic window
(:func:`order_window`) is the measured order. The claim agrees with its declared integer
order ``k`` when

.. math:: \operatorname{round}(\text{slope of } e) = k
          \quad\text{and}\quad k > \operatorname{round}(\text{slope of } |E|),

i.e. the error has the declared order *and* vanishes faster than the quantity itself: a claim
off by a constant factor (an error of the quantity's own order) is no approximation. No
tolerance is chosen: orders are integers (or half-integers, for central limit rates like
:math:`d^{-1/2}`, and then slopes are rounded to halves) and slopes are rounded. When the
parameter is a size ``d`` (a width), ``h = 1/d`` over the sizes of the declared range, each
with its arrays drawn again, enumerated through exchangeable blocks where the model has
them. The order cannot be measured (``inconclusive``) without a window of a decade, when
the window's local slopes do not all round to the fitted order (it straddles a change of
regime), or where the exact route cannot enumerate.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

from .exact import exact
from .registry import route
from .result import RouteResult

__all__ = ["order", "order_sweep", "order_window", "ORDER_WIDEN", "ORDER_PER_DECADE",
           "ORDER_CLEARANCE"]

#: decades added on each side of the approximation's range, points per decade, and how far
#: clear of the rounding bound an error must stand to enter the fit
ORDER_WIDEN = 2
ORDER_PER_DECADE = 4
ORDER_CLEARANCE = 10.0


def _size_parameter(identity):
    """The integer size the approximation sweeps (``h = 1/size``), or ``None``."""
    name = identity.model.parameter
    return next((prm for prm in identity.params if prm.name == name and prm.integer), None)


def _at(identity, point, h) -> dict:
    """``point`` with the approximation parameter set to ``h`` (drop rate or named param);
    for a size, ``h = 1/size`` and the arrays are drawn again at that size (seeded)."""
    approximation = identity.model
    size = _size_parameter(identity)
    if size is not None:
        scalars = {prm.name: point[prm.name] for prm in identity.params if not prm.shape}
        return identity.complete({**scalars, size.name: int(round(1.0 / h))},
                                 np.random.default_rng(int(round(1.0 / h))))
    if approximation.parameter != "drop":
        return {**point, approximation.parameter: h}
    name = identity.probability
    return {**point, name: h if name == "p" else 1.0 - h}


def _grid(identity) -> np.ndarray:
    """The swept ``h``: the range widened by ``ORDER_WIDEN`` decades each side (inside the
    domain), ``ORDER_PER_DECADE`` points per decade; for a size, ``1/size`` over the sizes
    of the range itself (no widening: enumeration cost grows with the size)."""
    def geometric(low, high):
        return np.geomspace(low, high, int(np.ceil(np.log10(high / low) * ORDER_PER_DECADE)) + 1)

    low, high = identity.model.range
    if _size_parameter(identity) is not None:
        return 1.0 / np.unique(np.rint(geometric(low, high)).astype(int))[::-1]
    return geometric(low / 10.0 ** ORDER_WIDEN,
                     min(high * 10.0 ** ORDER_WIDEN, _ceiling(identity) / 2))


def _rounded(slope, declared):
    """A slope rounded to the resolution of the declared order: integers, or halves when
    the declared order is a half-integer (d^(-1/2) rates of central limit corrections)."""
    step = 1.0 if float(declared).is_integer() else 0.5
    return np.rint(np.asarray(slope) / step) * step


def _ceiling(identity) -> float:
    """The (exclusive) upper end of the swept parameter's domain."""
    name = identity.model.parameter
    if name == "drop":
        return 1.0
    return next(prm.high for prm in identity.params if prm.name == name)


def order_sweep(identity, point, claim, context=None):
    """``(h, E - C, |E|, rounding bound)`` over the route's sweep: the approximation's
    ``range`` widened by ``ORDER_WIDEN`` decades on each side (inside the parameter's
    domain), ``ORDER_PER_DECADE`` points per decade; ``None`` where enumeration is out of
    reach."""
    grid = _grid(identity)
    results = [exact(identity, _at(identity, point, h), claim, context) for h in grid]
    if any(r.status == "skipped" for r in results):
        return None
    return (grid, np.array([r.difference for r in results]),
            np.array([abs(r.lhs) for r in results]), np.array([r.rounding for r in results]))


def order_window(grid, signed, quantity, tolerance):
    """``(h, |E - C|, |E|)`` on the asymptotic window of an :func:`order_sweep`, or ``None``.

    The window is the lowest decade of the sweep (``ORDER_PER_DECADE + 1`` points) on which
    the error has one sign and stands ``ORDER_CLEARANCE`` times clear of the exact route's
    rounding bound, so rounding moves each log-error by at most 1/``ORDER_CLEARANCE`` and the
    slope far less than the 1/2 of the integer-order rule. Lowest, because the order is a
    statement about ``h -> 0``: above a sign change of the error (a nearly cancelling leading
    coefficient) or far up the sweep, higher-order terms take over.
    """
    clear = (np.abs(signed) > ORDER_CLEARANCE * tolerance) & (quantity > 0)
    width = ORDER_PER_DECADE + 1
    for first in range(len(grid) - width + 1):
        window = slice(first, first + width)
        signs = np.sign(signed[window])
        if clear[window].all() and np.all(signs == signs[0]):
            return grid[window], np.abs(signed[window]), quantity[window]
    return None


@route("order")
def order(identity, point, claim, context, *, sweep=None) -> RouteResult:
    declared = identity.model.order
    sweep = sweep if sweep is not None else order_sweep(identity, point, claim, context)
    window = None if sweep is None else order_window(*sweep)
    if window is None:
        return RouteResult("order", "inconclusive", point, rhs=declared,
                           note="no decade of the sweep where the error has one sign and "
                                "stands clear of rounding" if sweep is not None else
                                "the exact route cannot enumerate this point")
    grid, error, quantity = window
    fit = stats.linregress(np.log(grid), np.log(error))
    scale = stats.linregress(np.log(grid), np.log(quantity)).slope
    measured = float(_rounded(fit.slope, declared))
    local = np.diff(np.log(error)) / np.diff(np.log(grid))
    if np.any(_rounded(local, declared) != measured):
        status = "inconclusive"
    elif measured == declared and declared > float(_rounded(scale, declared)):
        status = "agrees"
    else:
        status = "disagrees"
    return RouteResult("order", status, point, lhs=float(fit.slope), rhs=declared,
                       se=float(fit.stderr), order=float(fit.slope),
                       quantity_order=float(scale), local_slopes=local.tolist())
