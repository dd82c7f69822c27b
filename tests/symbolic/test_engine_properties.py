"""Property-based tests of the expectation engine (Hypothesis, derandomized): E is linear,
m**2 = m for a Bernoulli mask, E[m_i] = q, E[m_i m_j] = q**2 for i != j, and on random
polynomials in masks and a Gaussian the engine equals an independent computation (every mask
outcome enumerated with its probability, the Gaussian's moments substituted)."""
import itertools

import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropout_theory.symbolic import Bernoulli, Normal, RandomSpace, expectation

PROPERTIES = settings(max_examples=25, deadline=5000, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow])

q = sp.Symbol("q", positive=True)
x = sp.Symbol("x", real=True)
i, j = sp.symbols("i j", integer=True)
K = 3  # masks m[1..K]
SPACE = RandomSpace()
m = SPACE.array("m", Bernoulli(q))
z = SPACE.scalar("z", Normal(0, 1))
NORMAL_MOMENTS = {0: 1, 1: 0, 2: 1, 3: 0, 4: 3}

_COEFFICIENTS = st.one_of(st.integers(-5, 5).map(sp.Integer),
                          st.fractions(max_denominator=7).map(sp.Rational), st.just(x))
_MONOMIALS = st.tuples(_COEFFICIENTS, st.lists(st.integers(0, 3), min_size=K, max_size=K),
                       st.integers(0, 4)).map(
    lambda t: t[0] * sp.Mul(*[m[k + 1] ** e for k, e in enumerate(t[1])]) * z ** t[2])
_POLYNOMIALS = st.lists(_MONOMIALS, min_size=1, max_size=4).map(lambda ms: sp.Add(*ms))


def E(expr):
    return expectation(expr, SPACE).result


def _reference(expr):
    """E by enumeration: the Gaussian's moments, then every mask outcome with its weight."""
    poly = sp.Poly(sp.expand(expr), z)
    gaussian_free = sum(c * NORMAL_MOMENTS[k] for (k,), c in poly.terms())
    total = 0
    for bits in itertools.product((0, 1), repeat=K):
        weight = sp.Mul(*[q if b else 1 - q for b in bits])
        total += weight * sp.sympify(gaussian_free).xreplace(
            {m[k + 1]: b for k, b in enumerate(bits)})
    return total


@PROPERTIES
@given(f=_POLYNOMIALS)
def test_engine_equals_enumeration_on_random_polynomials(f):
    assert sp.expand(E(f) - _reference(f)) == 0


@PROPERTIES
@given(f=_POLYNOMIALS, g=_POLYNOMIALS, a=_COEFFICIENTS, b=_COEFFICIENTS)
def test_expectation_is_linear(f, g, a, b):
    assert sp.expand(E(a * f + b * g) - a * E(f) - b * E(g)) == 0


@PROPERTIES
@given(k=st.integers(1, K), power=st.integers(1, 6), f=_POLYNOMIALS)
def test_a_mask_squared_is_the_mask(k, power, f):
    assert sp.expand(E(m[k] ** power * f) - E(m[k] * f)) == 0


@PROPERTIES
@given(a=st.integers(1, 50), b=st.integers(1, 50))
def test_mean_and_independence_at_fixed_indices(a, b):
    assert E(m[a]) == q
    assert sp.expand(E(m[a] * m[b]) - (q if a == b else q**2)) == 0


def test_independence_at_symbolic_indices_is_a_kronecker_delta():
    delta = sp.KroneckerDelta(i, j)
    assert sp.expand(E(m[i] * m[j]) - (q**2 + (q - q**2) * delta)) == 0
    assert E(m[i]) == q and sp.expand(E(m[i] ** 2) - q) == 0
