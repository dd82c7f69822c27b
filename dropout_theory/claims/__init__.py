"""Check anyone's claim: a TOML claim file, a safe parser, and the registry's own pipeline.

A claim compiles into an :class:`~dropout_theory.identity.Identity` and is judged by
:func:`dropout_theory.verify.verify`, exactly as a registered identity is.

Examples
--------
>>> from dropout_theory.claims import check_claim
>>> result = check_claim(name="inverted-mean", lhs="E(m*x/q)", rhs="x",
...                      symbols={"q": "keep", "x": "real"}, random={"m": "Bernoulli(q)"})
>>> result.verdict, result.symbolic
('holds', 'proved')
"""
from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

from ..sampling import DEFAULT_ALPHA
from ..symbolic.budget import set_time_limit, total_time_limit
from .compile import to_identity
from .limits import DEFAULT_BUDGET, check_budget
from .parser import ClaimError, parse_expression
from .schema import Claim, claim_from_dict, claims_from_tables, load_claims

__all__ = ["check", "check_claim", "load_identities", "to_identity", "ClaimError", "Claim",
           "load_claims", "claim_from_dict", "parse_expression", "DEFAULT_SAMPLES"]

#: Monte Carlo samples per check by default (the same default as ``verify``)
DEFAULT_SAMPLES = 1 << 17


def _validated(source) -> list[Claim]:
    if isinstance(source, (list, tuple)) and source and all(isinstance(c, Claim) for c in source):
        return list(source)
    if isinstance(source, (str, Path)):
        return load_claims(source)
    if isinstance(source, dict):
        return claims_from_tables(source) if "claim" in source else [claim_from_dict(source)]
    if isinstance(source, (list, tuple)):
        return claims_from_tables({"claim": list(source)})
    raise ClaimError(f"claims must be a file path, a dict or a list of dicts, got "
                     f"{type(source).__name__}")


def load_identities(source) -> list:
    """The identities of a claim file (path), one claim (dict), a list of claims (dicts) or
    of validated :class:`Claim` objects."""
    identities, seen = [], set()
    for claim in _validated(source):
        identity = to_identity(claim)
        if identity.name in seen:  # two raw names that escape alike ("a\n" and "a\\n")
            raise ClaimError(f"claim {identity.name!r}: duplicate name after escaping control "
                             f"characters")
        seen.add(identity.name)
        identities.append(identity)
    return identities


def check(source, *, seed: int = 0, n_samples: int = DEFAULT_SAMPLES,
          alpha: float = DEFAULT_ALPHA, n_points: int = 4, progress=None,
          budget: int = DEFAULT_BUDGET, time_limit: float | None = None):
    """Check claims; returns ``(verdicts, meta)`` as :func:`dropout_theory.verify.verify`.

    ``source`` is a claim file (path), one claim (dict), a list of claims or
    ``{"claim": [...]}``; :func:`dropout_theory.report.to_json` turns the result into the
    CLI's ``--json`` document. Invalid input, and claims whose estimated work exceeds
    ``budget`` (:mod:`.limits`), raise :class:`ClaimError` (a ``ValueError``).
    ``time_limit`` (seconds) replaces the symbolic route's default limit for this call, and
    the claims' symbolic routes then share 4 times that (as ``dropout-theory check`` does).
    """
    from ..verify import verify
    previous = set_time_limit(time_limit) if time_limit is not None else None
    total = total_time_limit(4 * time_limit) if time_limit is not None else nullcontext()
    try:
        with total:  # reading derives the closed forms of conditional means: inside the limit
            claims = _validated(source)
            check_budget(claims, n_samples=n_samples, n_points=n_points, budget=budget)
            identities = load_identities(claims)
            return verify(identities, root=seed, n_samples=n_samples, alpha=alpha,
                          n_points=n_points, progress=progress)
    except ClaimError:
        raise
    except ValueError as exc:  # a claim illegal at some point (Bernoulli(2 q) at q = 0.7)
        raise ClaimError(str(exc)) from None
    finally:
        if previous is not None:
            set_time_limit(previous)


def check_claim(*, name: str, lhs: str, rhs: str, relation: str = "==", symbols=None,
                random=None, define=None, source: str = "", seed: int = 0,
                n_samples: int = DEFAULT_SAMPLES, alpha: float = DEFAULT_ALPHA):
    """Check one claim given as arguments; returns its verdict record."""
    entry = {"name": name, "lhs": lhs, "rhs": rhs, "relation": relation,
             "symbols": symbols or {}, "random": random or {}, "define": define or {},
             "source": source}
    (verdict,), _ = check(entry, seed=seed, n_samples=n_samples, alpha=alpha)
    return verdict
