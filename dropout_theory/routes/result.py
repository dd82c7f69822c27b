r"""What a route returns, the run's context, and the one decision rule every numeric route uses.

A numeric route compares ``d = lhs - rhs`` with 0. Exact routes know ``d`` up to a rigorous
rounding bound ``R`` (an enclosure ``[d - R, d + R]``); statistical routes add a standard error
``se`` from independent batches. The claim is rejected only when

.. math:: v(d) - R > z_{crit}\,(se + R_{se}),
          \qquad v(d) = |d| \ (==),\quad d \ (<=),\quad -d \ (>=),

so neither rounding (``R``, and ``R_se`` on the standard error itself) nor sampling at the
run's false-alarm rate can turn a true statement into ``fails``; exact routes have
``se = 0``, and then a rejection is a certified counterexample: the enclosure excludes 0 (or
lies wholly on the wrong side of it).
"""
from __future__ import annotations

import math
from html import escape
from dataclasses import dataclass, field

from ..sampling import DEFAULT_ALPHA, z_crit

__all__ = ["RouteResult", "Context", "violation", "decide", "evidence", "decided_by", "STATISTICAL",
           "EXACT", "VerdictDisplay"]

#: routes whose checks share the run's false-alarm rate (Bonferroni)
STATISTICAL = ("montecarlo", "replicate")
#: routes with no sampling error: a rejection is a certified counterexample
EXACT = ("exact", "exact probability")


@dataclass
class RouteResult:
    """One route's evidence at one point (``None`` where a field does not apply)."""

    route: str
    status: str
    point: dict | None = None
    label: str = ""
    lhs: float | None = None
    rhs: float | None = None
    difference: float | None = None
    #: rigorous enclosure of lhs - rhs (exact routes), or its rounding interval
    interval: tuple | None = None
    rounding: float | None = None
    se: float | None = None
    z: float | None = None
    critical: float | None = None
    resolution: float | None = None
    #: Monte Carlo, a side nonlinear in its statistics: the bound on the second-order term
    second_order: float | None = None
    #: statistical routes, a rejection: what it rests on ("empirical Bernstein", rigorous for
    #: declared value ranges; "t approximation" where no range is known; "nothing random"
    #: for a deterministic quantity, decided by its rounding bound)
    gate: str | None = None
    n_samples: int | None = None
    residual: str | None = None
    witness: dict | None = None
    order: float | None = None
    quantity_order: float | None = None
    local_slopes: list | None = None
    note: str = ""
    #: the route's own object behind ``residual`` (not serialized)
    detail: object = field(default=None, repr=False, compare=False)

    def _repr_html_(self) -> str:
        """One table row in Jupyter: the check, its status and its evidence."""
        return _HEAD + _row(self) + "</table>"


_COLUMNS = ("route", "label", "status", "lhs", "rhs", "difference", "se", "z", "resolution",
            "note")
_HEAD = ("<table><tr>" + "".join(f"<th>{c}</th>" for c in _COLUMNS) + "</tr>")


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return escape("" if value is None else str(value))


def _row(result: RouteResult) -> str:
    return "<tr>" + "".join(f"<td>{_cell(getattr(result, c))}</td>" for c in _COLUMNS) + "</tr>"


class VerdictDisplay:
    """Jupyter rendering of a statement's verdict (``verify.Verdict``, for registry
    identities and claims alike): name, verdict, expected, reason and every route's row."""

    def _repr_html_(self) -> str:
        expected = self.identity.expected
        head = (f"<p><b>{escape(self.name)}</b>: <b>{escape(self.verdict)}</b>"
                + ("" if expected is None else
                   f" (expected {escape(expected)}{'' if self.matches else ', NOT as expected'})")
                + f"<br>{escape(self.reason)}</p>")
        return head + _HEAD + "".join(_row(r) for r in self.routes) + "</table>"


@dataclass(frozen=True)
class Context:
    """The run: root seed, Monte Carlo samples per check, and the false-alarm rate ``alpha``
    shared (Bonferroni) by ``n_checks`` statistical checks; ``key`` names the check's seeds."""

    root: int = 0
    n_samples: int = 1 << 17
    alpha: float = DEFAULT_ALPHA
    n_checks: int = 1
    key: str = ""

    def critical(self, relation: str = "==", share: float = 1.0) -> float:
        """The critical value of one check (two-sided for ``==``, one-sided otherwise) that
        spends ``share`` of the check's part of the run's false-alarm rate."""
        # the share divides the number of checks, not alpha: the run's alpha is what the
        # user gave and was validated, alpha * share may fall below the smallest one accepted
        return z_crit(self.alpha, max(self.n_checks, 1) / share, two_sided=relation == "==")

    def keyed(self, identity) -> str:
        return self.key or identity.name


def violation(relation: str, difference: float) -> float:
    """How far ``lhs - rhs = difference`` goes against ``relation`` (negative: on its side)."""
    return {"==": abs(difference), "<=": difference, ">=": -difference}[relation]


def decide(relation: str, difference: float, rounding: float, se: float = 0.0,
           se_rounding: float = 0.0, critical: float = 0.0) -> str:
    """``agrees`` or ``disagrees`` by the rule in the module docstring; ``undefined`` when a
    side is not a finite number, ``unresolved`` when rounding could not be bounded."""
    if not math.isfinite(difference) or math.isnan(se):
        return "undefined"
    if not (math.isfinite(rounding) and math.isfinite(se) and math.isfinite(se_rounding)):
        return "unresolved"
    allowance = rounding + critical * (se + se_rounding)
    return "disagrees" if violation(relation, difference) > allowance else "agrees"


def evidence(rejections) -> str:
    """What a set of rejecting results rests on, in words for a verdict's reason."""
    if any(r.route in EXACT or r.gate == "nothing random" for r in rejections):
        return "certified counterexample"
    if any(r.gate == "empirical Bernstein" for r in rejections):
        return "beyond the z-test, confirmed by empirical Bernstein bounds"
    if any(r.gate == "t approximation" for r in rejections):
        return "beyond the z-test at the run's alpha; no value range is known, so this rests " \
               "on the t approximation"
    return "beyond the z-test at the run's alpha"


def decided_by(verdict) -> str:
    """A verdict with the routes it rests on, for a progress line: the disagreeing ones for
    ``fails``, the symbolic route for a proof, else the numeric ones that resolved (never the
    symbolic route when it was inconclusive). ``verdict`` has ``verdict`` and ``routes``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> decided_by(SimpleNamespace(verdict="holds", routes=[
    ...     RouteResult("symbolic", "inconclusive"), RouteResult("exact probability", "agrees"),
    ...     RouteResult("montecarlo", "agrees")]))
    'holds (exact probability and montecarlo routes)'
    """
    symbolic, numeric = verdict.routes[0], verdict.routes[1:]
    if verdict.verdict == "fails":
        names = [r.route for r in numeric if r.status == "disagrees"]
    elif symbolic.status == "proved" and verdict.verdict == "holds":
        names = ["symbolic"]
    else:
        names = [r.route for r in numeric if r.status in ("agrees", "disagrees")]
    names = list(dict.fromkeys(names))
    if not names or verdict.verdict == "inconclusive":
        return f"{verdict.verdict} (no route decided)"
    return f"{verdict.verdict} ({' and '.join(names)} route{'s' if len(names) > 1 else ''})"
