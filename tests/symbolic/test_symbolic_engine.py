"""The expectation engine: proofs for symbolic sizes, refutations of wrong claims, and a
cross-check against sympy.stats (which enumerates outcomes) for small fixed sizes."""
import numpy as np
import pytest
import sympy as sp
import sympy.stats as ss

from dropout_theory.symbolic import (Bernoulli, Moments, Normal, RandomSpace, Uniform,
                                     covariance, expectation, prove_equal, variance)
from dropout_theory.symbolic.evaluate import evaluate

q = sp.Symbol("q", positive=True)
p = sp.Symbol("p", positive=True)
d = sp.Symbol("d", integer=True, positive=True)
i, j = sp.symbols("i j", integer=True)
w, x = sp.IndexedBase("w", real=True), sp.IndexedBase("x", real=True)


def _inverted_unit():
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    return space, sp.Sum(w[i] * x[i] * m[i] / q, (i, 1, d))


def test_inverted_mean_and_variance_proved_for_symbolic_d():
    space, s = _inverted_unit()
    assert prove_equal(expectation(s, space), sp.Sum(w[i] * x[i], (i, 1, d))).status == "proved"
    claim = (1 - q) / q * sp.Sum((w[i] * x[i]) ** 2, (i, 1, d))
    assert prove_equal(variance(s, space), claim).status == "proved"


@pytest.mark.parametrize("wrong", [
    lambda c: c.subs(q, 1 - q),             # p and q swapped
    lambda c: 2 * c,                        # factor off by 2
    lambda c: c + sp.Sum(w[i] * x[i], (i, 1, d)) ** 2,  # a spurious squared-mean term
])
def test_wrong_variance_claims_are_refuted_with_nonzero_residual(wrong):
    space, s = _inverted_unit()
    claim = (1 - q) / q * sp.Sum((w[i] * x[i]) ** 2, (i, 1, d))
    proof = prove_equal(variance(s, space), wrong(claim))
    assert proof.status == "refuted"
    assert proof.residual != 0


def test_seed_000_bias_variance_decomposition_proved():
    sigma = sp.Symbol("sigma", positive=True)
    space = RandomSpace()
    m = space.array("m", Bernoulli(1 - p))
    eps = space.scalar("epsilon", Moments(0, sigma ** 2, "epsilon"))
    y_hat = sp.Sum(w[i] * m[i] * x[i], (i, 1, d))
    y = sp.Sum(w[i] * x[i], (i, 1, d)) + eps
    rhs = (p ** 2 * sp.Sum(w[i] * x[i], (i, 1, d)) ** 2
           + p * (1 - p) * sp.Sum((w[i] * x[i]) ** 2, (i, 1, d)) + sigma ** 2)
    derivation = expectation((y_hat - y) ** 2, space)
    assert prove_equal(derivation, rhs).status == "proved"
    assert prove_equal(derivation, rhs - sigma ** 2).status == "refuted"


def test_layer_outputs_are_correlated_with_free_indices():
    W = sp.IndexedBase("W", real=True)
    a, k = sp.symbols("a k", integer=True)
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    s_a = sp.Sum(W[a, j] * x[j] * m[j] / q, (j, 1, d))
    s_k = sp.Sum(W[k, j] * x[j] * m[j] / q, (j, 1, d))
    claim = (1 - q) / q * sp.Sum(W[a, j] * W[k, j] * x[j] ** 2, (j, 1, d))
    assert prove_equal(covariance(s_a, s_k, space), claim).status == "proved"
    assert prove_equal(covariance(s_a, s_k, space), 0).status == "refuted"


def test_variance_inflation_needs_only_two_moments():
    mu, sigma = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    space = RandomSpace()
    m = space.scalar("m", Bernoulli(q))
    xs = space.scalar("xs", Moments(mu, sigma ** 2, "xs"))
    claim = sigma ** 2 / q + mu ** 2 * (1 - q) / q
    assert prove_equal(variance(m * xs / q, space), claim).status == "proved"
    assert prove_equal(variance(m * xs / q, space), sigma ** 2 / q).status == "refuted"


def test_nonpolynomial_expectation_is_reported_not_guessed():
    from dropout_theory.symbolic import NoClosedForm, Normal
    space = RandomSpace()
    z = space.scalar("z", Normal(0, 1))
    m = space.array("m", Bernoulli(q))
    a, i, d = sp.IndexedBase("a", real=True), sp.Symbol("i", integer=True), sp.Symbol("d")
    for expr in (sp.exp(z), sp.Max(0, sp.Sum(m[i] * a[i], (i, 1, d))),
                 sp.Max(0, sp.Sum(m[i] * a[i], (i, 1, 2)))):  # every entry inside one kink
        with pytest.raises(NoClosedForm):
            expectation(expr, space)


def test_a_two_valued_variable_inside_a_function_is_conditioned_on():
    """E[f(m)] = q f(1) + (1 - q) f(0) for any f; per entry inside sums, never for an entry
    that another index of the same term could equal."""
    from dropout_theory.symbolic import NoClosedForm
    x = sp.Symbol("x", real=True)
    space = RandomSpace()
    m = space.scalar("m", Bernoulli(q))
    assert expectation(sp.exp(m), space).result == sp.expand(q * sp.E + 1 - q)
    assert expectation(sp.Max(0, m * x / q) - sp.Max(0, x), space).result == \
        q * sp.Max(0, x / q) - sp.Max(0, x)
    assert prove_equal(expectation(sp.Max(0, m * x / q), space), sp.Max(0, x)).status == \
        "proved"  # ReLU commutes with inverted dropout in expectation (case by case)
    masks = RandomSpace()
    b, a = masks.array("b", Bernoulli(q)), sp.IndexedBase("a", real=True)
    i, j, d = sp.Symbol("i", integer=True), sp.Symbol("j", integer=True), sp.Symbol("d")
    per_unit = sp.Sum((sp.Max(0, b[i] * a[i] / q) - b[i] * sp.Max(0, a[i]) / q) ** 2, (i, 1, d))
    assert prove_equal(expectation(per_unit, masks), 0).status == "proved"
    with pytest.raises(NoClosedForm):  # i = j possible: conditioning on b_i alone is wrong
        expectation(sp.Sum(sp.exp(b[i]) * b[j], (i, 1, d), (j, 1, d)), masks)


def test_kinked_residuals_are_decided_case_by_case():
    x, y = sp.Symbol("x", real=True), sp.Symbol("y", real=True)
    assert prove_equal(sp.Max(0, x) - sp.Max(0, -x), x).status == "proved"
    assert prove_equal(sp.Abs(x * y), sp.Abs(x) * sp.Abs(y)).status == "proved"
    # a non-zero case is a candidate refutation (the exact route must find a witness in it)
    assert prove_equal(sp.Max(0, x), x).status == "refuted"  # not 0 for x < 0
    assert prove_equal(q * sp.Max(0, x / q), q * sp.Max(0, x)).status == "refuted"
    assert prove_equal(sp.Max(0, sp.sin(x)), sp.sin(x)).status == "inconclusive"


def test_power_of_sum_is_double_sum():
    a = sp.IndexedBase("a")
    proof = prove_equal(sp.Sum(a[i], (i, 1, d)) ** 2, sp.Sum(a[i] * a[j], (i, 1, d), (j, 1, d)))
    assert proof.status == "proved"


@pytest.mark.parametrize("k", [1, 2, 3])
def test_engine_matches_sympy_stats_for_small_fixed_sizes(k):
    """Independent reference: sympy.stats enumerates all 2^k outcomes."""
    qv = sp.Rational(3, 10)
    ws = sp.symbols(f"w1:{k + 1}", real=True)
    xs = sp.symbols(f"x1:{k + 1}", real=True)
    y = sp.Symbol("y", real=True)
    reference_masks = [ss.Bernoulli(f"M{n}", qv) for n in range(k)]
    ref = ss.E((sum(ws[n] * xs[n] * reference_masks[n] / qv for n in range(k)) - y) ** 2)
    space = RandomSpace()
    masks = [space.scalar(f"m{n}", Bernoulli(qv)) for n in range(k)]
    ours = expectation((sum(ws[n] * xs[n] * masks[n] / qv for n in range(k)) - y) ** 2, space)
    assert sp.expand(ours.result - ref) == 0


@pytest.mark.parametrize("dist,reference", [
    (Normal(sp.Rational(1, 2), 2), ss.Normal("Z", sp.Rational(1, 2), 2)),
    (Uniform(-1, 3), ss.Uniform("Z", -1, 3)),
])
def test_raw_moments_match_sympy_stats(dist, reference):
    for k in range(1, 6):
        assert sp.simplify(dist.moment(k) - ss.E(reference ** k)) == 0


def test_steps_are_kept_for_derive():
    space, s = _inverted_unit()
    derivation = variance(s, space)
    labels = [step.label for step in derivation.steps]
    assert labels[0].startswith("model:")
    assert any("collapsing deltas" in label for label in labels)


def test_evaluate_uses_one_based_sums():
    value = evaluate((1 - q) / q * sp.Sum(w[i] ** 2, (i, 1, d)),
                     {"q": 0.25, "d": 3, "w": np.array([1.0, 2.0, 3.0])})
    assert value == 3.0 * 14.0
    with pytest.raises(ValueError, match="no value given"):
        evaluate(sp.Sum(w[i], (i, 1, d)), {"d": 2})


def test_roots_of_compound_bases_are_undecided_not_refuted():
    """sqrt(q (1 + x)^2) is sqrt(q) (1 + x) for x > 0: the canonical form cannot see it, so the
    verdict must be inconclusive; its twin with a polynomial residual is still refuted."""
    q, x = sp.symbols("q x", positive=True)
    true = prove_equal(sp.sqrt(q + 2 * q * x + q * x ** 2), sp.sqrt(q) * (1 + x))
    assert true.status == "inconclusive", true.residual
    assert prove_equal(sp.sqrt(q) * (1 + x), sp.sqrt(q) * (2 + x)).status == "refuted"


def test_canonical_names_never_capture_an_index_bound_inside_a_function():
    """Renaming the outer j to a canonical name must not pick the i a nested sum binds:
    tanh(Sum(W[j, i] x[i], i)) summed over j is not tanh(Sum(W[i, i] x[i], i)) Sum(v)."""
    i, j = sp.Symbol("i", integer=True), sp.Symbol("j", integer=True)
    d, h = sp.Symbol("d", integer=True, positive=True), sp.Symbol("H", integer=True, positive=True)
    W, x, v = (sp.IndexedBase(n, real=True) for n in "Wxv")
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    hidden = sp.tanh(sp.Sum(W[j, i] * x[i], (i, 1, d)))
    result = expectation(sp.Sum(v[j] * m[j] * hidden / q, (j, 1, h)), space).result
    assert prove_equal(result, sp.Sum(v[j] * hidden, (j, 1, h))).status == "proved"
    assert not any(a.indices[0] == a.indices[1] for a in result.atoms(sp.Indexed)
                   if a.base == W)
