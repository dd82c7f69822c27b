"""ridge family: what the generic registry tests do not cover (public function, Hessian
eigenvalues, shrinkage, the 2-D mask model, the SGD limit against least squares)."""
import dataclasses
import itertools

import numpy as np
import pytest
import sympy as sp

from dropout_theory.identities.ridge import dropout_ridge_solution
from dropout_theory.identities.ridge.models import (expected_loss, half_mse_inverted,
                                                    hessian_quadratic_form)
from dropout_theory.identities.ridge.sgd import train_replicates
from dropout_theory.registry import registry
from dropout_theory.routes import Context, run
from dropout_theory.sampling import exact_mean, float_tolerance, generator

#: the two replicate checks below share a false-alarm rate of 1e-6
CONTEXT = Context(root=3, alpha=1e-6, n_checks=2)


def _data(seed, n=7, d=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)) * np.exp(rng.uniform(-1, 1, d)), rng.standard_normal(n)


def test_masks_are_a_two_dimensional_iid_array_in_the_engine():
    """Entries m[i, l] and m[i', l'] are one variable only when both indices agree."""
    terms = expected_loss().result.atoms(sp.Sum)
    assert any(len(t.limits) == 2 for t in terms)  # the (1-q)/q sum over i and l survives


def test_solution_is_the_stationary_point_of_the_exact_expected_loss():
    """The gradient of E_m[loss] (all 2^(nd) masks through the layer) vanishes at w*."""
    X, y = _data(0, n=3, d=3)
    p = 0.3
    w_star = dropout_ridge_solution(X, y, p=p)
    step = 1e-4
    for j in range(3):
        def loss_at(shift):
            point = {"x": X, "y": y, "w": w_star + shift * np.eye(3)[j], "q": 1 - p}
            return exact_mean(lambda m: half_mse_inverted(point, m), 9, p)[0]
        # central difference of a quadratic is exact up to rounding of the loss values, each
        # a probability-weighted sum over 2^9 masks of n * d-term losses
        bound = 2 * float_tolerance(loss_at(0.0), 2 ** 9 * 12) / (2 * step)
        assert abs(loss_at(step) - loss_at(-step)) / (2 * step) <= bound


def _expected_hessian(X, p):
    """E_m of each mask's Hessian X~^T X~ / n, from the layer code over all 2^(nd) masks: the
    entries by polarization of the quadratic form v^T H v."""
    n, d = X.shape
    point = {"x": X, "q": 1 - p}

    def form(v):
        return exact_mean(lambda m: hessian_quadratic_form({**point, "v": v}, m), n * d, p)[0]
    eye = np.eye(d)
    diag = np.array([form(eye[j]) for j in range(d)])
    hessian = np.diag(diag)
    for j, k in itertools.combinations(range(d), 2):
        hessian[j, k] = hessian[k, j] = (form(eye[j] + eye[k]) - diag[j] - diag[k]) / 2
    return hessian


def test_expected_hessian_eigenvalues_dominate_the_plain_ones():
    """Weyl: the expected Hessian (enumerated masks through the layer) is the plain X^T X / n
    plus a PSD diagonal, so every eigenvalue rises, by at least the smallest diagonal entry
    (1-q)/(nq) min diag(X^T X)."""
    for seed in range(6):
        X, _ = _data(seed, n=3, d=3)
        plain = X.T @ X / len(X)
        for p in (0.1, 0.5, 0.9):
            dropped = _expected_hessian(X, p)
            gap = np.linalg.eigvalsh(dropped) - np.linalg.eigvalsh(plain)
            # enumeration sums 2^9 terms per entry; LAPACK's eigenvalues are backward stable
            rounding = float_tolerance(np.linalg.norm(dropped, 2) + np.linalg.norm(plain, 2),
                                       2 ** 9 * 3 + 3 * 3)
            assert np.all(gap >= -rounding), (seed, p, gap)
            assert np.all(gap.min() >= p / (1 - p) * np.diag(plain).min() - rounding)


def test_hessian_dominance_check_rejects_a_non_psd_twin():
    """Mutation twin: subtracting the dropout diagonal instead lowers the eigenvalues."""
    X, _ = _data(0, n=3, d=3)
    plain = X.T @ X / len(X)
    twin = 2 * plain - _expected_hessian(X, 0.5)
    assert np.any(np.linalg.eigvalsh(twin) - np.linalg.eigvalsh(plain) < 0)


def test_shrinkage_holds_in_the_gamma_norm_and_in_predictions_not_in_euclidean_norm():
    """||Gamma w*|| <= ||Gamma w_ls|| and ||X w*|| <= ||X w_ls|| always (standardized ridge);
    the plain Euclidean norm can grow: the seeds' 'shrinks towards zero' needs the norm."""
    grew = 0
    for seed in range(300):
        X, y = _data(seed, n=6, d=3)
        gamma = np.sqrt(np.diag(X.T @ X))
        w_ls = np.linalg.lstsq(X, y, rcond=None)[0]
        w_star = dropout_ridge_solution(X, y, p=0.5)
        # solves perturb w by at most cond(X)^2 times rounding, relative to ||w||
        rounding = float_tolerance(np.linalg.cond(X) ** 2 * np.linalg.norm(X, 2)
                                   * (np.linalg.norm(w_star) + np.linalg.norm(w_ls)), 6 * 3)
        assert np.linalg.norm(gamma * w_star) <= np.linalg.norm(gamma * w_ls) + rounding
        assert np.linalg.norm(X @ w_star) <= np.linalg.norm(X @ w_ls) + rounding
        grew += np.linalg.norm(w_star) > np.linalg.norm(w_ls)
    assert grew > 0  # counterexamples exist among 300 seeded data sets


def test_sgd_limit_matches_the_closed_form_and_not_least_squares():
    identity = registry()["ridge.sgd-limit"]
    point = identity.draw_point(generator(11, identity.name, 0))
    true = run("replicate", identity, point, identity.rhs, CONTEXT)
    assert true.status == "agrees", true
    wrong = identity.mutations(identity.rhs)["least-squares"]
    ls = run("replicate", identity, point, wrong, CONTEXT)
    assert ls.status == "disagrees", ls


def test_train_replicates_is_deterministic_given_the_generator():
    X, y = _data(2, n=8, d=2)
    runs = [train_replicates(X, y, p=0.3, rng=generator(0, "t", 0), n_replicates=4)
            for _ in range(2)]
    np.testing.assert_array_equal(*runs)


def test_quadratic_penalty_error_is_of_the_penalty_order_in_p():
    """As p -> 0 the error of Wager's quadratic penalty is Theta(p), like the penalty."""
    identity = registry()["ridge.wager-quadratic-drop-rate"]
    point = {"q": 0.8, "n": 1, "d": 3, "s": 1.0, "x": np.array([[1.0, -0.5, 2.0]]),
             "w": np.array([0.7, 1.1, -0.4])}
    result = run("order", identity, point, identity.rhs)
    assert round(result.order) == 1 and round(result.quantity_order) == 1, result


@pytest.mark.parametrize("args,match", [
    ((np.ones((3, 2)), np.ones(3)), None),
    ((np.array([[1.0, np.nan], [0.0, 1.0]]), np.ones(2)), "X must be finite"),
    ((np.ones((2, 2)), np.array([1.0, np.inf])), "y must be finite"),
    ((np.ones((3, 2)), np.ones(2)), r"y must have shape \(3,\)"),
    ((np.ones((0, 2)), np.ones(0)), "non-empty"),
    ((np.ones((3, 0)), np.ones(3)), "non-empty"),
    ((np.ones(3), np.ones(3)), "non-empty"),
    ((np.array([[1.0, 0.0], [2.0, 0.0]]), np.ones(2)), "all-zero columns"),
])
def test_bad_input_is_named(args, match):
    if match is None:
        assert dropout_ridge_solution(*args, p=0.2).shape == (2,)
        return
    with pytest.raises(ValueError, match=match):
        dropout_ridge_solution(*args, p=0.2)


def test_least_squares_of_a_rank_deficient_matrix_is_refused_and_dropout_makes_it_unique():
    rank_one = np.array([[1.0, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"rank 1 < 2 columns at p = 0.0"):
        dropout_ridge_solution(rank_one, np.ones(2), p=0.0)
    assert np.all(np.isfinite(dropout_ridge_solution(rank_one, np.ones(2), p=0.1)))


@pytest.mark.parametrize("p,match", [(1.0, "divides by the keep"), (-0.1, "drop probability"),
                                     (float("nan"), "drop probability"), ("a", "number")])
def test_bad_drop_probability_is_named(p, match):
    with pytest.raises(ValueError, match=match):
        dropout_ridge_solution(np.eye(2), np.ones(2), p=p)


def test_train_replicates_refuses_bad_input():
    with pytest.raises(ValueError, match="X must be finite"):
        train_replicates(np.array([[np.inf]]), np.ones(1), p=0.2, rng=generator(0, "t"),
                         n_replicates=2)
    with pytest.raises(ValueError, match="n_replicas"):
        train_replicates(np.ones((2, 1)), np.ones(2), p=0.2, rng=generator(0, "t"),
                         n_replicates=0)


def test_one_call_replicates_must_split_into_the_batches():
    identity = registry()["ridge.sgd-limit"]
    identity = dataclasses.replace(identity, model=dataclasses.replace(identity.model,
                                                                       replicates=100))
    point = identity.draw_point(generator(11, identity.name, 0))
    with pytest.raises(ValueError, match="divisible by 32"):
        run("replicate", identity, point, identity.rhs, CONTEXT)


def test_wager_quadratic_penalty_is_the_engines_second_order_taylor_part():
    """The stated R^q is checked against the engine's derivation, not only displayed."""
    lhs = registry()["ridge.wager-quadratic"].derive()
    assert lhs.steps[-1].label.endswith(": proved"), lhs.steps[-1].label
