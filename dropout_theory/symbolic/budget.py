"""A size estimate of the symbolic work, so a legal but enormous claim cannot stall the run.

The expectation engine expands powers of sums into multiple sums and renames their indices
canonically by trying every permutation: the work grows like (number of expanded terms) x
(nested sums)!. Claims beyond these limits get ``inconclusive`` from the symbolic route and
are still judged numerically.

The estimate cannot foresee everything (an expansion that cancels late, a slow
simplification), so the symbolic route also runs under a limit of CPU time,
:func:`time_limit` (:data:`TIME_LIMIT` seconds, 30 by default; ``dropout-theory check
--time-limit`` sets it, and a file's routes share 4 times that, :func:`total_time_limit`):
past it the route stops with :class:`SymbolicTimeout` (a
:class:`~.expectation.NoClosedForm`), says ``inconclusive``, and the numeric routes go on.

The limit counts the process's CPU time, not wall-clock time: on a machine shared with other
work the same claim gets the same symbolic work, so a run's verdicts and JSON do not change
with the load (with a wall-clock limit a loaded machine left more statements unproved, and
so planned more checks). It is a ``SIGPROF`` interval timer (``ITIMER_PROF``, user and
system time) whose handler raises in the main thread: SymPy is pure Python, so the exception
arrives between two bytecodes and unwinds through ``finally`` blocks and ``with`` statements
like any other exception (SymPy's caches only store results of calls that returned). One
long call into C (a huge integer power) is not interrupted until it returns; the claim
parser's limits on literals and exponents keep those short. It is only armed in the main
thread, and only when no other ``ITIMER_PROF`` timer is running (a sampling profiler): then
the route runs without a limit rather than disturb a timer it does not own. The previous
handler and timer are restored on exit.

Past the limit the timer keeps firing, every :data:`REPEAT` seconds of CPU, and each time the
handler raises again until the exception leaves the body: :class:`SymbolicTimeout` is a
``ValueError`` (a :class:`~.expectation.NoClosedForm`), and code inside the engine or SymPy
that catches ``ValueError`` can swallow one. With a single shot, a claim file whose first
timeout landed in such a handler ran its expansion on without any limit (past 40 s in the
test of many slow claims).
"""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager

import sympy as sp

from .expectation import NoClosedForm
from .operators import Cov, Var
from .terms import shortest

__all__ = ["MAX_NESTED_SUMS", "MAX_TERMS", "symbolic_size", "TIME_LIMIT", "SymbolicTimeout",
           "time_limit", "set_time_limit", "total_time_limit", "shortest_in_time", "GAVE_UP"]

#: what SymPy and the engine raise when they give up on a derivation: no closed form, never a
#: verdict (a :class:`SymbolicTimeout`, a ``NoClosedForm`` and an expansion refused are
#: ``ValueError`` s too)
GAVE_UP = (TypeError, ValueError, NotImplementedError, RecursionError, AttributeError,
           sp.PolynomialError)
#: seconds of CPU the symbolic route may take per statement before it says ``inconclusive``
TIME_LIMIT = 30.0
#: seconds of CPU between the timeouts raised again once the limit is past (one may be
#: swallowed by an ``except ValueError`` in the code it interrupts)
REPEAT = 0.01
_DEADLINE = None  # time.process_time() after which no symbolic route starts (total_time_limit)


class SymbolicTimeout(NoClosedForm):
    """The symbolic route ran past its time limit (no verdict: ``inconclusive``)."""


def set_time_limit(seconds: float) -> float:
    """Set :data:`TIME_LIMIT` (seconds, > 0); returns the previous value."""
    global TIME_LIMIT
    if not (isinstance(seconds, (int, float)) and 0 < seconds < 1e6):
        raise ValueError(f"the symbolic time limit must be in (0, 1e6) seconds, got {seconds!r}")
    previous, TIME_LIMIT = TIME_LIMIT, float(seconds)
    return previous


@contextmanager
def time_limit(seconds: float | None = None):
    """Raise :class:`SymbolicTimeout` in the body after ``seconds`` of CPU time (default
    :data:`TIME_LIMIT`) where a timer can be armed safely; otherwise run without a limit.

    Examples
    --------
    >>> with time_limit(5):
    ...     sp.expand((sp.Symbol("a") + 1) ** 3)
    a**3 + 3*a**2 + 3*a + 1
    """
    seconds = TIME_LIMIT if seconds is None else seconds
    if _DEADLINE is not None:
        left = _DEADLINE - time.process_time()
        if left <= 0:
            raise SymbolicTimeout("the symbolic routes of this run used up their total time "
                                  "limit (4 x --time-limit)")
        seconds = min(seconds, left)
    armable = (hasattr(signal, "setitimer") and hasattr(signal, "SIGPROF")
               and threading.current_thread() is threading.main_thread()
               and signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0))
    if not armable:
        yield
        return

    active = [True]

    def alarm(signum, frame):
        if active[0]:  # not once the body has been left (a tick before the timer stopped)
            raise SymbolicTimeout(f"the symbolic route stopped after its time limit of "
                                  f"{seconds:g} s of CPU (dropout-theory check --time-limit)")

    previous = signal.signal(signal.SIGPROF, alarm)
    try:
        signal.setitimer(signal.ITIMER_PROF, seconds, REPEAT)
        yield
    finally:
        active[0] = False
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def shortest_in_time(expr):
    """:func:`~.terms.shortest` of ``expr`` under the time limit; ``expr`` itself (equal, only
    perhaps longer) when the limit runs out first."""
    try:
        with time_limit():
            return shortest(expr)
    except NoClosedForm:
        return expr


@contextmanager
def total_time_limit(seconds: float):
    """All symbolic routes run in the body share ``seconds`` of CPU: each gets at most what is left
    (and its own :data:`TIME_LIMIT`), and once nothing is left each says ``inconclusive`` at
    once. ``dropout-theory check`` gives a file 4 x ``--time-limit``, so a file of many slow
    claims cannot take claims x the limit."""
    global _DEADLINE
    previous, _DEADLINE = _DEADLINE, time.process_time() + seconds
    try:
        yield
    finally:
        _DEADLINE = previous


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
