"""Gradient route: the claimed gradient against central differences of the layer, under every
injected mask.

All ``2**k`` masks are enumerated (k is small), so a claim that is wrong for some mask, such
as one that forgets the mask, cannot pass by the luck of one drawn mask. Finite differences
come with their own truncation and rounding bound (``network.check_gradients``).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..identity import drop_probability
from ..network import check_gradients
from ..sampling import enumerate_masks, generator
from .moments import claim_ball
from .registry import route
from .result import RouteResult

__all__ = ["gradient", "gradient_pairs", "GRADIENT_MAX_MASKS"]

#: the route runs 4k forward passes under each of 2^k masks: k = 10 is ~40000 passes
GRADIENT_MAX_MASKS = 10


def gradient_pairs(identity, point, claim, *, root, key):
    """Yield ``(mask, (claim, its rounding bound), finite-difference result)`` for every
    mask of ``point``."""
    rng = generator(root, key, 0)
    k = identity.model.n_masks(point)
    if k > GRADIENT_MAX_MASKS:
        raise ValueError(f"{identity.name}: the gradient route enumerates all 2^{k} masks; "
                         f"at most {GRADIENT_MAX_MASKS} units are supported, got {k}")
    point = {**point, "g": rng.standard_normal(k)}
    j = sp.Symbol("j", integer=True)
    for masks, _ in enumerate_masks(k, drop_probability(point)):
        for mask in masks:
            at = {**point, "m": mask}
            balls = [claim_ball(claim.xreplace({j: n + 1}), at) for n in range(k)]
            claimed = (np.array([float(b.mid) for b in balls]),
                       np.array([float(b.rad) for b in balls]))
            (result,) = [r for r in check_gradients(identity.model.layer(at), at["x"], rng=rng,
                                                    forward_kwargs={"mask": mask},
                                                    grad_out=at["g"]) if r.name == "x"]
            yield mask, claimed, result


@route("gradient")
def gradient(identity, point, claim, context) -> RouteResult:
    worst, tolerance, agrees = 0.0, np.inf, True
    for _, (claimed, rounding), result in gradient_pairs(identity, point, claim,
                                                         root=context.root,
                                                         key=context.keyed(identity)):
        gap = np.abs(claimed - result.numeric)
        agrees &= result.ok and bool(np.all(gap <= result.bound + rounding))
        worst, tolerance = max(worst, float(gap.max())), min(tolerance, float(result.bound.min()))
    return RouteResult("gradient", "agrees" if agrees else "disagrees", point,
                       difference=worst, rounding=tolerance,
                       note="largest |claim - central difference| over every mask and entry")
