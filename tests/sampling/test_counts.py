"""Exact enumeration over kept counts of exchangeable mask blocks (units whose inputs share a
weight): the same enclosure as enumerating every mask, Binomial weights accurate to a unit
roundoff, improbable patterns bounded rather than dropped, and a false declaration refused."""
import dataclasses

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import stats

from dropout_theory.identity import Identity, MaskModel, Param
from dropout_theory.network import Dropout, ReLU
from dropout_theory.routes import run
from dropout_theory.sampling import TINY_WEIGHT, count_masks, enumerate_counts

q = sp.Symbol("q", positive=True)
mu = sp.Symbol("mu", real=True)


def _block_weights(point):
    first = point["d"] // 2
    return np.concatenate([np.full(first, 0.9), np.full(point["d"] - first, -0.55)])


def _relu_unit(point, masks, noise=None):
    hidden = Dropout(1 - point["q"]).forward(np.ones(masks.shape), mask=masks)
    weights = _block_weights(point)
    return ReLU().forward(point["mu"] + hidden @ weights - weights.sum())


def _identity(exchangeable, rhs=sp.Integer(0)):
    model = MaskModel(_relu_unit, lambda pt: pt["d"], "mean", rounding_scale=lambda pt: 2 * (
        np.abs(_block_weights(pt)).sum() / pt["q"] + abs(pt["mu"])), exchangeable=exchangeable)
    return Identity(name="test.blocks", statement="", source="", notation="",
                    params=(Param("q", 0, 1), Param("d", 1, np.inf, integer=True),
                            Param("mu")), rhs=rhs, derive=lambda: sp.Integer(0), model=model)


def _halves(point):
    return point["d"] // 2, point["d"] - point["d"] // 2


def test_counts_give_the_enclosure_of_full_enumeration():
    point = {"q": 0.7, "d": 12, "mu": 0.3}
    full = run("exact", _identity(None), point, sp.Integer(0))
    counted = run("exact", _identity(_halves), point, sp.Integer(0))
    assert full.n_samples == 2 ** 12 and counted.n_samples == 7 * 7
    assert abs(full.lhs - counted.lhs) <= full.rounding + counted.rounding
    assert counted.rounding < 1e-12


def test_binomial_weights_are_exact_to_a_unit_roundoff_and_sum_to_one():
    counts, weights, rel, tiny = enumerate_counts((3, 5), 0.35)
    assert counts.shape == (24, 2) and not tiny.any()
    with mpmath.workdps(50):
        for (a, b), w in zip(counts, weights):
            exact = (mpmath.binomial(3, a) * mpmath.binomial(5, b) * mpmath.mpf(0.65) ** (a + b)
                     * mpmath.mpf(0.35) ** (8 - a - b))
            assert abs(w - exact) <= rel * exact
    assert abs(weights.sum() - 1) < 1e-15
    masks = count_masks((3, 5), counts)
    assert (masks[:, :3].sum(axis=1) == counts[:, 0]).all()
    assert (masks[:, 3:].sum(axis=1) == counts[:, 1]).all()


def test_improbable_patterns_are_bounded_not_dropped():
    """q = 0.9, 800 positions: patterns with most units dropped have weights far below the
    double range; their mass is carried with a value ball covering them all."""
    counts, weights, rel, tiny = enumerate_counts((400, 400), 0.1)
    assert tiny.any() and (weights[tiny] == 0).all()
    point = {"q": 0.9, "d": 800, "mu": -0.2}
    result = run("exact", _identity(_halves), point, sp.Integer(0))
    # the same expectation from SciPy's Binomial pmf, independently
    k = np.arange(401)
    pmf = stats.binom.pmf(k, 400, 0.9)
    noise = 0.9 * (k[:, None] / 0.9 - 400) - 0.55 * (k[None, :] / 0.9 - 400)
    reference = np.sum(pmf[:, None] * pmf[None, :] * np.maximum(-0.2 + noise, 0))
    assert abs(result.lhs - reference) < 1e-12
    assert result.rounding < 1e-8 * result.lhs  # the a-priori network bound at k = 800
    assert TINY_WEIGHT > 0


def test_a_false_exchangeability_declaration_is_refused():
    def not_exchangeable(point, masks, noise=None):
        return masks @ np.arange(1.0, point["d"] + 1)  # every position its own weight
    identity = _identity(_halves)
    wrong = dataclasses.replace(identity, model=dataclasses.replace(identity.model,
                                                                    simulate=not_exchangeable))
    with pytest.raises(ValueError, match="exchangeable"):
        run("exact", wrong, {"q": 0.6, "d": 8, "mu": 0.0}, sp.Integer(0))


def test_blocks_must_cover_the_masks():
    identity = _identity(lambda pt: (2, 2))
    with pytest.raises(ValueError, match="add up"):
        run("exact", identity, {"q": 0.6, "d": 8, "mu": 0.0}, sp.Integer(0))
