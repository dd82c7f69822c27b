r"""Exact Bernoulli(q) masks from random bytes: one byte per element, more only on ties.

A uniform :math:`U = 0.u_1 u_2 \ldots` (base 256, bytes :math:`u_j` i.i.d. uniform) is kept
when :math:`U < q`. Writing :math:`q = 0.d_1 d_2 \ldots d_L` in base 256 (finite: a double is
a dyadic rational, ``L <= 135``), the comparison is decided by the first byte that differs
from :math:`q`'s digit: :math:`u_1 < d_1` keeps, :math:`u_1 > d_1` drops, and only on a tie
(probability 1/256) is :math:`u_2` compared with :math:`d_2`, and so on; a tie on every digit
means :math:`U \ge q` (the rest of ``q``'s expansion is zero), a drop. So
:math:`P(\text{keep}) = q` exactly for every double ``q`` in [0, 1], with no quantization,
at an average of :math:`1 + 1/255` bytes per element (versus eight bytes and a
float conversion for ``rng.random(shape) < q``, whose keep probability is ``q`` rounded up to
a multiple of 2**-53).

The bytes are the bit generator's raw 64-bit words (``random_raw``) in little-endian order,
so a mask depends only on the generator's state, on the platform-independent byte order and
on the call's shape: the element ``i`` of a call takes byte ``i`` of the call's first words,
and the ties are then resolved, in element order, from the words that follow. Unlike
``rng.random``, two calls of ``n`` and ``m`` elements do not give the mask of one call of
``n + m`` (ties and unused bytes of the last word shift the stream): results are independent
of how work is split when each unit of work has its own generator
(:func:`~dropout_theory.sampling.montecarlo.batch_statistics` seeds each batch; a batch
spanning several chunks draws them from one generator, so its masks follow the chunking).
"""
from __future__ import annotations

import functools
import math

import numpy as np

from .._validation import check_p

__all__ = ["keep_digits", "random_bytes", "bernoulli", "bernoulli_mask", "BYTES_PER_ELEMENT"]

#: expected bytes drawn per mask element (1 + 1/256 + 1/256**2 + ...)
BYTES_PER_ELEMENT = 256 / 255


@functools.lru_cache(maxsize=256)
def keep_digits(q: float) -> tuple[int, ...]:
    """The base-256 digits of a double ``q`` in [0, 1), exactly (no trailing zero digits).

    >>> keep_digits(0.75), keep_digits(0.0), len(keep_digits(2.0 ** -1074))
    ((192,), (), 135)
    """
    q = float(q)
    if not 0.0 <= q < 1.0:
        raise ValueError(f"q must be in [0, 1) for its digits, got {q!r}")
    num, den = q.as_integer_ratio()  # den is a power of two
    digits = []
    while num:
        digit, num = divmod(num * 256, den)
        digits.append(digit)
    return tuple(digits)


def random_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    """At least ``n`` uniform bytes (a multiple of 8: whole raw words of the bit generator),
    little-endian whatever the platform."""
    words = rng.bit_generator.random_raw((n + 7) // 8)
    return words.astype("<u8", copy=False).view(np.uint8)


def _ties(u: np.ndarray, digit: int, n: int) -> np.ndarray:
    """Indices ``i < n`` with ``u[i] == digit``, in order."""
    return np.flatnonzero(u[:n] == digit)


def bernoulli(shape, q: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean keep-mask of ``shape`` with ``P(True) = q`` exactly, for any double ``q``.

    ``q = 0`` and ``q = 1`` draw nothing.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> bernoulli((2, 3), 1.0, rng).tolist()
    [[True, True, True], [True, True, True]]
    >>> int(bernoulli(100_000, 0.25, rng).sum())
    25225
    """
    q = float(q)
    if not 0.0 <= q <= 1.0:  # NaN fails too
        raise ValueError(f"q must be a probability in [0, 1], got {q!r}")
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    n = math.prod(shape)
    if q in (0.0, 1.0) or n == 0:
        return np.full(shape, q == 1.0)
    digits = keep_digits(q)
    u = random_bytes(rng, n)
    keep = u[:n] < digits[0]
    pending = _ties(u, digits[0], n)
    for digit in digits[1:]:
        if pending.size == 0:
            break
        u = random_bytes(rng, pending.size)[:pending.size]
        keep[pending[u < digit]] = True
        pending = pending[u == digit]
    # a tie on every digit: U >= q, dropped
    return keep.reshape(shape)


def bernoulli_mask(shape, p: float, rng: np.random.Generator) -> np.ndarray:
    """A float64 0/1 keep-mask with keep probability exactly ``q = fl(1 - p)``.

    Same call as :func:`dropout_theory.network.bernoulli_mask`, drawn by :func:`bernoulli`.

    >>> bernoulli_mask((1, 3), 0.0, np.random.default_rng(0)).tolist()
    [[1.0, 1.0, 1.0]]
    """
    return bernoulli(shape, 1.0 - check_p(p), rng).astype(np.float64)
