r"""Exact expectations of polynomials in independent random symbols, for symbolic sizes.

Within one i.i.d. array, entries with different index symbols may still be the same variable
(``i = j``). The engine uses the moment-cumulant formula: for factors :math:`Y_a = m_{i_a}^{k_a}`

.. math:: E\Big[\prod_a Y_a\Big] = \sum_{\pi} \prod_{B \in \pi} \delta_B\, \kappa_B,

where :math:`\pi` runs over set partitions of the factors, :math:`\delta_B` says that all
indices in block :math:`B` are equal, and :math:`\kappa_B` is the joint cumulant of the
block's powers of one variable (computed from raw moments). Cumulants of independent
variables vanish, so no "distinct indices" indicator is needed; the deltas then collapse the
sums. Nothing is enumerated, so the result holds for every size at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import factorial

import sympy as sp
from sympy.utilities.iterables import multiset_partitions

from .distributions import Bernoulli, MultivariateNormal, RandomSpace
from .terms import Term, collect_terms, expand_terms, present, terms_to_expr

__all__ = ["Step", "Derivation", "expectation", "variance", "covariance", "NoClosedForm"]


class NoClosedForm(ValueError):
    """A random symbol sits inside a function whose expectation has no moment rule."""


@dataclass(frozen=True)
class Step:
    """One line of a derivation: a short label and the expression it produced."""

    label: str
    expr: sp.Expr


@dataclass
class Derivation:
    """A result with the steps that led to it (printed by ``dropout-theory derive``)."""

    result: sp.Expr
    steps: list = field(default_factory=list)
    terms: list = field(default_factory=list)


def _partitions(n: int):
    return list(multiset_partitions(list(range(n))))


def _joint_cumulant(powers: list[int], moment) -> sp.Expr:
    """Joint cumulant of ``X**k`` for ``k`` in ``powers``, one variable with raw ``moment(k)``."""
    total = sp.Integer(0)
    for sigma in _partitions(len(powers)):
        sign = (-1) ** (len(sigma) - 1) * factorial(len(sigma) - 1)
        total += sign * sp.Mul(*[moment(sum(powers[a] for a in block)) for block in sigma])
    return sp.expand(total)


def _index_delta(first: sp.Expr, other: sp.Expr) -> sp.Expr:
    if not isinstance(first, sp.Indexed):
        return sp.Integer(1)
    return sp.Mul(*[sp.KroneckerDelta(a, b) for a, b in zip(first.indices, other.indices)])


def _group_expectation(factors: list, space: RandomSpace) -> list[sp.Expr]:
    """E of a product of powers of entries of one array of independent entries, as a list of
    addends (a block of equal indices has the law of its first entry: a per-unit rate is
    read there); a normal vector's entries are correlated: Isserlis' pairings instead."""
    law = space.distribution(factors[0][0])
    if isinstance(law, MultivariateNormal):
        indices = [atom.indices[0] for atom, power in factors for _ in range(power)]
        try:
            return list(sp.Add.make_args(law.product_moment(indices)))
        except ValueError as exc:
            raise NoClosedForm(str(exc)) from None
    addends = []
    for pi in _partitions(len(factors)):
        value = sp.Integer(1)
        for block in pi:
            first = factors[block[0]][0]
            for a in block[1:]:
                value *= _index_delta(first, factors[a][0])
            value *= _joint_cumulant([factors[a][1] for a in block],
                                     space.distribution(first).moment)
        if value != 0:
            addends.append(value)
    return addends


def _bit_inside_function(body: sp.Expr, space: RandomSpace):
    """A Bernoulli entry ``body`` uses inside a non-polynomial factor (``Max``, a sigmoid)
    and that is the only entry of its array in ``body`` (so no other index can equal it) and
    not summed over inside the factor (``Max(0, Sum(m[i] x[i], ...))`` holds every entry),
    with its distribution; ``None`` if there is none."""
    free = body.free_symbols
    for factor in sp.Mul.make_args(body):
        base, exp = factor.as_base_exp()
        if (space.is_random(base) and exp.is_Integer and exp > 0) or \
                not space.contains_random(factor):
            continue
        for atom in sorted(factor.atoms(sp.Symbol, sp.Indexed), key=sp.default_sort_key):
            dist = space.distribution(atom)
            if not isinstance(dist, Bernoulli) or not atom.free_symbols <= free:
                continue
            if not isinstance(atom, sp.Indexed) or \
                    {a for a in body.atoms(sp.Indexed) if a.base == atom.base} == {atom}:
                return atom, dist
    return None


def _conditioned(term: Term, space: RandomSpace, bit, dist) -> list[Term]:
    """E[term] = q E[term | bit = 1] + (1 - q) E[term | bit = 0]: a variable with two values
    has an expectation for any function of it (the law of total expectation; the other
    random atoms of the term are independent of it)."""
    result = []
    for value, weight in ((1, dist.q), (0, 1 - dist.q)):
        given = _term_expectation(Term(term.body.xreplace({bit: value}), term.limits), space)
        result += [Term(addend, t.limits) for t in given
                   for addend in sp.Add.make_args(sp.expand(weight * t.body))]
    return result


def _term_expectation(term: Term, space: RandomSpace) -> list[Term]:
    found = _bit_inside_function(term.body, space)
    if found is not None:
        return _conditioned(term, space, *found)
    deterministic, groups = [], {}
    for factor in sp.Mul.make_args(term.body):
        base, exp = factor.as_base_exp()
        if space.is_random(base) and exp.is_Integer and exp > 0:
            key = base.base if isinstance(base, sp.Indexed) else base
            groups.setdefault(key, []).append((base, int(exp)))
        elif space.contains_random(factor):
            raise NoClosedForm(f"no moment rule for E[{factor}]: a random symbol sits inside "
                               f"a non-polynomial expression")
        else:
            deterministic.append(factor)
    options = [_group_expectation(factors, space) for factors in groups.values()]
    result = [sp.Mul(*deterministic)]
    for addends in options:
        result = [r * a for r in result for a in addends]
    return [Term(addend, term.limits) for body in result
            for addend in sp.Add.make_args(sp.expand(body))]


def _expect_terms(expr: sp.Expr, space: RandomSpace, steps: list, label: str) -> list[Term]:
    expanded = expand_terms(expr)
    steps.append(Step(f"expand {label} (powers of sums become multiple sums)",
                      present(expanded)))
    raw = [u for t in expanded for u in _term_expectation(t, space)]
    steps.append(Step(f"E[{label}] by linearity, independence and moments (deltas mark equal "
                      f"indices)", present(raw)))
    collected = collect_terms(raw)
    steps.append(Step(f"E[{label}] after collapsing deltas and merging sums",
                      terms_to_expr(collected)))
    return collected


def _model_step(space: RandomSpace, expr_label: str, expr: sp.Expr) -> Step:
    return Step(f"model: {'; '.join(space.describe())}, mutually independent; {expr_label}", expr)


def expectation(expr, space: RandomSpace) -> Derivation:
    """Derive ``E[expr]`` exactly, keeping the steps.

    Examples
    --------
    >>> from dropout_theory.symbolic import Bernoulli, RandomSpace
    >>> q = sp.Symbol("q", positive=True); x = sp.Symbol("x", real=True)
    >>> space = RandomSpace(); m = space.scalar("m", Bernoulli(q))
    >>> expectation(m * x / q, space).result
    x
    """
    expr = sp.sympify(expr)
    steps = [_model_step(space, "X =", expr)]
    terms = _expect_terms(expr, space, steps, "X")
    return Derivation(terms_to_expr(terms), steps, terms)


def covariance(a, b, space: RandomSpace) -> Derivation:
    r"""Derive ``Cov[a, b] = E[ab] - E[a]E[b]`` exactly, keeping the steps."""
    a, b = sp.sympify(a), sp.sympify(b)
    steps = [_model_step(space, "(X, Y) =", sp.Tuple(a, b))]
    e_ab = _expect_terms(a * b, space, steps, "XY")
    e_a = terms_to_expr(_expect_terms(a, space, steps, "X"))
    e_b = e_a if a == b else terms_to_expr(_expect_terms(b, space, steps, "Y"))
    product = expand_terms(e_a * e_b)
    terms = collect_terms(e_ab + [Term(-t.body, t.limits) for t in product])
    result = terms_to_expr(terms)
    steps.append(Step("Cov = E[XY] - E[X] E[Y], merged", result))
    return Derivation(result, steps, terms)


def variance(expr, space: RandomSpace) -> Derivation:
    r"""Derive ``Var[expr] = E[expr^2] - E[expr]^2`` exactly, keeping the steps.

    Examples
    --------
    >>> from dropout_theory.symbolic import Bernoulli, RandomSpace
    >>> q = sp.Symbol("q", positive=True); x = sp.Symbol("x", real=True)
    >>> space = RandomSpace(); m = space.scalar("m", Bernoulli(q))
    >>> sp.factor(variance(m * x, space).result)
    -q*x**2*(q - 1)
    """
    return covariance(expr, expr, space)
