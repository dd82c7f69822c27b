"""ReplicaLinear: per-replicate weights, backward checked by central differences."""
import numpy as np
import pytest

from dropout_theory.network import Linear, ReplicaLinear, check_gradients
from dropout_theory.sampling import float_tolerance


def test_backward_matches_central_differences():
    rng = np.random.default_rng(0)
    layer = ReplicaLinear(3, 4, 2, weight=rng.normal(size=(3, 2, 4)))
    results = check_gradients(layer, rng.normal(size=(3, 5, 4)), rng=rng)
    assert {r.name for r in results} == {"x", "weight"}
    assert all(r.ok for r in results), results


def test_each_replicate_is_the_shared_linear_layer_with_its_own_weight():
    rng = np.random.default_rng(1)
    weight, x = rng.normal(size=(2, 1, 3)), rng.normal(size=(2, 6, 3))
    out = ReplicaLinear(2, 3, weight=weight).forward(x)
    for r in range(2):
        shared = Linear(3, 1, bias=False)
        shared.weight = weight[r]
        bound = float_tolerance(np.abs(x[r]) @ np.abs(weight[r]).T, 3)  # 3-term dot products
        assert np.all(np.abs(out[r] - shared.forward(x[r])) <= bound)


@pytest.mark.parametrize("kwargs,x_shape,match", [
    ({"n_replicas": 0, "in_features": 2}, None, "n_replicas"),
    ({"n_replicas": 2, "in_features": 2, "weight": np.ones((2, 1, 3))}, None, "weight"),
    ({"n_replicas": 2, "in_features": 2}, (3, 4, 2), "x must have shape"),
    ({"n_replicas": 2, "in_features": 2}, (2, 4, 3), "x must have shape"),
])
def test_bad_input_is_named(kwargs, x_shape, match):
    with pytest.raises(ValueError, match=match):
        ReplicaLinear(**kwargs).forward(np.ones(x_shape))
