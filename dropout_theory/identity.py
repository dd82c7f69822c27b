"""``Identity``, ``Param`` and the registry: one definition per identity, several routes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp

__all__ = ["Param", "Identity", "drop_probability", "register", "registry", "select"]

EXPECTED = ("holds", "refuted", "approximate")
KINDS = ("moment", "gradient", "replicate")


def drop_probability(point: dict) -> float:
    """The drop probability ``p`` of a parameter point declared in ``q`` (keep) or in ``p``."""
    return 1.0 - point["q"] if "q" in point else point["p"]


@dataclass(frozen=True)
class Param:
    """A parameter with its domain and typical range.

    ``shape`` names size parameters (``("d",)``) for arrays, whose entries are drawn standard
    normal. Scalars are drawn uniformly from ``typical``; integers inclusively. ``edges`` are
    legal values at the border of the domain (``q = 1``: no dropout) that ``verify`` also
    checks, by exact enumeration, since typical draws never reach them.
    """

    name: str
    low: float = -np.inf
    high: float = np.inf
    typical: tuple = (0.0, 1.0)
    integer: bool = False
    shape: tuple = ()
    edges: tuple = ()

    def draw(self, rng: np.random.Generator, sizes: dict):
        if self.shape:
            return rng.standard_normal(tuple(sizes[s] for s in self.shape))
        if self.integer:
            return int(rng.integers(self.typical[0], self.typical[1] + 1))
        return float(rng.uniform(*self.typical))


@dataclass(frozen=True)
class Identity:
    """One statement about dropout, with the routes that check it.

    ``symbolic()`` returns ``(lhs, rhs)``: ``lhs`` a derivation of the random quantity's
    expectation or variance by the engine, ``rhs`` the stated right side. ``simulate(point,
    masks, noise)`` computes per-sample values of the random quantity with the network core
    (masks (S, k) of 0/1, noise (S,) standard normal draws or quadrature nodes);
    ``statistic`` says whether the left side is their mean or variance. Identities of
    ``kind="gradient"`` state a gradient instead: the claim (with a free index ``j``) is
    compared with central differences of ``layer(point)`` under an injected mask.

    Identities of ``kind="replicate"`` are about what a procedure produces (a trained weight, a
    learned running statistic): ``simulate(point, rng, n)`` runs ``n`` independent replicates
    of the procedure with the network core, vectorized over the leading axis, and returns one
    value per replicate; the left side is their mean (or variance), checked by batch means over
    ``replicates`` runs with the same z-test as the Monte Carlo route.

    An identity with an ``order`` is an approximation: the ``order`` route measures
    |exact - claim| on a geometric sweep towards 0 and fits its log-log slope (see
    :func:`dropout_theory.verify.approximation_order`).
    """

    name: str
    statement: str
    source: str
    notation: str
    params: tuple
    symbolic: Callable
    simulate: Callable | None
    n_masks: Callable | None = None
    statistic: str = "mean"
    probability: str = "q"
    noise_degree: int = 0
    expected: str = "holds"
    assumptions: tuple = ()
    wrong_claims: Callable | None = None
    #: for ``kind="gradient"``: ``layer(point)`` builds the layer whose backward is checked
    kind: str = "moment"
    layer: Callable | None = None
    #: ``rounding_scale(point)``: a bound on the expected magnitude of the terms ``simulate``
    #: combines before it returns, when its values are small differences of large network
    #: outputs (a loss minus a loss); the exact route's rounding bound must scale with those
    #: terms, not with the small result
    rounding_scale: Callable | None = None
    #: for ``kind="replicate"``: independent runs per check (at least 2 per batch)
    replicates: int = 256
    #: for ``kind="replicate"``: run all replicates in one vectorized call (one generator) and
    #: split them into the batches, instead of one call per batch
    one_call: bool = False
    #: for approximations (``expected="approximate"``): the claimed integer order ``k`` of the
    #: error, |exact - claim| = Theta(h^k) as h -> 0, where h is the drop rate
    #: (``order_in="drop"``) or the parameter named by ``order_in``; swept geometrically
    #: over ``order_range`` by the ``order`` route of ``verify``
    order: int | None = None
    order_in: str = "drop"
    order_range: tuple = (1e-3, 1e-1)

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]

    def draw_point(self, rng: np.random.Generator) -> dict:
        """A parameter point: sizes first, then scalars, then arrays of those sizes."""
        point: dict = {}
        for param in sorted(self.params, key=lambda prm: (bool(prm.shape), not prm.integer)):
            point[param.name] = param.draw(rng, point)
        return point

    def edge_points(self, point: dict) -> list[dict]:
        """``point`` with one scalar parameter moved to one of its domain edges, for each."""
        return [{**point, prm.name: edge} for prm in self.params if not prm.shape
                for edge in prm.edges]

    def mutations(self, rhs: sp.Expr) -> dict:
        """Deliberately wrong claims every route must reject."""
        prob = sp.Symbol(self.probability, positive=True)
        candidates = {"swap-p-q": rhs.xreplace({prob: 1 - prob}), "factor-2": 2 * rhs}
        if self.wrong_claims is not None:
            candidates.update(self.wrong_claims(rhs))
        # a generic mutation that leaves this right side unchanged is no mutation of it
        return {k: v for k, v in candidates.items() if _differs(v, rhs)}


def _differs(wrong: sp.Expr, rhs: sp.Expr) -> bool:
    if wrong == rhs:
        return False
    try:
        return sp.simplify(wrong - rhs) != 0
    except TypeError:
        # simplify cannot factor scalars out of some matrix expressions (traces of
        # inverses); structurally different claims count as different, and a twin that were
        # secretly equal would then fail its own numeric rejection test loudly
        return True


_REGISTRY: dict[str, Identity] = {}


def register(identity: Identity) -> Identity:
    """Add an identity to the registry (names are unique ``family.slug``)."""
    if identity.name in _REGISTRY:
        raise ValueError(f"identity {identity.name!r} is registered twice")
    if identity.expected not in EXPECTED:
        raise ValueError(f"expected must be one of {EXPECTED}, got {identity.expected!r}")
    if identity.kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {identity.kind!r}")
    if (identity.expected == "approximate") != (identity.order is not None) and \
            identity.expected != "refuted":
        raise ValueError(f"{identity.name}: an approximate identity declares its integer order "
                         f"(and only approximations do), got order={identity.order!r}")
    _REGISTRY[identity.name] = identity
    return identity


def registry() -> dict[str, Identity]:
    """All registered identities, by name (importing ``identities`` fills it)."""
    from . import identities  # noqa: F401  (registration on import)
    return dict(_REGISTRY)


def select(names) -> list[Identity]:
    """Identities matching names or family names; unknown names raise ``ValueError``."""
    known = registry()
    if not names:
        return list(known.values())
    chosen = []
    for name in names:
        hits = [i for i in known.values() if name in (i.name, i.family)]
        if not hits:
            raise ValueError(f"unknown identity or family {name!r}; try 'dropout-theory list'")
        chosen += [h for h in hits if h not in chosen]
    return chosen
