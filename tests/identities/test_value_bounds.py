"""Every declared ``MaskModel.value_bound`` holds the values the model simulates.

The Monte Carlo route's rigorous gate rests on these declarations (a wrong one would make a
rejection look rigorous when it is not); the routes check every value they draw, and this
test checks each declaration on its own at stratified typical points, on masks drawn at the
point's keep rate, on uniformly random masks (patterns too rare to be drawn at q near 1) and
on the extreme masks (all kept, all dropped), where linear bounds are attained, and at the
domain edges.
"""
import numpy as np
import pytest

import dropout_theory.identities  # noqa: F401  (registers every family)
from dropout_theory.identity import Approximation, MaskModel, drop_probability, registered
from dropout_theory.network import bernoulli_mask
from dropout_theory.sampling import NORMAL_CORES, gamma


def _bounded():
    for name, identity in sorted(registered().items()):
        model = identity.model.model if isinstance(identity.model, Approximation) \
            else identity.model
        if isinstance(model, MaskModel) and model.value_bound is not None:
            yield identity, model


BOUNDED = list(_bounded())


def test_some_models_declare_a_value_bound():
    assert len(BOUNDED) >= 40


@pytest.mark.parametrize("identity,model", BOUNDED, ids=[i.name for i, _ in BOUNDED])
def test_simulated_values_lie_in_the_declared_value_bound(identity, model):
    rng = np.random.default_rng(20261129)
    typical = identity.draw_points(rng, 3)
    # the domain edges too (q = 1: a bound's rounding must stay inside sqrt's domain there)
    edges = [p for label, p in identity.extra_points(typical[0], proved=True, rng=rng)
             if label.startswith("edge")]
    for point in typical + edges:
        k, drop = int(model.n_masks(point)), drop_probability(point)
        drawn = bernoulli_mask((1000, k), drop, rng)
        masks = np.concatenate([np.zeros((1, k)), np.ones((1, k)), drawn,
                                rng.integers(0, 2, (500, k))]).astype(drawn.dtype)
        # a model with noise declares its range while |noise| <= radius: check it at every
        # core the route uses, on noise spread over the core and at both of its ends
        for core in NORMAL_CORES if model.noise_degree else (None,):
            noise = rng.standard_normal(len(masks)) if core is None else \
                np.concatenate([[-core, core], rng.uniform(-core, core, len(masks) - 2)])
            values = np.asarray(model.simulate(point, masks, noise), dtype=np.float64)
            lo, hi = model.value_bound(point) if core is None else model.value_bound(point, core)
            assert lo <= hi
            scale = float(model.rounding_scale(point)) if model.rounding_scale else 0.0
            # the routes' own rounding allowance of a simulated value (routes.moments)
            rads = gamma(8 * k + 32) * (np.abs(values) + scale)
            outside = (values + rads < lo) | (values - rads > hi)
            assert not outside.any(), (identity.name, point, core, values[outside][:5], (lo, hi))
