"""Claims through the one pipeline: verdict rules, routes, statistics bookkeeping, the Python
API and the CLI."""
import json

import pytest
import sympy as sp

from dropout_theory.claims import check, check_claim
from dropout_theory.cli import main
from dropout_theory.report import counterexample, to_json
from dropout_theory.routes.result import RouteResult
from dropout_theory.routes.symbolic import confirm
from dropout_theory.sampling import DEFAULT_ALPHA, z_crit
from dropout_theory.symbolic import prove_equal

NORMAL = {"symbols": {"mu": "real", "sigma": "positive"}, "random": {"x": "Normal(mu, sigma)"}}
MASK = {"symbols": {"q": "keep", "x": "real"}, "random": {"m": "Bernoulli(q)"}}


def _statuses(verdict, route):
    return [r.status for r in verdict.routes if r.route == route]


def test_api_arguments_and_dict_agree():
    by_args = check_claim(name="mean", lhs="E(m*x/q)", rhs="x", **MASK)
    (by_dict,), _ = check({"name": "mean", "lhs": "E(m*x/q)", "rhs": "x", **MASK})
    assert by_args.verdict == by_dict.verdict == "holds"
    assert by_args.symbolic == "proved"
    assert {r.route for r in by_args.routes} == {"symbolic", "exact", "montecarlo"}
    assert any(r.point["q"] == 1.0 for r in by_args.routes[1:])  # the domain edge q = 1


def test_exact_route_sees_what_sampling_could_not():
    result = check_claim(name="tiny", lhs="E(m*x/q)", rhs="x + 10**(-6)", **MASK)
    assert result.verdict == "fails" and counterexample(result).route == "exact"
    lo, hi = counterexample(result).interval
    assert lo > 0 or hi < 0  # a certified counterexample: the enclosure excludes 0


def test_a_tiny_symbolic_difference_is_refuted_with_a_witness_from_quadrature():
    """x ~ Normal enters polynomially, so Gauss quadrature makes the exact route exact; it
    confirms the engine's residual -1e-9, which sampling could never resolve."""
    result = check_claim(name="almost", lhs="E(x)", rhs="mu + 10**(-9)", **NORMAL)
    assert result.verdict == "fails" and result.symbolic == "refuted"
    assert result.routes[0].residual == "-1/1000000000" and result.routes[0].witness
    assert set(_statuses(result, "exact")) == {"disagrees"}


def test_an_unconfirmed_symbolic_residual_is_no_refutation():
    """A non-zero canonical residual becomes a refutation only at a point where the exact
    route disagrees and the residual itself does not vanish."""
    a = sp.Symbol("a")
    candidate = RouteResult("symbolic", "unconfirmed", residual="a",
                            detail=prove_equal(a, 0))
    agreeing = RouteResult("exact", "agrees", {"a": 1.0})
    assert confirm(candidate, [agreeing]).status == "unconfirmed"
    disagreeing = RouteResult("exact", "disagrees", {"a": 1.0}, interval=(0.5, 1.5))
    assert confirm(candidate, [disagreeing]).status == "refuted"
    vanishing = RouteResult("exact", "disagrees", {"a": 0.0}, interval=(0.5, 1.5))
    assert confirm(candidate, [vanishing]).status == "unconfirmed"  # residual 0 there


def test_monte_carlo_counterexample_reports_z_and_resolution():
    result = check_claim(name="wrong-mgf", lhs="E(exp(x))", rhs="exp(mu)", **NORMAL)
    assert result.verdict == "fails"
    example = counterexample(result)
    assert example.route == "montecarlo" and abs(example.z) > example.critical
    assert example.resolution > 0


def test_undefined_points_are_inconclusive():
    result = check_claim(name="log", lhs="E(log(x))", rhs="0", symbols={},
                         random={"x": "Uniform(-1, 1)"})
    assert result.verdict == "inconclusive" and "undefined" in _statuses(result, "montecarlo")


def test_inequalities_are_one_sided_and_judged_numerically():
    result = check_claim(name="jensen", lhs="E(x**2)", rhs="E(x)**2", relation=">=", **NORMAL)
    assert result.verdict == "holds" and result.symbolic == "not-applicable"
    flipped = check_claim(name="jensen", lhs="E(x**2)", rhs="E(x)**2", relation="<=", **NORMAL)
    assert flipped.verdict == "fails"


def test_bonferroni_over_every_statistical_check_of_the_run():
    claims = [{"name": n, "lhs": "E(exp(x))", "rhs": "exp(mu + sigma**2/2)", **NORMAL}
              for n in ("a", "b")]
    verdicts, meta = check(claims, n_samples=4096)
    n = meta["n_statistical_checks"]
    assert n == sum(r.route == "montecarlo" for v in verdicts for r in v.routes) > 0
    assert meta["z_crit"]["two_sided"] == z_crit(DEFAULT_ALPHA, n)
    assert meta["z_crit"]["one_sided"] == z_crit(DEFAULT_ALPHA, n, two_sided=False)


def test_size_dependent_error_fails_at_some_size():
    result = check_claim(name="d-1", lhs="Var(Sum(m[i], (i, 1, d)))", rhs="(d - 1)*q*(1 - q)",
                         symbols={"q": "keep", "d": "dimension"},
                         random={"m": "Bernoulli(q)[d]"})
    assert result.verdict == "fails" and "disagrees" in _statuses(result, "exact")


def _write(tmp_path, rhs):
    path = tmp_path / "c.toml"
    path.write_text(f'[[claim]]\nname = "bn"\nlhs = "Var(m*x/q)"\nrhs = "{rhs}"\n'
                    '[claim.symbols]\nq = "keep"\nmu = "real"\nsigma = "positive"\n'
                    '[claim.random]\nm = "Bernoulli(q)"\nx = "Normal(mu, sigma)"\n')
    return path


def test_cli_exit_codes_json_and_progress(tmp_path, capsys):
    good = _write(tmp_path, "sigma**2/q + mu**2*(1 - q)/q")
    assert main(["check", str(good), "--json", "--samples", "8192"]) == 0
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert "bn" in captured.err and document["command"] == "check"
    row = document["statements"][0]
    for key in ("name", "verdict", "symbolic", "reason", "counterexample", "routes",
                "sizes_checked", "matches_expected"):
        assert key in row
    assert document["summary"]["holds"] == 1 and document["summary"]["fails"] == 0
    bad = _write(tmp_path, "sigma**2/q")
    assert main(["check", str(bad), "--samples", "8192"]) == 1
    assert "counterexample" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["--samples", "0"], "--samples must be a positive integer, got 0"),
    (["--alpha", "2"], "--alpha must be a false-alarm rate in [1e-300, 1), got 2.0"),
    (["--alpha", "1e-320"], "--alpha must be a false-alarm rate in [1e-300, 1), got 1e-320"),
])
def test_cli_bad_arguments(tmp_path, capsys, argv, message):
    path = _write(tmp_path, "1")
    assert main(["check", str(path), *argv]) == 2
    assert message in capsys.readouterr().err


def test_reproducible_from_the_seed(tmp_path):
    path = _write(tmp_path, "sigma**2/q + mu**2*(1 - q)/q")

    def numbers(seed):
        document = to_json(*check(path, seed=seed, n_samples=4096), command="check")
        return [(r["point"], r["lhs"], r["se"]) for r in document["statements"][0]["routes"]]

    assert numbers(3) == numbers(3)
    assert numbers(3) != numbers(4)


def test_a_rare_event_never_drawn_is_no_evidence():
    """relu(z) is 0 in every sample far in the tail: a zero se must not turn into |z| = inf."""
    tail = check_claim(name="tail", lhs="E(relu(z))", rhs="10**(-30)", symbols={},
                       random={"z": "Normal(-40, 1)"})
    assert tail.verdict == "inconclusive"
    assert set(_statuses(tail, "montecarlo")) == {"unresolved"}


def test_frozen_probabilities_are_bounded_not_ignored():
    never = check_claim(name="never", lhs="P(z > 100)", rhs="1/2", symbols={},
                        random={"z": "Normal(0, 1)"})
    assert never.verdict == "fails"
    tiny = check_claim(name="tiny", lhs="P(z > 100)", rhs="0", symbols={},
                       random={"z": "Normal(0, 1)"})
    assert tiny.verdict == "holds"


def test_operators_of_constants_are_exact():
    result = check_claim(name="const", lhs="E(q) + Var(q)", rhs="q", **MASK)
    assert result.verdict == "holds" and result.symbolic == "proved"


@pytest.mark.parametrize("lhs", ["1/0", "sqrt(-1)", "log(0)", "exp(1000)"])
def test_undefined_values_never_crash(lhs):
    result = check_claim(name="odd", lhs=lhs, rhs="q", **MASK)
    assert result.verdict in ("fails", "inconclusive")


def test_enormous_legal_claims_skip_the_symbolic_engine():
    result = check_claim(name="big", lhs="Var(Sum(w[j]*m[j], (j, 1, d))**8)", rhs="1",
                         symbols={"q": "keep", "d": "dimension", "w": "real[d]"},
                         random={"m": "Bernoulli(q)[d]"})
    assert result.symbolic == "inconclusive" and "too large for the engine" in \
        result.routes[0].note
    assert result.verdict == "fails"


DEGENERATE = {"symbols": {"mu": "real"}, "random": {"z": "Normal(mu, 1/2)"}}


@pytest.mark.parametrize("seed", range(6))
def test_a_degenerate_statistic_is_bounded_to_second_order(seed):
    """E(X**2) - E(X)**2 - Var(X) has no first-order term: its Monte Carlo estimate is all
    second order (11-42 jackknife se off at some points before the curvature bound). X =
    exp(z) is no polynomial, so only sampling can judge it; the twin with Var doubled fails."""
    (true, twin), _ = check([
        {"name": "var", "lhs": "E(exp(z)**2) - E(exp(z))**2", "rhs": "Var(exp(z))",
         **DEGENERATE},
        {"name": "twin", "lhs": "E(exp(z)**2) - E(exp(z))**2", "rhs": "2*Var(exp(z))",
         **DEGENERATE}], seed=seed)
    assert true.verdict == "holds" and twin.verdict == "fails"
    sampled = [r for r in true.routes if r.route == "montecarlo"]
    assert sampled and all(r.second_order > 0 for r in sampled)


def test_linear_statements_carry_no_second_order_term():
    result = check_claim(name="mgf", lhs="E(exp(x))", rhs="exp(mu + sigma**2/2)", **NORMAL)
    assert all(r.second_order is None for r in result.routes if r.route == "montecarlo")
