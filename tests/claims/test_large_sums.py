"""Sums of many operator nodes at the widths people use (1024): planning stays linear in the
number of terms, and the estimate is the same statement's."""
import numpy as np
import sympy as sp

from dropout_theory.claims import check_claim
from dropout_theory.routes import expressions
from dropout_theory.symbolic.operators import E, Var, operator_nodes

k, c = sp.Symbol("k", integer=True), sp.Symbol("c", integer=True, positive=True)
m, x = sp.IndexedBase("m"), sp.IndexedBase("x")


def test_a_sum_of_expectations_is_one_expectation_of_the_sum():
    body = 2 * E(sp.Max(m[k] * x[k], 0)) + x[k]
    unrolled = expressions._unroll(sp.Sum(body, (k, 1, c)), {"c": 1024})
    (node,) = operator_nodes(unrolled)
    assert node == E(sp.Sum(2 * sp.Max(m[k] * x[k], 0), (k, 1, c)))
    assert unrolled - node == sp.Sum(x[k], (k, 1, c))


def test_sums_of_variances_or_nonlinear_means_are_still_unrolled():
    assert len(operator_nodes(expressions._unroll(sp.Sum(Var(m[k]), (k, 1, c)), {"c": 3}))) == 3
    squares = expressions._unroll(sp.Sum(E(m[k]) ** 2, (k, 1, c)), {"c": 3})
    assert len(operator_nodes(squares)) == 3


def test_hessians_are_derived_term_by_term_and_capped():
    stats = tuple(sp.Dummy(f"s{j}") for j in range(2000))
    _, diagonal = expressions._hessian_in(sp.Add(*[s ** 2 for s in stats]), stats)
    assert len(diagonal) == 2000 and all(h == 2 for h in diagonal.values())
    _, linear = expressions._hessian_in(sp.Add(*stats), stats)
    assert linear == {}
    few = stats[:100]  # a dense Hessian of 100 statistics: 5050 pairs, over the cap
    assert expressions._hessian_in(sp.Add(*few) ** 2, few)[1] is None
    bound = expressions._curvature(sp.Add(*few) ** 2, list(few), {})
    assert np.isinf(bound(None)).all()  # unbounded: the route can no longer reject


def test_an_unproved_sum_over_1024_units_is_checked_and_its_twin_fails():
    entry = dict(lhs="Sum(E(Max(m[k]*x[k], 0)), (k, 1, c))",
                 symbols={"q": "keep", "c": "dimension"},
                 random={"m": "Bernoulli(q)[c]", "x": "Normal(0, 1)[c]"}, n_samples=1 << 12)
    right = check_claim(name="right", rhs="q*c/sqrt(2*pi)", **entry)
    wrong = check_claim(name="wrong", rhs="1.2*q*c/sqrt(2*pi)", **entry)
    assert right.verdict == "holds" and wrong.verdict == "fails"
    assert 1024 in {r.point.get("c") for r in right.routes[1:]}
