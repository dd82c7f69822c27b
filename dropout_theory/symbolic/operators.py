"""Unevaluated statistical operators ``E``, ``Var``, ``Cov`` and ``P`` in SymPy expressions.

A statement compares numbers: its random quantities appear only inside these nodes. The
symbolic route replaces each node by the engine's derivation; the numeric routes replace it by
a statistic over enumerated outcomes or sampled batches. They live in the machinery so that
registry identities and user claims share one definition.
"""
from __future__ import annotations

import sympy as sp

__all__ = ["E", "Var", "Cov", "P", "Given", "OPERATORS", "OPERATOR_TYPES", "operator_nodes"]


class _Operator(sp.Function):
    """An unevaluated operator node; numeric arguments must not send SymPy to mpmath."""

    @classmethod
    def _should_evalf(cls, arg):
        return -1


class E(_Operator):
    """Expectation ``E(X)``."""

    nargs = 1


class Var(_Operator):
    """Variance ``Var(X)``."""

    nargs = 1


class Cov(_Operator):
    """Covariance ``Cov(X, Y)``."""

    nargs = 2


class P(_Operator):
    """Probability of an event, ``P(X > c)``."""

    nargs = 1


class Given(_Operator):
    """The conditional mean ``E(f | V)``, a random variable: ``Given(f, Tuple(*V))``, with
    ``V`` the conditioned random symbols and arrays (``IndexedBase``). Claims rewrite it into
    plain expectations (:mod:`dropout_theory.claims.conditional`) before any route sees it, so
    it is not one of :data:`OPERATOR_TYPES`."""

    nargs = 2
    is_commutative = True  # a number given V (its second argument, a Tuple, is not)

    def _sympystr(self, printer):
        given = ", ".join(printer._print(v) for v in self.args[1])
        return f"E({printer._print(self.args[0])} | {given})"

    def _latex(self, printer):
        given = ", ".join(printer._print(v) for v in self.args[1])
        return rf"E\left({printer._print(self.args[0])} \;\middle|\; {given}\right)"

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm
        return prettyForm(sp.sstr(self))


OPERATORS = {"E": E, "Var": Var, "Cov": Cov, "P": P}
OPERATOR_TYPES = tuple(OPERATORS.values())


def operator_nodes(*exprs) -> list:
    """The distinct operator nodes of ``exprs``, in a fixed (sorted) order.

    Examples
    --------
    >>> x = sp.Symbol("x")
    >>> operator_nodes(E(x) + Var(x), E(x))
    [E(x), Var(x)]
    """
    found = set()
    for expr in exprs:
        found |= sp.sympify(expr).atoms(*OPERATOR_TYPES)
    return sorted(found, key=sp.default_sort_key)
