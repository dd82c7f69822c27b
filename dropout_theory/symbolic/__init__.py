"""Exact expectation engine on SymPy (identity-agnostic machinery)."""
from .distributions import Bernoulli, Distribution, Moments, Normal, RandomSpace, Uniform
from .expectation import Derivation, NoClosedForm, Step, covariance, expectation, variance
from .prove import Proof, prove_equal
from .terms import ExpansionError, Term, collect_terms, expand_terms, shortest, terms_to_expr

__all__ = ["Bernoulli", "Distribution", "Moments", "Normal", "RandomSpace", "Uniform",
           "Derivation", "NoClosedForm", "Step", "covariance", "expectation", "variance",
           "Proof", "prove_equal", "ExpansionError", "Term", "collect_terms", "expand_terms",
           "terms_to_expr", "shortest"]
