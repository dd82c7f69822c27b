"""Conditioning on random variables (issue 11): ``E(f | m)``, ``Var(f | m)``, ``Cov(f, g | m)``,
``P(A | m)``, the laws of total expectation and variance, statements that hold almost surely,
and questions about a conditional mean; each with a true claim and a wrong twin, and the
refusals that keep the language a whitelist."""
import re

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropout_theory.claims import ClaimError, check, claim_from_dict
from dropout_theory.claims.conditional import MAX_REPLICAS, replica_name
from dropout_theory.report import statement_record, true_instead
from dropout_theory.symbolic.budget import total_time_limit
from dropout_theory.symbolic.operators import Given

FAST = {"n_samples": 1 << 14, "n_points": 2}
SCALAR = {"q": "keep", "mu": "real", "s": "positive"}
SCALAR_RANDOM = {"m": "Bernoulli(q)", "x": "Normal(mu, s)"}
VECTOR = {"q": "keep", "d": "dimension", "w": "real[d]", "mu": "real", "s": "positive"}
VECTOR_RANDOM = {"m": "Bernoulli(q)[d]", "x": "Normal(mu, s)[d]"}
UNIT = "Sum(w[i]*m[i]*x[i], (i, 1, d))/q"


def _claim(name, lhs, rhs, symbols=SCALAR, random=SCALAR_RANDOM, **extra):
    claim = {"name": name, "lhs": lhs, "symbols": symbols, "random": random, **extra}
    if rhs is not None:
        claim["rhs"] = rhs
    return claim


#: (true claim, wrong twin): the twin is a plausible misreading
PAIRS = {
    "total-expectation": (
        _claim("tower", "E(E(m*x/q | m))", "mu"),
        _claim("tower-twin", "E(E(m*x/q | m))", "q*mu")),
    "total-variance": (  # MC dropout's predictive variance, Gal & Ghahramani 2016
        _claim("total", "Var(y)", "E(Var(y | m)) + Var(E(y | m))", VECTOR, VECTOR_RANDOM,
               define={"y": UNIT}),
        _claim("total-twin", "Var(y)", "E(Var(y | m))", VECTOR, VECTOR_RANDOM,
               define={"y": UNIT})),
    "almost-surely": (  # inverted dropout is unbiased given the input (Wager et al. 2013)
        _claim("given-x", f"E({UNIT} | x)", "Sum(w[i]*x[i], (i, 1, d))", VECTOR, VECTOR_RANDOM),
        _claim("given-x-twin", f"E({UNIT} | x)", "q*Sum(w[i]*x[i], (i, 1, d))", VECTOR,
               VECTOR_RANDOM)),
    "conditional-variance": (
        _claim("var-given-m", "Var(m*x/q | m)", "m*s**2/q**2"),
        _claim("var-given-m-twin", "Var(m*x/q | m)", "s**2/q**2")),
    "conditional-covariance": (
        _claim("cov-given-m", "Cov(m*x, x | m)", "m*s**2"),
        _claim("cov-given-m-twin", "Cov(m*x, x | m)", "q*s**2")),
    "conditional-probability": (  # m x > 0 needs m = 1
        _claim("p-given-m", "P(m*x > 0 | m)", "m*Phi(mu/s)"),
        _claim("p-given-m-twin", "P(m*x > 0 | m)", "Phi(mu/s)")),
    "several-variables": (
        _claim("given-m-x", "E(m*x*z | (m, x))", "m*x*nu",
               {**SCALAR, "nu": "real"}, {**SCALAR_RANDOM, "z": "Normal(nu, 1)"}),
        _claim("given-m-x-twin", "E(m*x*z | (m, x))", "q*mu*nu",
               {**SCALAR, "nu": "real"}, {**SCALAR_RANDOM, "z": "Normal(nu, 1)"})),
    "power-of-a-conditional-mean": (
        _claim("second-moment", "E(E(m*x | m)**2)", "q*mu**2"),
        _claim("second-moment-twin", "E(E(m*x | m)**2)", "q*(mu**2 + s**2)")),
}


#: the engine has no rule for a product of two indicators (E[1(m x' > 0) 1(m x'' > 0)]): the
#: numeric routes decide (Monte Carlo: no value range is declared, so the t approximation)
NUMERIC_ONLY = {"conditional-probability"}


@pytest.mark.parametrize("construct", sorted(PAIRS))
def test_true_claim_and_wrong_twin(construct):
    true, twin = PAIRS[construct]
    (good, bad), _ = check([true, twin], seed=0, **FAST)
    assert (good.verdict, bad.verdict) == ("holds", "fails"), (good.reason, bad.reason)
    if construct in NUMERIC_ONLY:
        assert (good.symbolic, bad.symbolic) == ("inconclusive", "inconclusive")
        assert "rejected" in bad.reason
    else:
        assert (good.symbolic, bad.symbolic) == ("proved", "refuted")


def test_copies_are_independent_and_named_apart():
    """Each factor of a product of conditional means has its own copy of the variables not
    conditioned on; the copies' names cannot be declared, and the notation names them."""
    claim = claim_from_dict(_claim("c", "E(E(x | m)**3)", "mu**3"))
    assert sorted(claim.random) == ["m", "x", "x'", "x''", "x'''"]
    assert not claim.lhs.has(Given) and not claim.surely
    assert {replica_name("x", k) for k in range(1, 6)} == {"x'", "x''", "x'''", "x'4", "x'5"}
    (verdict,), _ = check(_claim("c", "E(E(x | m)**3)", "mu**3"), seed=0, **FAST)
    assert verdict.verdict == "holds"
    assert "independent copies for the conditional means: x', x'', x'''" in \
        verdict.identity.notation


def test_a_statement_between_random_variables_reports_what_is_true_instead():
    (bad,), _ = check(PAIRS["almost-surely"][1], seed=0, **FAST)
    assert "almost surely, as functions of x" in bad.identity.statement
    assert true_instead(bad) == "Sum(w[i]*x[i], (i, 1, d))"
    record = statement_record(bad)
    assert record["true_instead"] == "Sum(w[i]*x[i], (i, 1, d))"


CORRELATED = {"q": "keep", "d": "dimension", "w": "real[d]", "mu": "real[d]",
              "S": "covariance[d, d]"}
CORRELATED_RANDOM = {"m": "Bernoulli(q)[d]", "x": "MultivariateNormal(mu, S)"}
SQUARE = "E(Sum(w[i]*m[i]*x[i], (i, 1, d))**2 | m)"


def test_the_probe_makes_a_refutation_first_order():
    """Correlated inputs are sampled only (no enumeration). E[(L - R)^2] left this twin
    inconclusive; with the probe phi = L~ - R (the engine's lhs minus rhs) Monte Carlo
    confirms it, while the true statement, checked as E[(L - R)^2], agrees."""
    true = _claim("square", SQUARE,
                  "Sum(Sum(w[i]*w[j]*m[i]*m[j]*(S[i, j] + mu[i]*mu[j]), (j, 1, d)), (i, 1, d))",
                  CORRELATED, CORRELATED_RANDOM)
    twin = _claim("square-twin", SQUARE,  # the off-diagonal covariances dropped
                  "Sum(w[i]**2*m[i]*S[i, i], (i, 1, d))"
                  " + Sum(Sum(w[i]*w[j]*m[i]*m[j]*mu[i]*mu[j], (j, 1, d)), (i, 1, d))",
                  CORRELATED, CORRELATED_RANDOM)
    (good, bad), _ = check([true, twin], seed=0, **FAST)
    assert (good.verdict, good.symbolic) == ("holds", "proved")
    assert "checked as E[(lhs - rhs)^2] == 0" in good.identity.statement
    assert bad.verdict == "fails", bad.reason
    assert "checked as E[(lhs - rhs)*phi] == 0 with phi = " in bad.identity.statement
    assert any(r.route == "montecarlo" and r.status == "disagrees" for r in bad.routes)


def test_a_question_about_a_conditional_gets_its_closed_form():
    (verdict,), _ = check(_claim("ask", "Var(m*x/q | m)", None), seed=0, **FAST)
    assert verdict.verdict == "derived" and verdict.symbolic == "proved"
    assert sp.simplify(sp.sympify(statement_record(verdict)["closed_form"])
                       - sp.sympify("m**2*s**2/q**2")) == 0
    (number,), _ = check(_claim("ask2", "Var(E(y | m))", None, VECTOR, VECTOR_RANDOM,
                                define={"y": UNIT}), seed=0, **FAST)
    assert number.verdict == "derived"
    assert statement_record(number)["closed_form"] == "mu**2*(-1 + 1/q)*Sum(w[i]**2, (i, 1, d))"


REFUSED = {
    "not-a-polynomial": (_claim("r1", "E(exp(E(x | m)))", "1"), "polynomial in them"),
    "event-about-a-mean": (_claim("r2", "P(E(x | m) > 0)", "1"), "P() of an event"),
    "inequality-almost-surely": (_claim("r3", "E(m*x | m)", "m*mu", relation="<="),
                                 "equality almost surely"),
    "approximation-almost-surely": (_claim("r4", "E(m*x | m)", "m*mu + O(q**2)"),
                                    "equality almost surely"),
    "not-conditioned-outside": (_claim("r5", "E(m*x | m)", "x*m"), "appear outside"),
    "conditioned-twice": (_claim("r6", "E(E(x | m) | m)", "mu"), "inside a conditional"),
    "unconditioned-inside": (_claim("r7", "E(E(x))", "mu"), "inside another"),
    "on-a-parameter": (_claim("r8", "E(x | q)", "mu"), "neither an event nor"),
    "on-an-entry": (_claim("r9", "E(m[1] | m[1])", "q", VECTOR, VECTOR_RANDOM),
                    "neither an event nor"),
    "too-many-copies": (_claim("r10", f"E(E(x | m)**{MAX_REPLICAS + 1})", "1"),
                        f"at most {MAX_REPLICAS}"),
    "huge-expansion": (_claim("r11", "E((" + " + ".join(f"a{k}" for k in range(14))
                              + ")**16*E(x | m))", "1",
                              {**SCALAR, **{f"a{k}": "real" for k in range(14)}}),
                       "terms; at most"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_a_message(case):
    claim, message = REFUSED[case]
    with pytest.raises(ClaimError, match=re.escape(message)):
        claim_from_dict(claim)


_TEXTS = st.recursive(
    st.sampled_from(["m", "x", "q", "mu", "2", "m*x", "x**2"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "*", "-", "/", "**"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["E", "Var", "exp"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["E", "Var", "P"]), inner,
                  st.sampled_from(["m", "x", "(m, x)", "m > 0"])).map(
            lambda t: f"{t[0]}({t[1]} | {t[2]})"),
        st.tuples(inner, inner).map(lambda t: f"Cov({t[0]}, {t[1]} | m)")),
    max_leaves=6)


@settings(max_examples=60, deadline=5000, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_TEXTS, _TEXTS)
def test_random_conditional_claims_compile_or_raise_claim_error(lhs, rhs):
    """Whatever mix of conditionals a claim has, building it either succeeds, leaving no
    conditional mean for the routes, or raises ClaimError with a message."""
    try:
        claim = claim_from_dict(_claim("fuzz", lhs, rhs))
    except ClaimError as exc:
        assert str(exc)
        return
    assert not claim.lhs.has(Given) and not claim.rhs.has(Given)


def test_deriving_the_probe_runs_under_the_files_symbolic_time_limit():
    """Reading a statement derives its conditional closed form (the probe) under the symbolic
    time limit and the file's total (``dropout-theory check`` reads the file inside both):
    once the total is used up, a statement falls back to E[(L - R)^2] and a question is
    refused saying why."""
    with total_time_limit(0.0):
        claim = claim_from_dict(_claim("twin", "Var(m*x/q | m)", "s**2/q**2"))
        with pytest.raises(ClaimError, match="no rhs given .* used up their total"):
            claim_from_dict(_claim("ask", "Var(m*x/q | m)", None))
    assert claim.surely and claim.probe is None
    claim = claim_from_dict(_claim("twin", "Var(m*x/q | m)", "s**2/q**2"))
    assert claim.probe is not None
