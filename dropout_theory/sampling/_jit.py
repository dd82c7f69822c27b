r"""The compiled kernel of the fast Monte Carlo path (needs ``numba``: without it the module
imports, its functions stay plain Python and :mod:`._kernels` keeps the NumPy path).

:func:`dropout_sums` computes, for every mask row of a ``draw(rng, n)`` call of
:func:`~dropout_theory.sampling.dropout_sum_draw`, the packed-table sum
:math:`\sum_g T_g[\mathrm{byte}_g]` of :class:`~dropout_theory.sampling.PackedLinear`, with the
masks drawn exactly as :func:`~dropout_theory.sampling.bernoulli.bernoulli` draws them, fused:
no boolean matrix, no packing pass, no table-index matrix. Everything that fixes a result is
the NumPy path's, step for step:

- the bytes: a sampler call of ``rows`` x ``d`` elements takes the bit generator's next
  ``ceil(rows d / 8)`` raw 64-bit words (``next_uint64``, which for the bit generators
  :data:`RAW_IS_NEXT_UINT64` lists is what ``random_raw`` returns), element ``i`` the byte
  ``i mod 8`` (little-endian) of word ``i // 8``; the elements whose byte ties with ``q``'s
  first base-256 digit are kept in element order, and each further digit takes
  ``ceil(ties / 8)`` fresh words, tie ``t`` its byte ``t``: what ``random_bytes`` hands
  ``bernoulli`` in the same order;
- the packing: bit ``j`` of the byte of group ``g`` of a row is element ``8 g + j`` (the last
  group of a row padded with zeros), as ``np.packbits(..., bitorder="little")``;
- the sum of a row's table entries: ``0.0 +`` NumPy's pairwise summation of the ``G`` entries
  in group order (blocks of at most 128 summed with eight accumulators, longer runs split at
  ``n // 2`` rounded down to a multiple of 8), which is what ``ndarray.sum(axis=1)`` does on a
  contiguous row; IEEE arithmetic, no ``fastmath``, so the floats agree bit for bit.

:mod:`._kernels` checks that agreement once per process before it uses the kernel.
"""
from __future__ import annotations

import numpy as np

try:
    import numba
    from numba.np.random.generator_core import next_uint64
except ImportError as error:  # no extra 'fast': the functions stay plain Python, never run
    numba = None
    IMPORT_ERROR = str(error)

    def _njit(**_):
        return lambda function: function
else:
    _njit = numba.njit

__all__ = ["dropout_sums", "pairwise_program", "RAW_IS_NEXT_UINT64"]

#: bit generators whose ``random_raw`` word is their ``next_uint64`` (not MT19937: 32 bits)
RAW_IS_NEXT_UINT64 = (np.random.PCG64, np.random.PCG64DXSM, np.random.Philox,
                      np.random.SFC64)

_H = np.uint64(0x8080808080808080)
_LOW = np.uint64(0x0101010101010101)
_GATHER = np.uint64(0x0102040810204080)  # bit 8 j -> bit 56 + j
_U7, _U8, _U56, _FF = np.uint64(7), np.uint64(8), np.uint64(56), np.uint64(0xFF)


def pairwise_program(n: int) -> np.ndarray:
    """NumPy's pairwise summation of ``n`` terms as a postfix program, one ``(lo, count)`` row
    per instruction: a block of ``count <= 128`` terms from ``lo``, or ``(0, 0)``: add the two
    values on top of the stack. (Not a recursive kernel: numba's cache mishandles those.)

    >>> pairwise_program(300).tolist()  # 300 -> 144 + 156 -> (72 + 72) + (72 + 84)
    [[0, 72], [72, 72], [0, 0], [144, 72], [216, 84], [0, 0], [0, 0]]
    """
    program = []

    def emit(lo, count):
        if count <= 128:
            program.append((lo, count))
            return
        half = count // 2
        half -= half % 8
        emit(lo, half)
        emit(lo + half, count - half)
        program.append((0, 0))
    emit(0, n)
    return np.array(program, dtype=np.int64).reshape(-1, 2)


@_njit(cache=True, nogil=True)
def _short(flat, row, lo, n):
    """NumPy's ``pairwise_sum`` of ``n < 8`` table entries ``flat[256 g + row[g]]``, ``g``
    from ``lo``: in order, from ``-0.0``."""
    res = -0.0
    for g in range(lo, lo + n):
        res += flat[256 * g + row[g]]
    return res


@_njit(cache=True, nogil=True)
def _block(flat, row, lo, n):
    """NumPy's ``pairwise_sum`` of ``8 <= n <= 128`` table entries ``flat[256 g + row[g]]``,
    ``g`` from ``lo``: eight accumulators over the whole octets, combined as a tree, then the
    rest in order. (Apart from :func:`_short`: one function for both runs twice as slow.)"""
    o = 256 * lo
    r0 = flat[o + row[lo]]
    r1 = flat[o + 256 + row[lo + 1]]
    r2 = flat[o + 512 + row[lo + 2]]
    r3 = flat[o + 768 + row[lo + 3]]
    r4 = flat[o + 1024 + row[lo + 4]]
    r5 = flat[o + 1280 + row[lo + 5]]
    r6 = flat[o + 1536 + row[lo + 6]]
    r7 = flat[o + 1792 + row[lo + 7]]
    whole = lo + n - n % 8
    for g in range(lo + 8, whole, 8):
        o = 256 * g
        r0 += flat[o + row[g]]
        r1 += flat[o + 256 + row[g + 1]]
        r2 += flat[o + 512 + row[g + 2]]
        r3 += flat[o + 768 + row[g + 3]]
        r4 += flat[o + 1024 + row[g + 4]]
        r5 += flat[o + 1280 + row[g + 5]]
        r6 += flat[o + 1536 + row[g + 6]]
        r7 += flat[o + 1792 + row[g + 7]]
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for g in range(whole, lo + n):
        res += flat[256 * g + row[g]]
    return res


@_njit(cache=True, nogil=True)
def _row_sum(flat, row, program, stack):
    """``0.0 +`` the pairwise sum of a row's table entries, by ``program``."""
    if program.shape[0] == 1:
        n = program[0, 1]
        return 0.0 + (_short(flat, row, 0, n) if n < 8 else _block(flat, row, 0, n))
    top = 0
    for k in range(program.shape[0]):
        if program[k, 1] == 0:
            top -= 1
            stack[top - 1] = stack[top - 1] + stack[top]
        else:  # blocks of a split run have at least 64 terms
            stack[top] = _block(flat, row, program[k, 0], program[k, 1])
            top += 1
    return 0.0 + stack[0]


@_njit(cache=True, nogil=True)
def _first_digit(bitgen, rows, d, groups, first, packed, ties, buf):
    """Phase 1 of a call: one byte per element against ``first``; returns the tie count."""
    n_ties = 0
    if d % 8 == 0:
        # every word is one group of one row: compare its eight bytes at once (SWAR), on a
        # buffer of words drawn first (each draw is a call through a pointer, kept out of the
        # comparison loop)
        y = np.uint64(first) * _LOW
        y_low = y & ~_H
        total = rows * groups
        for s in range(0, total, buf.size):
            m = min(buf.size, total - s)
            for k in range(m):
                buf[k] = next_uint64(bitgen)
            for k in range(m):
                x = buf[k]
                # byte-wise x < y: the high bits decide where they differ, else the low 7
                # bits (x_low + 128 - y_low has its high bit set iff x_low >= y_low)
                t = (x | _H) - y_low
                lt = ((~x & y) | (~(x ^ y) & ~t)) & _H
                packed[s + k] = np.uint8(((lt >> _U7) * _GATHER) >> _U56)
            for k in range(m):
                z = buf[k] ^ y  # a zero byte is a tie (this test has no false negatives)
                if ((z - _LOW) & ~z & _H) != 0:
                    for j in range(8):
                        if ((z >> (_U8 * np.uint64(j))) & _FF) == 0:
                            ties[n_ties] = 8 * (s + k) + j
                            n_ties += 1
        return n_ties
    x = np.uint64(0)
    i = 0
    for r in range(rows):
        for g in range(groups):
            byte = 0
            for j in range(min(8, d - 8 * g)):
                if i % 8 == 0:
                    x = next_uint64(bitgen)
                u = (x >> (_U8 * np.uint64(i % 8))) & _FF
                if u < first:
                    byte |= 1 << j
                elif u == first:
                    ties[n_ties] = i
                    n_ties += 1
                i += 1
            packed[r * groups + g] = byte
    return n_ties


@_njit(cache=True, nogil=True)
def _resolve_ties(bitgen, d, groups, digits, packed, ties, n_ties):
    """Phase 2: each further digit decides the pending elements from fresh words."""
    for k in range(1, digits.size):
        if n_ties == 0:
            break
        digit = digits[k]
        x = np.uint64(0)
        pending = 0
        for t in range(n_ties):
            if t % 8 == 0:
                x = next_uint64(bitgen)
            u = (x >> (_U8 * np.uint64(t % 8))) & _FF
            if u < digit:
                i = ties[t]
                c = i % d
                packed[(i // d) * groups + c // 8] |= np.uint8(1 << (c % 8))
            elif u == digit:
                ties[pending] = ties[t]
                pending += 1
        n_ties = pending
    # ties on every digit: U >= q, dropped (their bits stay 0)


@_njit(cache=True, nogil=True)
def dropout_sums(rng, n, d, digits, flat, program, rows_per_call, out):
    """``out[r]`` = the packed-table sum of mask row ``r`` for ``n`` rows drawn from ``rng``
    in sampler calls of ``rows_per_call`` rows (module docstring); ``digits``: ``q``'s
    base-256 digits (``0 < q < 1``), ``flat``: the ``groups x 256`` tables, raveled,
    ``program``: :func:`pairwise_program` of ``groups``."""
    bitgen = rng.bit_generator
    groups = (d + 7) // 8
    packed = np.empty(rows_per_call * groups, dtype=np.uint8)
    ties = np.empty(rows_per_call * d, dtype=np.int64)
    stack = np.empty(program.shape[0])
    buf = np.empty(512, dtype=np.uint64)
    first = digits[0]
    for start in range(0, n, rows_per_call):
        rows = min(rows_per_call, n - start)
        n_ties = _first_digit(bitgen, rows, d, groups, first, packed, ties, buf)
        _resolve_ties(bitgen, d, groups, digits, packed, ties, n_ties)
        if program.shape[0] == 1 and groups >= 8:  # d <= 1024: one block (the common case)
            for r in range(rows):
                out[start + r] = 0.0 + _block(flat, packed[r * groups:(r + 1) * groups], 0,
                                              groups)
        else:
            for r in range(rows):
                out[start + r] = _row_sum(flat, packed[r * groups:(r + 1) * groups],
                                          program, stack)
