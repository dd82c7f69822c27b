"""The compiled kernel of the fast path (optional extra ``fast``: numba) against the NumPy path:
the same sums bit for bit and the same words drawn, for q with one digit (q = k/256: a tie is
a drop), long expansions and the longest (q = 2^-1074, 135 digits), widths that are not a
multiple of 8, one group, pairwise splits (d > 1024), 0 and 1 rows; the switch that forces the
NumPy path; the fallback where the kernel cannot draw or fails its self-check. No test times
anything: ``dropout-theory bench`` is the record."""
import warnings

import numpy as np
import pytest

from dropout_theory.sampling import (Node, PackedLinear, _kernels, batch_statistics,
                                     dropout_sum_draw, generator)
from dropout_theory.sampling import linear, packed
from dropout_theory.sampling.bernoulli import keep_digits
from dropout_theory.sampling.executor import using

numba = pytest.importorskip("numba", reason="the optional extra 'fast' (numba) is not installed")

# one digit (ties dropped), two digits, long expansions, the first digit 0, the longest
QS = [0.7, 1 / 3, 0.5, 3 / 256, 1 / 256, 255 / 256, 0.5 + 2.0 ** -30, 1 - 2.0 ** -40, 1e-3,
      2.0 ** -1074]
# not multiples of 8, one group, exactly one block of 128 groups, a split (129, 257 groups)
DS = [1, 7, 8, 9, 13, 64, 1024, 1025, 2056]


@pytest.fixture(scope="module")
def jit():
    module = _kernels.load()
    if module is None:
        pytest.fail(f"numba is installed but the kernel is off: {_kernels.status()}")
    return module


def _both(unit, q, n, per_call, bits=np.random.PCG64, key=0):
    """The kernel's and the NumPy path's sums of the same draws, and whether the two
    generators end in the same state (the same words were drawn)."""
    seq = np.random.SeedSequence(key)
    kernel_rng = np.random.Generator(bits(seq))
    numpy_rng = np.random.Generator(bits(seq))
    mine = _kernels.jit_dropout_sums(kernel_rng, n, unit.d, keep_digits(q), unit._flat,
                                     per_call)
    theirs = packed.numpy_sums(unit, q, numpy_rng, n, per_call)
    return mine, theirs, _same(kernel_rng.bit_generator.state, numpy_rng.bit_generator.state)


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(np.array_equal(a, b))


@pytest.mark.parametrize("q", QS)
def test_kernel_sums_are_the_numpy_paths_bit_for_bit(jit, q):
    for d in DS:
        unit = PackedLinear(generator(0, "jit.unit", d).standard_normal(d)
                            * np.logspace(0, 6, d))
        for n, per_call in ((0, 128), (1, 128), (2, 1), (300, 128), (129, 64)):
            mine, theirs, same_words = _both(unit, q, n, per_call, key=d * 1000 + n)
            assert mine.tobytes() == theirs.tobytes(), (q, d, n)
            assert same_words, (q, d, n)


def test_many_ties_and_every_raw_word_generator(jit):
    """2^21 elements per draw (about 8200 first-digit ties, 32 second-digit ties), on every
    bit generator whose raw word the kernel reads; MT19937's raw words are 32 bits: the draw
    falls back to NumPy there, with the same result."""
    unit = PackedLinear(generator(1, "jit.ties").standard_normal(1024))
    for bits in (np.random.PCG64, np.random.PCG64DXSM, np.random.Philox, np.random.SFC64):
        for q in (0.7, 1 / 3):
            mine, theirs, same_words = _both(unit, q, 2048, 128, bits)
            assert mine.tobytes() == theirs.tobytes() and same_words, (bits, q)
    draw = dropout_sum_draw(np.ones(16), np.ones(16), 0.3)
    mt = np.random.Generator(np.random.MT19937(0))
    assert not _kernels.usable(mt)
    with _kernels.disabled():
        expected = draw(np.random.Generator(np.random.MT19937(0)), 64)[0]
    assert draw(mt, 64)[0].tobytes() == expected.tobytes()


def test_the_fast_draw_uses_the_kernel_and_the_switches_force_numpy(jit, monkeypatch):
    calls = []
    monkeypatch.setattr(linear, "numpy_sums",
                        lambda *args: calls.append("numpy") or NUMPY_SUMS(*args))
    monkeypatch.setattr(_kernels, "jit_dropout_sums",
                        lambda *args: calls.append("jit") or JIT_SUMS(*args))
    w, x = generator(2, "jit.switch").standard_normal((2, 40))
    draw = dropout_sum_draw(w, x, 0.6)
    results = {}
    results["jit"] = draw(generator(3, "jit.switch"), 256)[0]
    with _kernels.disabled():
        assert _kernels.load() is None and not _kernels.usable(generator(0, "x"))
        assert _kernels.status()["state"].startswith("off: forced")
        results["disabled"] = draw(generator(3, "jit.switch"), 256)[0]
    monkeypatch.setenv(_kernels.ENV_NO_JIT, "1")
    assert not _kernels.enabled()
    results["env"] = draw(generator(3, "jit.switch"), 256)[0]
    monkeypatch.setenv(_kernels.ENV_NO_JIT, "0")
    assert _kernels.enabled() and _kernels.status()["state"] == "on"
    assert calls == ["jit", "numpy", "numpy"]
    assert results["jit"].tobytes() == results["disabled"].tobytes() == \
        results["env"].tobytes()


NUMPY_SUMS, JIT_SUMS = packed.numpy_sums, _kernels.jit_dropout_sums


def test_batch_statistics_on_a_pool_are_the_same_with_and_without_the_kernel(jit):
    """What verify and the bench compute: 32 seeded batches, in process and on two workers,
    kernel on and off: four bit-identical results."""
    w, x = generator(4, "jit.batches").standard_normal((2, 100))
    draw = dropout_sum_draw(w, x, 0.45)
    runs = []
    for workers in (1, 2):
        for off in (False, True):
            with using(workers=workers):
                if off:
                    with _kernels.disabled():
                        stats = _stats(draw)
                else:
                    stats = _stats(draw)
            runs.append(stats.values.tobytes() + stats.rounding.tobytes())
    assert len(set(runs)) == 1


def _stats(draw):
    return batch_statistics(draw, [Node("mean", 0), Node("var", 0)], n_samples=1 << 11,
                            root=7, name="jit.batches")


def test_a_kernel_that_disagrees_is_switched_off_with_a_warning(jit):
    class Broken:
        RAW_IS_NEXT_UINT64 = jit.RAW_IS_NEXT_UINT64
        pairwise_program = staticmethod(jit.pairwise_program)

        @staticmethod
        def dropout_sums(rng, n, d, digits, flat, program, per_call, out):
            jit.dropout_sums(rng, n, d, digits, flat, program, per_call, out)
            out[-1] = np.nextafter(out[-1], np.inf)  # one ulp off in one row

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert not _kernels._self_check(Broken)
    assert any("does not reproduce the NumPy path" in str(w.message) for w in caught)
    assert _kernels._self_check(jit)


def test_pairwise_program_is_numpys_summation_order():
    """The program's tree, evaluated in exact order on floats, gives ndarray.sum's bits."""
    rng = generator(5, "jit.pairwise")
    for n in (1, 7, 8, 127, 128, 129, 200, 257, 1000, 4099):
        values = rng.standard_normal(n) * np.exp(5 * rng.standard_normal(n))
        stack = []
        for lo, count in _kernels.load().pairwise_program(n).tolist():
            if count == 0:
                right = stack.pop()
                stack.append(stack.pop() + right)
            else:
                stack.append(_block(values[lo:lo + count]))
        assert 0.0 + stack[0] == values.sum(), n


def _block(v):
    if v.size < 8:
        res = -0.0
        for value in v:
            res += value
        return res
    r = list(v[:8])
    whole = v.size - v.size % 8
    for i in range(8, whole, 8):
        r = [a + b for a, b in zip(r, v[i:i + 8])]
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    for value in v[whole:]:
        res += value
    return res
