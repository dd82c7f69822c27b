"""Numeric routes: seeds, exact enumeration, Monte Carlo batch means, tolerances."""
from .bounds import NORMAL_CORES, clipped_normal_tail, empirical_bernstein, pooled_variance_bound
from .exact import (MAX_NODES, TINY_WEIGHT, count_masks, enumerate_counts, enumerate_masks,
                    exact_mean, exact_moments, gauss_rule, probability_error)
from .montecarlo import BatchStatistics, Estimate, Node, batch_means, batch_statistics
from .seeds import generator
from .tolerance import DEFAULT_ALPHA, N_BATCHES, float_tolerance, gamma, resolution, z_crit

__all__ = ["NORMAL_CORES", "clipped_normal_tail", "empirical_bernstein", "pooled_variance_bound", "MAX_NODES", "TINY_WEIGHT", "count_masks", "enumerate_counts", "enumerate_masks",
           "exact_mean", "exact_moments", "gauss_rule", "probability_error", "Estimate",
           "Node",
           "BatchStatistics", "batch_means", "batch_statistics", "generator",
           "DEFAULT_ALPHA", "N_BATCHES", "float_tolerance", "gamma", "resolution", "z_crit"]
