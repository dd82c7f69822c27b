"""``prove_equal``: is ``lhs - rhs`` exactly zero for every size and parameter value?"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .expectation import Derivation, Step
from .terms import Term, collect_terms, expand_terms, terms_to_expr

__all__ = ["Proof", "prove_equal"]

_OPAQUE = (sp.Function, sp.Derivative, sp.Integral, sp.Piecewise)


@dataclass
class Proof:
    """Outcome of :func:`prove_equal`.

    ``status`` is ``proved`` (the residual is exactly 0 for symbolic sizes), ``refuted`` (the
    residual is a non-zero combination of distinct canonical monomials with rational
    coefficients, so it is non-zero for some parameter values and sizes) or ``inconclusive``
    (the residual contains functions the canonical form cannot decide).
    """

    status: str
    residual: sp.Expr
    steps: list = field(default_factory=list)


def _decidable(term: Term) -> bool:
    return not any(isinstance(a, _OPAQUE) for a in sp.preorder_traversal(term.body))


def prove_equal(lhs, rhs, *, assumptions: dict | None = None) -> Proof:
    """Compare a derived ``lhs`` (an expression or a :class:`Derivation`) with ``rhs``.

    ``assumptions`` maps expressions to replacements applied to both sides before comparing
    (for example a normalisation constraint on a data matrix).

    Examples
    --------
    >>> a = sp.IndexedBase("a"); i, j, d = sp.symbols("i j d", integer=True)
    >>> prove_equal(sp.Sum(a[i], (i, 1, d)) ** 2,
    ...             sp.Sum(a[i] * a[j], (i, 1, d), (j, 1, d))).status
    'proved'
    """
    steps = list(lhs.steps) if isinstance(lhs, Derivation) else []
    left = lhs.result if isinstance(lhs, Derivation) else sp.sympify(lhs)
    right = sp.sympify(rhs)
    steps.append(Step("claimed right-hand side", right))
    if assumptions:
        left, right = left.xreplace(assumptions), right.xreplace(assumptions)
    residual_terms = collect_terms(expand_terms(left - right))
    residual = terms_to_expr(residual_terms)
    steps.append(Step("residual lhs - rhs in canonical form", residual))
    if not residual_terms:
        status = "proved"
    elif all(_decidable(t) for t in residual_terms):
        status = "refuted"
    else:
        status = "inconclusive"
    return Proof(status, residual, steps)
