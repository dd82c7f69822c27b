"""Command line: ``dropout-theory list | derive NAME | verify [NAME|FAMILY ...] | check FILE``."""
from __future__ import annotations

import argparse
import json
import math
import sys

from ._validation import check_positive_int
from .identity import registry, select
from .report import derivation_text
from .sampling import DEFAULT_ALPHA
from .verify import measured_order, to_json, verify


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own exit code 2, without a usage dump on stdout
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _build() -> argparse.ArgumentParser:
    parser = _Parser(prog="dropout-theory", description=(
        "Derive dropout identities with SymPy and check them against masks pushed through a "
        "reference network. p is the drop probability, q = 1 - p the keep probability."))
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    lst = sub.add_parser("list", help="list registered identities")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    der = sub.add_parser("derive", help="print an identity's statement and derivation steps")
    der.add_argument("name", help="identity name, e.g. basics.inverted-variance")
    der.add_argument("--latex", action="store_true", help="print the steps as LaTeX")
    ver = sub.add_parser("verify", help="check identities by every route; exit 1 on surprise")
    ver.add_argument("names", nargs="*", help="identity or family names (default: all)")
    _add_run_options(ver, samples=1 << 17, per="check")
    _add_check(sub)
    fig = sub.add_parser("figures", help="regenerate every registered figure (byte-identical)")
    fig.add_argument("--out", default="figures", help="output directory (default figures/)")
    fig.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    return parser


def _add_run_options(parser, *, samples: int, per: str) -> None:
    """``--seed --samples --alpha --json``, shared by ``verify`` and ``check``."""
    parser.add_argument("--seed", type=int, default=0, help="root seed of the run (default 0)")
    parser.add_argument("--samples", type=int, default=samples,
                        help=f"Monte Carlo samples per {per} (default {samples})")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                        help="family-wise false-alarm rate of the run (default 1e-6)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _check_seed(args) -> None:
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")


def _check_run_options(args) -> None:
    _check_seed(args)
    check_positive_int(args.samples, name="--samples")
    if not 0.0 < args.alpha < 1.0 or math.isnan(args.alpha):
        raise ValueError(f"--alpha must be a false-alarm rate in (0, 1), got {args.alpha!r}")


def _add_check(sub) -> None:
    chk = sub.add_parser("check", help="check your own claims from a TOML file; exit 1 unless "
                                       "all hold")
    chk.add_argument("file", help="claim file (TOML with [[claim]] tables)")
    _add_run_options(chk, samples=1 << 18, per="point")


def _check(args) -> int:
    from .claims import check, to_json
    from .claims.checker import stderr_progress
    _check_run_options(args)
    report = check(args.file, seed=args.seed, n_samples=args.samples, alpha=args.alpha,
                   progress=stderr_progress)
    document = to_json(report)
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        meta = report["meta"]
        print(f"seed {meta['seed']}, {meta['samples']} samples per Monte Carlo point, "
              f"family-wise alpha {meta['alpha']:g} over {meta['n_montecarlo_checks']} Monte "
              f"Carlo checks (critical |z| {meta['z_crit_two_sided']:.2f} two-sided)")
        for r in report["claims"]:
            print(f"{r.name:32s} {r.verdict:12s} symbolic {r.symbolic:14s} {r.message}")
            if r.symbolic == "refuted":
                print(f"    symbolic residual lhs - rhs = {r.residual}")
            if r.counterexample and r.verdict != "holds":
                c = r.counterexample
                print(f"    counterexample ({c['label']}, {c['route']}): {c['point']}")
                print(f"    lhs = {c['lhs']:.6g}, rhs = {c['rhs']:.6g}, "
                      f"lhs - rhs = {c['difference']:.3g}, "
                      + (f"z = {c['z']:.3g}" if c.get("z") is not None else
                         f"{c.get('discrepancy_in_rounding_bounds') or 0:.3g} rounding bounds"))
        print("summary: " + ", ".join(f"{v} {k}" for k, v in document["summary"].items()))
    return 0 if all(r.verdict == "holds" for r in report["claims"]) else 1


def _list(args) -> int:
    rows = [{"name": i.name, "expected": i.expected, "source": i.source,
             "statement": i.statement, "notation": i.notation} for i in registry().values()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max([0] + [len(row["name"]) for row in rows])
        for row in rows:
            print(f"{row['name']:{width}s} {row['expected']:11s} {row['source']}")
    return 0


def _derive(args) -> int:
    identity = registry().get(args.name)
    if identity is None:
        raise ValueError(f"unknown identity {args.name!r}; try 'dropout-theory list'")
    print(derivation_text(identity, latex=args.latex))
    return 0


def _verify(args) -> int:
    _check_run_options(args)
    verdicts, meta = verify(select(args.names), root=args.seed, n_samples=args.samples,
                            alpha=args.alpha)
    if args.json:
        print(json.dumps(to_json(verdicts, meta), indent=2))
    else:
        print(f"seed {meta['seed']}, {meta['samples']} samples per check, family-wise alpha "
              f"{meta['alpha']:g} over {meta['n_montecarlo_checks']} Monte Carlo checks "
              f"(critical |z| {meta['z_crit']:.2f})")
        width = max([len("identity")] + [len(v.name) for v in verdicts])
        print(f"{'identity':{width}s} {'expected':11s} {'verdict':12s} routes")
        for v in verdicts:
            counts = {}
            for r in v.routes:
                counts[f"{r.route}:{r.status}"] = counts.get(f"{r.route}:{r.status}", 0) + 1
            mark = "" if v.matches else "  <-- unexpected"
            order = measured_order(v)
            if order is not None:
                mark = f"  measured order {order:.2f}" + mark
            routes = ", ".join(f"{k} x{n}" for k, n in counts.items())
            print(f"{v.name:{width}s} {v.expected:11s} {v.verdict:12s} {routes}{mark}")
    return 0 if all(v.matches for v in verdicts) else 1


def _figures(args) -> int:
    from pathlib import Path

    from .plotting import figures, render
    _check_seed(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, make in sorted(figures().items()):
        print(f"figure {name}", file=sys.stderr, flush=True)
        render(make(args.seed), out / f"{name}.png")
        print(out / f"{name}.png")
    return 0


def main(argv=None) -> int:
    args = _build().parse_args(argv)
    try:
        return {"list": _list, "derive": _derive, "verify": _verify,
                "figures": _figures, "check": _check}[args.command](args)
    except ValueError as exc:
        print(f"dropout-theory: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head`: not an error of ours
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
