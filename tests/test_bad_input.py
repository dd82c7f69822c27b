"""Bad input a user can reach, beyond the claim files (tests/claims/test_hostile_corpus.py):
each refused before any work with a ValueError naming the argument and the value (exit 2 from
the CLI, no traceback); and numerical edges that stay finite where the mathematics is."""
import warnings

import numpy as np
import pytest

from dropout_theory.cli import main
from dropout_theory.network import (Dropout, ReLU, SELU, Sigmoid, Softmax, Softplus, Tanh,
                                    bernoulli_mask)
from dropout_theory.registry import select
from dropout_theory.routes import Context
from dropout_theory.verify import verify


@pytest.mark.parametrize("x", [np.array([1 + 1j, 2.0]), [1.0, 2j]])
def test_complex_input_is_refused_not_cut_to_its_real_part(x):
    with pytest.raises(ValueError, match="x must be real, got complex"):
        Dropout(0.5).forward(x, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="mask must be real, got complex"):
        Dropout(0.5).forward(np.ones(2), mask=np.array([1 + 0j, 1j]))


def test_a_mask_of_text_is_named():
    with pytest.raises(ValueError, match="mask must be an array of numbers"):
        Dropout(0.5).forward(np.ones(2), mask=["a", "b"])


@pytest.mark.parametrize("shape", [(2.5,), "ab", (-1,), (2, True), None])
def test_bad_mask_shapes_are_named(shape):
    with pytest.raises(ValueError, match="shape must be a tuple of non-negative integers"):
        bernoulli_mask(shape, 0.5, np.random.default_rng(0))


def test_an_empty_shape_gives_an_empty_mask():
    assert bernoulli_mask((0, 3), 0.5, np.random.default_rng(0)).shape == (0, 3)


@pytest.mark.parametrize("kwargs,message", [
    ({"n_points": 0}, "n_points must be a positive integer, got 0"),
    ({"n_points": 2.5}, "n_points must be a positive integer, got 2.5"),
    ({"n_samples": -3}, "n_samples must be a positive integer, got -3"),
    ({"n_samples": 10}, "n_samples must be at least 64 (two per batch), got 10"),
    ({"alpha": float("nan")}, "alpha must be a false-alarm rate in [1e-300, 1), got nan"),
    ({"alpha": 0}, "alpha must be a false-alarm rate"),
    ({"root": -1}, "root must be a non-negative integer below 2**63, got -1"),
    ({"root": 1.5}, "root must be a non-negative integer below 2**63, got 1.5"),
    ({"root": "a"}, "root must be a non-negative integer below 2**63, got 'a'"),
])
def test_verify_arguments_are_checked_before_any_work(kwargs, message):
    with pytest.raises(ValueError) as exc:
        verify(select(["basics.inverted-mean"]), **kwargs)
    assert message in str(exc.value)


@pytest.mark.parametrize("argv,message", [
    (["verify", "basics", "--samples", "63"], "--samples must be at least 64"),
    (["check", "examples/claims/basics.toml", "--samples", "1"], "--samples must be at least 64"),
    (["power", "--points", "0"], "--points must be a positive integer, got 0"),
    (["power", "--alpha", "-1"], "--alpha must be a false-alarm rate"),
])
def test_cli_bad_run_options_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_the_smallest_accepted_alpha_runs_even_where_a_check_splits_it(capsys):
    """A Monte Carlo check with a nonlinear side spends half of its alpha on each test: the
    share used to be applied to alpha and refused as below 1e-300."""
    critical = Context(alpha=1e-300, n_checks=312).critical("==", share=0.25)
    assert np.isfinite(critical) and critical > Context(alpha=1e-300, n_checks=312).critical()
    assert main(["verify", "basics.inverted-variance", "--alpha", "1e-300", "--samples",
                 "4096", "--points", "1"]) == 0
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("layer", [ReLU, Sigmoid, Tanh, Softplus, SELU, Softmax])
def test_activations_stay_finite_at_the_ends_of_float64(layer):
    x = np.array([-1e308, -710.0, -1e-320, 0.0, 5e-324, 710.0, 1e308])
    module = layer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = module.forward(x)
        g = module.backward(np.ones_like(x))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))


@pytest.mark.parametrize("p", [0.0, 1e-300, 1e-12, 0.5, 1 - 1e-12, 1.0])
def test_dropout_near_q_0_and_1_is_finite_where_the_scaled_value_is(p):
    x = np.array([1e-300, -1.0, 1e290])
    y = Dropout(p).forward(x, mask=np.ones(3))
    assert np.all(np.isfinite(y))
    if p < 1.0:  # kept units scaled by 1/q, to rounding
        assert np.allclose(y * (1.0 - p), x, rtol=4 * np.finfo(float).eps, atol=0)
    else:
        assert not np.any(y)


def test_a_non_finite_injected_mask_is_refused():
    with pytest.raises(ValueError, match="mask must be finite"):
        Dropout(0.5).forward(np.ones(2), mask=np.array([1.0, np.nan]))


def test_spatial_dropout_refuses_a_complex_channel_mask():
    from dropout_theory.network import SpatialDropout
    with pytest.raises(ValueError, match="mask must be real"):
        SpatialDropout(0.5, n_spatial=1).forward(np.ones((1, 2, 3)), mask=np.array([[1j, 1.0]]))
