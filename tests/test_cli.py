import json

import pytest

from dropout_theory.cli import main


def test_verify_json_schema_and_exit_code(capsys):
    code = main(["verify", "basics", "--json", "--samples", "8192", "--seed", "3"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["schema"] == "dropout-theory/verdicts/2" and out["command"] == "verify"
    assert {r["name"] for r in out["statements"]} == {
        "basics.inverted-mean", "basics.inverted-variance", "basics.standard-scaling",
        "basics.backprop-mask"}
    assert all(r["verdict"] == "holds" and r["matches_expected"] for r in out["statements"])
    routes = {route["route"] for r in out["statements"] for route in r["routes"]}
    assert routes == {"symbolic", "exact", "montecarlo", "gradient"}


def test_progress_goes_to_stderr_not_json(capsys):
    main(["verify", "basics.inverted-mean", "--json", "--samples", "4096"])
    captured = capsys.readouterr()
    json.loads(captured.out)
    assert "basics.inverted-mean" in captured.err


@pytest.mark.parametrize("argv,message", [
    (["verify", "no.such"], "unknown identity or family 'no.such'"),
    (["verify", "--samples", "0"], "--samples must be a positive integer, got 0"),
    (["verify", "--points", "0"], "--points must be a positive integer, got 0"),
    (["verify", "--alpha", "nan"], "--alpha must be a false-alarm rate"),
    (["derive", "nope"], "unknown identity 'nope'"),
    (["verify", "--seed", "-1"], "--seed must be a non-negative integer, got -1"),
    (["check", "examples/claims/basics.toml", "--seed", "-2"], "--seed must be a non-negative"),
    (["figures", "--seed", "-3"], "--seed must be a non-negative integer, got -3"),
])
def test_bad_input_exit_2_with_named_argument(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_argparse_errors_exit_2():
    with pytest.raises(SystemExit) as exc:
        main(["verify", "--samples", "many"])
    assert exc.value.code == 2


def test_derive_prints_steps(capsys):
    assert main(["derive", "bias-variance.naive"]) == 0
    out = capsys.readouterr().out
    assert "collapsing deltas" in out and "symbolic verdict: proved" in out


def test_list(capsys):
    assert main(["list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) >= 5
    assert main(["list"]) == 0
    assert capsys.readouterr().out.split()[:3] == ["statement", "expected", "source"]


def test_verify_text_ends_with_a_summary_line(capsys):
    assert main(["verify", "basics.backprop-mask", "basics.standard-scaling", "--samples",
                 "4096", "--points", "1"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == ("2 statements: 2 holds, 0 fails, 0 approximate, 0 inconclusive; 2 of 2 as "
                    "expected")


@pytest.mark.parametrize("script", ["basics", "bias_variance"])
def test_derivation_scripts_print_proved_steps(script):
    import pathlib
    import subprocess
    import sys
    path = pathlib.Path(__file__).parents[1] / "derivations" / f"{script}.py"
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.count("symbolic verdict: proved") >= 2
    assert "expand" in out.stdout


def test_figures_are_byte_identical_on_rerun(tmp_path, capsys):
    assert main(["figures", "--out", str(tmp_path / "a")]) == 0
    assert main(["figures", "--out", str(tmp_path / "b")]) == 0
    first = sorted((tmp_path / "a").glob("*.png"))
    assert first, "no figure was registered"
    for path in first:
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()


def test_a_refuted_statement_shows_what_is_true_instead(capsys):
    # seed 000's Jensen gap x^2 p(1-p) (p = keep) applied to inverted dropout: the engine's
    # derived gap is x^2 (1 - q)/q; a statement that holds has no such field
    assert main(["verify", "jensen.quadratic-inverted-seed", "jensen.quadratic-inverted",
                 "--samples", "4096", "--points", "1", "--json"]) == 0
    records = {r["name"]: r for r in json.loads(capsys.readouterr().out)["statements"]}
    assert records["jensen.quadratic-inverted-seed"]["true_instead"] == "-x**2*(q - 1)/q"
    assert records["jensen.quadratic-inverted"]["true_instead"] is None
