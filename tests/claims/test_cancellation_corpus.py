"""Verdicts that are never wrong: a corpus of exact identities whose sides agree only after
heavy cancellation never gets ``fails``, at any of 20 root seeds; each has a wrong twin that
gets ``fails`` with a counterexample beyond every rounding bound (see corpus/README.md); the
statements issue 10 reported get their right verdict at every root seed in 0-9.

The default run checks the true claims at 5 seeds with fewer Monte Carlo samples than the
default (rounding does not shrink with the sample size, so a rounding-level false ``fails``
shows at any size; sampling false alarms are bounded by the run's alpha at every size) and the
twins at one seed; ``python -m pytest -m slow`` runs all 20 seeds at the default size (about
10 minutes here).
"""
import pathlib

import pytest

from dropout_theory.claims import load_identities
from dropout_theory.report import counterexample
from dropout_theory.routes.result import violation
from dropout_theory.verify import verify

CORPUS = pathlib.Path(__file__).parent / "corpus"
TRUE = load_identities(CORPUS / "cancellation.toml")
TWINS = load_identities(CORPUS / "cancellation_twins.toml")
ISSUE = load_identities(CORPUS / "issue10.toml")
SEEDS = range(20)


def test_the_corpus_is_large_and_every_claim_has_a_twin():
    assert len(TRUE) >= 30
    assert {t.name for t in TWINS} == {f"{i.name}-twin" for i in TRUE}


def _never_fails(seed, n_samples):
    verdicts, _ = verify(TRUE, root=seed, n_samples=n_samples)
    wrong = {v.name: (v.verdict, v.reason) for v in verdicts if v.verdict != "holds"}
    assert not wrong, f"seed {seed}: {wrong}"


@pytest.mark.parametrize("seed", SEEDS[:5])
def test_true_identities_hold_at_every_seed(seed):
    _never_fails(seed, 1 << 13)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_true_identities_hold_at_every_seed_at_the_default_size(seed):
    _never_fails(seed, 1 << 17)


def _certified(result, relation) -> bool:
    """The counterexample stands beyond rounding (and, sampled, beyond the z-test)."""
    allowance = result.rounding + (result.critical or 0.0) * (result.se or 0.0)
    return violation(relation, result.difference) > allowance


def _twins_fail(seed):
    verdicts, _ = verify(TWINS, root=seed)
    for v in verdicts:
        example = counterexample(v)
        assert v.verdict == "fails" and example is not None, (v.name, v.verdict, v.reason)
        assert _certified(example, v.identity.relation), (v.name, example)


def test_every_twin_fails_with_a_certified_counterexample():
    _twins_fail(0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS[1:])
def test_every_twin_fails_at_every_seed(seed):
    _twins_fail(seed)


@pytest.mark.parametrize("seed", range(10))
def test_the_statements_of_issue_10_get_their_verdict_at_every_seed(seed):
    verdicts, _ = verify(ISSUE, root=seed)
    assert all(v.matches for v in verdicts), [(v.name, v.verdict, v.reason) for v in verdicts]
    sized = next(v for v in verdicts if v.name == "at-most-four-units-kept")
    assert counterexample(sized).point["d"] >= 5 and counterexample(sized).route == "exact"
