"""The exact probability route against SPPL 2.0.4 (Saad et al., PLDI 2021) on issue 18's questions.

Questions: P(m_1 + ... + m_k >= k - 1) for k i.i.d. Bernoulli(0.7) masks; P(m x / q > 1) and
P(x > 1 | m x / q > 1) with x ~ Normal(0.5, 1), q = 0.7. Each side runs in its own Python:
SPPL pins old NumPy/SciPy/SymPy and needs Python 3.10, and it is never a dependency of this
package. Set it up once, apart from the project's environment::

    python3.10 -m venv /tmp/sppl310 && /tmp/sppl310/bin/pip install sppl==2.0.4

then, from the project's environment::

    python benchmarks/bench_sppl.py --sppl-python /tmp/sppl310/bin/python [k ...]

(default k: 4 8 16 24). SPPL runs each k in a child process under ``--sppl-limit`` seconds
(default 120), so its exponential growth shows as ``> limit``. Our side times
:func:`dropout_theory.symbolic.probability.probability` (the closed form, exact rationals for
the counts) and one ``check`` of the claim with its default settings (closed form, symbolic
proof and the pooled Monte Carlo check). ``--side sppl`` (counts), ``--side sppl-mixed`` and ``--side ours`` run one
side and print JSON (used by the driver).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

def _sppl_count(k: int) -> dict:
    from sppl.compilers.sppl_to_python import SPPL_Compiler
    lines = [f"m = array({k})", f"c = array({k + 1})", "c[0] ~= atomic(loc=0)"]
    for i in range(k):  # the count as a chain of branches, the SPPL way to sum variables
        lines += [f"m[{i}] ~= bernoulli(p=0.7)", f"if (m[{i}] == 1):",
                  f"    c[{i + 1}] ~= c[{i}] + 1", "else:", f"    c[{i + 1}] ~= c[{i}]"]
    start = time.perf_counter()
    namespace = SPPL_Compiler("\n".join(lines)).execute_module()
    built = time.perf_counter() - start
    value = namespace.model.prob(namespace.c[k] >= k - 1)
    return {"build": built, "total": time.perf_counter() - start, "value": float(value)}


def _sppl_mixed() -> dict:
    from sppl.compilers.sppl_to_python import SPPL_Compiler
    source = "\n".join(["m ~= bernoulli(p=0.7)", "x ~= norm(loc=0.5, scale=1)",
                        "if (m == 1):", "    y ~= x / 0.7", "else:", "    y ~= atomic(loc=0)"])
    start = time.perf_counter()
    namespace = SPPL_Compiler(source).execute_module()
    model, x, y = namespace.model, namespace.x, namespace.y
    fire = model.prob(y > 1)
    mixed = time.perf_counter() - start
    survivor = model.condition(y > 1).prob(x > 1)
    return {"mixed": {"total": mixed, "value": float(fire)},
            "conditional": {"total": time.perf_counter() - start, "value": float(survivor)}}


def _ours_count(k: int) -> dict:
    import sympy as sp

    from dropout_theory.claims import check
    from dropout_theory.symbolic import Bernoulli, RandomSpace
    from dropout_theory.symbolic.probability import probability
    space = RandomSpace()
    m, i = space.array("m", Bernoulli(sp.Rational(7, 10))), sp.Symbol("i", integer=True)
    start = time.perf_counter()
    value = probability(sp.Sum(m[i], (i, 1, k)) >= k - 1, space)
    closed = time.perf_counter() - start
    rhs = f"{value.p}/{value.q}"
    start = time.perf_counter()
    (verdict,), _ = check({"name": f"k{k}", "lhs": f"P(Sum(m[i], (i, 1, {k})) >= {k - 1})",
                           "rhs": rhs, "random": {"m": f"Bernoulli(0.7)[{k}]"}})
    return {"closed_form": closed, "check": time.perf_counter() - start,
            "value": float(value), "verdict": verdict.verdict}


def _ours_mixed() -> dict:
    from dropout_theory.claims import check
    random = {"m": "Bernoulli(0.7)", "x": "Normal(0.5, 1)"}
    result = {}
    for key, lhs, rhs in [("mixed", "P(m*x/0.7 > 1)", "0.7*(1 - Phi(0.2))"),
                          ("conditional", "P(x > 1 | m*x/0.7 > 1)",
                           "(1 - Phi(0.5))/(1 - Phi(0.2))")]:
        start = time.perf_counter()
        (verdict,), _ = check({"name": key, "lhs": lhs, "rhs": rhs, "random": random})
        exact = next(r for r in verdict.routes if r.route == "exact probability")
        result[key] = {"check": time.perf_counter() - start, "value": exact.lhs,
                       "verdict": verdict.verdict}
    return result


def _side(side: str, ks) -> dict:
    if side == "sppl-mixed":
        return {"mixed": _sppl_mixed()}
    if side == "sppl":
        return {str(k): _sppl_count(k) for k in ks}
    return {"counts": {str(k): _ours_count(k) for k in ks}, **_ours_mixed()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ks", nargs="*", type=int, default=[4, 8, 16, 24])
    parser.add_argument("--side", choices=("sppl", "sppl-mixed", "ours"))
    parser.add_argument("--sppl-python", default="")
    parser.add_argument("--sppl-limit", type=float, default=120.0)
    args = parser.parse_args(argv)
    if args.side:
        print(json.dumps(_side(args.side, args.ks)))
        return 0
    ours = _side("ours", args.ks)
    sppl = {}
    if args.sppl_python:
        for k in [None, *args.ks]:
            command = [args.sppl_python, __file__, "--side"] + (["sppl", str(k)] if k else
                                                                ["sppl-mixed"])
            try:
                out = subprocess.run(command, capture_output=True, text=True, check=True,
                                     timeout=args.sppl_limit).stdout
                sppl.update(json.loads(out))
            except subprocess.TimeoutExpired:
                sppl[str(k)] = {"total": f"> {args.sppl_limit:g}"}
    print(f"{'question':34} {'SPPL (s)':>12} {'ours: closed form (s)':>22} {'ours: check (s)':>16}")
    for k in args.ks:
        row, theirs = ours["counts"][str(k)], sppl.get(str(k), {}).get("total", "-")
        theirs = f"{theirs:.3g}" if isinstance(theirs, float) else theirs
        print(f"{f'P(m_1 + ... + m_{k} >= {k - 1})':34} {theirs:>12} {row['closed_form']:>22.3g} "
              f"{row['check']:>16.3g}  ({row['verdict']}, P = {row['value']:.12g})")
    for key, text in [("mixed", "P(m x/q > 1)"), ("conditional", "P(x > 1 | m x/q > 1)")]:
        theirs = sppl.get("mixed", {}).get(key, {})
        shown = f"{theirs['total']:.3g}" if theirs else "-"
        print(f"{text:34} {shown:>12} {'-':>22} {ours[key]['check']:>16.3g}  "
              f"({ours[key]['verdict']}, P = {ours[key]['value']:.12g}"
              + (f"; SPPL {theirs['value']:.12g})" if theirs else ")"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
