"""Where the fast path's compiled kernel is used, and the switch that turns it off.

The kernel (:mod:`._jit`, optional extra ``fast``: ``pip install 'dropout-theory[fast]'``,
which brings ``numba``) gives the same bits as the NumPy path: the same masks from the same
raw words, the same floats from the same summation order. So whether it runs changes the
speed and nothing else. It runs when all hold:

- ``numba`` imports, and the kernel passed the self-check :func:`load` runs once per process
  (kernel and NumPy path, sums and the generator's final state, on small draws with ties
  and further digits, ``d`` a multiple of 8 and not, a pairwise split; on a mismatch or an
  error it warns and stays off);
- the environment variable ``DROPOUT_THEORY_NO_JIT`` is unset, empty or ``0``, and no
  :func:`disabled` block is active (forcing the NumPy path: the tests run both);
- the generator is a :class:`numpy.random.Generator` on a bit generator whose
  ``random_raw`` word is its ``next_uint64`` (PCG64, the project's; PCG64DXSM, Philox,
  SFC64).

Importing numba, loading the cached machine code and the self-check cost about 0.35 s, once
per process (compiling, the first time after an install or an edit of :mod:`._jit`, about
3 s on a quiet 2-core machine; ``numba`` caches it in ``__pycache__`` beside the module). :func:`load` is called where a fast draw is
built, in the parent process, so the forked workers of the process pool inherit the loaded
kernel instead of loading it each.
"""
from __future__ import annotations

import contextlib
import functools
import os
import time
import warnings

import numpy as np

from .bernoulli import keep_digits
from .packed import PackedLinear, numpy_sums
from .seeds import generator

__all__ = ["ENV_NO_JIT", "enabled", "disabled", "load", "status", "usable",
           "jit_dropout_sums"]

#: set to 1 to force the NumPy path (the kernel is not even imported)
ENV_NO_JIT = "DROPOUT_THEORY_NO_JIT"

_switched_off = 0
_loaded = None  # None: not tried yet; False: unavailable; else the _jit module
_why = ""
_timing = {}


def enabled() -> bool:
    """The switches allow the kernel (whether numba is installed is :func:`load`'s part)."""
    return not _switched_off and os.environ.get(ENV_NO_JIT, "").strip() in ("", "0")


@contextlib.contextmanager
def disabled():
    """Force the NumPy path for the duration of a ``with`` block (nests)."""
    global _switched_off
    _switched_off += 1
    try:
        yield
    finally:
        _switched_off -= 1


def load():
    """The kernel module, imported, compiled or loaded from numba's cache and self-checked
    once per process; ``None`` if switched off, numba is missing or the check failed."""
    global _loaded, _why
    if not enabled():
        return None
    if _loaded is None:
        start = time.perf_counter()
        from . import _jit
        if _jit.numba is None:
            _loaded, _why = False, f"off: no numba (extra 'fast'): {_jit.IMPORT_ERROR}"
        else:
            _loaded = _jit if _self_check(_jit) else False
            _why = "on" if _loaded else "off: it failed its self-check"
        _timing["load_seconds"] = time.perf_counter() - start
    return _loaded or None


def status() -> dict:
    """Whether the kernel runs in this process, why not, and what loading it cost."""
    if not enabled():
        return {"state": f"off: forced ({ENV_NO_JIT} or disabled())"}
    load()
    out = {"state": _why, **_timing}
    if _loaded:
        import numba
        out["numba"] = numba.__version__
    return out


def usable(rng) -> bool:
    """The kernel may draw from ``rng`` (module docstring)."""
    jit = load()
    return jit is not None and isinstance(rng, np.random.Generator) \
        and type(rng.bit_generator) in jit.RAW_IS_NEXT_UINT64


def jit_dropout_sums(rng, n: int, d: int, digits, flat, rows_per_call: int) -> np.ndarray:
    """:func:`._jit.dropout_sums` into a fresh array (the caller checked :func:`usable`)."""
    out = np.empty(n)
    _loaded.dropout_sums(rng, n, d, np.asarray(digits, dtype=np.uint8), flat,
                         _program(-(-d // 8)), rows_per_call, out)
    return out


@functools.lru_cache(maxsize=64)
def _program(groups: int) -> np.ndarray:
    return _loaded.pairwise_program(groups)


def _self_check(jit) -> bool:
    """Kernel against the NumPy path, bit for bit, on draws that take every branch."""
    try:
        for d, q, rows, per_call in ((2056, 0.7, 3, 2), (13, 1 / 3, 40, 16),
                                     (64, 0.5 + 2.0 ** -30, 300, 128)):
            unit = PackedLinear(generator(0, "jit.self-check", d).standard_normal(d))
            mine, kernel_rng = np.empty(rows), generator(1, "jit.self-check", d)
            jit.dropout_sums(kernel_rng, rows, d, np.asarray(keep_digits(q), dtype=np.uint8),
                             unit._flat, jit.pairwise_program(-(-d // 8)), per_call, mine)
            rng = generator(1, "jit.self-check", d)
            if not np.array_equal(mine, numpy_sums(unit, q, rng, rows, per_call)) or \
                    kernel_rng.bit_generator.state != rng.bit_generator.state:
                raise AssertionError(f"d = {d}, q = {q}: the sums or the words used differ")
    except Exception as error:  # noqa: BLE001 - any failure leaves the NumPy path on
        warnings.warn(f"the compiled kernel is off, it does not reproduce the NumPy path: "
                      f"{error}", RuntimeWarning, stacklevel=3)
        return False
    return True
