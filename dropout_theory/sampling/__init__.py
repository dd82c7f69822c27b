"""Numeric routes: seeds, exact Bernoulli masks, exact enumeration, Monte Carlo batch means,
tolerances, executors."""
from .bernoulli import bernoulli, bernoulli_mask
from .bounds import NORMAL_CORES, clipped_normal_tail, empirical_bernstein, pooled_variance_bound
from .exact import (MAX_NODES, TINY_WEIGHT, count_masks, enumerate_counts, enumerate_masks,
                    exact_mean, exact_moments, gauss_rule, probability_error)
from .executor import run_tasks
from .linear import PackedLinear, dropout_sum_draw, unit_mean
from .montecarlo import BatchStatistics, Estimate, Node, batch_means, batch_statistics
from .seeds import generator
from .tolerance import DEFAULT_ALPHA, N_BATCHES, float_tolerance, gamma, resolution, z_crit

__all__ = ["bernoulli", "bernoulli_mask", "run_tasks", "PackedLinear", "dropout_sum_draw",
           "unit_mean", "NORMAL_CORES", "clipped_normal_tail", "empirical_bernstein",
           "pooled_variance_bound",
           "MAX_NODES", "TINY_WEIGHT", "count_masks", "enumerate_counts", "enumerate_masks",
           "exact_mean", "exact_moments", "gauss_rule", "probability_error", "Estimate",
           "Node",
           "BatchStatistics", "batch_means", "batch_statistics", "generator",
           "DEFAULT_ALPHA", "N_BATCHES", "float_tolerance", "gamma", "resolution", "z_crit"]
