r"""DropBlock's seed rate (Ghiasi et al. 2018, eq. 1) and the drop rate it realises.

Seeds :math:`\sim \mathrm{Bernoulli}(\gamma)` sit at the :math:`(f-b+1)^2` positions where a
:math:`b \times b` block fits in an :math:`f \times f` map; unit ``u`` is dropped when any of
the :math:`n_u` seeds whose block covers it fires. So the realised rate is
:math:`1 - f^{-2}\sum_u (1-\gamma)^{n_u}`, whose first-order term :math:`\gamma f^{-2}
\sum_u n_u = \gamma b^2 (f-b+1)^2 / f^2` is exactly the nominal rate the gamma formula
inverts; overlapping blocks take away :math:`\gamma^2 f^{-2}\sum_u \binom{n_u}{2}` and more,
so the formula is an approximation of order 2 in the seed rate, always short of its target.
"""
import numpy as np
import sympy as sp

from ...identity import Approximation, Identity, MaskModel, Param, drop_probability, register
from ...network import DropBlock
from ...symbolic import Derivation, Step

p = sp.Symbol("p", positive=True)
f, b = sp.symbols("f b", integer=True, positive=True)
NOMINAL = p * b ** 2 * (f - b + 1) ** 2 / f ** 2
NOTATION = ("p here is DropBlock's seed rate gamma (Bernoulli(gamma) seeds at the (f-b+1)^2 "
            "valid positions of one f x f map, block side b); the nominal drop rate 1 - "
            "keep_prob the gamma formula inverts is gamma b^2 (f-b+1)^2 / f^2")


def coverage(size, block):
    """``n_u``: how many valid seed positions' blocks cover each unit of a ``size``-square."""
    line = np.convolve(np.ones(size - block + 1), np.ones(block))
    return np.outer(line, line)


def realised_rate(gamma, size, block):
    """Exact expected fraction of dropped units, ``1 - mean_u (1 - gamma)^{n_u}``."""
    return float(1.0 - np.mean((1.0 - gamma) ** coverage(size, block)))


def nominal_rate(gamma, size, block):
    return gamma * block ** 2 * (size - block + 1) ** 2 / size ** 2


def _derive():
    u = sp.Symbol("u", integer=True)
    n_u = sp.Function("n")(u)
    exact = 1 - sp.Sum((1 - p) ** n_u, (u, 1, f ** 2)) / f ** 2
    return Derivation(sp.Function("rate")(p, f, b), [
        Step("model: a unit is kept when none of the n_u seeds covering it fires", exact),
        Step("first order in p: p/f^2 sum_u n_u, and sum_u n_u = b^2 (f-b+1)^2 (each valid "
             "seed covers b^2 units): the nominal rate", NOMINAL),
        Step("second order: overlapping blocks, -p^2/f^2 sum_u n_u(n_u - 1)/2 < 0 for b >= 2",
             -p ** 2 / f ** 2 * sp.Sum(n_u * (n_u - 1) / 2, (u, 1, f ** 2)))])


def _dropped_fraction(point, masks, noise=None):
    """Fraction of zeros in ``DropBlock``'s output on ones, seeds injected: a seed fires where
    the Bernoulli(1 - gamma) keep-mask of the routes is 0."""
    size, block = point["f"], point["b"]
    valid = size - block + 1
    # the layer's p only sets gamma when it draws seeds itself; injected, they are the routes'
    nominal = nominal_rate(drop_probability(point), size, block)
    layer = DropBlock(min(nominal, 1.0), block_size=block)
    seeds = (1.0 - masks).reshape(len(masks), 1, 1, valid, valid)
    out = layer.forward(np.ones((len(masks), 1, 1, size, size)), mask=layer.block_mask(seeds))
    return (out == 0.0).mean(axis=(1, 2, 3, 4))


register(Identity(
    name="variants.dropblock-rate",
    statement=r"E[\text{fraction dropped}] \approx \gamma\frac{b^2 (f-b+1)^2}{f^2} = 1 - "
              r"\text{keep\_prob}\ (\text{error } \Theta(\gamma^2)\text{: blocks overlap, the "
              r"realised rate falls short})",
    source="Ghiasi, Lin, Le 2018 (DropBlock), eq. 1; seed 001 (references DropBlock)",
    notation=NOTATION,
    params=(Param("p", 0.0, 1.0, typical=(0.01, 0.2)),
            Param("f", 2, np.inf, typical=(4, 5), integer=True),
            Param("b", 2, np.inf, typical=(2, 3), integer=True)),
    rhs=NOMINAL, derive=_derive, expected="approximate", probability="p",
    model=Approximation(MaskModel(_dropped_fraction, lambda pt: (pt["f"] - pt["b"] + 1) ** 2,
                                  "mean", rounding_scale=lambda point: 1.0,
                                  value_bound=lambda point: (0.0, 1.0)), 2, "drop",
                        (1e-3, 1e-1)),
    wrong_claims=lambda rhs: {"keep and drop swapped in gamma": 1 - rhs},
))
