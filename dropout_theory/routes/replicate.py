"""Replicate route: independent runs of a procedure (a training), z-tested like Monte Carlo.

Each replicate is one run of the procedure with the network core; the left side is the mean
(or variance) of one value per run, estimated by batch means over ``N_BATCHES`` batches of
independently seeded runs, or over consecutive batches of one vectorized call whose runs are
i.i.d. (``one_call``: the per-step overhead is paid once).
"""
from __future__ import annotations

import numpy as np

from ..identity import ReplicateModel
from ..sampling import N_BATCHES, batch_statistics, generator
from .moments import Prepared, claim_ball, prepare, statistic_prepared
from .montecarlo import judge_batches
from .registry import route

__all__ = ["replicate", "sample_batches"]


def _columns(model, values):
    """One column per replicate value; for a variance, the value and its square (the
    variance is judged as ``E(x^2) - E(x)^2`` of two means, as in the Monte Carlo route)."""
    values = np.asarray(values, dtype=np.float64)
    if model.statistic == "var":
        return np.stack([values, values * values], axis=1), None
    return values[:, None], None


def _one_call(model, point, rng):
    """A ``draw`` that hands out consecutive batches of one call's replicates."""
    values = np.asarray(model.simulate(point, rng, model.replicates), dtype=np.float64)
    if values.shape != (model.replicates,) or model.replicates % N_BATCHES:
        raise ValueError(f"one_call needs replicates divisible by {N_BATCHES} and one value "
                         f"per replicate, got shape {values.shape}")
    batches = iter(values.reshape(N_BATCHES, -1))
    return lambda _rng, n: _columns(model, next(batches)[:n])


@prepare.register
def _(model: ReplicateModel, identity, point, claim) -> Prepared:
    rhs = claim_ball(claim, point)

    def draw(rng, n):
        return _columns(model, model.simulate(point, rng, n))

    return statistic_prepared(model.statistic, rhs, None, None, draw, 0, True)


def sample_batches(identity, point, claim, context):
    """``(prepared, stats)``: the replicates' batch statistics (the part that costs)."""
    model, key = identity.model, context.keyed(identity)
    prepared = prepare(model, identity, point, claim)
    draw = _one_call(model, point, generator(context.root, key, 0)) if model.one_call \
        else prepared.draw
    stats = batch_statistics(draw, prepared.nodes, n_samples=model.replicates,
                             root=context.root, name=key, block=model.replicates,
                             parallel=not model.one_call)  # one_call hands out batches in order
    return prepared, stats


@route("replicate")
def replicate(identity, point, claim, context):
    return judge_batches("replicate", identity, point,
                         *sample_batches(identity, point, claim, context), context)
