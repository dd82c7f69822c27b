"""The claim language of issue 11: each construct with a true claim and a wrong twin, and
the refusals that keep it a whitelist."""
import re

import pytest

from dropout_theory.claims import ClaimError, check
from dropout_theory.report import statement_record

FAST = {"n_samples": 1 << 14, "n_points": 2}
MASK = {"q": "keep", "x": "real"}
VECTOR = {"q": "keep", "d": "dimension", "w": "real[d]", "x": "real[d]"}
UNITS = {"d": "dimension", "w": "real[d]", "x": "real[d]", "r": "keep[d]"}
CHAIN = {"q": "keep", "T": "dimension", "d": "dimension", "h": "real[T + 1, d]"}
CORRELATED = {"q": "keep", "d": "dimension", "w": "real[d]", "mu": "real[d]",
              "S": "covariance[d, d]"}


def _claim(name, lhs, rhs, symbols=None, random=None, **extra):
    return {"name": name, "lhs": lhs, "rhs": rhs, "symbols": symbols or {},
            "random": random or {}, **extra}


#: (true claim, wrong twin, verdict of the true claim)
PAIRS = {
    "product": (
        _claim("path", "E(Product(m[l], (l, 1, L)))", "q**L", {"q": "keep", "L": "dimension"},
               {"m": "Bernoulli(q)[L]"}),
        _claim("path-twin", "E(Product(m[l], (l, 1, L)))", "q**(L - 1)",
               {"q": "keep", "L": "dimension"}, {"m": "Bernoulli(q)[L]"}), "holds"),
    "product-deterministic": (
        _claim("prod", "Product(1 + w[i], (i, 1, d))", "exp(Sum(log(1 + w[i]), (i, 1, d)))",
               {"d": "dimension", "w": "positive[d]"}),
        _claim("prod-twin", "Product(1 + w[i], (i, 1, d))", "1 + Sum(w[i], (i, 1, d))",
               {"d": "dimension", "w": "positive[d]"}), "holds"),
    "softmax": (
        _claim("sm", "Sum(softmax(w*t)[i], (i, 1, d))", "1",
               {"d": "dimension", "w": "real[d]", "t": "real"}),
        _claim("sm-twin", "softmax(w)[1]", "exp(w[1])/Sum(exp(w[i]), (i, 2, d))",
               {"d": "dimension", "w": "real[d]"}), "holds"),
    "logsumexp": (
        _claim("lse", "logsumexp(w)", "log(Sum(exp(w[i]), (i, 1, d)))",
               {"d": "dimension", "w": "real[d]"}),
        _claim("lse-twin", "logsumexp(w)", "Max(w[1], w[d])",
               {"d": "dimension", "w": "real[d]"}), "holds"),
    "kronecker-delta": (
        _claim("kd", "Var(Sum(m[i]*x[i]/q, (i, 1, d)))",
               "Sum(Sum(KroneckerDelta(i, j)*(1 - q)/q*x[i]*x[j], (j, 1, d)), (i, 1, d))",
               {"q": "keep", "d": "dimension", "x": "real[d]"}, {"m": "Bernoulli(q)[d]"}),
        _claim("kd-twin", "Var(Sum(m[i]*x[i]/q, (i, 1, d)))",
               "Sum(Sum((1 - q)/q*x[i]*x[j], (j, 1, d)), (i, 1, d))",
               {"q": "keep", "d": "dimension", "x": "real[d]"}, {"m": "Bernoulli(q)[d]"}),
        "holds"),
    "if-else": (
        _claim("ifexp", "E(x*m if x > 0 else 0)", "q*relu(x)", MASK, {"m": "Bernoulli(q)"}),
        _claim("ifexp-twin", "E(x*m if x > 0 else 0)", "q*x", MASK, {"m": "Bernoulli(q)"}),
        "holds"),
    "where": (
        _claim("where", "E(where(m*x > 0, m*x/q, 0))", "relu(x)", MASK, {"m": "Bernoulli(q)"}),
        _claim("where-twin", "E(where(m*x > 0, m*x, 0))", "relu(x)", MASK,
               {"m": "Bernoulli(q)"}), "holds"),
    "diff": (
        _claim("d2", "diff(log(1 + exp(t)), t, 2)", "sigmoid(t)*(1 - sigmoid(t))",
               {"t": "real"}),
        _claim("d2-twin", "diff(log(1 + exp(t)), t, 2)", "sigmoid(t)", {"t": "real"}), "holds"),
    "approximation-order-in": (
        _claim("softplus", "log(1 + exp(t))", "log(2) + t/2 + t**2/8", {"t": "positive"},
               relation="~", order=4, **{"in": "t"}),
        _claim("softplus-twin", "log(1 + exp(t))", "log(2) + t/2 + t**2/8",
               {"t": "positive"}, relation="~", order=3, **{"in": "t"}), "approximate"),
    "approximation-big-o": (
        _claim("shift", "Var(x)/Var(m*x/(1 - p))", "1 - p*(1 + mu**2/sigma**2) + O(p**2)",
               {"p": "probability", "mu": "real", "sigma": "positive"},
               {"m": "Bernoulli(1 - p)", "x": "Normal(mu, sigma)"}),
        _claim("shift-twin", "Var(x)/Var(m*x/(1 - p))", "1 - p + O(p**2)",
               {"p": "probability", "mu": "real", "sigma": "positive"},
               {"m": "Bernoulli(1 - p)", "x": "Normal(mu, sigma)"}), "approximate"),
    "assume": (
        _claim("prem", "E(relu(m*(x - y)))", "q*(x - y)", {"q": "keep", "x": "real", "y": "real"},
               {"m": "Bernoulli(q)"}, assume=["x > y"]),
        _claim("prem-twin", "E(relu(m*(x - y)))", "q*(x - y)",
               {"q": "keep", "x": "real", "y": "real"}, {"m": "Bernoulli(q)"},
               assume=["x < y"]), "holds"),
    "negative": (
        _claim("neg", "relu(w)", "0", {"w": "negative"}),
        _claim("neg-twin", "relu(w)", "w", {"w": "negative"}), "holds"),
    "integer": (
        _claim("int", "(-1)**(2*k)", "1", {"k": "integer"}),
        _claim("int-twin", "(-1)**k", "1", {"k": "integer"}), "holds"),
    "interval": (
        _claim("iv", "log(t)", "t - 1", {"t": "real(0.5, 3)"}, relation="<="),
        _claim("iv-twin", "log(t)", "t - 1.2", {"t": "real(0.5, 3)"}, relation="<="),
        "holds"),
    "keep-array": (
        _claim("karr", "Sum(r[i]*(1 - r[i]), (i, 1, d))", "1/4*d", {"d": "dimension",
               "r": "keep[d]"}, relation="<="),
        _claim("karr-twin", "Sum(r[i]*(1 - r[i]), (i, 1, d))", "1/8*d",
               {"d": "dimension", "r": "keep[d]"}, relation="<="), "holds"),
    "exponential": (
        _claim("exp", "Var(x)", "1/r**2", {"r": "positive"}, {"x": "Exponential(r)"}),
        _claim("exp-twin", "Var(x)", "1/r", {"r": "positive"}, {"x": "Exponential(r)"}),
        "holds"),
    "gamma": (
        _claim("gam", "E(x)", "a*t", {"a": "positive", "t": "positive"}, {"x": "Gamma(a, t)"}),
        _claim("gam-twin", "E(x)", "a/t", {"a": "positive", "t": "positive"},
               {"x": "Gamma(a, t)"}), "holds"),
    "beta": (
        _claim("beta", "Var(x)", "a*b/((a + b)**2*(a + b + 1))",
               {"a": "positive", "b": "positive"}, {"x": "Beta(a, b)"}),
        _claim("beta-twin", "Var(x)", "a*b/(a + b)**2", {"a": "positive", "b": "positive"},
               {"x": "Beta(a, b)"}), "holds"),
    "poisson": (
        _claim("poi", "Var(k)", "l", {"l": "positive"}, {"k": "Poisson(l)"}),
        _claim("poi-twin", "Var(k)", "l**2", {"l": "positive"}, {"k": "Poisson(l)"}), "holds"),
    "binomial": (
        _claim("bin", "Var(k)", "5*q*(1 - q)", {"q": "keep"}, {"k": "Binomial(5, q)"}),
        _claim("bin-twin", "Var(k)", "5*q", {"q": "keep"}, {"k": "Binomial(5, q)"}), "holds"),
    # Baldi & Sadowski 2013 eq. 11: a keep rate per unit; the twin uses the mean rate
    "per-unit-rate": (
        _claim("unit", "Var(Sum(w[i]*m[i]*x[i], (i, 1, d)))",
               "Sum(w[i]**2*r[i]*(1 - r[i])*x[i]**2, (i, 1, d))", UNITS,
               {"m": "Bernoulli(r)[d]"}),
        _claim("unit-twin", "Var(Sum(w[i]*m[i]*x[i], (i, 1, d)))",
               "Sum(w[i]**2*x[i]**2, (i, 1, d))*Sum(r[j]*(1 - r[j]), (j, 1, d))/d", UNITS,
               {"m": "Bernoulli(r)[d]"}), "holds"),
    "index-shift": (  # neighbouring units, m[i + 1]; Var's d = 1 edge is an empty sum
        _claim("pairs", "Var(Sum(m[i]*m[i + 1], (i, 1, d - 1)))",
               "q**2*(1 - q)*((d - 1) + q*(3*d - 5) + 2*q*KroneckerDelta(d, 1))",
               {"q": "keep", "d": "dimension"}, {"m": "Bernoulli(q)[d]"}),
        _claim("pairs-twin", "Var(Sum(m[i]*m[i + 1], (i, 1, d - 1)))",
               "(d - 1)*q**2*(1 - q**2)", {"q": "keep", "d": "dimension"},
               {"m": "Bernoulli(q)[d]"}), "holds"),
    # correlated inputs: Var of a dropped-out linear unit; the twin is the formula for
    # independent inputs (it drops the off-diagonal covariances)
    "multivariate-normal": (
        _claim("mvn", "Var(Sum(w[i]*m[i]*x[i], (i, 1, d)))",
               "Sum(Sum(q**2*w[i]*w[j]*S[i, j], (j, 1, d)), (i, 1, d))"
               " + q*(1 - q)*Sum(w[i]**2*(S[i, i] + mu[i]**2), (i, 1, d))", CORRELATED,
               {"m": "Bernoulli(q)[d]", "x": "MultivariateNormal(mu, S)"}),
        _claim("mvn-twin", "Var(Sum(w[i]*m[i]*x[i], (i, 1, d)))",
               "Sum(q*w[i]**2*(S[i, i] + mu[i]**2) - q**2*w[i]**2*mu[i]**2, (i, 1, d))",
               CORRELATED, {"m": "Bernoulli(q)[d]", "x": "MultivariateNormal(mu, S)"}),
        "holds"),
    # E(x^T A x) = tr(A S) + mu^T A mu, written with S transposed (a covariance is symmetric);
    # the twin forgets the mean's term
    "gaussian-quadratic-form": (
        _claim("quad", "E(Sum(Sum(A[i, j]*x[i]*x[j], (j, 1, d)), (i, 1, d)))",
               "Sum(Sum(A[i, j]*(S[j, i] + mu[i]*mu[j]), (j, 1, d)), (i, 1, d))",
               {**CORRELATED, "A": "real[d, d]"}, {"x": "MultivariateNormal(mu, S)"}),
        _claim("quad-twin", "E(Sum(Sum(A[i, j]*x[i]*x[j], (j, 1, d)), (i, 1, d)))",
               "Sum(Sum(A[i, j]*S[j, i], (j, 1, d)), (i, 1, d))",
               {**CORRELATED, "A": "real[d, d]"}, {"x": "MultivariateNormal(mu, S)"}),
        "holds"),
    "shifted-shape": (  # T + 1 states of a chain, masks on the T transitions
        _claim("chain", "E(Sum(m[t, i]*h[t + 1, i], (t, 1, T), (i, 1, d)))",
               "q*Sum(h[t, i], (t, 2, T + 1), (i, 1, d))", CHAIN, {"m": "Bernoulli(q)[T, d]"}),
        _claim("chain-twin", "E(Sum(m[t, i]*h[t + 1, i], (t, 1, T), (i, 1, d)))",
               "q*Sum(h[t, i], (t, 1, T), (i, 1, d))", CHAIN, {"m": "Bernoulli(q)[T, d]"}),
        "holds"),
    "per-unit-rate-relu": (  # no moment rule: decided by enumeration and sampling
        _claim("unit-relu", "E(Max(m[1]*x[1] + m[2]*x[2], 0))",
               "r[1]*r[2]*Max(x[1] + x[2], 0) + r[1]*(1 - r[2])*Max(x[1], 0)"
               " + (1 - r[1])*r[2]*Max(x[2], 0)", UNITS, {"m": "Bernoulli(r)[d]"}),
        _claim("unit-relu-twin", "E(Max(m[1]*x[1] + m[2]*x[2], 0))",
               "r[1]*r[2]*Max(x[1] + x[2], 0) + r[1]*Max(x[1], 0) + r[2]*Max(x[2], 0)",
               UNITS, {"m": "Bernoulli(r)[d]"}), "holds"),
}


@pytest.mark.parametrize("construct", sorted(PAIRS))
def test_true_claim_and_wrong_twin(construct):
    true, twin, verdict = PAIRS[construct]
    (good, bad), _ = check([true, twin], seed=0, **FAST)
    assert (good.verdict, bad.verdict) == (verdict, "fails"), (good.reason, bad.reason)


def test_approximation_reports_the_measured_order():
    true, twin, _ = PAIRS["approximation-order-in"]
    (good, bad), _ = check([true, twin], seed=0, **FAST)
    for verdict in (good, bad):
        orders = [r.order for r in verdict.routes if r.route == "order"]
        assert orders and all(round(o) == 4 for o in orders)
    assert [r.status for r in bad.routes if r.route == "order"][0] == "disagrees"


def test_premises_reach_the_symbolic_route_and_restrict_the_points():
    (verdict,), _ = check(PAIRS["assume"][0], seed=0, **FAST)
    assert verdict.symbolic == "proved"
    points = [r.point for r in verdict.routes[1:]]
    assert points and all(p["x"] > p["y"] for p in points)


def test_premises_hard_to_hit_are_reported():
    claim = _claim("rare", "x", "x", {"x": "real"}, assume=["x > 1.999"])
    with pytest.raises(ClaimError, match="hard to hit"):
        check(claim, seed=0, **FAST)


REFUSED = {
    "O-in-lhs": (_claim("o", "O(p**2)", "0", {"p": "probability"}), "only allowed as a term"),
    "O-twice": (_claim("o2", "p", "O(p) + O(p**2)", {"p": "probability"}), "appear once"),
    "O-of-a-sum": (_claim("o3", "p", "p + O(p + p**2)", {"p": "probability"}),
                   "declared scalar to a positive power"),
    "O-disagrees-with-order": (_claim("o4", "p", "p + O(p**2)", {"p": "probability"},
                                      order=3), "disagrees"),
    "order-without-tilde": (_claim("o5", "p", "p", {"p": "probability"}, order=2),
                            "belong to an approximation"),
    "tilde-without-order": (_claim("o6", "p", "p", {"p": "probability"}, relation="~"),
                            "needs order"),
    "order-not-a-number": (_claim("o7", "p", "p", {"p": "probability"}, relation="~",
                                  order="2", **{"in": "p"}), "order must be"),
    "order-huge": (_claim("o8", "p", "p", {"p": "probability"}, relation="~",
                          order=10**9, **{"in": "p"}), "order must be"),
    "order-a-list": (_claim("o11", "p", "p + O(p**2)", {"p": "probability"}, order=[2]),
                     "order must be"),
    "order-nan": (_claim("o12", "p", "p", {"p": "probability"}, relation="~",
                         order=float("nan"), **{"in": "p"}), "order must be"),
    "in-a-list": (_claim("o13", "p", "p", {"p": "probability"}, relation="~", order=1,
                         **{"in": ["p"]}), "in must be the name"),
    "in-a-dimension": (_claim("o9", "1/d", "0", {"d": "dimension"}, relation="~", order=1,
                              **{"in": "d"}), "must name a declared scalar"),
    "in-negative": (_claim("o10", "w", "0", {"w": "negative"}, relation="~", order=1,
                           **{"in": "w"}), "cannot go to 0"),
    "softmax-unindexed": (_claim("s1", "softmax(w)", "1", {"d": "dimension", "w": "real[d]"}),
                          "take one entry"),
    "softmax-of-scalar": (_claim("s2", "softmax(t)[1]", "1", {"t": "real"}),
                          "expression of declared 1-D arrays"),
    "softmax-of-matrix": (_claim("s3", "softmax(W)[1]", "1",
                                 {"d": "dimension", "W": "real[d, d]"}), "1-D arrays"),
    "softmax-lengths-differ": (_claim("s4", "softmax(a*b)[1]", "1",
                                      {"d": "dimension", "n": "dimension", "a": "real[d]",
                                       "b": "real[n]"}), "one length"),
    "softmax-of-E": (_claim("s5", "softmax(E(m)*w)[1]", "1",
                            {"d": "dimension", "w": "real[d]", "q": "keep"},
                            {"m": "Bernoulli(q)"}), "not supported"),
    "logsumexp-two-args": (_claim("s6", "logsumexp(w, w)", "1",
                                  {"d": "dimension", "w": "real[d]"}), "one vector"),
    "product-of-E": (_claim("p1", "Product(E(m[i]), (i, 1, d))", "1",
                            {"d": "dimension", "q": "keep"}, {"m": "Bernoulli(q)[d]"}),
                     "inside a Product"),
    "product-huge-bound": (_claim("p2", "Product(2, (i, 1, d**6))", "1", {"d": "dimension"}),
                           "too large"),
    "delta-of-reals": (_claim("k1", "KroneckerDelta(x, 1)", "1", {"x": "real"}),
                       "an index must be"),
    "where-not-a-condition": (_claim("w1", "where(x, 1, 0)", "1", {"x": "real"}),
                              "a condition is a comparison"),
    "where-two-args": (_claim("w2", "where(x > 0, 1)", "1", {"x": "real"}), "where() takes"),
    "diff-in-random": (_claim("d1", "E(diff(m*x, m))", "1", MASK, {"m": "Bernoulli(q)"}),
                       "declared scalar symbol"),
    "diff-in-dimension": (_claim("d2", "diff(d*x, d)", "1", {"d": "dimension", "x": "real"}),
                          "declared scalar symbol"),
    "diff-order-huge": (_claim("d3", "diff(x**2, x, 100)", "0", {"x": "real"}),
                        "order of diff"),
    "diff-of-E": (_claim("d4", "diff(E(m*x), x)", "q", MASK, {"m": "Bernoulli(q)"}),
                  "diff() of E"),
    "assume-random": (_claim("a1", "E(m)", "q", {"q": "keep"}, {"m": "Bernoulli(q)"},
                             assume=["m > 0"]), "random variables cannot"),
    "assume-not-a-list": (_claim("a2", "x", "x", {"x": "real"}, assume="x > 0"),
                          "assume must be a list"),
    "assume-too-many": (_claim("a3", "x", "x", {"x": "real"}, assume=["x > 0"] * 17),
                        "assume must be a list"),
    "assume-always-true": (_claim("a4", "x", "x", {"x": "positive"}, assume=["x > 0"]),
                           "always True"),
    "assume-code": (_claim("a5", "x", "x", {"x": "real"}, assume=["__import__('os')"]),
                    "assume 1"),
    "assume-contradicts-domain": (_claim("a6", "x", "x", {"x": "positive"},
                                         assume=["x < 0"]), "contradicts"),
    "gamma-negative-shape": (_claim("g1", "E(x)", "1", {}, {"x": "Gamma(-1, 1)"}), "must be > 0"),
    "binomial-real-trials": (_claim("b1", "E(k)", "1", {"t": "positive"},
                                    {"k": "Binomial(t, 1/2)"}), "integer literal"),
    "binomial-huge-trials": (_claim("b2", "E(k)", "1", {}, {"k": "Binomial(10**9, 1/2)"}),
                             "integer literal"),
    "per-unit-not-bernoulli": (_claim("u1", "E(z[1])", "1", UNITS, {"z": "Normal(r, 1)[d]"}),
                               "Bernoulli only"),
    "per-unit-real-rate": (_claim("u2", "E(m[1])", "w[1]", UNITS, {"m": "Bernoulli(w)[d]"}),
                           "must be declared \"keep[...]\""),
    "per-unit-shape-differs": (_claim("u3", "E(m[1])", "r[1]", {**UNITS, "n": "dimension"},
                                      {"m": "Bernoulli(r)[n]"}), "must be equal"),
    "mvn-mean-a-matrix": (_claim("v1", "E(x[1])", "0", CORRELATED,
                                 {"x": "MultivariateNormal(S, S)"}), "declared vector"),
    "mvn-cov-not-covariance": (_claim("v2", "E(x[1])", "0", {**CORRELATED, "A": "real[d, d]"},
                                      {"x": "MultivariateNormal(mu, A)"}),
                               "must be declared \"covariance[d, d]\""),
    "mvn-expression-args": (_claim("v3", "E(x[1])", "0", CORRELATED,
                                   {"x": "MultivariateNormal(2*mu, S)"}), "two declared arrays"),
    "covariance-not-square": (_claim("v4", "E(x[1])", "0",
                                     {**CORRELATED, "S": "covariance[d, 3]"},
                                     {"x": "MultivariateNormal(mu, S)"}), "square matrix"),
    "shape-shift-huge": (_claim("y1", "x[1, 1]", "0", {"T": "dimension", "x": "real[T + 17, 2]"}),
                         "more than 16"),
    "shape-shift-of-a-number": (_claim("y2", "x[1]", "0", {"x": "real[3 + 1]"}),
                                "\"T + 1\""),
    "index-shift-huge": (_claim("x1", "x[i + 17]", "0", {"d": "dimension", "x": "real[d]"}),
                         "up to 16"),
    "index-shift-of-a-shift": (_claim("x2", "Sum(x[i + 1 + 1], (i, 1, d - 2))", "0",
                                      {"d": "dimension", "x": "real[d]"}), "up to 16"),
    "index-shift-out-of-range": (_claim("x3", "Sum(x[i + 1], (i, 1, d))", "0",
                                        {"d": "dimension", "x": "real[d]"}), "out of range"),
    "interval-reversed": (_claim("i1", "x", "x", {"x": "real(2, 1)"}), "needs a < b"),
    "interval-not-numbers": (_claim("i2", "x", "x", {"x": "real(a, 1)"}), "unknown domain"),
    "expected-approximate-exact-claim": (_claim("e1", "x", "x", {"x": "real"},
                                                expected="approximate"), "approximation"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_with_a_message(case):
    claim, message = REFUSED[case]
    with pytest.raises(ClaimError, match=re.escape(message)):
        check(claim, seed=0, **FAST)


def test_a_claim_without_rhs_asks_for_the_closed_form():
    """"Ask, don't guess": lhs's derived closed form becomes the statement, checked against
    the numeric routes like any claim; without a closed form the claim is refused."""
    question = _claim("ask", "Var(m*x/q)", None, {"q": "keep", "mu": "real", "sigma": "positive"},
                      {"m": "Bernoulli(q)", "x": "Normal(mu, sigma)"})
    del question["rhs"]
    (verdict,), _ = check(question, seed=0, **FAST)
    assert verdict.verdict == "derived" and verdict.symbolic == "proved"
    assert statement_record(verdict)["closed_form"] == str(verdict.identity.rhs)
    assert "(derived" in verdict.identity.statement and "sigma**2" in verdict.identity.statement
    unanswerable = {"name": "ask2", "lhs": "E(sigmoid(x))", "random": {"x": "Normal(0, 1)"}}
    with pytest.raises(ClaimError, match="derives no closed form"):
        check(unanswerable, seed=0, **FAST)
    with pytest.raises(ClaimError, match="takes no relation"):
        check({**question, "relation": "<="}, seed=0, **FAST)
