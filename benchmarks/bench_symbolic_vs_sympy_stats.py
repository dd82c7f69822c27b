"""The expectation engine against sympy.stats on E[(sum_i w_i m_i x_i / q - y)^2], k masks.

sympy.stats enumerates the 2^k joint outcomes; the engine applies moment rules to the sum of
length k, so its cost grows only with the final expansion of the result (and it also proves the statement for symbolic k). Both run side by side
in this process; the script prints times and their ratio. Usage:
``python benchmarks/bench_symbolic_vs_sympy_stats.py [k ...]`` (default 6 8 10 12).
"""
import sys
import time

import sympy as sp
import sympy.stats as ss

from dropout_theory.symbolic import Bernoulli, RandomSpace, expectation


def _ours(k, q):
    """The engine on the indexed form: a sum of length k, expanded only at the end."""
    space = RandomSpace()
    m, w, x = space.array("m", Bernoulli(q)), sp.IndexedBase("w"), sp.IndexedBase("x")
    i, y = sp.Symbol("i", integer=True), sp.Symbol("y")
    result = expectation((sp.Sum(w[i] * m[i] * x[i] / q, (i, 1, k)) - y) ** 2, space).result
    symbols = {w[n + 1]: sp.Symbol(f"w{n + 1}") for n in range(k)}
    symbols.update({x[n + 1]: sp.Symbol(f"x{n + 1}") for n in range(k)})
    return result.doit().xreplace(symbols)


def _reference(k, q):
    masks = [ss.Bernoulli(f"M{n}", q) for n in range(k)]
    ws, xs, y = sp.symbols(f"w1:{k + 1}"), sp.symbols(f"x1:{k + 1}"), sp.Symbol("y")
    return ss.E((sum(ws[n] * masks[n] * xs[n] / q for n in range(k)) - y) ** 2)


def _timed(fn, *args):
    start = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - start, value


def main(sizes):
    q = sp.Rational(7, 10)
    print(f"{'k':>3} {'engine s':>10} {'sympy.stats s':>14} {'ratio':>8}  equal")
    for k in sizes:
        t_ours, ours = _timed(_ours, k, q)
        t_ref, ref = _timed(_reference, k, q)
        same = sp.expand(ours - ref) == 0
        print(f"{k:>3} {t_ours:>10.3f} {t_ref:>14.3f} {t_ref / t_ours:>8.1f}  {same}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [6, 8, 10, 12])
