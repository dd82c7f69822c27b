"""Invalid input is a ClaimError (exit 2) whose message names the claim and the problem."""
import pytest

from dropout_theory.claims import ClaimError, check, claim_from_dict, load_claims
from dropout_theory.cli import main

BASE = {"name": "c", "lhs": "E(m*x/q)", "rhs": "x", "symbols": {"q": "keep", "x": "real"},
        "random": {"m": "Bernoulli(q)"}}


def _with(**changes):
    entry = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    for key, value in changes.items():
        if value is None:
            entry.pop(key)
        else:
            entry[key] = value
    return entry


@pytest.mark.parametrize("changes,message", [
    ({"random": {"m": "Bernoulli(1.5)"}}, "Bernoulli probability must be in [0, 1], got 3/2"),
    ({"random": {"m": "Normal(0, -1)"}}, "standard deviation must be >= 0"),
    ({"random": {"m": "Uniform(1, 0)"}}, "Uniform(a, b) needs a < b"),
    ({"random": {"m": "Cauchy(q)"}}, "is not Bernoulli(q), Normal(mu, sigma), Uniform(a, b)"),
    ({"random": {"m": "Bernoulli(q)[k]"}}, "shape entry 'k' must be a positive integer"),
    ({"symbols": {"q": "keep", "x": "complex"}}, "symbol 'x': unknown domain 'complex'"),
    ({"symbols": {"q": "keep"}}, "undeclared name 'x'"),
    ({"lhs": "E(m*x/q"}, "syntax error"),
    ({"lhs": "m*x/q"}, "random variable(s) ['m'] appear outside E()"),
    ({"lhs": "foo(x)"}, "unknown function 'foo'"),
    ({"lhs": "E(E(m))"}, "inside another E/Var/Cov/P is not supported"),
    ({"lhs": None}, "'lhs' must be a non-empty string, got None"),
    ({"relation": "<"}, "relation must be one of"),
    ({"colour": "red"}, "unknown key(s) ['colour']"),
    ({"symbols": {"q": "keep", "x": "real", "exp": "real"}}, "'exp' is reserved"),
    ({"symbols": {"q": "keep", "x": "real", "m": "real"}}, "declared both"),
    ({"lhs": "x > 0"}, "comparisons are only allowed as events inside P"),
    ({"lhs": "P(x)"}, "P() takes an event"),
    ({"symbols": {"q": "keep", "x": "real", "w": "real[d]"}, "lhs": "w"},
     "shape entry 'd' must be a positive integer"),
    ({"symbols": {"q": "keep", "x": "real", "d": "dimension", "w": "real[d]"}, "lhs": "w"},
     "the array 'w' must be indexed"),
    ({"symbols": {"q": "keep", "x": "real", "d": "dimension", "w": "real[d]"}, "lhs": "w[1, 2]"},
     "'w' has 1 index, got 2"),
    ({"lhs": "Sum(x, (q, 1, 3))"}, "Sum index 'q' must be a lowercase name"),
    ({"lhs": "Sum(x, (j, 1, x))"}, "Sum bounds must be integers or dimensions"),
    ({"expected": "maybe"}, "expected must be one of"),
])
def test_invalid_claims_name_claim_and_problem(changes, message):
    with pytest.raises(ClaimError) as info:
        claim_from_dict(_with(**changes))
    assert str(info.value).startswith("claim 'c': ")
    assert message in str(info.value)


def test_bernoulli_parameter_out_of_range_at_a_point_is_invalid_input():
    entry = _with(random={"m": "Bernoulli(2*q)"})
    with pytest.raises(ClaimError, match="claim 'c': Bernoulli parameter 2.q = .* outside"):
        check(entry)


@pytest.mark.parametrize("text,message", [
    ("[[claim]\nname = 'x'", "is not valid TOML"),
    ("[[claim]]\nlhs = '1'\nrhs = '1'", "every claim needs a non-empty string 'name'"),
    ("title = 'x'", "expected one or more [[claim]] tables"),
    ("[[claim]]\nname = 'a'\nlhs = '1'\nrhs = '1'\n[[claim]]\nname = 'a'\nlhs = '1'\nrhs = '1'",
     "claim 'a': duplicate name"),
])
def test_malformed_files(tmp_path, text, message, capsys):
    path = tmp_path / "claims.toml"
    path.write_text(text)
    with pytest.raises(ClaimError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_claims(path)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unreadable_file(tmp_path, capsys):
    assert main(["check", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read claim file" in capsys.readouterr().err


def test_literal_index_raises_the_smallest_size():
    claim = claim_from_dict({"name": "c", "lhs": "E(m[3])", "rhs": "q",
                             "symbols": {"q": "keep", "d": "dimension"},
                             "random": {"m": "Bernoulli(q)[d]"}})
    assert claim.min_sizes == {"d": 3}
