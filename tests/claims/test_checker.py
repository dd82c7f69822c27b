"""Verdict logic, routes, statistics bookkeeping, the Python API and the CLI."""
import json

import pytest

from dropout_theory.claims import check, check_claim, to_json
from dropout_theory.cli import main
from dropout_theory.sampling import DEFAULT_ALPHA, z_crit

NORMAL = {"symbols": {"mu": "real", "sigma": "positive"}, "random": {"x": "Normal(mu, sigma)"}}
MASK = {"symbols": {"q": "keep", "x": "real"}, "random": {"m": "Bernoulli(q)"}}


def test_api_arguments_and_dict_agree():
    by_args = check_claim(name="mean", lhs="E(m*x/q)", rhs="x", **MASK)
    by_dict = check({"name": "mean", "lhs": "E(m*x/q)", "rhs": "x", **MASK})["claims"][0]
    assert by_args.verdict == by_dict.verdict == "holds"
    assert by_args.symbolic == "proved" and by_args.numeric == "holds"
    assert {p["route"] for p in by_args.points} == {"exact"}
    assert any(p["point"]["q"] == 1.0 for p in by_args.points)  # the domain edge q = 1


def test_exact_route_sees_what_sampling_could_not():
    result = check_claim(name="tiny", lhs="E(m*x/q)", rhs="x + 10**(-6)", **MASK)
    assert result.verdict == "fails" and result.numeric == "fails"
    assert result.counterexample["route"] == "exact"


def test_symbolic_refutation_wins_over_agreeing_numbers():
    result = check_claim(name="almost", lhs="E(x)", rhs="mu + 10**(-9)", **NORMAL)
    assert result.numeric == "holds" and result.symbolic == "refuted"
    assert result.verdict == "fails" and "did not detect" in result.message
    assert result.residual == "-1/1000000000"


def test_monte_carlo_counterexample_reports_z_and_resolution():
    result = check_claim(name="wrong-var", lhs="Var(x)", rhs="sigma", **NORMAL)
    assert result.verdict == "fails"
    example = result.counterexample
    assert example["route"] == "montecarlo" and abs(example["discrepancy_in_se"]) > 7
    assert result.resolution > 0 and result.max_abs_z == pytest.approx(abs(example["z"]))


def test_undefined_points_are_inconclusive():
    result = check_claim(name="log", lhs="E(log(x))", rhs="0", symbols={},
                         random={"x": "Uniform(-1, 1)"})
    assert result.verdict == "inconclusive" and result.numeric == "undefined"


def test_inequalities_are_one_sided_and_judged_numerically():
    result = check_claim(name="jensen", lhs="E(x**2)", rhs="E(x)**2", relation=">=", **NORMAL)
    assert result.verdict == "holds" and result.symbolic == "not-applicable"
    flipped = check_claim(name="jensen", lhs="E(x**2)", rhs="E(x)**2", relation="<=", **NORMAL)
    assert flipped.verdict == "fails"


def test_bonferroni_over_every_monte_carlo_check_of_the_run():
    claims = [{"name": n, "lhs": "E(x)", "rhs": "mu", **NORMAL} for n in ("a", "b")]
    meta = check(claims, n_samples=4096)["meta"]
    n = meta["n_montecarlo_checks"]
    assert n == sum(1 for r in check(claims, n_samples=4096)["claims"] for p in r.points
                    if p["route"] == "montecarlo")
    assert meta["z_crit_two_sided"] == z_crit(DEFAULT_ALPHA, n)
    assert meta["z_crit_one_sided"] == z_crit(DEFAULT_ALPHA, n, two_sided=False)


def test_size_dependent_error_fails_at_some_size():
    result = check_claim(name="d-1", lhs="Var(Sum(m[i], (i, 1, d)))", rhs="(d - 1)*q*(1 - q)",
                         symbols={"q": "keep", "d": "dimension"},
                         random={"m": "Bernoulli(q)[d]"})
    assert result.verdict == "fails" and result.numeric == "fails"


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
    assert "claim bn" in captured.err
    row = document["claims"][0]
    for key in ("name", "verdict", "symbolic", "numeric", "counterexample", "max_abs_z",
                "resolution", "message"):
        assert key in row
    assert document["summary"] == {"holds": 1, "fails": 0, "inconclusive": 0}
    bad = _write(tmp_path, "sigma**2/q")
    assert main(["check", str(bad), "--samples", "8192"]) == 1
    assert "counterexample" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["--samples", "0"], "--samples must be a positive integer, got 0"),
    (["--alpha", "2"], "--alpha must be a false-alarm rate in (0, 1), got 2.0"),
])
def test_cli_bad_arguments(tmp_path, capsys, argv, message):
    path = _write(tmp_path, "1")
    assert main(["check", str(path), *argv]) == 2
    assert message in capsys.readouterr().err


def test_reproducible_from_the_seed(tmp_path):
    path = _write(tmp_path, "sigma**2/q + mu**2*(1 - q)/q")

    def numbers(seed):
        document = to_json(check(path, seed=seed, n_samples=4096))
        return [(p["point"], p["lhs"], p["se"]) for p in document["claims"][0]["points"]]

    assert numbers(3) == numbers(3)
    assert numbers(3) != numbers(4)


def test_a_rare_event_never_drawn_is_no_evidence():
    """relu(z) is 0 in every sample far in the tail: a zero se must not turn into |z| = inf."""
    tail = check_claim(name="tail", lhs="E(relu(z))", rhs="10**(-30)", symbols={},
                       random={"z": "Normal(-40, 1)"})
    assert tail.verdict == "inconclusive" and tail.numeric == "unresolved"
    assert all(p["status"] == "unresolved" for p in tail.points)


def test_frozen_probabilities_are_bounded_not_ignored():
    never = check_claim(name="never", lhs="P(z > 100)", rhs="1/2", symbols={},
                        random={"z": "Normal(0, 1)"})
    assert never.verdict == "fails" and never.numeric == "fails"
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


def test_enormous_legal_claims_skip_the_symbolic_engine_quickly():
    import time
    start = time.perf_counter()
    result = check_claim(name="big", lhs="Var(Sum(w[j]*m[j], (j, 1, d))**8)", rhs="1",
                         symbols={"q": "keep", "d": "dimension", "w": "real[d]"},
                         random={"m": "Bernoulli(q)[d]"})
    assert result.symbolic == "inconclusive" and "too large for the engine" in result.message
    assert result.verdict == "fails" and time.perf_counter() - start < 20
