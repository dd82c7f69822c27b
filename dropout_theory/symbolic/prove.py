"""``prove_equal``: is ``lhs - rhs`` exactly zero for every size and parameter value?"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import sympy as sp

from .expectation import Derivation, Step
from .terms import Term, collect_terms, expand_terms, terms_to_expr

__all__ = ["Proof", "prove_equal"]

_OPAQUE = (sp.Function, sp.Derivative, sp.Integral, sp.Piecewise, sp.Max, sp.Min)
#: functions with a kink: a residual made of them is decided case by case
_KINKED = (sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign, sp.Piecewise)


def _without_positive_factors(relation):
    """``c u < 0`` as ``u < 0`` when ``c > 0`` is known (``x/q <= 0`` is ``x <= 0``)."""
    difference = sp.factor(relation.lhs - relation.rhs)
    kept = [f for f in sp.Mul.make_args(difference) if f.is_positive is not True]
    return relation.func(sp.Mul(*kept), 0)


def _cases(terms) -> list | None:
    """A residual of kinked functions (``Max``, ``Abs``, ...) case by case: the summands of
    the terms over the same sums, added, rewritten as one ``Piecewise`` whose conditions are
    freed of positive factors and simplified; the value of every piece (``None`` when the
    residual has no kink, sums inside a kink, or SymPy gives up)."""
    groups = {}
    for term in terms:
        groups.setdefault(tuple(term.limits), []).append(term.body)
    summands = [sp.Add(*bodies) for bodies in groups.values()]
    if not any(s.has(*_KINKED) for s in summands) or any(s.has(sp.Sum) for s in summands):
        return None
    pieces = []
    try:
        for summand in summands:
            cases = sp.simplify(sp.piecewise_fold(summand.rewrite(sp.Piecewise).replace(
                lambda e: isinstance(e, sp.core.relational.Relational),
                _without_positive_factors)))
            pieces += [e for e, _ in cases.args] if isinstance(cases, sp.Piecewise) else [cases]
    except (TypeError, ValueError, NotImplementedError, RecursionError):
        return None
    return pieces


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
    #: the left side as compared (the engine's derivation), kept for "what is true instead"
    lhs: sp.Expr | None = None


def _opaque_power(node) -> bool:
    """A root or other non-integer power of a compound base: its canonical form is not unique
    (``sqrt(x**2 + 2*x + 1)`` is ``1 + x`` for x > 0), so a residual with one is undecided."""
    return (isinstance(node, sp.Pow) and node.exp.is_integer is not True
            and not (node.base.is_Atom or isinstance(node.base, sp.Indexed)))


def _decidable(term: Term) -> bool:
    return not any(isinstance(a, _OPAQUE) or _opaque_power(a)
                   for a in sp.preorder_traversal(term.body))


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
    if (left - right).atoms(sp.Trace):
        return replace(_prove_traces(left, right, steps), lhs=left)
    residual_terms = collect_terms(expand_terms(left - right))
    residual = terms_to_expr(residual_terms)
    steps.append(Step("residual lhs - rhs in canonical form", residual))
    if not residual_terms:
        status = "proved"
    elif all(_decidable(t) for t in residual_terms):
        status = "refuted"
    elif (cases := _cases(residual_terms)) is not None and all(c == 0 for c in cases):
        steps.append(Step("every case of the piecewise residual (signs of the kinks' "
                          "arguments) simplifies to 0", sp.Integer(0)))
        status = "proved"
    elif cases and any(c != 0 and _decidable(Term(c)) for c in cases):
        # a non-zero polynomial on some case; whether that case occurs is left, as for
        # every refutation, to a witness the exact route certifies
        steps.append(Step("some case of the piecewise residual is a non-zero polynomial",
                          sp.Tuple(*cases)))
        status = "refuted"
    else:
        status = "inconclusive"
    return Proof(status, residual, steps, lhs=left)


def _prove_traces(left, right, steps) -> Proof:
    """Claims with traces of matrix expressions (``tr(u^T A^{-1} X^T y)``, symbolic sizes).

    Each distinct trace becomes an opaque atom; equal atoms cancel (``proved``). A non-zero
    residual is ``refuted`` only with a witness: its value at one seeded numeric point
    (standard normal matrices, sizes 3, 7, 11, ... by symbol name, scalars in (0.2, 0.8))
    exceeds the rounding bound; otherwise it is ``inconclusive``.
    """
    traces = sorted((left - right).atoms(sp.Trace), key=sp.srepr)
    atoms = {t: sp.Symbol(f"TRACE{k}") for k, t in enumerate(traces)}
    residual_terms = collect_terms(expand_terms((left - right).xreplace(atoms)))
    residual = terms_to_expr(residual_terms).xreplace({v: k for k, v in atoms.items()})
    steps.append(Step("residual lhs - rhs (each trace an atom)", residual))
    if not residual_terms:
        return Proof("proved", residual, steps)
    value, bound = _witness(residual)
    steps.append(Step(f"residual at a seeded witness point (rounding bound {bound:.3g})",
                      sp.Float(value)))
    return Proof("refuted" if abs(value) > bound else "inconclusive", residual, steps)


def _witness(residual):
    import numpy as np

    from ..sampling.tolerance import float_tolerance
    from .evaluate import evaluate
    rng = np.random.default_rng(20261125)
    sizes = sorted({s for m in residual.atoms(sp.MatrixSymbol) for s in m.shape
                    if isinstance(s, sp.Symbol)}, key=str)
    values = {str(s): 3 + 4 * k for k, s in enumerate(sizes)}
    for symbol in sorted(residual.free_symbols - set(sizes), key=str):
        if not isinstance(symbol, sp.MatrixSymbol):
            values[str(symbol)] = float(rng.uniform(0.2, 0.8))
    for matrix in sorted(residual.atoms(sp.MatrixSymbol), key=str):
        shape = [int(sp.sympify(k).xreplace({s: values[str(s)] for s in sizes}))
                 for k in matrix.shape]
        values[matrix.name] = rng.standard_normal(shape)
    try:
        value = evaluate(residual, values)
        magnitude = sum(abs(evaluate(t, values)) for t in sp.Add.make_args(residual))
    except (ValueError, np.linalg.LinAlgError):
        return 0.0, float("inf")
    width = max(values[str(s)] for s in sizes) if sizes else 1
    return value, float_tolerance(magnitude, 4 * width ** 3)
