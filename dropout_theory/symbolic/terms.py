"""Canonical form of expressions with sums of symbolic length.

SymPy alone does not see that ``(sum_j a_j)^2`` equals ``sum_j sum_k a_j a_k`` or that a
``KroneckerDelta`` inside a sum collapses it. Here every expression becomes a list of
:class:`Term` objects, ``body`` summed over rectangular ``limits``: powers and products of sums
are expanded into multiple sums over fresh indices, deltas are collapsed, summands that do not
depend on an index are multiplied by the range length, and dummy indices are renamed
canonically so that equal terms merge.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

__all__ = ["Term", "expand_terms", "collapse_deltas", "collect_terms", "terms_to_expr", "present",
           "ExpansionError"]

#: canonical dummy names, chosen in this order while they are not free symbols of the expression
_CANONICAL_NAMES = "ijklrstuvabcefgh"


class ExpansionError(ValueError):
    """A sum whose bounds depend on another index, or another shape the engine does not know."""


@dataclass(frozen=True)
class Term:
    """``body`` summed over ``limits`` (tuples ``(index, lower, upper)``, independent bounds)."""

    body: sp.Expr
    limits: tuple = ()

    @property
    def dummies(self) -> tuple:
        return tuple(lim[0] for lim in self.limits)

    def as_expr(self) -> sp.Expr:
        return sp.Sum(self.body, *self.limits) if self.limits else self.body


def _fresh(term: Term) -> Term:
    """Rename the term's dummy indices to fresh ones, so two copies can be multiplied."""
    if not term.limits:
        return term
    mapping = {i: sp.Dummy(str(i), integer=True) for i in term.dummies}
    limits = tuple((mapping[i], lo, hi) for i, lo, hi in term.limits)
    return Term(term.body.xreplace(mapping), limits)


def _times(a: Term, b: Term) -> Term:
    b = _fresh(b)
    return Term(a.body * b.body, a.limits + b.limits)


def _product(term_lists) -> list[Term]:
    result = [Term(sp.Integer(1))]
    for terms in term_lists:
        result = [_times(t, u) for t in result for u in terms]
    return result


def _is_composite(expr: sp.Expr) -> bool:
    return bool(expr.has(sp.Sum) or expr.is_Add or expr.is_Mul)


def expand_terms(expr) -> list[Term]:
    """Expand ``expr`` into a list of :class:`Term`: a sum of monomials over index ranges.

    Examples
    --------
    >>> a = sp.IndexedBase("a"); i, d = sp.symbols("i d", integer=True)
    >>> len(expand_terms(sp.Sum(a[i], (i, 1, d)) ** 2)[0].limits)
    2
    """
    expr = sp.sympify(expr)
    if expr.is_Add:
        return [t for arg in expr.args for t in expand_terms(arg)]
    if expr.is_Mul:
        return _product(expand_terms(f) for f in expr.args)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 1 and _is_composite(expr.base):
        base = expand_terms(expr.base)
        return _product([base] * int(expr.exp))
    if isinstance(expr, sp.Sum):
        dummies = {lim[0] for lim in expr.limits}
        for _, lo, hi in expr.limits:
            if (lo.free_symbols | hi.free_symbols) & dummies:
                raise ExpansionError(f"sum bounds must not depend on a summation index: {expr}")
        inner = Term(sp.Integer(1), tuple(tuple(lim) for lim in expr.limits))
        return [_fresh(Term(t.body, inner.limits + t.limits)) for t in expand_terms(expr.function)]
    return [Term(expr)]


def _delta_pairs(body: sp.Expr):
    for factor in sp.Mul.make_args(body):
        if isinstance(factor, sp.KroneckerDelta):
            yield factor


def collapse_deltas(term: Term) -> Term:
    """Sum out every ``KroneckerDelta(a, b)`` whose ``b`` (or ``a``) is a summation index.

    Deltas between two free indices stay. Both indices of a collapsed delta must run over the
    same range, or the collapsed index must be free.
    """
    ranges = {i: (lo, hi) for i, lo, hi in term.limits}
    body, limits = term.body, list(term.limits)
    changed = True
    while changed:
        changed = False
        for delta in _delta_pairs(body):
            a, b = delta.args
            if b not in ranges and a in ranges:
                a, b = b, a
            if b not in ranges or (a in ranges and ranges[a] != ranges[b]):
                continue
            body = (body / delta).xreplace({b: a})
            limits = [lim for lim in limits if lim[0] != b]
            del ranges[b]
            changed = True
            break
    return Term(body, tuple(limits))


def _split(term: Term):
    """Separate factors free of the dummies (coefficient) from the summand monomial."""
    dummies = set(term.dummies)
    coeff, mono = [], []
    for factor in sp.Mul.make_args(term.body):
        (mono if factor.free_symbols & dummies else coeff).append(factor)
    coefficient = sp.Mul(*coeff)
    monomial = sp.Mul(*mono)
    limits = []
    for i, lo, hi in term.limits:
        if i in monomial.free_symbols:
            limits.append((i, lo, hi))
        else:  # the summand does not depend on i: the sum multiplies by the range length
            coefficient *= hi - lo + 1
    return coefficient, monomial, tuple(limits)


def _canonical(monomial: sp.Expr, limits: tuple, names: list[sp.Symbol]):
    """Rename dummies to ``names`` in the permutation that gives the smallest key."""
    best = None
    for perm in itertools.permutations(range(len(limits))):
        mapping = {limits[k][0]: names[perm[k]] for k in range(len(limits))}
        renamed = monomial.xreplace(mapping)
        new_limits = tuple(sorted(((mapping[i], lo, hi) for i, lo, hi in limits),
                                  key=lambda lim: names.index(lim[0])))
        key = (tuple((str(lo), str(hi)) for _, lo, hi in new_limits), sp.srepr(renamed))
        if best is None or key < best[0]:
            best = (key, renamed, new_limits)
    return best


def _canonical_names(taken: set, count: int) -> list[sp.Symbol]:
    names = [sp.Symbol(c, integer=True) for c in _CANONICAL_NAMES if c not in taken]
    extra = itertools.count()
    while len(names) < count:
        candidate = f"i{next(extra)}"
        if candidate not in taken:
            names.append(sp.Symbol(candidate, integer=True))
    return names


def _names_for(terms: list[Term]) -> list[sp.Symbol]:
    """Canonical dummy names that clash with no free symbol of any term."""
    taken = set()
    for term in terms:
        taken |= {str(s) for s in term.body.free_symbols - set(term.dummies)}
    width = max((len(t.limits) for t in terms), default=0)
    return _canonical_names(taken, width)


def present(terms: list[Term]) -> sp.Expr:
    """Display terms as they are (no merging), with readable dummy names for the steps."""
    names = _names_for(terms)
    parts = []
    for term in terms:
        mapping = {i: names[k] for k, i in enumerate(term.dummies)}
        limits = tuple((mapping[i], lo, hi) for i, lo, hi in term.limits)
        parts.append(Term(term.body.xreplace(mapping), limits).as_expr())
    return sp.Add(*parts)


def simplify_coefficient(coefficient: sp.Expr) -> sp.Expr:
    """Exact simplification of a coefficient: rational functions cancel completely."""
    value = sp.factor(sp.cancel(sp.together(coefficient)))
    return sp.Integer(0) if value == 0 or sp.simplify(value) == 0 else value


def collect_terms(terms: list[Term]) -> list[Term]:
    """Collapse deltas, rename dummies canonically, merge equal monomials, drop zeros."""
    collapsed = [collapse_deltas(t) for t in terms]
    split = [_split(t) for t in collapsed]
    names = _names_for([Term(c * m, lim) for c, m, lim in split])
    groups: dict = {}
    for coefficient, monomial, limits in split:
        key, renamed, new_limits = _canonical(monomial, limits, names)
        entry = groups.setdefault(key, [sp.Integer(0), renamed, new_limits])
        entry[0] += coefficient
    result = []
    for key in sorted(groups):
        coefficient, monomial, limits = groups[key]
        coefficient = simplify_coefficient(coefficient)
        if coefficient != 0:
            result.append(Term(coefficient * monomial, limits))
    return result


def terms_to_expr(terms: list[Term]) -> sp.Expr:
    """Rebuild a SymPy expression, pulling coefficients out of the sums for display."""
    parts = []
    for term in terms:
        coefficient, monomial, limits = _split(term)
        parts.append(coefficient * (sp.Sum(monomial, *limits) if limits else monomial))
    return sp.Add(*parts)
