"""Derive a statement written with operator nodes: each ``E``/``Var``/``Cov`` by the engine.

A claim's sides are expressions such as ``exp(E(log X))/Var(Y)``; the symbolic route replaces
each operator node by its exact derivation (for symbolic sizes) and compares the results.
``P`` of an event, and ``E`` of a Piecewise on events (a conditional's numerator), are
derived in closed form by :mod:`.probability` where it applies (:class:`NoClosedForm`
otherwise); an expression too large for the engine (see :mod:`.budget`) is refused before
any work, also as :class:`NoClosedForm`.
"""
from __future__ import annotations

import sympy as sp

from .budget import MAX_NESTED_SUMS, MAX_TERMS, symbolic_size
from .expectation import Derivation, NoClosedForm, Step, covariance, expectation, variance
from .operators import Cov, E, P, Var, operator_nodes
from .probability import derive_on_event, derive_probability
from .terms import ExpansionError

__all__ = ["derive_statement"]


def _derive(node, space) -> Derivation:
    if isinstance(node, P):
        return derive_probability(node.args[0], space)
    if isinstance(node, E) and isinstance(node.args[0], sp.Piecewise):
        try:
            return expectation(node.args[0], space)
        except (NoClosedForm, ExpansionError):
            return derive_on_event(node.args[0], space)
    if isinstance(node, E):
        return expectation(node.args[0], space)
    if isinstance(node, Var):
        return variance(node.args[0], space)
    if isinstance(node, Cov):
        return covariance(node.args[0], node.args[1], space)
    raise NoClosedForm(f"no rule for {node}")


def derive_statement(expr, space) -> Derivation:
    """``expr`` with every operator node replaced by the engine's derivation, with the steps.

    Examples
    --------
    >>> from dropout_theory.symbolic import Bernoulli, RandomSpace
    >>> q, x = sp.Symbol("q", positive=True), sp.Symbol("x", real=True)
    >>> space = RandomSpace(); m = space.scalar("m", Bernoulli(q))
    >>> derive_statement(E(m * x / q) + 1, space).result
    x + 1
    """
    expr = sp.sympify(expr)
    order, terms = symbolic_size(expr)
    if order > MAX_NESTED_SUMS or terms > MAX_TERMS:
        raise NoClosedForm(f"too large for the engine ({order} nested sums, ~{terms} terms; "
                           f"limits {MAX_NESTED_SUMS} and {MAX_TERMS})")
    nodes = operator_nodes(expr)
    derived = {node: _derive(node, space) for node in nodes}
    steps = [Step(f"model: {'; '.join(space.describe()) or 'no random variables'}; statement",
                  expr)]
    for node, derivation in derived.items():
        steps += [Step(f"[{node}] {step.label}", step.expr) for step in derivation.steps[1:]]
    result = expr.xreplace({node: d.result for node, d in derived.items()})
    steps.append(Step("substitute the derived operators", result))
    return Derivation(result, steps)
