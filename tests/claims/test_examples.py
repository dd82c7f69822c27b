"""Every example file: verdicts as its comments say, and a perturbed twin of every true claim fails."""
import pathlib
import tomllib

import pytest

from dropout_theory.claims import check
from dropout_theory.report import counterexample

#: literature.toml has its own test (tests/claims/test_literature.py): 38 claims, 1 minute
EXAMPLES = sorted(p for p in (pathlib.Path(__file__).resolve().parents[2] / "examples" / "claims")
                  .glob("*.toml") if p.stem != "literature")
FAMILIES = {"basics", "bias_variance", "ridge", "batchnorm"}


def test_one_file_per_family():
    assert FAMILIES <= {p.stem for p in EXAMPLES}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_verdicts_match_their_comments(path):
    verdicts, _ = check(path, seed=0)
    mismatches = {v.name: (v.identity.expected, v.verdict, v.reason) for v in verdicts
                  if not v.matches}
    assert not mismatches
    assert not [v.name for v in verdicts if v.reason.startswith("defect")]
    wrong = [v for v in verdicts if v.verdict == "fails"]
    assert all(counterexample(v) is not None for v in wrong)
    text = path.read_text()
    for v in verdicts:  # the comment above each claim states the same verdict
        said = {"holds": "holds", "refuted": "fails",
                "approximate": "approximate"}[v.identity.expected]
        assert f"expected verdict: {said}" in text or f"expected: {said}" in text


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
    verdicts, _ = check({"claim": twins}, seed=0)
    survivors = [(v.name, v.verdict, v.reason) for v in verdicts
                 if v.verdict != "fails" or counterexample(v) is None]
    assert not survivors  # a checker that cannot fail proves nothing
