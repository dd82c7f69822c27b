"""Printed derivations, shared by ``dropout-theory derive`` and the ``derivations/`` scripts."""
from __future__ import annotations

import sys

import sympy as sp

from .identity import select
from .symbolic import prove_equal

__all__ = ["derivation_text"]


def derivation_text(identity, *, latex: bool = False) -> str:
    """The statement, notation, source and every derivation step of ``identity``."""
    proof = prove_equal(*identity.symbolic())
    show = sp.latex if latex else sp.sstr
    lines = [f"{identity.name}: {identity.statement}", f"notation: {identity.notation}",
             f"source: {identity.source}", ""]
    for number, step in enumerate(proof.steps, 1):
        lines += [f"{number}. {step.label}", f"   {show(step.expr)}"]
    lines += ["", f"symbolic verdict: {proof.status}"]
    return "\n".join(lines)


def print_family(family: str, argv: list[str]) -> None:
    """Entry point of a ``derivations/FAMILY.py`` script (``--latex`` for LaTeX)."""
    try:
        for identity in select([family]):
            print(derivation_text(identity, latex="--latex" in argv), end="\n\n")
    except BrokenPipeError:  # piped into `head`: not an error of ours
        sys.stderr.close()
