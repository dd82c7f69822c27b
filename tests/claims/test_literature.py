"""examples/claims/literature.toml: statements from six dropout papers, each with its
expected verdict (about a third are plausible misreadings that must fail).

The fast test checks a third of the file (every construct the file uses, each paper, true
and false statements) with fewer samples; the slow test checks the whole file at several
root seeds with the defaults, as ``dropout-theory check`` runs it."""
import pathlib
import tomllib

import pytest

from dropout_theory.claims import check
from dropout_theory.identity import Approximation
from dropout_theory.report import counterexample

PATH = pathlib.Path(__file__).resolve().parents[2] / "examples" / "claims" / "literature.toml"
ENTRIES = tomllib.loads(PATH.read_text())["claim"]
FAST = ["wager-logistic-curvature", "wager-penalty-label-free-unscaled",
        "baldi-softmax-nwgm", "baldi-softmax-arithmetic-mean",
        "baldi-logistic-approximation-s3", "baldi-logistic-approximation-s2",
        "baldi-logsumexp-jensen", "srivastava-path-survival-any",
        "hinton-relu-unit-mean", "gal-input-noise-covariance", "gal-mc-mean-relu-positive-input",
        "gal-epistemic-term-is-total", "wager-noise-variance-given-input",
        "li-uout-variance-width-beta"]  # li's first-order shift: test_language.py


def _mismatches(verdicts):
    return {v.name: (v.identity.expected, v.verdict, v.reason) for v in verdicts
            if not v.matches}


def test_the_file_states_enough_from_each_paper():
    assert len(ENTRIES) >= 25
    expected = [e["expected"] for e in ENTRIES]
    assert 0.25 <= expected.count("fails") / len(expected) <= 0.45
    for paper in ("wager", "baldi", "srivastava", "hinton", "gal", "li"):
        assert sum(e["name"].startswith(paper) for e in ENTRIES) >= 3, paper
    text = PATH.read_text()
    for entry in ENTRIES:  # the comment above each claim states the same verdict
        assert f"name = \"{entry['name']}\"\nexpected = \"{entry['expected']}\"" in text


def test_a_third_of_the_file_quickly():
    entries = [e for e in ENTRIES if e["name"] in FAST]
    assert len(entries) == len(FAST)
    verdicts, _ = check({"claim": entries}, seed=0, n_samples=1 << 14, n_points=2)
    assert not _mismatches(verdicts)
    # a failing exact statement comes with its counterexample; a failing approximation with
    # the measured order that differs from the declared one
    for v in verdicts:
        if v.verdict == "fails" and not isinstance(v.identity.model, Approximation):
            assert counterexample(v) is not None, v.name
        elif v.verdict == "fails":
            assert any(r.route == "order" and r.status == "disagrees" for r in v.routes)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_whole_file_at_several_seeds(seed):
    verdicts, _ = check(PATH, seed=seed)
    assert not _mismatches(verdicts)
    assert not [v.name for v in verdicts if v.reason.startswith("defect")]
