"""Every example file: verdicts as its comments say, and a perturbed twin of every true claim fails."""
import pathlib
import tomllib

import pytest

from dropout_theory.claims import check

EXAMPLES = sorted((pathlib.Path(__file__).resolve().parents[2] / "examples" / "claims")
                  .glob("*.toml"))
FAMILIES = {"basics", "bias_variance", "ridge", "batchnorm"}


def test_one_file_per_family():
    assert FAMILIES <= {p.stem for p in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_verdicts_match_their_comments(path):
    report = check(path, seed=0)
    mismatches = {r.name: (r.expected, r.verdict, r.message) for r in report["claims"]
                  if r.expected != r.verdict}
    assert not mismatches
    wrong = [r for r in report["claims"] if r.expected == "fails"]
    assert all(r.counterexample is not None for r in wrong)
    text = path.read_text()
    for r in report["claims"]:  # the comment above each claim states the same verdict
        assert f"expected verdict: {r.expected}" in text or f"expected: {r.expected}" in text


def _twin(entry: dict) -> dict:
    """A deliberately wrong twin: rhs scaled and shifted, or the inequality reversed."""
    twin = dict(entry, name=entry["name"] + "-twin")
    twin.pop("expected", None)
    if entry.get("relation", "==") == "==":
        twin["rhs"] = f"({entry['rhs']})*5/4 + 1/4"
    else:
        twin["relation"] = {"<=": ">=", ">=": "<="}[entry["relation"]]
    return twin


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_mutation_twins_of_true_claims_fail_numerically(path):
    entries = tomllib.loads(path.read_text())["claim"]
    twins = [_twin(e) for e in entries if e.get("expected") == "holds"]
    assert twins
    report = check({"claim": twins}, seed=0)
    survivors = [(r.name, r.numeric, r.message) for r in report["claims"]
                 if r.verdict != "fails" or r.numeric != "fails"]
    assert not survivors  # a checker that cannot fail proves nothing
