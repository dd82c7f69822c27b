"""Command line: ``dropout-theory list | derive NAME | verify [NAME|FAMILY ...] | check FILE |
report | calibrate | power [--family F] | figures | bench``."""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from ._validation import check_positive_int
from .claims.limits import DEFAULT_BUDGET, MAX_SAMPLES, escape
from .sampling import DEFAULT_ALPHA, N_BATCHES
from .sampling.tolerance import MIN_ALPHA
from .symbolic.budget import TIME_LIMIT, set_time_limit, total_time_limit

#: most typical points per statement (``--points``)
MAX_POINTS = 256
#: longest error message printed (untrusted input is echoed only in short excerpts anyway)
_MAX_MESSAGE = 2000


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
    _add_run_options(ver)
    ver.add_argument("--large", action="store_true",
                     help="also check every moment statement by Monte Carlo at the sizes people "
                          "use (d = 1024; n x d = 1000 x 256 for the ridge family), with fewer "
                          "samples there, and report the resolution each reached")
    ver.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                     help="spend about SECONDS of Monte Carlo sampling (over --workers) instead "
                          "of --samples: a pilot picks the sample count, which is reported with "
                          "the resolution it bought; the count depends on the machine, the "
                          "results only on the count: --samples N with the reported N gives the "
                          "same statements bit for bit")
    _add_check(sub)
    _add_report(sub)
    _add_calibrate(sub)
    _add_power(sub)
    fig = sub.add_parser("figures", help="regenerate every registered figure (byte-identical)")
    fig.add_argument("--out", default="figures", help="output directory (default figures/)")
    fig.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    _add_bench(sub)
    return parser


def _add_bench(sub) -> None:
    bench = sub.add_parser("bench", help="time the Monte Carlo and enumeration workloads next "
                                         "to their baselines (progress on stderr)")
    bench.add_argument("--json", action="store_true", help="machine-readable output")
    bench.add_argument("--d", type=int, default=1024, help="unit width (default 1024)")
    bench.add_argument("--rows", type=int, default=1 << 18,
                       help="mask rows per timed run, a multiple of 32 (default 262144)")
    bench.add_argument("--repeats", type=int, default=5,
                       help="runs per path; medians are reported (default 5)")
    bench.add_argument("--workers", type=int, default=None,
                       help="processes of the parallel fast path (default: the usable cores)")
    bench.add_argument("--enumerate", type=int, default=24, dest="enumerate_bits",
                       help="masks 2^k of the exact ReLU-unit enumeration (default 24; 0: skip)")
    bench.add_argument("--old-enumerate", type=int, default=20, dest="old_bits",
                       help="2^k of the mask-matrix enumeration it is compared with (default 20)")


def _add_run_options(parser) -> None:
    """``--seed --samples --points --alpha --json --workers --scheduler``, shared by
    ``verify`` and ``check``."""
    parser.add_argument("--seed", type=int, default=0, help="root seed of the run (default 0)")
    parser.add_argument("--samples", type=int, default=1 << 17,
                        help=f"Monte Carlo samples per check (default 131072, at most "
                             f"{MAX_SAMPLES})")
    parser.add_argument("--points", type=int, default=4,
                        help=f"typical parameter points per statement (default 4, at most "
                             f"{MAX_POINTS}); edges, the smallest and, without a proof, larger "
                             f"sizes are added")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                        help="family-wise false-alarm rate of the run (default 1e-6, at "
                             "least 1e-300)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--workers", type=int, default=1,
                        help="local processes running the Monte Carlo batches (default 1; "
                             "results are bit-identical for any number)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run the Monte Carlo batches on this Dask scheduler (needs the "
                             "extra 'dask'); bit-identical to a serial run")


def _check_seed(args) -> None:
    if args.seed < 0:
        raise ValueError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.seed >= 1 << 63:
        raise ValueError(f"--seed must be below 2**63, got {str(args.seed)[:40]}")


def _check_sizes(args) -> None:
    """``--samples`` and ``--points``, shared by every command that runs checks."""
    check_positive_int(args.samples, name="--samples")
    check_positive_int(args.points, name="--points")
    if args.samples < 2 * N_BATCHES:
        raise ValueError(f"--samples must be at least {2 * N_BATCHES} (two per batch of the "
                         f"{N_BATCHES} batches), got {args.samples}")
    if args.samples > MAX_SAMPLES:
        raise ValueError(f"--samples must be at most {MAX_SAMPLES}, got {str(args.samples)[:40]}")
    if args.points > MAX_POINTS:
        raise ValueError(f"--points must be at most {MAX_POINTS}, got {str(args.points)[:40]}")


def _check_run_options(args) -> None:
    _check_seed(args)
    _check_sizes(args)
    if not MIN_ALPHA <= args.alpha < 1.0 or math.isnan(args.alpha):
        raise ValueError(f"--alpha must be a false-alarm rate in [{MIN_ALPHA:g}, 1), got "
                         f"{args.alpha!r}")
    check_positive_int(args.workers, name="--workers")


def _add_check(sub) -> None:
    chk = sub.add_parser("check", help="check your own claims from a TOML file; exit 1 unless "
                                       "all hold")
    chk.add_argument("file", help="claim file (TOML with [[claim]] tables)")
    _add_run_options(chk)
    chk.add_argument("--budget", type=int, default=DEFAULT_BUDGET,
                     help=f"work budget of the file in term-samples, estimated before any work "
                          f"(default {DEFAULT_BUDGET:.3g}; see README, Safety)")
    chk.add_argument("--report", default=None, metavar="DIR",
                     help="also write an HTML page of the claims' verdicts into DIR")
    chk.add_argument("--time-limit", type=float, default=TIME_LIMIT,
                     help=f"seconds of CPU the symbolic route may take per claim before it says "
                          f"inconclusive (default {TIME_LIMIT:g}; the whole file: 4 times "
                          f"that)")


def _add_report(sub) -> None:
    rep = sub.add_parser("report", help="write the theory report: every identity's statement, "
                                        "derivation, verdict with its evidence, figure")
    rep.add_argument("names", nargs="*", help="identity or family names (default: all)")
    rep.add_argument("--out", default="report", help="output directory (default report/)")
    rep.add_argument("--format", choices=("html", "md"), default="html",
                     help="one self-contained HTML page (default) or Markdown")
    rep.add_argument("--figures", default="figures", metavar="DIR",
                     help="where the figures' PNGs are (default figures/, see 'figures')")
    rep.add_argument("--update-readme", default=None, metavar="README",
                     help="also rewrite the generated tables of README (identities, variants, "
                          "CLI reference) from this run")
    _add_run_options(rep)


def _report(args) -> int:
    from .registry import select
    from .report import to_json
    from .reporting import write_report
    _check_run_options(args)
    if args.update_readme and args.names:
        raise ValueError("--update-readme needs a run of the whole registry (no names)")
    _check_directory(args.out, "--out")
    if args.update_readme and not Path(args.update_readme).is_file():
        raise ValueError(f"--update-readme {escape(args.update_readme)!r} is not a file")
    if not Path(args.figures).is_dir():
        _stderr(f"no figures directory {escape(args.figures)!r}: the report will have no "
                f"figures (write them with 'dropout-theory figures --out DIR')")
    verdicts, meta = _verdicts(args, select(args.names))
    path = write_report(verdicts, meta, args.out, fmt=args.format, figures=args.figures,
                        command="report")
    document = to_json(verdicts, meta, command="report")
    print(json.dumps(document, indent=2) if args.json else path)
    if args.update_readme:
        from .reporting.readme import update_readme
        update_readme(args.update_readme, document, _build())
    return 0 if all(v.matches for v in verdicts) else 1


def _check_directory(path: str, option: str) -> None:
    """An output directory: refused before any work when a file is in its place."""
    if Path(path).exists() and not Path(path).is_dir():
        raise ValueError(f"{option} {escape(path)!r} exists and is not a directory")


def _add_calibrate(sub) -> None:
    cal = sub.add_parser(
        "calibrate", help="measure each statistical check's false-alarm rate on true "
                          "statements over many root seeds; exit 1 if any is above nominal",
        description="Run every true identity's statistical checks (and the worst cases: a "
                    "variance at q = 1/2, means and variances at q = 0.001, lognormal and "
                    "exponential inputs) over root seeds 1..N and count rejections at several "
                    "per-check alphas, by the t test alone and after the rigorous gate "
                    "(fails). The full run (the default) takes about an hour on two cores.")
    cal.add_argument("names", nargs="*", help="identity or family names, 'worst' or a worst "
                                              "case's name (default: all true identities)")
    cal.add_argument("--seeds", type=int, default=100, help="root seeds per check (default 100)")
    cal.add_argument("--samples", type=int, default=1 << 14,
                     help="Monte Carlo samples per check (default 16384)")
    cal.add_argument("--points", type=int, default=1,
                     help="typical points per identity (default 1)")
    cal.add_argument("--cases", choices=("all", "registry", "worst"), default="all",
                     help="the registry's true identities, the worst cases, or both (default)")
    cal.add_argument("--json", action="store_true", help="machine-readable output")


def _calibrate(args) -> int:
    from .calibrate import WORST_CASES, calibrate, render
    from .claims import load_identities
    from .registry import select
    check_positive_int(args.seeds, name="--seeds")
    if args.seeds < 2:
        raise ValueError(f"--seeds must be at least 2 (a rate needs two runs), got {args.seeds}")
    _check_sizes(args)
    worst = load_identities({"claim": WORST_CASES}) if args.cases != "registry" else []
    wanted = [n for n in args.names if not any(n in (w.name, w.family) for w in worst)]
    identities = [] if args.cases == "worst" or (args.names and not wanted) else \
        [i for i in select(wanted) if i.expected == "holds"]
    identities += [w for w in worst if not args.names or
                   any(n in (w.name, w.family) for n in args.names)]
    if not identities:
        raise ValueError(f"no true statement to calibrate among {args.names}")
    records, summary = calibrate(identities, seeds=args.seeds, n_samples=args.samples,
                                 n_points=args.points, progress=_stderr)
    print(json.dumps({"summary": summary, "checks": [r.as_dict() for r in records]}, indent=2)
          if args.json else render(records, summary))
    return 1 if summary["outside_band"] or summary["fails_at_default_alpha"] else 0
def _add_power(sub) -> None:
    pwr = sub.add_parser("power", help="measure how many generated wrong variants of each "
                                       "statement the default run rejects")
    pwr.add_argument("--family", action="append", default=[],
                     help="family or statement to measure (repeatable; default: all)")
    pwr.add_argument("--variants", type=int, default=4,
                     help="generated variants per statement (default 4, at most 16)")
    _add_run_options(pwr)


def _power(args) -> int:
    from .power import measure, render_text
    from .registry import select
    _check_run_options(args)
    check_positive_int(args.variants, name="--variants")
    if args.variants > 16:
        raise ValueError(f"--variants must be at most 16, got {str(args.variants)[:40]}")
    document = measure(select(args.family), root=args.seed, n_samples=args.samples,
                       n_points=args.points, alpha=args.alpha, limit=args.variants,
                       progress=_stderr)
    print(json.dumps(document, indent=2) if args.json else render_text(document))
    return 0


def _verdicts(args, identities, command: str = "verify") -> tuple:
    from .sampling.executor import using
    from .verify import verify
    with using(workers=args.workers, scheduler=args.scheduler):
        return verify(identities, root=args.seed, n_samples=args.samples, alpha=args.alpha,
                      n_points=args.points, progress=_stderr,
                      large=getattr(args, "large", False), workers=args.workers,
                      budget=getattr(args, "budget", None) if command == "verify" else None)


def _run(args, identities, command: str) -> tuple:
    from . import scale
    from .report import render_text, to_json
    verdicts, meta = _verdicts(args, identities, command)
    print(json.dumps(to_json(verdicts, meta, command=command), indent=2) if args.json
          else "\n".join(filter(None, [render_text(verdicts, meta), scale.render(meta)])))
    return verdicts, meta


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _check(args) -> int:
    from .claims import load_identities
    from .claims.limits import check_budget
    from .claims.schema import load_claims
    _check_run_options(args)
    check_positive_int(args.budget, name="--budget")
    if not 0 < args.time_limit < 1e6:  # also refuses nan
        raise ValueError(f"--time-limit must be in (0, 1e6) seconds, got {args.time_limit!r}")
    if args.report is not None:
        _check_directory(args.report, "--report")
    previous = set_time_limit(args.time_limit)
    try:  # reading a file derives the closed forms of its conditional means: inside the limit
        with total_time_limit(4 * args.time_limit):
            claims = load_claims(args.file)
            check_budget(claims, n_samples=args.samples, n_points=args.points,
                         budget=args.budget)
            verdicts, meta = _run(args, load_identities(claims), "check")
    finally:
        set_time_limit(previous)
    if args.report is not None:
        from .reporting import write_report
        write_report(verdicts, meta, args.report, claims=True, command="check",
                     title=f"Claims of {args.file}")
    from .aggregate import HOLDING
    return 0 if all(v.verdict in HOLDING for v in verdicts) else 1


def _list(args) -> int:
    from .registry import registry
    rows = [{"name": i.name, "expected": i.expected, "source": i.source,
             "statement": i.statement, "notation": i.notation} for i in registry().values()]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max([len("statement")] + [len(row["name"]) for row in rows])
        print(f"{'statement':{width}s} {'expected':11s} source")
        for row in rows:
            print(f"{row['name']:{width}s} {row['expected']:11s} {row['source']}")
    return 0


def _derive(args) -> int:
    from .registry import registry
    from .report import derivation_text
    identity = registry().get(args.name)
    if identity is None:
        raise ValueError(f"unknown identity {args.name!r}; try 'dropout-theory list'")
    print(derivation_text(identity, latex=args.latex))
    return 0


def _verify(args) -> int:
    from .registry import select
    _check_run_options(args)
    if args.budget is not None and not (math.isfinite(args.budget) and args.budget > 0):
        raise ValueError(f"--budget must be a positive number of seconds, got {args.budget!r}")
    verdicts, _ = _run(args, select(args.names), "verify")
    return 0 if all(v.matches for v in verdicts) else 1


def _figures(args) -> int:
    from .plotting import render
    from .registry import figures
    _check_seed(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {escape(str(out))!r} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    for name, make in sorted(figures().items()):
        print(f"figure {name}", file=sys.stderr, flush=True)
        render(make(args.seed), out / f"{name}.png")
        print(out / f"{name}.png")
    return 0


def _bench(args) -> int:
    from .bench import render, run
    for name in ("d", "rows", "repeats"):
        check_positive_int(getattr(args, name), name=f"--{name}")
    if args.workers is not None:
        check_positive_int(args.workers, name="--workers")
    if not (0 <= args.enumerate_bits <= 24 and 1 <= args.old_bits <= 24):
        raise ValueError("--enumerate must be in 0..24 and --old-enumerate in 1..24")
    record = run(d=args.d, rows=args.rows, repeats=args.repeats, workers=args.workers,
                 enumerate_bits=args.enumerate_bits, old_bits=args.old_bits, progress=_stderr)
    print(json.dumps(record, indent=2) if args.json else render(record))
    return 0


def main(argv=None) -> int:
    """Run the command; every failure the user can cause is exit code 2 with one line on
    stderr (escaped, at most a short excerpt of the input), never a traceback."""
    args = _build().parse_args(argv)
    try:
        return {"list": _list, "derive": _derive, "verify": _verify, "figures": _figures,
                "check": _check, "report": _report, "calibrate": _calibrate, "power": _power,
                "bench": _bench}[args.command](args)
    except BrokenPipeError:  # output piped into `head`: not an error of ours
        sys.stderr.close()
        return 0
    except ValueError as exc:
        return _fail(str(exc))
    except OSError as exc:  # reading or writing a file the user named
        where = f" {exc.filename!r}" if exc.filename is not None else ""
        return _fail(f"cannot access{where}: {exc.strerror or type(exc).__name__}")
    except RecursionError:
        return _fail("the input is nested too deeply (RecursionError)")
    except MemoryError:
        return _fail("the input needs more memory than is available (MemoryError); see the "
                     "limits in the README's Safety section")


def _fail(message: str) -> int:
    message = escape(message)
    if len(message) > _MAX_MESSAGE:
        message = f"{message[:_MAX_MESSAGE]}... ({len(message)} characters)"
    print(f"dropout-theory: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
