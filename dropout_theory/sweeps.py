"""Figure data from the routes: a claim against a parameter with simulated points, a claimed
gradient against central differences, and an approximation's error against its parameter.

These compute; :mod:`.plotting` only draws.
"""
from __future__ import annotations

import numpy as np

from . import routes
from .identity import ReplicateModel
from .plotting import FigureData
from .routes.gradient import gradient_pairs
from .routes.moments import claim_ball
from .routes.order import order, order_sweep, order_window
from .sampling import generator

__all__ = ["sweep", "gradient_figure", "order_figure", "claim_value"]


def claim_value(claim, point) -> float:
    """The claimed right side at ``point`` as a float (the midpoint of its rigorous ball)."""
    return float(claim_ball(claim, point).mid)


def _figure_point(identity, root):
    return identity.draw_point(generator(root, identity.name, 1 << 31))


def sweep(identity, *, root: int = 0, n_points: int = 9, n_samples: int = 1 << 14,
          param: str | None = None, span=(0.05, 0.95), inner=(0.1, 0.9), label=None):
    """Claim against a parameter (the probability by default), with simulated points.

    The other parameters are fixed at one seeded point; the points come from the Monte Carlo
    route, or the replicate route for a procedure.
    """
    point = _figure_point(identity, root)
    name = param or identity.probability
    label = label or ("keep probability q" if name == "q" else "drop probability p"
                      if name == "p" else name)
    data = FigureData(f"{identity.name}: claim against {name}", label, "value")
    grid = np.linspace(*span, 37 if param is None else 60)
    data.curves.append(("claim (symbolic right side)", grid,
                        [claim_value(identity.rhs, {**point, name: v}) for v in grid]))
    replicate = isinstance(identity.model, ReplicateModel)
    route = "replicate" if replicate else "montecarlo"
    sims = [routes.run(route, identity, {**point, name: v}, identity.rhs,
                       routes.Context(root=root, n_samples=n_samples,
                                      key=f"{identity.name}#figure{k}"))
            for k, v in enumerate(np.linspace(*inner, n_points))]
    text = ("independent trained layers (network core, 1 s.e.)" if param is not None else
            "independent training runs (network core, 1 s.e.)") if replicate else \
        "simulated (network core, 1 s.e.)"
    # a value frozen under every mask has no sampling error (the route leaves se unset)
    data.points.append((text, [r.point[name] for r in sims], [r.lhs for r in sims],
                        [np.nan if r.se is None else r.se for r in sims]))
    return data


def gradient_figure(identity, *, root: int = 0):
    """Claimed gradient against central differences of the layer, for every mask."""
    point = _figure_point(identity, root)
    pairs = list(gradient_pairs(identity, point, identity.rhs, root=root,
                                key=f"{identity.name}#figure"))
    numeric = np.concatenate([r.numeric for _, _, r in pairs])
    claim = np.concatenate([c for _, (c, _), _ in pairs])
    data = FigureData(f"{identity.name}: {len(pairs)} masks, "
                      f"d = {identity.model.n_masks(point)}",
                      "central finite difference of the layer", "claimed gradient")
    span = [float(numeric.min()), float(numeric.max())]
    data.curves.append(("y = x", span, span))
    data.points.append(("every entry under every mask", numeric, claim, None))
    return data


def order_figure(identity, *, root: int = 0):
    """log10 |exact - claim| and log10 |exact| against log10 of the approximation parameter."""
    point = _figure_point(identity, root)
    swept = order_sweep(identity, point, identity.rhs)
    result = order(identity, point, identity.rhs, routes.Context(root=root), sweep=swept)
    grid, error, _ = order_window(*swept)
    h, signed, exact, bound = swept
    parameter = identity.model.parameter
    label = "drop probability p" if parameter == "drop" else parameter
    data = FigureData(f"{identity.name}: error order {result.order:.2f} "
                      f"(declared {identity.model.order})", f"log10 {label}", "log10 |value|")
    data.curves.append((f"|exact penalty|, slope {result.quantity_order:.2f} in the window",
                        np.log10(h), np.log10(exact)))
    data.curves.append(("|exact - quadratic penalty|", np.log10(h), np.log10(np.abs(signed))))
    data.curves.append(("rounding bound of the exact route", np.log10(h), np.log10(bound)))
    data.points.append((f"fitted window: slope {result.order:.2f}", np.log10(grid),
                        np.log10(error), None))
    return data
