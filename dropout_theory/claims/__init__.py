"""Check anyone's claim: a TOML claim file, a safe parser, verdicts with counterexamples.

Examples
--------
>>> from dropout_theory.claims import check_claim
>>> result = check_claim(name="inverted-mean", lhs="E(m*x/q)", rhs="x",
...                      symbols={"q": "keep", "x": "real"}, random={"m": "Bernoulli(q)"})
>>> result.verdict, result.symbolic
('holds', 'proved')
"""
from __future__ import annotations

from pathlib import Path

from ..sampling import DEFAULT_ALPHA
from .checker import DEFAULT_SAMPLES, ClaimResult, check_claims, symbolic_route, to_json
from .parser import ClaimError, parse_expression
from .schema import Claim, claim_from_dict, claims_from_tables, load_claims

__all__ = ["check", "check_claim", "ClaimError", "ClaimResult", "Claim", "load_claims",
           "claim_from_dict", "parse_expression", "to_json", "symbolic_route", "DEFAULT_SAMPLES"]


def _validated(source) -> list[Claim]:
    if isinstance(source, (str, Path)):
        return load_claims(source)
    if isinstance(source, dict):
        return claims_from_tables(source) if "claim" in source else [claim_from_dict(source)]
    if isinstance(source, (list, tuple)):
        return claims_from_tables({"claim": list(source)})
    raise ClaimError(f"claims must be a file path, a dict or a list of dicts, got "
                     f"{type(source).__name__}")


def check(source, *, seed: int = 0, n_samples: int = DEFAULT_SAMPLES,
          alpha: float = DEFAULT_ALPHA, n_points: int = 6, progress=None) -> dict:
    """Check a claim file (path), one claim (dict), a list of claims or ``{"claim": [...]}``.

    Returns ``{"claims": [ClaimResult, ...], "meta": {...}}``; :func:`to_json` turns it into the
    CLI's ``--json`` document. Invalid input raises :class:`ClaimError` (a ``ValueError``).
    """
    return check_claims(_validated(source), seed=seed, n_samples=n_samples, alpha=alpha,
                        n_points=n_points, progress=progress)


def check_claim(*, name: str, lhs: str, rhs: str, relation: str = "==", symbols=None,
                random=None, define=None, source: str = "", seed: int = 0,
                n_samples: int = DEFAULT_SAMPLES, alpha: float = DEFAULT_ALPHA) -> ClaimResult:
    """Check one claim given as arguments; returns its :class:`ClaimResult`."""
    entry = {"name": name, "lhs": lhs, "rhs": rhs, "relation": relation,
             "symbols": symbols or {}, "random": random or {}, "define": define or {},
             "source": source}
    return check(entry, seed=seed, n_samples=n_samples, alpha=alpha)["claims"][0]
