"""Numeric routes: seeds, exact enumeration, Monte Carlo batch means, tolerances."""
from .exact import enumerate_masks, exact_mean, exact_moments
from .montecarlo import Estimate, batch_means
from .seeds import generator
from .tolerance import DEFAULT_ALPHA, N_BATCHES, float_tolerance, gamma, resolution, z_crit

__all__ = ["enumerate_masks", "exact_mean", "exact_moments", "Estimate", "batch_means", "generator",
           "DEFAULT_ALPHA", "N_BATCHES", "float_tolerance", "gamma", "resolution", "z_crit"]
