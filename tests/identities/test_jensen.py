"""What the generic registry tests cannot see in the jensen family: where the Gaussian
approximation's rate changes, the sign of the sigmoid and tanh gaps, and the seed's formula
read in both notations."""
import numpy as np
import pytest
import sympy as sp

from dropout_theory.registry import registry
from dropout_theory.routes import Context, run
from dropout_theory.routes.order import order_sweep

JENSEN = {name: i for name, i in registry().items() if name.startswith("jensen.")}


def _relu_point(q, mu, d=8):
    identity = JENSEN["jensen.relu-gaussian"]
    return identity, identity.complete({"q": q, "d": d, "mu": mu}, np.random.default_rng(0))


@pytest.mark.parametrize("q,mu", [(0.7, 0.8), (0.85, 1.6)])
def test_relu_gaussian_error_shrinks_as_the_inverse_square_root_of_the_width(q, mu):
    identity, point = _relu_point(q, mu)
    result = run("order", identity, point, identity.rhs, Context(root=0))
    assert result.status == "agrees" and abs(result.order - 0.5) < 0.1, result
    assert all(abs(s - 0.5) < 0.25 for s in result.local_slopes)


def test_symmetric_masks_remove_the_square_root_term():
    """At q = 1/2 the mask noise m/q - 1 has no skewness: the d^(-1/2) term vanishes and the
    error is Theta(1/d), so the declared order 1/2 is never confirmed there (the identity's
    typical range keeps q away from 1/2, and the README says so)."""
    for mu in (0.7, 1.5):  # (at mu = s = 1 the 1/d term cancels too)
        identity, point = _relu_point(0.5, mu)
        result = run("order", identity, point, identity.rhs, Context(root=0))
        assert result.status != "agrees" and abs(result.order - 1.0) < 0.1, result


def test_count_enumeration_sees_the_error_far_below_monte_carlo_resolution():
    identity, point = _relu_point(0.8, 1.0, d=400)
    grid, signed, _, bound = order_sweep(identity, point, identity.rhs)
    assert np.all(np.abs(signed) > 100 * bound)  # certified
    # Monte Carlo's standard error with the default 2^17 masks (sd of relu(z) below 0.8)
    # would be 2e-3: the error at d = 500 is below it
    assert np.abs(signed).min() < 0.8 / np.sqrt(1 << 17)


@pytest.mark.parametrize("name", ["jensen.sigmoid-sign", "jensen.tanh-sign"])
def test_the_gap_of_a_scalar_unit_has_the_sign_opposite_to_its_input(name):
    """sigma and tanh are concave on x > 0 and convex on x < 0 with f(0) at the centre, so
    E f(m x/q) - f(x) = q f(x/q) + (1-q) f(0) - f(x) is < 0 for x > 0 and > 0 for x < 0."""
    identity = JENSEN[name]
    for x, sign in ((1.3, -1), (-1.3, 1)):
        result = run("exact", identity, {"q": 0.6, "x": x}, sp.Integer(0))
        assert np.sign(result.lhs) == sign and result.rounding < abs(result.lhs) / 2
    assert run("exact", identity, {"q": 0.6, "x": 0.0}, sp.Integer(0)).lhs == 0


def test_the_seed_formula_is_right_in_either_notation_for_standard_dropout():
    """x^2 p(1 - p) is symmetric in p <-> 1 - p: seed 000's keep-p reads the same as a drop-p
    there (so swapping p and q is no mutation of it), unlike its inverted-dropout reading."""
    standard = JENSEN["jensen.quadratic-standard"]
    assert "swap-p-q" not in standard.mutations(standard.rhs)
    inverted = JENSEN["jensen.quadratic-inverted"]
    assert "swap-p-q" in inverted.mutations(inverted.rhs)
    seed = JENSEN["jensen.quadratic-inverted-seed"]
    result = run("exact", seed, {"q": 0.5, "x": 2.0}, seed.rhs)
    assert result.status == "disagrees" and result.lhs == 4.0 and result.rhs == 1.0
