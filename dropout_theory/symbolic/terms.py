"""Canonical form of expressions with sums of symbolic length.

SymPy alone does not see that ``(sum_j a_j)^2`` equals ``sum_j sum_k a_j a_k`` or that a
``KroneckerDelta`` inside a sum collapses it. Here every expression becomes a list of
:class:`Term` objects, ``body`` summed over rectangular ``limits``: powers and products of sums
are expanded into multiple sums over fresh indices, ranges are put in normal form (lower bound
1, no integer offset in a symbolic upper bound or in the summand's subscripts, short numeric
ranges written out; :func:`normalize_ranges`), so that ``x_1 + sum_{i=2}^d x_i`` and
``sum_{i=1}^{d-1} x_i + x_d`` become the same terms, deltas are collapsed, summands that do not
depend on an index are multiplied by the range length, and dummy indices are renamed
canonically so that equal terms merge.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

__all__ = ["Term", "expand_terms", "normalize_ranges", "collapse_deltas", "collect_terms",
           "terms_to_expr", "present", "shortest", "ExpansionError", "UNROLL_LIMIT"]

#: canonical dummy names, chosen in this order while they are not free symbols of the expression
_CANONICAL_NAMES = "ijklrstuvabcefgh"

#: numeric ranges of at most this many terms are written out term by term, and integer offsets
#: up to this size are taken out of symbolic bounds and subscripts (see :func:`normalize_ranges`)
UNROLL_LIMIT = 32

#: coefficients with more terms are left expanded: factoring a polynomial in many array entries
#: (an unrolled ``(sum_{i=1}^{16} m_i x_i)^2`` gives ~300 terms) costs seconds and shows nothing
_FACTOR_TERMS = 40


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
    # i.name, not str(i): a Dummy prints as "_t", and each copy would add an underscore
    # ("m[___t, i]" in a residual after three products)
    mapping = {i: sp.Dummy(i.name, integer=True) for i in term.dummies}
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
        return [u for t in expand_terms(expr.function)
                for u in normalize_ranges(_fresh(Term(t.body, inner.limits + t.limits)))]
    return [Term(expr)]


# --- summation ranges in normal form -------------------------------------------------------
#
# Every identity below holds for all integer bounds under Karr's convention, which SymPy's
# ``Sum.doit`` follows: with any F such that F(k + 1) - F(k) = f(k),
# sum_{i=a}^{b} f(i) = F(b + 1) - F(a), so sum_{i=a}^{a-1} f = 0 and
# sum_{i=a}^{b} f = -sum_{i=b+1}^{a-1} f when b < a - 1.


def _substitute(expr: sp.Expr, mapping: dict) -> sp.Expr:
    """``expr`` with summation indices replaced; ``subs`` respects bound variables of sums
    nested inside opaque functions (``exp(Sum(w[i], (i, 1, d)))``), ``xreplace`` is faster."""
    if expr.has(sp.Sum, sp.Product, sp.Integral, sp.Lambda):
        return expr.subs(mapping, simultaneous=True)
    return expr.xreplace(mapping)


def _with_limit(term: Term, position: int, limit, body=None, sign=1) -> Term:
    """``term`` with limit ``position`` replaced by ``limit`` (or removed when ``None``)."""
    limits = list(term.limits)
    if limit is None:
        del limits[position]
    else:
        limits[position] = limit
    body = term.body if body is None else body
    return Term(-body if sign < 0 else body, tuple(limits))


def _unrolled(term: Term, position: int, values, sign=1) -> list[Term]:
    """The summand at each index value in ``values`` (the other limits kept), times ``sign``."""
    index = term.limits[position][0]
    return [_with_limit(term, position, None, _substitute(term.body, {index: value}), sign)
            for value in values]


def _offset(arg, index, dummies: set):
    """Integer part ``c`` of a subscript ``index + c (+ symbolic)``, or ``None`` (other shape)."""
    if arg == index:
        return 0
    offset = sp.expand(arg - index)
    if offset.free_symbols & (dummies | {index}):
        return None
    constant, _ = offset.as_coeff_Add()
    return int(constant) if constant.is_Integer else None


def _subscript_args(node):
    return node.indices if isinstance(node, sp.Indexed) else node.args


def _index_shift(body: sp.Expr, index, dummies: set) -> int:
    """The smallest integer offset ``c`` over the occurrences ``x[index + c]`` of ``index``
    in array subscripts and delta arguments; 0 when ``index`` also occurs in another shape
    (bare, ``2*i``, ``i + j``), where a shift would not give a canonical representative."""
    offsets = {_offset(arg, index, dummies)
               for atom in body.atoms(sp.Indexed, sp.KroneckerDelta)
               for arg in _subscript_args(atom) if index in arg.free_symbols}
    if not offsets or None in offsets or min(offsets) == 0:
        return 0

    def only_subscripts(node) -> bool:
        if node == index:
            return False
        if isinstance(node, (sp.Indexed, sp.KroneckerDelta)):
            return True
        return all(only_subscripts(arg) for arg in node.args if index in arg.free_symbols)

    return min(offsets) if only_subscripts(body) else 0


def _normalize_step(term: Term):
    """One rewrite of the first limit not in normal form, or ``None`` when all are."""
    dummies = set(term.dummies)
    for position, (i, lo, hi) in enumerate(term.limits):
        lo, hi = sp.expand(lo), sp.expand(hi)
        # rule 1: lower bound 1 (sum_{i=lo}^{hi} f(i) = sum_{i=1}^{hi-lo+1} f(i + lo - 1))
        if lo != 1:
            return [_with_limit(term, position, (i, sp.Integer(1), sp.expand(hi - lo + 1)),
                                _substitute(term.body, {i: i + lo - 1}))]
        # rule 3: numeric ranges (sum_{i=1}^{h} f = -sum_{i=h+1}^{0} f for h < 0)
        if hi.is_Integer:
            h = int(hi)
            if 0 <= h <= UNROLL_LIMIT:
                return _unrolled(term, position, [sp.Integer(k) for k in range(1, h + 1)])
            if -UNROLL_LIMIT <= h < 0:
                return _unrolled(term, position, [sp.Integer(k) for k in range(h + 1, 1)], -1)
            if h < 0:   # -sum_{i=h+1}^{0} f(i) = -sum_{i=1}^{-h} f(i + h)
                return [_with_limit(term, position, (i, sp.Integer(1), sp.Integer(-h)),
                                    _substitute(term.body, {i: i + h}), -1)]
        elif hi != term.limits[position][2]:
            return [_with_limit(term, position, (i, lo, hi))]
        # rule 1b: smallest integer offset of the index in the summand is 0:
        # sum_{i=1}^{hi} g(i + s) = sum_{i=1}^{hi+s} g(i) - sum_{i=1}^{s} g(i)
        shift = _index_shift(term.body, i, dummies - {i})
        if shift != 0 and abs(shift) <= UNROLL_LIMIT:
            body = _substitute(term.body, {i: i - shift})
            main = _with_limit(term, position, (i, sp.Integer(1), sp.expand(hi + shift)), body)
            low = _with_limit(term, position, (i, sp.Integer(1), sp.Integer(shift)), body, -1)
            return [main, low]
        # rule 2: no integer offset in a symbolic upper bound hi = D + c, boundary terms out:
        # sum_{i=1}^{D+c} f(i) = sum_{i=1}^{D} f(i) + sum_{k=1}^{c} f(D + k)      (c > 0)
        #                      = sum_{i=1}^{D} f(i) - sum_{k=c+1}^{0} f(D + k)    (c < 0)
        constant, rest = hi.as_coeff_Add()
        if (not hi.is_Number and constant.is_Integer and constant != 0
                and abs(constant) <= UNROLL_LIMIT):
            c = int(constant)
            main = _with_limit(term, position, (i, sp.Integer(1), rest))
            if c > 0:
                return [main, *_unrolled(term, position, [rest + k for k in range(1, c + 1)])]
            return [main, *_unrolled(term, position, [rest + k for k in range(c + 1, 1)], -1)]
    return None


def normalize_ranges(term: Term) -> list[Term]:
    """Rewrite ``term`` exactly as terms whose limits are all in normal form.

    Normal form of a limit ``(i, lo, hi)``: ``lo = 1`` (rule 1); ``hi`` is not an integer up
    to :data:`UNROLL_LIMIT` in absolute value (such ranges are written out, rule 3), and a
    larger numeric ``hi`` is positive; the smallest integer offset ``c`` of ``i`` in the
    summand's subscripts (``x[i + c]``) is 0 (rule 1b); a symbolic ``hi`` has no integer
    constant term (rule 2: ``d - 1`` becomes ``d`` with the boundary term ``-f(d)``). Boundary
    terms are written out, so they may name entries past an array's size (``x[d + 1]``).
    Other bounds (``2*d``) stay as they are. Bounds that depend on a summation index raise
    :class:`ExpansionError`.

    Examples
    --------
    >>> x = sp.IndexedBase("x"); i, d = sp.symbols("i d", integer=True)
    >>> [t.as_expr() for t in normalize_ranges(Term(x[i], ((i, 2, d),)))]
    [Sum(x[i], (i, 1, d)), -x[1]]
    """
    dummies = set(term.dummies)
    for _, lo, hi in term.limits:
        if (sp.sympify(lo).free_symbols | sp.sympify(hi).free_symbols) & dummies:
            raise ExpansionError(f"sum bounds must not depend on a summation index: "
                                 f"{term.as_expr()}")
    step = _normalize_step(term)
    if step is None:
        return [term]
    return [u for t in step for u in normalize_ranges(t)]


# --- Kronecker deltas ------------------------------------------------------------------------


def _delta_pairs(body: sp.Expr):
    for factor in sp.Mul.make_args(body):
        if isinstance(factor, sp.KroneckerDelta):
            yield factor


def _sign(expr: sp.Expr) -> int:
    """1 when ``expr >= 0`` is known, -1 when ``expr < 0`` is known, 0 when undecided."""
    if expr.is_nonnegative:
        return 1
    return -1 if expr.is_negative else 0


def _bound(a: sp.Expr, b: sp.Expr, larger: bool):
    """``max(a, b)`` (or ``min``) when the order of ``a`` and ``b`` is known, else ``None``."""
    order = _sign(sp.expand(a - b))
    if order == 0:
        return None
    return a if (order > 0) == larger else b


def _solve_delta(delta, ranges: dict):
    """Pairs ``(t, s)``: ``delta`` is ``[t = s]`` with ``t`` a summation index, ``s`` free of t."""
    a, b = delta.args
    difference = sp.expand(a - b)
    for t in ranges:
        if t not in difference.free_symbols:
            continue
        coefficient = difference.coeff(t)
        if coefficient not in (1, -1):
            continue
        s = sp.expand(t - difference / coefficient)
        if t not in s.free_symbols:
            yield t, s


def _collapse_one(term: Term, delta, t, s):
    """``term`` with ``delta = [t = s]`` summed out over ``t``, or ``None`` if undecided.

    * ``s`` free of summation indices: the term is 0 when SymPy's assumptions show ``s``
      outside t's range ``lo..hi`` (``s - lo < 0`` or ``hi - s < 0``: ``x[d + 1]`` or ``x[0]``
      against ``1..d``; the range is taken to be a size, ``hi >= lo - 1``, not a Karr-negative
      range); otherwise ``t -> s``: ``s`` is taken to lie in the range, the engine's convention
      for free indices (``k``) and explicit entries (``x[2]``, ``x[d - 1]`` in ``1..d``, which
      need ``d >= 2``).
    * ``s = u + c`` with ``u`` another summation index: ``t -> u + c`` and u's range becomes
      the intersection of its own with t's range shifted by ``-c``, when SymPy can order both
      pairs of ends (equal ranges, ranges over one size ``D`` that differ by integer offsets,
      ``1..d`` and ``1..2*d`` with ``d >= 0``). An intersection like ``1..D - 2`` is exact for
      ``D >= 2``; below that the true range is empty while Karr's convention reads
      ``1..D - 2`` as a negative sum. Undecided (``1..d`` and ``1..n``): the delta stays.
    """
    ranges = {i: (lo, hi) for i, lo, hi in term.limits}
    lo_t, hi_t = ranges[t]
    body = term.body / delta
    others = s.free_symbols & set(ranges)
    limits = [lim for lim in term.limits if lim[0] != t]
    if not others:
        if _sign(sp.expand(s - lo_t)) < 0 or _sign(sp.expand(hi_t - s)) < 0:
            return Term(sp.Integer(0))
        return Term(_substitute(body, {t: s}), tuple(limits))
    if len(others) != 1:
        return None
    (u,) = others
    c = sp.expand(s - u)
    if c.free_symbols & set(ranges):
        return None
    lo_u, hi_u = ranges[u]
    lo = _bound(lo_u, sp.expand(lo_t - c), larger=True)
    hi = _bound(hi_u, sp.expand(hi_t - c), larger=False)
    if lo is None or hi is None:
        return None
    limits = [(v, lo, hi) if v == u else (v, a, b) for v, a, b in limits]
    return Term(_substitute(body, {t: s}), tuple(limits))


def collapse_deltas(term: Term) -> list[Term]:
    """Sum out every ``KroneckerDelta(a, b)`` that fixes a summation index; ranges stay normal.

    A delta whose arguments differ by ``t - s`` (``t`` a summation index, ``s`` free of it)
    replaces ``t`` by ``s`` (see :func:`_collapse_one` for the ranges); deltas between free
    indices, and those whose ranges cannot be intersected, stay. The result is a list because
    a narrowed range (``1..d - 1``) is written in normal form again (:func:`normalize_ranges`).
    """
    result = []
    for normal in normalize_ranges(term):
        ranges = {i: (lo, hi) for i, lo, hi in normal.limits}
        collapsed = None
        for delta in _delta_pairs(normal.body):
            for t, s in _solve_delta(delta, ranges):
                collapsed = _collapse_one(normal, delta, t, s)
                if collapsed is not None:
                    break
            if collapsed is not None:
                break
        if collapsed is None:
            result.append(normal)
        elif collapsed.body != 0:
            result.extend(collapse_deltas(collapsed))
    return result


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
    """Canonical dummy names that clash with no other symbol of any term: neither a free one
    nor one bound by a sum nested in a function (renaming ``j`` to ``i`` in
    ``tanh(Sum(W[j, i] x[i], (i, 1, d)))`` would capture it and give ``W[i, i]``)."""
    taken = set()
    for term in terms:
        taken |= {str(s) for s in term.body.atoms(sp.Symbol) - set(term.dummies)}
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


def _rational(expr: sp.Expr) -> bool:
    """A rational function of symbols, array entries and deltas: ``cancel`` decides zero."""
    return all(node.is_Add or node.is_Mul or node.is_Rational or node.is_Symbol
               or isinstance(node, (sp.Indexed, sp.IndexedBase, sp.KroneckerDelta))
               or (node.is_Pow and node.exp.is_Integer)
               for node in sp.preorder_traversal(expr))


def simplify_coefficient(coefficient: sp.Expr) -> sp.Expr:
    """Exact simplification of a coefficient: rational functions cancel completely (then the
    zero test is decided and ``simplify`` is not needed), other coefficients are simplified."""
    value = sp.cancel(sp.together(coefficient))
    if value == 0:
        return sp.Integer(0)
    if len(sp.Add.make_args(sp.numer(value))) <= _FACTOR_TERMS:
        value = sp.factor(value)
    return sp.Integer(0) if not _rational(value) and sp.simplify(value) == 0 else value


def collect_terms(terms: list[Term]) -> list[Term]:
    """Collapse deltas, rename dummies canonically, merge equal monomials, drop zeros."""
    collapsed = [u for t in terms for u in collapse_deltas(t)]
    split = [_split(t) for t in collapsed]
    names = _names_for([Term(c * m, lim) for c, m, lim in split])
    groups: dict = {}
    for coefficient, monomial, limits in split:
        key, renamed, new_limits = _canonical(monomial, limits, names)
        groups.setdefault(key, [[], renamed, new_limits])[0].append(coefficient)
    result = []
    for key in sorted(groups):
        coefficients, monomial, limits = groups[key]
        # one Add of all parts: adding them one by one rebuilds a growing sum (quadratic)
        coefficient = simplify_coefficient(sp.Add(*coefficients))
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


def shortest(expr: sp.Expr) -> sp.Expr:
    """The shortest of ``expr``, its terms collected (equal sums under different dummies
    merged: ``Sum(a[i]*a[j], (i, 1, d), (j, 1, d)) - Sum(a[i], (i, 1, d))**2`` is 0) and that
    simplified, for display; the forms are equal, only their length is compared.

    >>> a = sp.IndexedBase("a"); i, j, d = sp.symbols("i j d", integer=True)
    >>> shortest(sp.Sum(a[i] * a[j], (i, 1, d), (j, 1, d)) - sp.Sum(a[i], (i, 1, d)) ** 2)
    0
    """
    forms = [expr]
    try:
        collected = terms_to_expr(collect_terms(expand_terms(expr)))
        forms += [collected, sp.simplify(collected)]
    except (ExpansionError, TypeError, ValueError, NotImplementedError, sp.PolynomialError):
        forms.append(sp.simplify(expr))
    return min(forms, key=sp.count_ops)
