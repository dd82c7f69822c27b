"""Power: generated wrong variants of the registry's statements, and the `power` command."""
import json
from types import SimpleNamespace

import pytest
import sympy as sp

from dropout_theory.cli import main
from dropout_theory.mutations import variants
from dropout_theory.power import library
from dropout_theory.registry import registry, select

q, x, y = sp.symbols("q x y", positive=True)
i, d = sp.symbols("i d", integer=True, positive=True)
w = sp.IndexedBase("w", real=True)


def _stated(rhs, relation="==", expected="holds"):
    return SimpleNamespace(rhs=rhs, relation=relation, expected=expected, probability="q")


def test_each_kind_of_mistake_is_generated_and_differs():
    rhs = 3 * x**2 * (1 - q) / q + y
    found = variants(_stated(rhs), limit=16)
    assert {label.split(" ", 1)[0] for label in found} == {
        "swap-p-q", "drop-term", "wrong-constant", "wrong-exponent"}
    assert found["swap-p-q"] == rhs.subs(q, 1 - q)
    assert found["drop-term y"] == 3 * x**2 * (1 - q) / q
    assert found["wrong-constant 3"] == sp.Rational(9, 2) * x**2 * (1 - q) / q + y
    assert found["wrong-exponent x**2"] == 3 * x**3 * (1 - q) / q + y
    assert found["wrong-exponent 1/q"] == 3 * x**2 * (1 - q) + y
    assert all(sp.simplify(v - rhs) != 0 for v in found.values())


def test_summation_limits_and_indices_are_never_mutated():
    rhs = 2 * sp.Sum(w[i] ** 2, (i, 1, d))
    for wrong in variants(_stated(rhs), limit=16).values():
        for node in sp.preorder_traversal(wrong):
            if isinstance(node, sp.Sum):
                assert node.limits == ((i, 1, d),)


def test_limit_takes_kinds_in_turn():
    rhs = 3 * x**2 * (1 - q) / q + y
    assert [label.split(" ", 1)[0] for label in variants(_stated(rhs), limit=4)] == [
        "swap-p-q", "drop-term", "wrong-constant", "wrong-exponent"]


def test_no_generated_variant_of_an_inequality_or_a_refuted_statement():
    # a larger upper bound still holds: only an inequality's own wrong claims are safe
    assert variants(_stated(1 - q, relation="<="), limit=16) == {}
    assert variants(_stated(1 - q, relation=">="), limit=16) == {}
    assert variants(_stated(1 - q, expected="refuted"), limit=16) == {}
    bound = registry()["jensen.probit-sigmoid-logistic-bound"]
    assert {kind for kind, _ in library(bound).values()} == {"twin"}
    assert len(library(bound)) >= 2


def test_a_statement_without_generated_variants_is_filled_with_its_twins():
    mean = registry()["basics.inverted-mean"]
    assert variants(mean) == {}
    assert [kind for kind, _ in library(mean).values()] == ["twin", "twin"]


def test_power_of_basics_every_variant_detected_and_json_shape(capsys):
    assert main(["power", "--family", "basics", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["schema"] == "dropout-theory/power/1"
    assert out["per_check_alpha"] == pytest.approx(out["alpha"] / out["n_statistical_checks"])
    row = out["families"]["basics"]
    assert row["statements"] == 4 and row["variants"] == len(out["variants"]) >= 8
    # every plausible mistake in basics moves the answer by far more than the checks resolve
    assert row["detected"] == row["variants"] and row["detection_rate"] == 1.0
    assert {"swap-p-q", "drop-term", "wrong-constant", "wrong-exponent"} <= set(row["by_kind"])
    assert 0 < row["resolution"]["min"] <= row["resolution"]["median"] <= \
        row["resolution"]["max"] < 0.1
    for record in out["variants"]:
        assert record["verdict"] == "fails" and record["outcome"] == "detected"
        assert record["relative_gap"] is None or \
            record["relative_gap"] > row["resolution"]["max"]
    assert all(s["matches"] for s in out["statements"])


@pytest.mark.parametrize("argv,message", [
    (["power", "--variants", "0"], "--variants must be a positive integer, got 0"),
    (["power", "--variants", "17"], "--variants must be at most 16, got 17"),
    (["power", "--family", "no.such"], "unknown identity or family 'no.such'"),
    (["power", "--samples", "-5"], "--samples must be a positive integer, got -5"),
])
def test_power_bad_input_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.slow
def test_every_statement_of_the_registry_gets_at_least_two_variants():
    for identity in select([]):
        if identity.expected != "refuted":
            assert len(library(identity)) >= 2, identity.name
