"""A validated :class:`~dropout_theory.claims.schema.Claim` becomes an
:class:`~dropout_theory.identity.Identity`: the same object a family module registers, so a
user's claim runs through the same routes, tests and verdict rules as the registry.

Each declared domain becomes a :class:`~dropout_theory.identity.Param` with a typical range
and edges; dimensions run over 1..4 (the first point at 4) and, when the symbolic route has
no proof, also at the widths people use, 8, 64 and 1024; the random variables become an
:class:`~dropout_theory.identity.ExpressionModel`, whose ``space`` the engine derives from.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from ..identity import ExpressionModel, Identity, Param, RandomVariable, uniform_sampler
from ..symbolic.statements import derive_statement
from .limits import escape
from .parser import MAX_SIZE, ClaimError
from .schema import Claim

__all__ = ["to_identity", "DOMAIN_RULES", "LARGE_SIZES"]

#: domain -> (typical range, edges, low, high): edges are the domain's boundary where it is
#: closed (q = 1, 0) and points near it where it is open
DOMAIN_RULES = {"keep": ((0.1, 0.95), (1.0, 0.05), 0.0, 1.0),
                "probability": ((0.1, 0.9), (0.05, 0.95), 0.0, 1.0),
                "real": ((-2.0, 2.0), (0.0,), -np.inf, np.inf),
                "positive": ((0.2, 2.0), (0.05,), 0.0, np.inf),
                "nonnegative": ((0.0, 2.0), (0.0,), 0.0, np.inf)}
#: sizes beyond the typical ones, checked where the symbolic route has no proof
LARGE_SIZES = (8, 64, 1024)
_EXPECTED = {"holds": "holds", "fails": "refuted", None: None}


def _params(claim: Claim) -> tuple:
    params = []
    for name, (domain, shape) in claim.domains.items():
        if domain == "dimension":
            low = claim.min_sizes.get(name, 1)
            if low > MAX_SIZE:
                raise ClaimError(f"claim {escape(claim.name)!r}: an index literal exceeds the "
                                 f"largest typical size {MAX_SIZE}")
            params.append(Param(name, 1, np.inf, typical=(low, MAX_SIZE), integer=True,
                                large=LARGE_SIZES))
            continue
        (a, b), edges, low, high = DOMAIN_RULES[domain]
        params.append(Param(name, low, high, typical=(a, b), shape=shape,
                            sampler=uniform_sampler(a, b, shape) if shape else None,
                            edges=() if shape else edges))
    return tuple(params)


def _notation(claim: Claim) -> str:
    symbols = ", ".join(f"{n} {d}" + (f"[{', '.join(map(str, s))}]" if s else "")
                        for n, (d, s) in claim.domains.items())
    random = ", ".join(f"{spec.name} ~ {spec.kind}({', '.join(map(str, spec.params))})"
                       + (f"[{', '.join(map(str, spec.shape))}]" if spec.shape else "")
                       for spec in claim.random.values())
    return f"symbols: {symbols or 'none'}; random (independent): {random or 'none'}"


def to_identity(claim: Claim) -> Identity:
    """The identity of ``claim``: its statement, parameters and expression model.

    Text from the claim file (name, statement, source) is escaped: control characters become
    ``\\x1b``-style escapes, so a name cannot redraw the terminal or forge a report line."""
    variables = tuple(RandomVariable(s.name, s.kind, s.params, s.shape)
                      for s in claim.random.values())
    name = escape(claim.name)
    model = ExpressionModel(claim.lhs, variables, claim.space, label=f"claim {claim.name!r}")
    return Identity(name=name,
                    statement=escape(f"{claim.text['lhs']} {claim.relation} {claim.text['rhs']}"),
                    source=escape(claim.source) or "user claim", notation=_notation(claim),
                    params=_params(claim), rhs=claim.rhs,
                    derive=partial(derive_statement, claim.lhs, claim.space), model=model,
                    relation=claim.relation, expected=_EXPECTED[claim.expected])
