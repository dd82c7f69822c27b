"""Plausible wrong variants of a right side, generated from its expression tree (power).

:meth:`Identity.mutations` are the twins every route *must* reject (tests require it). The
variants here measure *how much* the checks can see: each is a mistake a person plausibly
makes when copying a formula,

- ``swap-p-q``: the keep probability replaced by the drop probability (``q -> 1 - q``);
- ``drop-term``: one additive term of a sum left out (anywhere in the tree);
- ``wrong-constant``: one numeric coefficient or constant term scaled by 3/2 (``2 -> 3``);
- ``wrong-exponent``: one exponent ``k`` raised to ``k + 1`` (``x**2 -> x**3``,
  ``1/q -> 1``, ``q**L -> q**(L + 1)``),

and a variant some check cannot tell from the right side (a dropped term of 1e-12) is what the
power table reports, not a defect. Only equalities get generated variants: a variant of an
inequality's bound may be a weaker claim that still holds (a larger upper bound), so an
inequality's only safe variants are its own ``wrong_claims``. A refuted statement is already
a wrong claim and gets none.
"""
from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from .identity import _differs

__all__ = ["KINDS", "variants"]

KINDS = ("swap-p-q", "drop-term", "wrong-constant", "wrong-exponent")
#: the factor of a wrong constant (2 -> 3, 1/2 -> 3/4)
WRONG_FACTOR = sp.Rational(3, 2)


def variants(identity, *, limit: int = 4) -> dict:
    """``{label: wrong right side}``: up to ``limit`` generated variants of an equality's
    ``rhs``, taken in turn from each kind (:data:`KINDS`) in a fixed tree order, each
    different from ``rhs`` and from one another; ``{}`` for an inequality or a refuted
    statement (module docstring).

    Examples
    --------
    >>> import sympy as sp
    >>> from types import SimpleNamespace
    >>> q, x = sp.symbols("q x", positive=True)
    >>> stated = SimpleNamespace(rhs=2 * x**2 * (1 - q) / q, relation="==", expected="holds",
    ...                          probability="q")
    >>> sorted(variants(stated, limit=8))  # doctest: +NORMALIZE_WHITESPACE
    ['drop-term -q', 'drop-term 1', 'swap-p-q', 'wrong-constant 1', 'wrong-constant 2',
     'wrong-exponent 1/q', 'wrong-exponent x**2']
    """
    if identity.relation != "==" or identity.expected == "refuted":
        return {}
    rhs = identity.rhs
    prob = sp.Symbol(identity.probability, positive=True)
    by_kind = {"swap-p-q": [("swap-p-q", rhs.xreplace({prob: 1 - prob}))],
               "drop-term": [], "wrong-constant": [], "wrong-exponent": []}
    if rhs.is_Number and rhs != 0:  # a constant right side: the constant itself
        by_kind["wrong-constant"].append((f"wrong-constant {_short(rhs)}", WRONG_FACTOR * rhs))
    for node in _nodes(rhs):
        for kind, label, replacement in _edits(node):
            by_kind[kind].append((label, rhs.xreplace({node: replacement})))
    chosen: dict = {}
    queues = [list(by_kind[kind]) for kind in KINDS]
    while len(chosen) < limit and any(queues):
        for queue in queues:
            while queue and len(chosen) < limit:
                label, wrong = queue.pop(0)
                if label not in chosen and _new(wrong, rhs, chosen.values()):
                    chosen[label] = wrong
                    break
    return chosen


def _new(wrong, rhs, taken) -> bool:
    return not any(wrong == other for other in taken) and _differs(wrong, rhs)


def _nodes(expr):
    """The scalar nodes of ``expr`` in a fixed order: not inside summation limits, indices,
    matrix expressions or conditions."""
    if isinstance(expr, (sp.Indexed, sp.Tuple, MatrixExpr, sp.logic.boolalg.Boolean)) \
            or expr.is_Atom:
        return
    yield expr
    children = (expr.function,) if isinstance(expr, (sp.Sum, sp.Product)) else expr.args
    for child in children:
        yield from _nodes(child)


def _edits(node):
    """``(kind, label, replacement of node)`` for each generated mistake at ``node``."""
    if node.is_Add:
        for term in node.args:
            yield "drop-term", f"drop-term {_short(term)}", node - term
            if term.is_Number:
                yield ("wrong-constant", f"wrong-constant {_short(term)}",
                       node - term + WRONG_FACTOR * term)
    elif node.is_Mul:
        coefficient, rest = node.as_coeff_Mul()
        if coefficient.is_Number and abs(coefficient) != 1:
            yield ("wrong-constant", f"wrong-constant {_short(coefficient)}",
                   WRONG_FACTOR * coefficient * rest)
    elif node.is_Pow:
        base, exponent = node.args
        if exponent.is_integer and not base.is_Number:
            yield "wrong-exponent", f"wrong-exponent {_short(node)}", base ** (exponent + 1)


def _short(expr, width: int = 40) -> str:
    text = str(expr)
    return text if len(text) <= width else text[:width - 3] + "..."
