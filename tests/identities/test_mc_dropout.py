"""MC dropout at the widths people use (by the Monte Carlo route, the registry's own z-test),
which the registry's typical points (widths <= 4, for exact enumeration) do not reach."""
import numpy as np
import pytest

from dropout_theory.registry import registry
from dropout_theory.routes import Context, run

#: the checks of this module share a false-alarm rate of 1e-6 (Bonferroni)
SHARED = dict(alpha=1e-6, n_checks=8, n_samples=1 << 12)


def _readout(width, n_passes, rng):
    return {"q": 0.5, "T": n_passes, "d": width, "b": 0.1,
            "w": rng.standard_normal(width) / np.sqrt(width),
            "h": np.tanh(rng.standard_normal(width))}


@pytest.mark.parametrize("name", ["mc-dropout.linear-unbiased", "mc-dropout.variance"])
@pytest.mark.parametrize("width", [256, 1024])
def test_mc_mean_and_variance_at_realistic_widths_and_the_1_over_t2_twin(name, width):
    identity = registry()[name]
    point = _readout(width, 4, np.random.default_rng(width))
    result = run("montecarlo", identity, point, identity.rhs, Context(root=1, **SHARED))
    assert result.status == "agrees", result
    if name == "mc-dropout.variance":
        twin = identity.mutations(identity.rhs)["1/T^2 instead of 1/T"]
        wrong = run("montecarlo", identity, point, twin, Context(root=2, **SHARED))
        assert wrong.status == "disagrees", wrong


def test_seed_000_unbiasedness_refuted_at_width_256():
    """Quadratic hidden layer of width 256 behind input dropout: the MC mean misses the
    deterministic output by the engine's bias and agrees with the engine's left side."""
    identity = registry()["mc-dropout.nonlinear-bias"]
    rng = np.random.default_rng(7)
    width, inputs = 256, 16
    point = {"q": 0.8, "T": 2, "d": inputs, "H": width,
             "W": rng.standard_normal((width, inputs)) / np.sqrt(inputs),
             "c": 0.1 * rng.standard_normal(width), "v": rng.uniform(0, 2, width) / width,
             "x": rng.standard_normal(inputs)}
    claimed = run("montecarlo", identity, point, identity.rhs, Context(root=3, **SHARED))
    assert claimed.status == "disagrees", claimed
    derived = run("montecarlo", identity, point, identity.derive().result,
                  Context(root=4, **SHARED))
    assert derived.status == "agrees", derived

