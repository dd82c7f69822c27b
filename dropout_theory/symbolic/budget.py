"""A size estimate of the symbolic work, so a legal but enormous claim cannot stall the run.

The expectation engine expands powers of sums into multiple sums and renames their indices
canonically by trying every permutation: the work grows like (number of expanded terms) x
(nested sums)!. Claims beyond these limits get ``inconclusive`` from the symbolic route and
are still judged numerically.
"""
from __future__ import annotations

import sympy as sp

from .operators import Cov, Var

__all__ = ["MAX_NESTED_SUMS", "MAX_TERMS", "symbolic_size"]

#: most nested summation indices in one expanded term (canonical renaming tries k! orders)
MAX_NESTED_SUMS = 6
#: most monomials after expansion
MAX_TERMS = 20000


def symbolic_size(expr) -> tuple[int, int]:
    """``(nested sums, expanded terms)`` of ``expr`` as the engine would expand it (an upper
    estimate: cancellations are not foreseen).

    Examples
    --------
    >>> j, d = sp.symbols("j d", integer=True); w = sp.IndexedBase("w")
    >>> symbolic_size(sp.Sum(w[j], (j, 1, d)) ** 2)
    (2, 1)
    """
    if isinstance(expr, sp.Sum):
        order, terms = symbolic_size(expr.function)
        return order + len(expr.limits), terms
    if isinstance(expr, (Var, Cov)):  # E[XY] - E[X] E[Y]: the products double the size
        sizes = [symbolic_size(a) for a in expr.args]
        order = sum(s[0] for s in sizes) if len(sizes) == 2 else 2 * sizes[0][0]
        terms = sizes[0][1] * sizes[-1][1]
        return order, 2 * terms
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 1:
        order, terms = symbolic_size(expr.base)
        return order * int(expr.exp), min(terms ** int(expr.exp), 10 * MAX_TERMS)
    sizes = [symbolic_size(a) for a in expr.args] or [(0, 1)]
    if expr.is_Add:
        return max(s[0] for s in sizes), min(sum(s[1] for s in sizes), 10 * MAX_TERMS)
    order, terms = 0, 1
    for s in sizes:
        order, terms = order + s[0], min(terms * s[1], 10 * MAX_TERMS)
    return order, terms
