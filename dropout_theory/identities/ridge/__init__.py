"""Dropout in linear regression as data-dependent ridge (seeds 000, 001; Srivastava 2014
sec. 9; Wager et al. 2013): the expected loss, its Hessian and minimizer, SGD's limit, and
the GLM penalty with its quadratic approximation.

The public solver is :func:`dropout_ridge_solution` (module :mod:`.solver`).
"""
# registration on import, in the order the family is read: the loss, SGD, Wager, figures
from . import loss  # noqa: F401,I001
from . import sgd, wager  # noqa: F401,I001
from . import figures  # noqa: F401,I001
from .solver import dropout_ridge_solution

__all__ = ["dropout_ridge_solution"]
