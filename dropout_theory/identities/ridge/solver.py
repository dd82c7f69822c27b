"""The public solver of the ridge family: the minimizer of the expected dropout loss."""
import numpy as np
import scipy.linalg

from ..._validation import check_finite_array, keep_probability

__all__ = ["dropout_ridge_solution"]


def dropout_ridge_solution(X, y, *, p) -> np.ndarray:
    r"""Minimizer of the expected inverted-dropout squared loss of a linear model.

    .. math:: w^\ast = \Bigl(X^\top X + \frac{p}{1-p}\operatorname{diag}(X^\top X)\Bigr)^{-1}
              X^\top y

    Examples
    --------
    >>> dropout_ridge_solution(np.eye(2), np.array([1.0, 2.0]), p=0.5).round(12).tolist()
    [0.5, 1.0]
    """
    X = check_finite_array(X, name="X")
    y = check_finite_array(y, name="y")
    if X.ndim != 2 or 0 in X.shape:
        raise ValueError(f"X must be a non-empty (n, d) matrix, got shape {X.shape}")
    if y.shape != X.shape[:1]:
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    q_keep = keep_probability(p)
    gram = X.T @ X
    if np.any(np.diag(gram) == 0):
        zero = np.flatnonzero(np.diag(gram) == 0).tolist()
        raise ValueError(f"X has all-zero columns {zero}: their weights are not identified")
    matrix = gram + (1 - q_keep) / q_keep * np.diag(np.diag(gram))
    if q_keep == 1.0 and np.linalg.matrix_rank(X) < X.shape[1]:
        # p > 0 adds a positive diagonal, so only plain least squares can be singular
        raise ValueError(f"X has rank {np.linalg.matrix_rank(X)} < {X.shape[1]} columns at "
                         f"p = {p}: the minimizer is not unique")
    return scipy.linalg.solve(matrix, X.T @ y, assume_a="pos")
