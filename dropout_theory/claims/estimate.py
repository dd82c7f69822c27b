"""Numeric value of ``lhs - rhs`` at one point: exact enumeration or batch-means Monte Carlo.

Operator nodes (``E``, ``Var``, ``Cov``, ``P``) are estimated together from the same draws.
The claim sides are then *functions* of those statistics (``exp(E(log X))``, ratios): the
Monte Carlo standard error of ``lhs - rhs`` is the spread, across the ``N_BATCHES``
independent batches, of ``lhs - rhs`` evaluated on each batch's statistics (batch means for
a smooth function of several means, the delta method without derivatives), so the z statistic
follows Student t with ``N_BATCHES - 1`` degrees of freedom as ``z_crit`` assumes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..sampling import N_BATCHES, enumerate_masks, generator
from .numeric import count_nodes, to_numpy
from .parser import OPERATORS, ClaimError, Cov, E, P, Var
from .schema import Claim

__all__ = ["Setup", "prepare", "exact_difference", "montecarlo_difference", "MAX_EXACT_BITS"]

#: exact enumeration when the random variables are at most this many Bernoulli entries
MAX_EXACT_BITS = 16


@dataclass
class Setup:
    """An instantiated claim at a point: sides, operator nodes, random atoms and their laws."""

    lhs: sp.Expr
    rhs: sp.Expr
    nodes: list
    atoms: list        # random atoms (Symbol or Indexed), in a fixed order
    laws: list         # (kind, float params) per atom
    route: str         # "exact" or "montecarlo"


def _law(claim: Claim, atom, subs: dict):
    spec = claim.random[str(atom.base) if isinstance(atom, sp.Indexed) else atom.name]
    params = []
    for value in spec.params:
        number = value.xreplace(subs)
        if not number.is_number:
            raise ClaimError(f"claim {claim.name!r}: parameter {value} of {spec.name} has no value")
        params.append(float(number))
    kind = spec.kind
    if kind == "Bernoulli" and not 0.0 <= params[0] <= 1.0:
        raise ClaimError(f"claim {claim.name!r}: Bernoulli parameter {spec.params[0]} = "
                         f"{params[0]:g} of {spec.name} is outside [0, 1] at this point")
    if kind == "Normal" and params[1] < 0:
        raise ClaimError(f"claim {claim.name!r}: standard deviation {spec.params[1]} of "
                         f"{spec.name} is negative ({params[1]:g})")
    if kind == "Uniform" and not params[0] < params[1]:
        raise ClaimError(f"claim {claim.name!r}: Uniform({params[0]:g}, {params[1]:g}) of "
                         f"{spec.name} needs a < b")
    return kind, tuple(params)


def prepare(claim: Claim, lhs: sp.Expr, rhs: sp.Expr, subs: dict) -> Setup:
    """Collect operator nodes and random atoms of the instantiated sides; choose the route."""
    nodes = sorted((lhs.atoms(*OPERATORS.values()) | rhs.atoms(*OPERATORS.values())),
                   key=sp.default_sort_key)
    atoms = set()
    for node in nodes:
        for item in node.atoms(sp.Symbol, sp.Indexed):
            base = str(item.base) if isinstance(item, sp.Indexed) else item.name
            if base in claim.names.random and not (isinstance(item, sp.Symbol)
                                                  and base in claim.names.arrays):
                atoms.add(item)
    atoms = sorted(atoms, key=sp.default_sort_key)
    laws = [_law(claim, a, subs) for a in atoms]
    exact = all(kind == "Bernoulli" for kind, _ in laws) and len(atoms) <= MAX_EXACT_BITS
    return Setup(lhs, rhs, nodes, atoms, laws, "exact" if exact else "montecarlo")


def _statistic(node, env, weights=None):
    """The node's statistic over the rows of ``env``; ``weights`` are probabilities (exact)."""
    def mean(values):
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), (size,))
        return float(weights @ values) if weights is not None else float(values.mean())

    size = len(next(iter(env.values()))) if env else 1
    if isinstance(node, (E, P)):
        return mean(to_numpy(node.args[0], env))
    a = to_numpy(node.args[0], env)
    b = a if isinstance(node, Var) else to_numpy(node.args[1], env)
    centred = (np.asarray(a) - mean(a)) * (np.asarray(b) - mean(b))
    value = mean(centred)
    if weights is None:  # unbiased within the batch, so the mean over batches is unbiased
        value *= size / (size - 1)
    return value


def _magnitude(node, env, weights) -> float:
    """E|X| of the node's summands: the scale of its rounding error."""
    inner = [to_numpy(a, env) for a in node.args]
    if isinstance(node, (Var, Cov)):
        inner = [np.asarray(inner[0]) * np.asarray(inner[-1])]
    values = np.broadcast_to(np.abs(np.asarray(inner[0], dtype=np.float64)), weights.shape)
    return float(weights @ values)


def _sides(setup: Setup, env: dict) -> tuple[float, float]:
    with np.errstate(all="ignore"):
        return float(to_numpy(setup.lhs, env)), float(to_numpy(setup.rhs, env))


def exact_difference(setup: Setup) -> dict:
    """Both sides by enumerating all masks (probabilities per atom), with a rounding bound."""
    k = len(setup.atoms)
    masks, _ = next(enumerate_masks(k, 0.5, chunk_bits=MAX_EXACT_BITS))
    keep = np.array([params[0] for _, params in setup.laws], dtype=np.float64)
    weights = np.prod(np.where(masks == 1.0, keep, 1.0 - keep), axis=1)
    env = {atom: masks[:, c] for c, atom in enumerate(setup.atoms)}
    values, magnitude = {}, 0.0
    with np.errstate(all="ignore"):
        for node in setup.nodes:
            values[node] = _statistic(node, env, weights)
            magnitude += _magnitude(node, env, weights)
    lhs, rhs = _sides(setup, values)
    n_ops = (1 << k) * sum(count_nodes(n) for n in setup.nodes) + count_nodes(
        setup.lhs) + count_nodes(setup.rhs)
    return {"lhs": lhs, "rhs": rhs, "se": 0.0, "magnitude": magnitude + abs(lhs) + abs(rhs),
            "n_ops": n_ops, "n_samples": 1 << k}


def _draw(law, rng, n: int) -> np.ndarray:
    kind, params = law
    if kind == "Bernoulli":
        return (rng.random(n) < params[0]).astype(np.float64)
    if kind == "Normal":
        return params[0] + params[1] * rng.standard_normal(n)
    return params[0] + (params[1] - params[0]) * rng.random(n)


def montecarlo_difference(setup: Setup, *, n_samples: int, root: int, name: str) -> dict:
    """Both sides from ``N_BATCHES`` independent batches; se of ``lhs - rhs`` across batches."""
    size = n_samples // N_BATCHES
    if size < 2:
        raise ClaimError(f"--samples must be at least {2 * N_BATCHES}, got {n_samples}")
    per_batch = np.empty((N_BATCHES, len(setup.nodes)))
    magnitude = 0.0
    with np.errstate(all="ignore"):
        for b in range(N_BATCHES):
            rng = generator(root, name, b)
            env = {atom: _draw(law, rng, size) for atom, law in zip(setup.atoms, setup.laws)}
            per_batch[b] = [_statistic(node, env) for node in setup.nodes]
            if b == 0:
                uniform = np.full(size, 1.0 / size)
                magnitude = sum(_magnitude(node, env, uniform) for node in setup.nodes)
    overall = dict(zip(setup.nodes, per_batch.mean(axis=0)))
    lhs, rhs = _sides(setup, overall)
    diffs = np.array([np.subtract(*_sides(setup, dict(zip(setup.nodes, row))))
                      for row in per_batch])
    se = float(diffs.std(ddof=1) / np.sqrt(N_BATCHES)) if np.all(np.isfinite(diffs)) else np.nan
    n_ops = size * N_BATCHES * (1 + sum(count_nodes(n) for n in setup.nodes))
    return {"lhs": lhs, "rhs": rhs, "se": se, "magnitude": magnitude + abs(lhs) + abs(rhs),
            "n_ops": n_ops, "n_samples": size * N_BATCHES}
