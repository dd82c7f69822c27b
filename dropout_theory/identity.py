"""``Identity``, ``Param`` and the typed models: one definition per statement, several routes.

An identity states ``lhs relation rhs``. Its ``derive()`` is the engine's derivation of the
left side (the symbolic route compares it with ``rhs``); its ``model`` says how the numeric
routes compute the left side, one small type per kind of check:

- :class:`MaskModel`: per-sample values of a random quantity from keep-masks pushed through the
  network core (``exact`` enumeration and ``montecarlo`` sampling);
- :class:`ExpressionModel`: statistics (``E``, ``Var``, ``Cov``, ``P``) of expressions of
  independent random variables, the model a user's claim compiles into (same routes);
- :class:`ReplicateModel`: independent runs of a procedure, such as a training (``replicate``);
- :class:`GradientModel`: the backward pass of a layer under every mask (``gradient``);
- :class:`Approximation`: a :class:`MaskModel` quantity the claim only approximates, with the
  declared order of its error (``exact``, ``montecarlo`` and ``order``).

This module knows no content: identity modules and the claim compiler build these objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, ClassVar, Mapping

import numpy as np
import sympy as sp

__all__ = ["Param", "uniform_sampler", "axis_length", "axis_text", "RandomVariable", "MaskModel", "ExpressionModel", "ReplicateModel",
           "GradientModel", "Approximation", "Identity", "drop_probability", "register",
           "registered", "EXPECTED", "RELATIONS"]

EXPECTED = ("holds", "refuted", "approximate")
RELATIONS = ("==", "<=", ">=")
STATISTICS = ("mean", "var")


def drop_probability(point: Mapping) -> float:
    """The drop probability ``p`` of a parameter point declared in ``q`` (keep) or in ``p``."""
    return 1.0 - point["q"] if "q" in point else point["p"]


@dataclass(frozen=True)
class Param:
    """A parameter with its domain, typical range and edges.

    Scalars are drawn uniformly from ``typical`` (integers inclusively); arrays (``shape``
    names sizes, ``("n", "d")``) standard normal unless ``sampler`` draws them. ``edges`` are
    legal values at the border of the domain (``q = 1``: no dropout) that typical draws never
    reach; ``large`` are sizes beyond the typical ones, checked when the symbolic route has no
    proof (a statement may hold for d <= 4 and fail from d = 5 on).
    """

    name: str
    low: float = -np.inf
    high: float = np.inf
    typical: tuple = (0.0, 1.0)
    integer: bool = False
    shape: tuple = ()
    edges: tuple = ()
    large: tuple = ()
    #: ``sampler(rng, partial)`` draws the value instead of the default rule
    sampler: Callable | None = None

    def draw(self, rng: np.random.Generator, partial: Mapping):
        """One value. ``partial`` is the point drawn so far: every size, then every scalar,
        then the arrays declared before this one (a column mean can read the data)."""
        if self.sampler is not None:
            return self.sampler(rng, partial)
        if self.shape:
            return rng.standard_normal(tuple(axis_length(s, partial) for s in self.shape))
        if self.integer:
            return int(rng.integers(self.typical[0], self.typical[1] + 1))
        return float(rng.uniform(*self.typical))


def axis_length(axis, sizes) -> int:
    """The length of one axis of a declared shape at ``sizes``: a literal, a size's name, or
    ``(name, shift)`` for a shifted size (``[T + 1, d]``)."""
    if isinstance(axis, int):
        return axis
    if isinstance(axis, tuple):
        return int(sizes[axis[0]]) + axis[1]
    return int(sizes[axis])


def axis_text(axis) -> str:
    """``T + 1`` for ``("T", 1)``; a literal or a name as itself."""
    if isinstance(axis, tuple):
        return f"{axis[0]} {'+' if axis[1] > 0 else '-'} {abs(axis[1])}"
    return str(axis)


def uniform_sampler(low: float, high: float, shape: tuple):
    """A ``Param.sampler`` drawing an array of ``shape`` (sizes by name) uniform on
    ``[low, high)``."""
    def draw(rng, partial):
        return rng.uniform(low, high, tuple(axis_length(s, partial) for s in shape))
    return draw


@dataclass(frozen=True)
class RandomVariable:
    """A random scalar or i.i.d. array: ``law`` with SymPy parameters, ``shape`` of sizes."""

    name: str
    law: str                 # "Bernoulli" (probability of 1), "Normal" (mean, sd), "Uniform"
    params: tuple
    shape: tuple = ()


@dataclass(frozen=True)
class MaskModel:
    """``simulate(point, masks, noise) -> values``: one value of the random quantity per row
    of ``masks`` ((S, k) keep-masks of 0/1, k = ``n_masks(point)``, drawn Bernoulli(q)) and of
    ``noise`` ((S,) standard normal draws, or Gauss-Hermite nodes when enumerating; a model
    with ``noise_degree = 0`` ignores it), computed by the network core. The left side is the
    values' mean or variance (``statistic``). ``rounding_scale(point)`` bounds the magnitude
    of the terms ``simulate`` cancels before it returns (a loss minus a loss), so the rounding
    bound can cover them. ``exchangeable(point)``, when given, returns the sizes of
    consecutive blocks of mask positions that ``simulate`` sees only through the number kept
    in each block (inputs sharing one weight): the exact route then enumerates the kept
    counts with Binomial weights instead of all ``2**k`` masks (and checks the claim on
    masks shuffled within the blocks). ``value_bound(point)``, when given, returns ``(lo,
    hi)`` holding every exact value ``simulate`` can return at the point (every mask pattern);
    for a model with noise it is ``value_bound(point, radius)``, holding the values while
    ``|noise| <= radius`` (the noise's tail beyond is bounded from ``noise_degree``). A Monte
    Carlo rejection is then confirmed by a rigorous concentration bound instead of resting on
    the t approximation; every value drawn or enumerated is checked against it, so a wrong
    declaration is an error, never a verdict. ``differences(point)``, when given (a mean
    statistic without noise), returns ``k`` bounded differences: changing mask ``i`` alone
    changes every exact value by at most ``L_i``. The value then concentrates within
    ``sqrt(sum L_i^2 log(2/e) / 2)`` of its mean but for a chance ``e`` (McDiarmid), far
    narrower than the worst case over all masks at the sizes people use, and the Monte Carlo
    gate uses that width; the declaration is spot-checked at every prepared point (every
    coordinate flipped at a few random masks), so a wrong one is an error, never a
    verdict."""

    routes: ClassVar[tuple] = ("exact", "montecarlo")
    simulate: Callable
    n_masks: Callable
    statistic: str = "mean"
    noise_degree: int = 0
    rounding_scale: Callable | None = None
    exchangeable: Callable | None = None
    value_bound: Callable | None = None
    differences: Callable | None = None


@dataclass(frozen=True)
class ExpressionModel:
    """The left side ``lhs`` is an expression whose operator nodes (``E``, ``Var``, ``Cov``,
    ``P``) take functions of the independent ``variables``; ``space`` is the same model for
    the expectation engine. ``label`` prefixes errors about it (``claim 'name'``)."""

    routes: ClassVar[tuple] = ("exact", "montecarlo")
    lhs: sp.Expr
    variables: tuple
    space: object = field(compare=False)
    label: str = ""


@dataclass(frozen=True)
class ReplicateModel:
    """``simulate(point, rng, n) -> values``: ``n`` independent replicates of a procedure
    (trainings, learned running statistics), batched over the leading axis; the left side is
    their mean or variance. ``one_call`` runs every replicate in one call and splits them into
    the batches (the replicates of one call must be i.i.d.)."""

    routes: ClassVar[tuple] = ("replicate",)
    simulate: Callable
    statistic: str = "mean"
    replicates: int = 256
    one_call: bool = False


@dataclass(frozen=True)
class GradientModel:
    """``layer(point)`` builds the layer whose backward pass is compared with the claimed
    gradient (a free index ``j``) under each of the ``2**n_masks(point)`` masks."""

    routes: ClassVar[tuple] = ("gradient",)
    layer: Callable
    n_masks: Callable


@dataclass(frozen=True)
class Approximation:
    """The claim approximates ``model``'s quantity: ``|exact - claim| = Theta(h**order)`` as
    ``h -> 0``, ``h`` the drop rate (``parameter="drop"``) or the named parameter, swept
    geometrically around ``range`` by the ``order`` route; a named integer size ``d`` means
    ``h = 1/d`` over the sizes of ``range``. ``order`` is an integer or a half-integer."""

    routes: ClassVar[tuple] = ("exact", "montecarlo", "order")
    model: MaskModel
    order: float
    parameter: str = "drop"
    range: tuple = (1e-3, 1e-1)


MODELS = (MaskModel, ExpressionModel, ReplicateModel, GradientModel, Approximation)


@dataclass(frozen=True)
class Identity:
    """One statement ``lhs relation rhs`` about dropout, with its model and provenance.

    ``derive()`` returns the engine's derivation of the left side (a ``Derivation`` or an
    expression); ``rhs`` is the stated right side (with operator nodes when the model is an
    :class:`ExpressionModel`). ``expected`` is the verdict the registry stands by (a statement
    from a seed can be ``refuted``; ``None`` for a user's claim that states none);
    ``wrong_claims(rhs)`` adds mutation twins.
    """

    name: str
    statement: str
    source: str
    notation: str
    params: tuple
    rhs: sp.Expr
    derive: Callable
    model: object
    relation: str = "=="
    expected: str = "holds"
    assumptions: tuple = ()
    wrong_claims: Callable | None = None
    probability: str = "q"
    #: a question (a claim without rhs): ``rhs`` is the engine's closed form of the left side,
    #: and a statement that holds is reported ``derived``
    question: bool = False
    #: a claim compiled into another statement (conditional means, rewritten over copies of
    #: the variables): the closed form a question reports when it is not ``rhs``, the sides
    #: ``(lhs, rhs)`` as the user wrote them (shown instead of the compiled ones), and
    #: ``instead()``, what the left side as written is (for a failing statement), when
    #: ``rhs + residual`` is not
    closed_form: sp.Expr | None = None
    written: tuple | None = None
    instead: Callable | None = None

    def __post_init__(self):
        if not isinstance(self.model, MODELS):
            raise ValueError(f"{self.name}: model must be one of "
                             f"{[m.__name__ for m in MODELS]}, got {type(self.model).__name__}")
        if self.expected not in EXPECTED and self.expected is not None:
            raise ValueError(f"{self.name}: expected must be one of {EXPECTED} (or None: no "
                             f"expectation stated), got {self.expected!r}")
        if self.relation not in RELATIONS:
            raise ValueError(f"{self.name}: relation must be one of {RELATIONS}, got "
                             f"{self.relation!r}")
        approximate = isinstance(self.model, Approximation)
        if (self.expected == "approximate") and not approximate:
            raise ValueError(f"{self.name}: an approximate identity declares its order with an "
                             f"Approximation model")
        statistic = getattr(getattr(self.model, "model", self.model), "statistic", "mean")
        if statistic not in STATISTICS:
            raise ValueError(f"{self.name}: statistic must be one of {STATISTICS}, got "
                             f"{statistic!r}")

    def _repr_latex_(self) -> str:
        """Jupyter: the statement as LaTeX (a claim's, built from its SymPy sides)."""
        if isinstance(self.model, ExpressionModel):
            relation = {"==": "=", "<=": r"\le", ">=": r"\ge"}[self.relation]
            return f"$${sp.latex(self.model.lhs)} {relation} {sp.latex(self.rhs)}$$"
        return f"$${self.statement}$$"

    @property
    def family(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def routes(self) -> tuple:
        """The numeric routes of this identity's model (the symbolic route always runs)."""
        return self.model.routes

    def draw_point(self, rng: np.random.Generator) -> dict:
        """A parameter point: sizes first, then scalars, then arrays of those sizes."""
        return self.complete({}, rng)

    def draw_points(self, rng: np.random.Generator, n: int) -> list[dict]:
        """``n`` typical points, stratified: each scalar's typical range is cut into ``n``
        strata, one per point in a random order (a Latin hypercube); integers cycle through
        their typical range, the first point at its top; arrays drawn per point."""
        columns = {}
        for param in self.params:
            if param.shape:
                continue
            a, b = param.typical
            if param.integer:
                span = int(b) - int(a) + 1
                columns[param.name] = [int(b)] + [int(a) + int(k) % span
                                                  for k in rng.permutation(max(n - 1, 1))][:n - 1]
            else:
                columns[param.name] = a + (b - a) * (rng.permutation(n) + rng.random(n)) / n
        points = []
        for k in range(n):
            point = {name: (col[k] if isinstance(col, list) else float(col[k]))
                     for name, col in columns.items()}
            points.append(self.complete(point, rng))
        return points

    def complete(self, fixed: Mapping, rng: np.random.Generator) -> dict:
        """A point with the ``fixed`` values, the other parameters drawn (in draw order)."""
        point: dict = {}
        for param in _in_draw_order(self.params):
            point[param.name] = fixed[param.name] if param.name in fixed else \
                param.draw(rng, point)
        return point

    def edges(self, point: Mapping) -> list[tuple]:
        """``(name, edge, point with it)``: one scalar parameter moved to one of its domain
        edges, for each."""
        return [(prm.name, edge, {**point, prm.name: edge}) for prm in self.params
                if not prm.shape for edge in prm.edges]

    def edge_points(self, point: Mapping) -> list[dict]:
        """``point`` with one scalar parameter moved to one of its domain edges, for each."""
        return [moved for _, _, moved in self.edges(point)]

    def extra_points(self, first: Mapping, *, proved: bool, rng: np.random.Generator):
        """``(label, point)`` beyond the typical points: each domain edge of ``first``, the
        smallest sizes and, unless the statement is ``proved``, the ``large`` sizes (every
        size at once, and each alone with the others as at ``first``)."""
        for name, value, edge in self.edges(first):
            yield f"edge {name} = {value:g}", edge
        sizes = [prm for prm in self.params if prm.integer and not prm.shape]
        scalars = {prm.name: first[prm.name] for prm in self.params
                   if not prm.shape and not prm.integer}
        if sizes:
            low = {prm.name: int(prm.typical[0]) for prm in sizes}
            yield ("smallest sizes " + ", ".join(f"{k} = {v}" for k, v in low.items()),
                   self.complete({**scalars, **low}, rng))
        wide = [prm.name for prm in sizes if prm.large]
        for value in sorted({v for prm in sizes for v in prm.large}) if not proved else ():
            for names in [wide] + ([[name] for name in wide] if len(wide) > 1 else []):
                large = {**{prm.name: first[prm.name] for prm in sizes},
                         **dict.fromkeys(names, value)}
                yield ("size " + ", ".join(f"{k} = {value}" for k in names),
                       self.complete({**scalars, **large}, rng))

    def mutations(self, rhs: sp.Expr) -> dict:
        """Deliberately wrong claims every route must reject."""
        prob = sp.Symbol(self.probability, positive=True)
        # an inequality's generic twins may be weaker claims that still hold (twice an upper
        # bound): an inequality brings its own wrong claims
        candidates = {"swap-p-q": rhs.xreplace({prob: 1 - prob}), "factor-2": 2 * rhs} \
            if self.relation == "==" else {}
        if self.wrong_claims is not None:
            candidates.update(self.wrong_claims(rhs))
        # a generic mutation that leaves this right side unchanged is no mutation of it
        return {k: v for k, v in candidates.items() if _differs(v, rhs)}


def _in_draw_order(params) -> list:
    """Sizes first, then scalars, then arrays (in declaration order within each group)."""
    return sorted(params, key=lambda prm: (bool(prm.shape), not prm.integer))


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
    _REGISTRY[identity.name] = identity
    return identity


def registered() -> dict[str, Identity]:
    """The identities registered so far (``dropout_theory.registry`` imports the content)."""
    return dict(_REGISTRY)
