"""Sums over split or shifted ranges have one canonical form (lower bound 1, no integer offset
in a symbolic upper bound or in the summand's subscripts, short numeric ranges written out),
so true statements about them are proved and wrong ones are still refuted. Every rewrite is
checked against SymPy's own summation (Karr's convention, ``Sum.doit``) at numeric sizes."""
import itertools

import pytest
import sympy as sp

from dropout_theory.symbolic import (Bernoulli, ExpansionError, RandomSpace, covariance,
                                     expectation, prove_equal, variance)
from dropout_theory.symbolic.terms import (Term, collect_terms, expand_terms, normalize_ranges,
                                           terms_to_expr)

q = sp.Symbol("q", positive=True)
d = sp.Symbol("d", integer=True, positive=True)
n = sp.Symbol("n", integer=True, positive=True)
D = sp.Symbol("D", integer=True)           # any integer, negative included
k = sp.Symbol("k", integer=True)
i, j = sp.symbols("i j", integer=True)
a, b = sp.IndexedBase("a", real=True), sp.IndexedBase("b", real=True)
w, x, y = (sp.IndexedBase(s, real=True) for s in "wxy")


def _space():
    space = RandomSpace()
    return space, space.array("m", Bernoulli(q))


def _mean():
    space, m = _space()
    return expectation(sp.Sum(m[i] * x[i], (i, 1, d)), space)


# --- proved ----------------------------------------------------------------------------------

@pytest.mark.parametrize("rhs", [
    q * x[1] + q * sp.Sum(x[i], (i, 2, d)),
    q * x[d] + q * sp.Sum(x[i], (i, 1, d - 1)),
    q * sp.Sum(x[i + 1], (i, 0, d - 1)),
    q * (x[1] + x[2]) + q * sp.Sum(x[i], (i, 3, d)),
], ids=["first-split-off", "last-split-off", "shifted-down", "two-split-off"])
def test_mean_with_a_split_range_is_proved(rhs):
    proof = prove_equal(_mean(), rhs)
    assert proof.status == "proved", proof.residual


@pytest.mark.parametrize("lhs,rhs", [
    (sp.Sum(x[i + 1], (i, 0, d - 1)), sp.Sum(x[i], (i, 1, d))),
    (sp.Sum(x[i - 1], (i, 2, d + 1)), sp.Sum(x[i], (i, 1, d))),
    (sp.Sum(x[i], (i, 1, 3)), x[1] + x[2] + x[3]),
    (sp.Sum(x[i], (i, 2, 3)) + sp.Sum(x[i], (i, 4, 3)), x[2] + x[3]),   # empty range
    (sp.Sum(a[i] * b[j], (i, 1, d), (j, 1, n)),
     sp.Sum(a[1] * b[j], (j, 1, n)) + sp.Sum(a[i] * b[j], (i, 2, d), (j, 1, n))),
    (x[1] + sp.Sum(x[i], (i, 2, d)), sp.Sum(x[i], (i, 1, d - 1)) + x[d]),
    (sp.Sum(x[i], (i, 1, d + 2)), sp.Sum(x[i], (i, 1, d)) + x[d + 1] + x[d + 2]),
    (sp.Sum(x[i], (i, 1, n * d - 1)) + x[n * d], sp.Sum(x[i], (i, 1, n * d))),
    (sp.Sum(x[i], (i, k, d)), x[k] + sp.Sum(x[i], (i, k + 1, d))),
    (sp.Sum(x[i] * y[i + 1], (i, 1, d - 1)), sp.Sum(x[i - 1] * y[i], (i, 2, d))),
    (sp.Sum(x[i], (i, 1, d)) ** 2 - x[1] ** 2,
     2 * x[1] * sp.Sum(x[i], (i, 2, d)) + sp.Sum(x[i], (i, 2, d)) ** 2),
], ids=["lower-0", "lower-2", "numeric", "numeric-empty", "double-sum", "both-sides-split",
        "upper-plus-2", "product-bound", "free-lower-bound", "shifted-product",
        "square-split"])
def test_equal_sums_over_different_ranges_are_proved(lhs, rhs):
    proof = prove_equal(lhs, rhs)
    assert proof.status == "proved", proof.residual


def test_variance_of_a_linear_unit_with_its_first_term_split_off():
    space, m = _space()
    split = m[1] * w[1] * x[1] + sp.Sum(m[i] * w[i] * x[i], (i, 2, d))
    claim = q * (1 - q) * sp.Sum((w[i] * x[i]) ** 2, (i, 1, d))
    assert prove_equal(variance(split, space), claim).status == "proved"
    whole = variance(sp.Sum(m[i] * w[i] * x[i], (i, 1, d)), space)
    claim = q * (1 - q) * ((w[1] * x[1]) ** 2 + sp.Sum((w[i] * x[i]) ** 2, (i, 2, d)))
    assert prove_equal(whole, claim).status == "proved"
    short = variance(sp.Sum(m[i] * x[i], (i, 2, 4)), space)      # written out: 3 entries
    assert prove_equal(short, q * (1 - q) * (x[2] ** 2 + x[3] ** 2 + x[4] ** 2)).status == "proved"


# --- refuted ---------------------------------------------------------------------------------

@pytest.mark.parametrize("rhs", [
    q * sp.Sum(x[i], (i, 2, d)),                              # boundary term dropped
    2 * q * x[1] + q * sp.Sum(x[i], (i, 2, d)),                # doubled
    q * x[d] + q * sp.Sum(x[i], (i, 2, d)),                    # taken at the wrong end
    q * x[1] + q * sp.Sum(x[i], (i, 1, d - 1)),                # wrong end, other split
    q * sp.Sum(x[i], (i, 1, d - 1)),                           # off by one, nothing added
    q * sp.Sum(x[i], (i, 1, d + 1)),                           # off by one the other way
    q * sp.Sum(x[i + 1], (i, 1, d)),                           # shifted subscript
], ids=["dropped", "doubled", "wrong-end", "wrong-end-last", "off-by-one-short",
        "off-by-one-long", "shifted"])
def test_wrong_boundary_terms_are_refuted(rhs):
    proof = prove_equal(_mean(), rhs)
    assert proof.status == "refuted"
    assert proof.residual != 0


def test_wrong_splits_without_expectations_are_refuted():
    for lhs, rhs in [(x[1] + sp.Sum(x[i], (i, 2, d)), sp.Sum(x[i], (i, 1, d - 1)) + x[1]),
                     (sp.Sum(x[i], (i, 1, 3)), x[1] + x[2]),
                     (sp.Sum(a[i] * b[j], (i, 1, d), (j, 1, n)),
                      sp.Sum(a[i] * b[j], (i, 2, d), (j, 1, n)))]:
        proof = prove_equal(lhs, rhs)
        assert proof.status == "refuted" and proof.residual != 0, (lhs, rhs)


# --- the rewrites are exact (checked against SymPy's summation) --------------------------------

f = sp.Function("f")


@pytest.mark.parametrize("lo,hi", [(1, D), (2, D), (0, D - 1), (3, D + 2), (1, D - 3),
                                   (k, D), (D, D + 2), (D + 1, 2 * D), (5, 2), (1, -4), (4, 4)])
def test_normal_form_equals_the_sum_for_every_integer_size(lo, hi):
    """Karr's convention (sum_{a}^{b} f = -sum_{b+1}^{a-1} f for b < a - 1), which SymPy's
    ``Sum.doit`` follows, makes every rewrite exact for negative sizes too."""
    body = f(i) * x[i + 1]
    terms = normalize_ranges(Term(body, ((i, lo, hi),)))
    assert all(lim[1] == 1 for t in terms for lim in t.limits)
    normal = sp.Add(*[t.as_expr() for t in terms])
    starts = (2, -1) if k in sp.sympify(lo).free_symbols else (0,)
    for size, start in itertools.product(range(-3, 5), starts):
        values = {D: size, k: start}
        assert sp.expand(normal.subs(values).doit()
                         - sp.Sum(body, (i, lo, hi)).subs(values).doit()) == 0, (size, start)


def test_multiple_sum_boundary_terms_keep_the_other_limits():
    terms = normalize_ranges(Term(a[i] * b[j], ((i, 2, D), (j, 0, D + 1))))
    normal = sp.Add(*[t.as_expr() for t in terms])
    for size in range(-2, 4):
        original = sp.Sum(a[i] * b[j], (i, 2, D), (j, 0, D + 1)).subs(D, size).doit()
        assert sp.expand(normal.subs(D, size).doit() - original) == 0, size


def _direct(expr, size: int, qv):
    """E[expr] at ``d = size`` without the engine: SymPy's summation writes the masks out,
    and a monomial in distinct Bernoulli(q) entries has mean ``q**(number of entries)``."""
    value = sp.expand(expr.subs(d, size).doit())
    masks = sorted((e for e in value.atoms(sp.Indexed) if e.base.label.name == "m"), key=str)
    if not masks:
        return value
    poly = sp.Poly(value, *masks)
    return sp.expand(sum(coeff * qv ** sum(1 for e in monom if e > 0)
                         for monom, coeff in poly.terms()))


@pytest.mark.parametrize("make,smallest", [
    (lambda m: (sp.Sum(m[i] * x[i], (i, 1, d)), sp.Sum(m[j] * y[j], (j, 2, d))), 1),
    (lambda m: (sp.Sum(m[i] * x[i], (i, 1, d - 1)), sp.Sum(m[j] * y[j], (j, 2, d))), 1),
    (lambda m: (sp.Sum(m[i] * x[i + 1], (i, 0, d - 1)), m[d] * y[d] + m[1] * y[1]), 1),
    (lambda m: (sp.Sum(m[i] * x[i], (i, 2, d + 1)), sp.Sum(m[i] * y[i], (i, 1, d))), 1),
    (lambda m: (sp.Sum(m[i] * x[i], (i, 1, d)), sp.Sum(m[j + 1] * y[j], (j, 1, d - 1))), 1),
    (lambda m: (sp.Sum(m[i] * x[i], (i, 1, d)), sp.Sum(m[j - 1] * y[j], (j, 2, d))), 1),
    # from here on an offset of 2 is involved: exact for sizes >= 2 (see collapse_deltas)
    (lambda m: (sp.Sum(m[i] * x[i], (i, 1, d)), sp.Sum(m[j] * y[j], (j, 3, d))), 2),
    (lambda m: (sp.Sum(m[i] * m[i + 1] * x[i], (i, 1, d - 1)),
                sp.Sum(m[j] * m[j + 1] * y[j], (j, 1, d - 1))), 2),
], ids=["first-off", "overlap-shifted", "shifted-vs-ends", "past-the-end", "lag-ahead",
        "lag-behind", "first-two-off", "neighbour-products"])
def test_deltas_over_shifted_ranges_collapse_exactly(make, smallest):
    """Products of sums over different (shifted) ranges of one mask array: the engine's
    covariance for symbolic d equals the direct expectation at d = smallest..4."""
    qv = sp.Rational(3, 10)
    space, m = _space()
    first, second = make(m)
    derived = covariance(first, second, space).result.subs(q, qv)
    for size in range(smallest, 5):
        expected = (_direct(first * second, size, qv)
                    - _direct(first, size, qv) * _direct(second, size, qv))
        got = sp.expand(derived.subs(d, size).doit())
        assert sp.expand(got - expected) == 0, (size, got, expected)


def test_delta_past_the_end_of_a_range_vanishes_and_free_indices_stay_in_range():
    terms = collect_terms([Term(sp.KroneckerDelta(i, d + 1) * x[i], ((i, 1, d),)),
                           Term(sp.KroneckerDelta(i, 0) * x[i], ((i, 1, d),))])
    assert terms == []
    # a free index is taken to lie in the range (the engine's convention, as before)
    space, m = _space()
    cov = covariance(m[k] * x[k], sp.Sum(m[i] * x[i], (i, 1, d)), space)
    assert prove_equal(cov, q * (1 - q) * x[k] ** 2).status == "proved"


def test_triangular_and_other_bounds():
    with pytest.raises(ExpansionError):
        expand_terms(sp.Sum(x[i] * y[j], (i, 1, d), (j, 1, i)))
    with pytest.raises(ExpansionError):      # triangular through a nested sum
        expand_terms(sp.Sum(sp.Sum(x[j], (j, 1, i)), (i, 1, d)))
    # a bound of another shape stays as it is: equal to itself only
    assert prove_equal(sp.Sum(x[i], (i, 1, 2 * d)), sp.Sum(x[i], (i, 1, 2 * d))).status == "proved"
    assert prove_equal(sp.Sum(x[i], (i, 1, 2 * d)), sp.Sum(x[i], (i, 1, d))).status == "refuted"
    # a large numeric range stays a sum; its shift is still normalised
    assert prove_equal(sp.Sum(x[i], (i, 2, 101)),
                       sp.Sum(x[i + 1], (i, 1, 100))).status == "proved"
    assert len(expand_terms(sp.Sum(x[i], (i, 1, 100)))) == 1


def test_canonical_form_is_idempotent():
    expr = q * x[1] + sp.Sum(x[i] * y[i + 2], (i, 0, d - 1)) + sp.Sum(a[i] * b[j], (i, 2, d),
                                                                       (j, 1, n + 1))
    once = collect_terms(expand_terms(expr))
    twice = collect_terms(expand_terms(terms_to_expr(once)))
    assert terms_to_expr(once) == terms_to_expr(twice)
