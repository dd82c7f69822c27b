"""Numeric value of ``lhs - rhs`` at one point: exact enumeration or batch-means Monte Carlo.

Operator nodes (``E``, ``Var``, ``Cov``, ``P``) are estimated together from the same draws.
The claim sides are then *functions* of those statistics (``exp(E(log X))``, ratios): the
Monte Carlo standard error of ``lhs - rhs`` is the spread, across the ``N_BATCHES``
independent batches, of ``lhs - rhs`` evaluated on each batch's statistics (batch means for
a smooth function of several means, the delta method without derivatives), so the z statistic
follows Student t with ``N_BATCHES - 1`` degrees of freedom as ``z_crit`` assumes.
"""
from __future__ import annotations

import itertools
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
#: Monte Carlo draws per chunk: memory stays bounded whatever ``n_samples`` is
CHUNK = 1 << 14


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


def _arrays(node, env: dict, size: int):
    """The node's per-outcome values: ``(X, X)`` for E, P and Var, ``(X, Y)`` for Cov."""
    a = np.broadcast_to(np.asarray(to_numpy(node.args[0], env), dtype=np.float64), (size,))
    if not isinstance(node, Cov):
        return a, a
    return a, np.broadcast_to(np.asarray(to_numpy(node.args[1], env), dtype=np.float64), (size,))


def _weighted(node, a, b, weights) -> tuple[float, float]:
    """Exact statistic of one node and ``E|summand|``, the scale of its rounding error."""
    mean_a = float(weights @ a)
    if isinstance(node, (E, P)):
        return mean_a, float(weights @ np.abs(a))
    centred = (a - mean_a) * (b - float(weights @ b))
    return float(weights @ centred), float(weights @ np.abs(a * b))


class _Running:
    """Means of ``a`` and ``b`` and their co-moment, merged chunk by chunk (Chan et al.)."""

    def __init__(self):
        self.n, self.mean_a, self.mean_b, self.comoment = 0, 0.0, 0.0, 0.0

    def add(self, a, b) -> None:
        n, mean_a, mean_b = a.size, float(a.mean()), float(b.mean())
        comoment = float(((a - mean_a) * (b - mean_b)).sum())
        total = self.n + n
        delta_a, delta_b = mean_a - self.mean_a, mean_b - self.mean_b
        self.comoment += comoment + delta_a * delta_b * self.n * n / total
        self.mean_a += delta_a * n / total
        self.mean_b += delta_b * n / total
        self.n = total

    def statistic(self, node) -> float:
        """Mean for E and P; unbiased (co)variance for Var and Cov, so batch means are unbiased."""
        return self.mean_a if isinstance(node, (E, P)) else self.comoment / (self.n - 1)


def _sides(setup: Setup, env: dict) -> tuple[float, float]:
    with np.errstate(all="ignore"):
        return float(to_numpy(setup.lhs, env)), float(to_numpy(setup.rhs, env))


def exact_difference(setup: Setup) -> dict:
    """Both sides by enumerating all masks (probabilities per atom), with a rounding bound."""
    k = len(setup.atoms)
    masks, _ = next(enumerate_masks(k, 0.5, chunk_bits=MAX_EXACT_BITS))
    keep = np.array([params[0] for _, params in setup.laws], dtype=np.float64)
    weights = np.prod(np.where(masks == 1.0, keep, 1.0 - keep), axis=1)
    # masks of probability 0 (q = 1 or 0) are not outcomes: log(0) there must not poison E
    masks, weights = masks[weights > 0], weights[weights > 0]
    env = {atom: masks[:, c] for c, atom in enumerate(setup.atoms)}
    values, magnitude = {}, 0.0
    with np.errstate(all="ignore"):
        for node in setup.nodes:
            values[node], scale = _weighted(node, *_arrays(node, env, len(weights)), weights)
            magnitude += scale
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


def _batch(setup: Setup, rng, size: int) -> tuple[list, float]:
    """Statistics of every node over one batch, streamed in chunks; and E|summand| estimates."""
    running = [_Running() for _ in setup.nodes]
    magnitude = 0.0
    for start in range(0, size, CHUNK):
        n = min(CHUNK, size - start)
        env = {atom: _draw(law, rng, n) for atom, law in zip(setup.atoms, setup.laws)}
        for node, acc in zip(setup.nodes, running):
            a, b = _arrays(node, env, n)
            acc.add(a, b)
            if start == 0:
                magnitude += float(np.abs(a * b if isinstance(node, (Var, Cov)) else a).mean())
    return [acc.statistic(node) for node, acc in zip(setup.nodes, running)], magnitude


def montecarlo_difference(setup: Setup, *, n_samples: int, root: int, name: str,
                          unseen: float) -> dict:
    """Both sides from ``N_BATCHES`` independent batches; se of ``lhs - rhs`` across batches.

    Random nodes whose statistic did not vary at all are reported as ``frozen``: their
    sampling error is not estimable (an event rarer than ``1 / n_samples`` was never drawn).
    Frozen probabilities are bounded instead (``corner_differences``), see :func:`_corners`.
    """
    size = n_samples // N_BATCHES
    if size < 2:
        raise ClaimError(f"--samples must be at least {2 * N_BATCHES}, got {n_samples}")
    per_batch = np.empty((N_BATCHES, len(setup.nodes)))
    with np.errstate(all="ignore"):
        for b in range(N_BATCHES):
            per_batch[b], scale = _batch(setup, generator(root, name, b), size)
            if b == 0:
                magnitude = scale
    overall = dict(zip(setup.nodes, per_batch.mean(axis=0)))
    lhs, rhs = _sides(setup, overall)
    diffs = np.array([np.subtract(*_sides(setup, dict(zip(setup.nodes, row))))
                      for row in per_batch])
    se = float(diffs.std(ddof=1) / np.sqrt(N_BATCHES)) if np.all(np.isfinite(diffs)) else np.nan
    n_ops = size * N_BATCHES * (1 + sum(count_nodes(n) for n in setup.nodes))
    numbers = {"lhs": lhs, "rhs": rhs, "se": se, "magnitude": magnitude + abs(lhs) + abs(rhs),
               "n_ops": n_ops, "n_samples": size * N_BATCHES}
    frozen = [node for k, node in enumerate(setup.nodes)
              if np.ptp(per_batch[:, k]) == 0 and _random(node, setup)]
    if frozen:
        numbers["frozen"] = [str(n) for n in frozen]
        if all(isinstance(n, P) for n in frozen):
            numbers["corner_differences"] = _corners(setup, overall, frozen,
                                                     unseen / (size * N_BATCHES))
    return numbers


def _random(node, setup: Setup) -> bool:
    return any(node.has(atom) for atom in setup.atoms)


def _corners(setup: Setup, overall: dict, frozen: list, width: float) -> list:
    """``lhs - rhs`` with each frozen probability moved to the ends of its plausible interval.

    A probability whose ``N`` indicators were all equal to ``c`` lies within ``k / N`` of ``c``
    except with probability ``exp(-k)``: the caller's ``unseen = k`` is the per-check tail.
    """
    ends = [sorted({min(1.0, max(0.0, overall[n] - width)), min(1.0, max(0.0, overall[n] + width))})
            for n in frozen]
    diffs = []
    for corner in itertools.product(*ends):
        values = {**overall, **dict(zip(frozen, corner))}
        diffs.append(float(np.subtract(*_sides(setup, values))))
    return diffs
