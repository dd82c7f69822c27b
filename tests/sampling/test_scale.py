"""Checks at the sizes people use (``verify --large``) and the time budget (``--budget``):
the large checks exist at d = 1024 and n x d = 1000 x 256, agree for the true statement and
reject its mutation twins at the sample counts a default ``--large`` run gives them; a
budget's sample count reproduces the run bit for bit through ``--samples``."""
import json

import pytest

from dropout_theory import routes, scale
from dropout_theory.cli import main
from dropout_theory.registry import select
from dropout_theory.report import to_json
from dropout_theory.sampling import generator
from dropout_theory.verify import verify

#: a default --large run has some 400 statistical checks: test at that critical value
_CHECKS = 400


def _large_point(identity, n_samples=1 << 17):
    first = identity.draw_points(generator(0, identity.name, 1 << 30), 4)[0]
    (route, point, label, key, samples), = scale.large_checks(identity, first, root=0,
                                                              n_samples=n_samples)
    return point, label, key, samples


def test_large_samples_follow_the_work_and_the_run():
    assert scale.large_samples(8224, 1 << 17) == 32640  # d = 1024, one unit
    assert scale.large_samples(2048032, 1 << 17) == 128  # the ridge family at 1000 x 256
    assert scale.large_samples(8224, 1 << 19) == 130560  # four times the samples, four times there
    assert scale.large_samples(10 ** 9, 1 << 17) == 64  # never below two per batch
    assert scale.large_samples(40, 4096) == 4096  # never above the run's count


@pytest.mark.parametrize("name, sizes", [("bias-variance.naive", {"d": 1024}),
                                         ("basics.inverted-variance", {"d": 1024}),
                                         ("ridge.expected-loss", {"n": 1000, "d": 256})])
def test_large_check_agrees_and_rejects_the_twins(name, sizes):
    identity, = select([name])
    point, label, key, samples = _large_point(identity)
    assert {k: point[k] for k in sizes} == sizes and label.startswith("size ")
    context = routes.Context(0, samples, n_checks=_CHECKS, key=key)
    prepared, stats = routes.sample_batches("montecarlo", identity, point, identity.rhs, context)
    true = routes.judge_batches("montecarlo", identity, point, prepared, stats, context)
    assert true.status == "agrees", true
    assert 0 < true.resolution < 0.25  # it can see a relative error of a quarter
    lo, hi = true.detail()  # lhs - rhs over the empirical Bernstein box
    rigorous = max(abs(lo), abs(hi)) / abs(true.rhs)
    twins = identity.mutations(identity.rhs)
    seen = set()
    for twin_name, wrong in twins.items():
        twin = routes.prepare(identity.model, identity, point, wrong)
        result = routes.judge_batches("montecarlo", identity, point, twin, stats, context)
        off = abs(result.rhs - true.rhs) / abs(true.rhs)
        if off > 2 * true.resolution:  # the t test must see a twin this far off ...
            assert result.status in ("disagrees", "unresolved"), (twin_name, off, result)
            seen.add(twin_name)
        if off > 1.01 * rigorous:  # ... and the gate confirm it beyond the rigorous resolution
            assert result.status == "disagrees", (twin_name, off, rigorous, result)
        if result.status == "disagrees":
            assert off > 2 * true.resolution / 3 and result.gate == "empirical Bernstein"
    assert "factor-2" in seen



def test_verify_large_reports_the_resolution_per_statement():
    names = ["basics.inverted-mean", "ridge.expected-loss", "basics.standard-scaling"]
    verdicts, meta = verify(select(names), root=1, n_samples=4096, large=True)
    assert [v.verdict for v in verdicts] == ["holds"] * 3
    large = {e["name"]: e for e in meta["large"]}
    assert set(large) == {"basics.inverted-mean", "ridge.expected-loss"}  # no width: none
    assert large["basics.inverted-mean"]["sizes"] == {"d": 1024}
    assert large["ridge.expected-loss"]["sizes"] == {"n": 1000, "d": 256}
    assert large["ridge.expected-loss"]["n_samples"] == 64
    for entry in large.values():
        assert entry["status"] == "agrees" and 0 < entry["resolution"] < 1
    text = scale.render(meta)
    assert "sizes people use" in text and "n=1000 x d=256" in text
    # without --large the run is the one it always was
    plain, plain_meta = verify(select(names), root=1, n_samples=4096)
    assert "large" not in plain_meta
    assert [len(v.routes) + (v.name in large) for v in plain] == [len(v.routes) for v in verdicts]


def test_budget_sample_count_reproduces_the_run(capsys):
    names = ["basics.inverted-variance", "bias-variance.inverted"]
    assert main(["verify", *names, "--budget", "1.5", "--json"]) == 0
    budgeted = json.loads(capsys.readouterr().out)
    n = budgeted["samples"]
    assert budgeted["budget"]["samples"] == n and n % 32 == 0 and n >= 64
    assert budgeted["budget"]["resolution"]["checks"] > 0
    assert main(["verify", *names, "--samples", str(n), "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    del budgeted["budget"]
    assert budgeted == plain


def test_budget_is_validated():
    with pytest.raises(ValueError, match="budget"):
        scale.choose_samples(0.0, [], lambda n: {}, n_samples=64)
    assert main(["verify", "basics.inverted-mean", "--budget", "nan"]) == 2


def test_budget_buys_more_samples_for_more_seconds():
    identities = select(["basics.inverted-variance"])
    verdicts, meta = verify(identities, root=0, n_samples=1 << 12, budget=0.2)
    small = meta["samples"]
    verdicts, meta = verify(identities, root=0, n_samples=1 << 12, budget=5.0)
    assert meta["samples"] > small
    assert to_json(verdicts, meta, command="verify")["budget"]["samples"] == meta["samples"]
