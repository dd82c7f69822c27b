"""Symbols and parameter declarations shared by identity modules (content, not machinery)."""
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


def unit_range(point) -> tuple:
    """Every value ``w . (m x) / q`` can take lies between the sums of its negative and of its
    positive terms (rounded outward)."""
    terms = np.asarray(point["w"]) * np.asarray(point["x"]) / (1.0 - drop_probability(point))
    slack = 1.0 + gamma(terms.size + 4)
    return (float(terms[terms < 0].sum()) * slack, float(terms[terms > 0].sum()) * slack)


def inverted_unit(point, masks, noise=None):
    """``w . Dropout(p)(x)`` for each mask row, computed by the network core's layer."""
    layer = Dropout(drop_probability(point))
    x_rows = np.broadcast_to(point["x"], masks.shape)
    return layer.forward(x_rows, mask=masks) @ point["w"]
