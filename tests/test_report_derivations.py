"""Derivations worth reading: every family has a ``derivations/`` script (and ``all.py``
runs each), text mode draws the steps with ``sympy.pretty`` (no LaTeX), ``--latex`` prints
LaTeX. One statement per family is derived here (the whole registry's symbolic route is
``tests/test_registry_routes.py``'s job)."""
from __future__ import annotations

import ast
import runpy
from pathlib import Path

import pytest

from dropout_theory.registry import registry
from dropout_theory.report import derivation_text

DERIVATIONS = Path(__file__).resolve().parents[1] / "derivations"
FAMILIES = list(dict.fromkeys(i.family for i in registry().values()))
#: LaTeX commands that must not reach text mode
LATEX = ("\\frac", "\\sum", "\\operatorname", "\\left", "\\mathbb", "\\cdot", "\\sigma")


def test_all_py_runs_one_script_per_family():
    module = runpy.run_path(str(DERIVATIONS / "all.py"))
    assert [p.name for p in module["scripts"]()] == \
        [f"{f.replace('-', '_')}.py" for f in FAMILIES]


@pytest.mark.parametrize("family", FAMILIES)
def test_family_script_prints_its_family(family):
    script = DERIVATIONS / f"{family.replace('-', '_')}.py"
    calls = [node for node in ast.walk(ast.parse(script.read_text()))
             if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "print_family"]
    assert [c.args[0].value for c in calls] == [family]


@pytest.mark.parametrize("family", FAMILIES)
def test_text_is_pretty_and_latex_is_latex(family):
    identity = next(i for i in registry().values() if i.family == family)
    text = derivation_text(identity)
    assert text.startswith(identity.name + "\nclaim:\n")
    assert "symbolic verdict:" in text
    assert not [cmd for cmd in LATEX if cmd in text], text[:400]
    latex = derivation_text(identity, latex=True)
    assert latex.splitlines()[0] == f"{identity.name}: {identity.statement}"
    assert len(text.splitlines()) > len(latex.splitlines())  # drawn on several lines
