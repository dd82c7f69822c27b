"""The exact byte-comparison Bernoulli sampler: its decisions at long binary expansions, its
marginal, conditional (tie) and joint frequencies, and the twins those tests must reject.

Every frequency test below is an exact binomial or chi-square test at a stated false-alarm
rate; the whole file's rate is below ``ALPHA`` = 1e-6 (Bonferroni over ``N_TESTS``).
"""
import copy
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from dropout_theory.sampling import bernoulli, bernoulli_mask, generator
from dropout_theory.sampling.bernoulli import keep_digits, random_bytes

ALPHA = 1e-6
N_TESTS = 40  # frequency tests in this file (each runs at ALPHA / N_TESTS)
SHARE = ALPHA / N_TESTS
N = 1 << 22  # elements per frequency test
# q with short, long and longest expansions, a first digit of 0, and near 0 and 1
QS = [0.3, 1 / 3, 0.5, 0.7, 1e-3, 0.5 + 2.0 ** -30, 1 - 2.0 ** -40]


class _Words:
    """A stand-in generator whose bit generator hands out prescribed raw words."""

    def __init__(self, data: bytes):
        self.data = np.frombuffer(data + bytes(-len(data) % 8), dtype="<u8")
        self.bit_generator = self

    def random_raw(self, n):
        out, self.data = self.data[:n], self.data[n:]
        assert out.size == n, "the sampler asked for more words than prescribed"
        return out.astype(np.uint64)


def _pvalue(count, n, q):
    return stats.binomtest(int(count), int(n), q).pvalue


@pytest.mark.parametrize("q", QS + [2.0 ** -1074, 5e-300, 1 - 2.0 ** -53, 0.1])
def test_digits_are_q_exactly(q):
    digits = keep_digits(q)
    assert sum(Fraction(d, 256 ** (j + 1)) for j, d in enumerate(digits)) == Fraction(q)
    assert all(0 <= d < 256 for d in digits) and (not digits or digits[-1] != 0)


def test_decisions_at_the_longest_expansion_compare_every_digit():
    """q = 2**-1074 = 64 / 256**135: an element is kept only when its first 134 bytes are 0
    and the 135th is below 64; a tie on the last digit means U >= q, a drop."""
    q = 2.0 ** -1074
    for last, kept in ((63, True), (64, False), (65, False), (0, True)):
        # element 0 ties for 134 bytes; elements 1..7 draw nonzero first bytes (dropped)
        first = bytes([0, 1, 2, 3, 4, 5, 6, 7])
        rng = _Words(first + bytes(8 * 133) + bytes([last]) + bytes(7))
        got = bernoulli(8, q, rng)
        assert got.tolist() == [kept] + [False] * 7
    # the same first 134 bytes but one nonzero byte before the end: dropped at that byte
    rng = _Words(bytes(8) + bytes(8 * 100) + bytes([1]) + bytes(7))
    assert not bernoulli(1, q, rng)[0]


def test_decisions_follow_the_digits_of_one_third():
    """1/3 as a double is 0x55 repeated then 0x55 0x55 0x54 in its last digits (7 digits)."""
    q = 1 / 3
    digits = keep_digits(q)
    assert digits == (85, 85, 85, 85, 85, 85, 84)
    for level in range(len(digits)):
        for delta, kept in ((-1, True), (1, False)):
            stream = bytes([digits[0]]) + bytes(7) + b"".join(
                bytes([digits[j]]) + bytes(7) for j in range(1, level)) + \
                (bytes([digits[level] + delta]) + bytes(7) if level else b"")
            if level == 0:
                stream = bytes([digits[0] + delta]) + bytes(7)
            assert bernoulli(1, q, _Words(stream))[0] == kept, (level, delta)
    stream = b"".join(bytes([d]) + bytes(7) for d in digits)  # a tie on every digit
    assert not bernoulli(1, q, _Words(stream))[0]


@pytest.mark.parametrize("q", QS)
def test_marginal_frequency_is_q(q):
    """Exact binomial test, two-sided, at ALPHA / N_TESTS."""
    kept = int(bernoulli(N, q, generator(0, "bernoulli-marginal", hash(q) & 0xFFFF)).sum())
    assert _pvalue(kept, N, q) > SHARE


@pytest.mark.parametrize("q", [0.3, 0.7, 1e-3])
def test_a_sampler_off_by_1e_3_is_rejected(q):
    """The twin: masks at q + 1e-3 tested against q at the same rate, on 8 N = 2**25
    elements: a 1e-3 shift is at least 12.6 standard errors (q = 0.3 or 0.7), against a
    critical value of 5.6, so the twin passes with probability below 1e-11."""
    n = 8 * N
    kept = int(bernoulli(n, q + 1e-3, generator(0, "bernoulli-twin", int(q * 1e3))).sum())
    assert _pvalue(kept, n, q) < SHARE


@pytest.mark.parametrize("q", [0.3, 1 / 3, 1e-3])
def test_ties_keep_with_the_rest_of_q(q):
    """Among elements whose first byte ties q's first digit d1, the keep frequency is
    256 q - d1 (the rest of the expansion): tests the tie path alone; the q + 1e-3 twin
    moves it by 0.256 and is rejected."""
    d1 = keep_digits(q)[0]
    target = 256 * q - d1
    for shift, accept in ((0.0, True), (1e-3, False)):
        rng = generator(1, "bernoulli-ties", int(q * 1e3), int(shift > 0))
        first = random_bytes(copy.deepcopy(rng), N)[:N]
        kept = bernoulli(N, q + shift, rng)
        tie = first == d1
        if shift == 0:
            assert ((first < d1) == kept)[~tie].all()
        assert (_pvalue(kept[tie].sum(), tie.sum(), target) > SHARE) == accept


@pytest.mark.parametrize("q", [0.3, 0.7])
@pytest.mark.parametrize("lag", [1, 7, 8, 1023])
def test_pairs_are_independent(q, lag):
    """Chi-square of the four (m_i, m_{i+lag}) patterns against q**2, q p, p q, p**2 at
    ALPHA / N_TESTS (lags inside a word, across a word boundary, a row apart)."""
    masks = bernoulli(N, q, generator(2, "bernoulli-pairs", lag, int(q * 10)))
    a, b = masks[:-lag:2 * lag], masks[lag::2 * lag]  # disjoint pairs
    assert _pairs_pvalue(a, b, q) > SHARE


def _pairs_pvalue(a, b, q):
    counts = np.bincount(2 * a.astype(int) + b, minlength=4)
    p = 1 - q
    expected = np.array([p * p, p * q, q * p, q * q]) * len(a)
    return stats.chisquare(counts, expected).pvalue


def test_correlated_pairs_twin_is_rejected():
    """Valid marginals, but one pair in 32 copies its first element: the pair test rejects
    it (the (1, 1) cell moves by q p / 32 = 0.0066, about 24 standard errors)."""
    q = 0.3
    masks = bernoulli(N, q, generator(3, "bernoulli-pairs-twin"))
    a, b = masks[:-1:2].copy(), masks[1::2].copy()
    b[::32] = a[::32]
    assert _pairs_pvalue(a, b, q) < SHARE


def test_edges_draw_nothing_and_are_exact():
    rng = np.random.default_rng(0)
    state = copy.deepcopy(rng.bit_generator.state)
    assert not bernoulli((3, 5), 0.0, rng).any() and bernoulli((3, 5), 1.0, rng).all()
    assert rng.bit_generator.state == state
    assert bernoulli_mask((2, 2), 1.0, rng).sum() == 0 and bernoulli_mask((2, 2), 0.0, rng).all()
    assert not bernoulli(1 << 16, 5e-324, rng).any()
    assert bernoulli(1 << 16, 1 - 2.0 ** -53, rng).all()
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            bernoulli(3, bad, rng)


def test_same_seed_same_masks_and_shape_does_not_matter():
    a = bernoulli((64, 100), 0.3, generator(5, "repro"))
    b = bernoulli(6400, 0.3, generator(5, "repro"))
    np.testing.assert_array_equal(a.ravel(), b)
    assert not np.array_equal(a, bernoulli((64, 100), 0.3, generator(6, "repro")))
