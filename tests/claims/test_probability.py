"""Exact probabilities and conditioning (issue 18): closed forms against brute-force
enumeration in exact rationals and against SciPy, the issue's table rows and their twins
through ``check``, the ``|`` syntax (whitelisted, fuzzed), conditions of probability 0, size
budgets, pooled points and progress lines."""
import itertools
import time
from fractions import Fraction
from math import comb

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from dropout_theory import routes
from dropout_theory.claims import ClaimError, check, load_identities, parse_expression
from dropout_theory.claims.parser import Namespace
from dropout_theory.cli import main
from dropout_theory.symbolic import Bernoulli, NoClosedForm, Normal, RandomSpace
from dropout_theory.symbolic.operators import E, P
from dropout_theory.symbolic.probability import MAX_CASES, expectation_on, probability

FAST = {"n_samples": 1 << 14, "n_points": 2}
I = sp.Symbol("i", integer=True)
Q = sp.Rational(7, 10)


def _masks(q=Q):
    space = RandomSpace()
    return space, space.array("m", Bernoulli(q))


# --- closed forms against brute force ------------------------------------------------------

def _brute(event, k, q=Fraction(7, 10)):
    """P(event(bits)) by enumerating all 2**k patterns in exact rationals."""
    total = Fraction(0)
    for bits in itertools.product((0, 1), repeat=k):
        if event(bits):
            s = sum(bits)
            total += q ** s * (1 - q) ** (k - s)
    return total


@pytest.mark.parametrize("k", [1, 4, 7])
def test_count_events_equal_enumeration_exactly(k):
    space, m = _masks()
    count = sp.Sum(m[I], (I, 1, k))
    cases = [(count >= 2, lambda b: sum(b) >= 2), (sp.Eq(count, k - 1), lambda b: sum(b) == k - 1),
             (sp.And(count > 0, count < k), lambda b: 0 < sum(b) < k),
             (sp.Or(count < 1, 2 * count > 3 * k / 2), lambda b: sum(b) < 1 or 2 * sum(b) > 1.5 * k),
             (sp.Ne(count, 1), lambda b: sum(b) != 1)]
    for event, brute in cases:
        value = probability(event, space)
        assert value.is_Rational and Fraction(int(value.p), int(value.q)) == _brute(brute, k)


def test_entries_at_fixed_indices_and_a_count_of_another_array_enumerate_exactly():
    space, m = _masks()
    b = space.array("b", Bernoulli(sp.Rational(1, 3)))
    event = sp.And(m[1] + m[2] > b[1], sp.Sum(b[I], (I, 2, 5)) >= 2)
    value = probability(event, space)
    brute = Fraction(0)
    for m1, m2, b1, b2, b3, b4, b5 in itertools.product((0, 1), repeat=7):
        if m1 + m2 > b1 and b2 + b3 + b4 + b5 >= 2:
            w = Fraction(7, 10)
            brute += (w if m1 else 1 - w) * (w if m2 else 1 - w) * Fraction(1, 3) ** (
                b1 + b2 + b3 + b4 + b5) * Fraction(2, 3) ** (5 - (b1 + b2 + b3 + b4 + b5))
    assert value == sp.Rational(brute.numerator, brute.denominator)


def test_k24_tail_matches_scipy_and_takes_well_under_a_second():
    space, m = _masks()
    start = time.perf_counter()
    value = probability(sp.Sum(m[I], (I, 1, 24)) >= 17, space)
    took = time.perf_counter() - start
    assert value == sp.Rational(564674009933431109188603, 10 ** 24)
    assert float(value) == pytest.approx(stats.binom.sf(16, 24, 0.7), rel=1e-14)
    assert took < 1.0


def test_symbolic_size_thresholds_from_either_end():
    q = sp.Symbol("q", positive=True)
    d = sp.Symbol("d", integer=True, positive=True)
    space, m = _masks(q)
    count = sp.Sum(m[I], (I, 1, d))
    assert sp.simplify(probability(count >= 1, space) - (1 - (1 - q) ** d)) == 0
    assert sp.simplify(probability(count > d - sp.Rational(1, 2), space) - q ** d) == 0
    at_one = probability(sp.Eq(count, 1), space)
    assert sp.simplify(at_one - d * q * (1 - q) ** (d - 1)) == 0
    for size in range(1, 6):  # and the polynomial in d is right at every size
        exact = sum(comb(size, s) * Fraction(7, 10) ** s * Fraction(3, 10) ** (size - s)
                    for s in range(size + 1) if s < size - 1)
        value = probability(count < d - 1, space).subs({d: size, q: Q})
        assert sp.nsimplify(value) == sp.Rational(exact.numerator, exact.denominator)


def test_mixed_event_and_conditional_moments_against_scipy():
    space, m = _masks()
    b = space.scalar("b", Bernoulli(Q))
    x = space.scalar("x", Normal(sp.Rational(1, 2), 1))
    event = b * x / Q > 1
    fire = float(probability(event, space))
    assert fire == pytest.approx(0.7 * stats.norm.sf(0.7, 0.5, 1), rel=1e-14)
    both = float(probability(sp.And(x > 1, event), space))
    assert both / fire == pytest.approx(stats.norm.sf(1, 0.5) / stats.norm.sf(0.7, 0.5), rel=1e-13)
    truncated = stats.truncnorm(0.2, float("inf"), loc=0.5, scale=1)
    assert float(expectation_on(x, event, space)) / fire == pytest.approx(truncated.mean(), rel=1e-12)
    second = float(expectation_on(x ** 2, event, space)) / fire
    assert second - (float(expectation_on(x, event, space)) / fire) ** 2 == pytest.approx(
        truncated.var(), rel=1e-10)
    # an interval, a union and a sum of two Normal inputs along one direction
    y = space.scalar("y", Normal(-1, 2))
    assert float(probability(sp.And(x + y > 0, x + y < 1), space)) == pytest.approx(
        stats.norm.cdf(1, -0.5, 5 ** 0.5) - stats.norm.cdf(0, -0.5, 5 ** 0.5), rel=1e-13)
    assert float(probability(sp.Or(x < -1, x > 2), space)) == pytest.approx(
        stats.norm.cdf(-1, 0.5) + stats.norm.sf(2, 0.5), rel=1e-13)


@pytest.mark.parametrize("event", ["x**2 > 1", "x*y > 0", "x > 0 and y > 0", "exp(x) > 2"])
def test_events_without_a_closed_form_are_refused_not_guessed(event):
    space = RandomSpace()
    x = space.scalar("x", Normal(0, 1))
    y = space.scalar("y", Normal(0, 1))
    names = Namespace(scalars={"x": x, "y": y}, random={"x", "y"})
    with pytest.raises(NoClosedForm):
        probability(parse_expression(f"P({event})", names).args[0], space)


def test_mask_cases_beyond_the_budget_are_refused_before_any_work():
    space, m = _masks()
    event = sp.Add(*[m[k] * k for k in range(1, 14)]) > 3  # 2**13 patterns, not a count
    start = time.perf_counter()
    with pytest.raises(NoClosedForm, match=str(MAX_CASES)):
        probability(event, space)
    assert time.perf_counter() - start < 1.0


# --- the table through check --------------------------------------------------------

def _claim(name, lhs, rhs, random, symbols=None):
    return {"name": name, "lhs": lhs, "rhs": rhs, "random": random, "symbols": symbols or {}}


MIXED = {"m": "Bernoulli(0.7)", "x": "Normal(0.5, 1)"}
ROWS = {
    "count": ("P(Sum(m[i], (i, 1, 24)) >= 17)", "564674009933431109188603/10**24", "1e-6",
              {"m": "Bernoulli(0.7)[24]"}),
    "mixed": ("P(m*x/0.7 > 1)", "0.7*(1 - Phi(0.2))", "1e-3", MIXED),
    "conditional": ("P(x > 1 | m*x/0.7 > 1)", "(1 - Phi(0.5))/(1 - Phi(0.2))",
                    "0.733*1e-4", MIXED),
}


@pytest.mark.parametrize("row", sorted(ROWS))
def test_table_rows_hold_and_twins_fail_with_a_certified_counterexample(row):
    lhs, rhs, off, random = ROWS[row]
    (good, bad), _ = check([_claim(row, lhs, rhs, random),
                            _claim(row + "-twin", lhs, f"{rhs} + {off}", random)], **FAST)
    assert good.verdict == "holds" and good.symbolic == "proved"
    assert bad.verdict == "fails" and "certified counterexample" in bad.reason
    exact = [r for r in bad.routes if r.route == "exact probability"]
    assert exact and all(r.status == "disagrees" for r in exact)
    assert [r.status for r in good.routes if r.route == "exact probability"] == ["agrees"]
    assert len(good.routes) == 3  # no parameters: one pooled point per numeric route
    assert [r.n_samples for r in good.routes if r.route == "montecarlo"] == [2 * FAST["n_samples"]]


def test_masks_with_a_rate_per_unit_are_enumerated_with_their_own_rates():
    """Bernoulli(r)[3]: the tail of a Poisson-binomial count is a polynomial in the rates,
    proved; the twin with the mean rate (a Binomial) is refuted by a certified difference."""
    units = {"r": "keep[3]"}
    tail = "r[1]*r[2] + r[1]*r[3] + r[2]*r[3] - 2*r[1]*r[2]*r[3]"
    mean = "(r[1] + r[2] + r[3])/3"
    (good, bad), _ = check([_claim("pb", "P(Sum(m[i], (i, 1, 3)) >= 2)", tail,
                                   {"m": "Bernoulli(r)[3]"}, units),
                            _claim("pb-twin", "P(Sum(m[i], (i, 1, 3)) >= 2)",
                                   f"3*({mean})**2 - 2*({mean})**3", {"m": "Bernoulli(r)[3]"},
                                   units)], **FAST)
    assert good.verdict == "holds" and good.symbolic == "proved"
    assert bad.verdict == "fails" and "certified counterexample" in bad.reason
    assert any(r.route == "exact probability" and r.status == "disagrees" for r in bad.routes)


def test_a_condition_of_probability_zero_is_an_error_naming_it(tmp_path, capsys):
    with pytest.raises(ClaimError, match=r"the condition 'm > 1' has probability 0"):
        load_identities(_claim("c", "P(x > 1 | m > 1)", "1/2", MIXED))
    path = tmp_path / "zero.toml"
    path.write_text('[[claim]]\nname = "c"\nlhs = "E(x | m*x > 2 and m < 1)"\nrhs = "0"\n'
                    '[claim.random]\nm = "Bernoulli(0.7)"\nx = "Normal(0.5, 1)"\n')
    assert main(["check", str(path)]) == 2
    assert "has probability 0" in capsys.readouterr().err


def test_a_condition_of_probability_zero_at_one_point_is_an_error_there():
    # P(m w > 1) is Piecewise in w for the symbolic route (w > 1 is not excluded by its
    # assumptions), and exactly 0 at every point of real(0.1, 0.5): named at the first one
    claim = _claim("c", "P(x > 0 | m*w > 1)", "1/2", {"m": "Bernoulli(0.7)", "x": "Normal(0, 1)"},
                   {"w": "real(0.1, 0.5)"})
    with pytest.raises(ClaimError, match=r"probability 0 here"):
        check(claim, **FAST)


# --- the | syntax ----------------------------------------------------------------------------

def _names():
    return Namespace(scalars={"x": sp.Symbol("x", real=True), "m": sp.Symbol("m", real=True),
                              "q": sp.Symbol("q", positive=True)}, random={"x", "m"})


def test_conditionals_parse_into_ratios_of_unconditional_operators():
    names = _names()
    x, m = names.scalars["x"], names.scalars["m"]
    assert parse_expression("P(x > 1 | m*x > 1)", names) == P(sp.And(x > 1, m * x > 1)) / P(m * x > 1)
    assert parse_expression("E(x + 1 | m > 0)", names) == \
        E(sp.Piecewise((x + 1, m > 0), (0, True))) / P(m > 0)
    var = parse_expression("Var((x) | m > 0 and x < 2)", names)
    assert var.has(P) and var.has(sp.Piecewise)
    cov = parse_expression("Cov(x, m | x > 0)", names)
    assert cov.has(P(x > 0))
    # one text, several lines and non-ASCII spacing before the bar
    assert parse_expression("P(x > 1\n  | m > 0)", names) == P(sp.And(x > 1, m > 0)) / P(m > 0)


@pytest.mark.parametrize("text, message", [
    ("x | m", "BitOr"),
    ("E(x | m | x > 0)", "one '|'"),
    ("E((x | m) + 1)", "whole operator argument"),
    ("E(x | q)", "neither an event nor declared random variables"),
    ("E(m*x, m > 0)", "is written after '|': E(f | m > 0)"),
    ("E(x | m + 1)", "neither an event nor"),
    ("E(E(x | m) | m)", "inside a conditional"),
    ("E(x | (m, m.__class__))", "lists declared random variables"),
    ("E(x | (m, q))", "lists declared random variables"),
    ("E(x | ())", "lists declared random variables"),
    ("P(x | m > 0)", "takes an event"),
    ("E( | m > 0)", "syntax error"),
    ("E(x | )", "syntax error"),
    ("P(x > (1 | m) > 0)", "syntax error"),
    ("E(E(x) | m > 0)", "inside another"),
    ("E(x | P(m > 0) > 0)", "inside another"),
    ("E(x | m.__class__ > 0)", "attribute"),
    ("E(x | (lambda: 1)() > 0)", "call"),
])
def test_hostile_conditionals_are_refused(text, message):
    with pytest.raises(ClaimError, match=message):
        parse_expression(text, _names())


_PIECES = st.sampled_from(["x", "m", "q", "1", "x > 1", "m > 0", "(", ")", "|", " | ", "and",
                           "not", "E(", "P(", "Var(", "Cov(", ",", "**", "1e308", "é", "\n"])


@settings(max_examples=200, deadline=3000, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, min_size=1, max_size=14))
def test_fuzz_conditionals_parse_or_raise_claim_error(pieces):
    try:
        result = parse_expression(" ".join(pieces), _names())
    except ClaimError as exc:
        assert str(exc)
        return
    assert isinstance(result, sp.Basic)


# --- progress lines ---------------------------------------------------------------------------

def test_progress_names_the_route_that_decided():
    lines = []
    check([_claim("count", *ROWS["count"][:2], ROWS["count"][3]),
           _claim("twin", ROWS["count"][0], ROWS["count"][1] + " + 1e-6", ROWS["count"][3]),
           _claim("nonlinear", "P(x**2 > 1)", "2*(1 - Phi(1))", {"x": "Normal(0, 1)"})],
          progress=lines.append, **FAST)
    assert "[1/3] count: holds (symbolic route)" in lines
    assert "[2/3] twin: fails (exact probability route)" in lines
    assert "[3/3] nonlinear: holds (montecarlo route)" in lines  # symbolic: no closed form
    assert routes.names().count("exact probability") == 1
