"""A hostile-input corpus: every class of issue 19's table, each case the CLI's ``main`` in a
child process under a memory cap (RLIMIT_AS) and a time limit.

Each case must end with exit code 2 and a one-line message naming what is wrong (or, for a
legal but expensive claim, a verdict: exit 0 or 1), never a traceback, never a hang, never
an echo of the whole input. Huge inputs have small stand-ins (a 2 MB file for a 10 MB one,
201 claims for 10^4, a sparse file for 100 GB); the limits they hit are the same.

The child is forked from the test process (the imports are done once: a fresh interpreter
costs 1.7 s here, 40 of them would double the run) and does what ``subprocess``'s
``preexec_fn`` plus ``python -m dropout_theory`` would: cap its address space, send fds 1
and 2 to files, run ``cli.main(argv)`` and exit with its code, an uncaught exception
printed as a traceback with exit code 1 as the interpreter would. The parent kills it at
the time limit. ``test_a_real_interpreter_too`` runs one case through ``python -m``.
"""
import json
import os
import resource
import signal
import subprocess
import sys
import time
import traceback
from types import SimpleNamespace

import pytest

import dropout_theory.report  # noqa: F401  (imported before forking: the children share them,
import dropout_theory.verify  # noqa: F401  and a capped child need not map new libraries)
from dropout_theory import cli
from dropout_theory.claims.limits import (MAX_CLAIMS, MAX_FILE_BYTES, MAX_NAMES,
                                          MAX_SAMPLES)

MEMORY_CAP = 3 << 30       # bytes of address space per case (the bound is 4 GB)
TIME_LIMIT = 40            # seconds per case; the slowest legal case takes about 4 s here
FAST = ["--samples", "4096", "--points", "1"]


def _cap_memory(cap=MEMORY_CAP):
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _mapped() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))


def _child(argv, out, err) -> int:
    try:  # 3 GB, or 1 GB beyond what the (forked) test process already maps if that is more
        _cap_memory(max(MEMORY_CAP, _mapped() + (1 << 30)))
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException:  # what the interpreter would print
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        return code
    except BaseException:
        return 99


def _run(*argv, tmp=None):
    tmp = tmp or _run.tmp
    out_path, err_path = tmp / f"out{_run.count}", tmp / f"err{_run.count}"
    _run.count += 1
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os._exit(_child(argv, out.fileno(), err.fileno()))
    deadline = time.monotonic() + TIME_LIMIT
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"{argv} ran past {TIME_LIMIT} s")
        time.sleep(0.01)
    read = lambda path: path.read_bytes().decode("utf-8", "backslashreplace")  # noqa: E731
    return SimpleNamespace(returncode=os.waitstatus_to_exitcode(status),
                           stdout=read(out_path), stderr=read(err_path))


_run.count = 0


@pytest.fixture(autouse=True)
def _scratch(tmp_path):
    _run.tmp = tmp_path


def _claim(name, lhs, rhs="0", symbols=None, random=None, extra=""):
    text = (f"[[claim]]\nname = {json.dumps(name)}\nlhs = {json.dumps(lhs)}\n"
            f"rhs = {json.dumps(rhs)}\n{extra}")
    for table, values in (("symbols", symbols), ("random", random)):
        if values:
            text += f"[claim.{table}]\n" + "".join(f"{k} = {json.dumps(v)}\n"
                                                   for k, v in values.items())
    return text


_SUM14 = " + ".join(f"a{k}" for k in range(14))
#: id -> (claim file text or None for a valid one, extra arguments, text the error must contain)
INVALID = {
    # small files, huge work
    "bound-over-14-dimensions": (_claim("b14", f"Sum(1, (j, 1, {_SUM14}))", "0",
                                        {f"a{k}": "dimension" for k in range(14)}),
                                 [], "claim 'b14': lhs: Sum bound"),
    "over-budget": (_claim("heavy", "P(Sum(Sum(z[i]*z[j]*w[i]*w[j], (j, 1, 120)), "
                                    "(i, 1, 120)) > 1)", "1/2", {"w": "real[120]"},
                           {"z": "Normal(0, 1)[120]"}), [], "claim 'heavy': estimated work"),
    "over-a-lowered-budget": (_claim("small", "E(m*x/q)", "x", {"q": "keep", "x": "real"},
                                     {"m": "Bernoulli(q)"}), ["--budget", "1000"],
                              "exceeds the budget of 1e+03"),
    "defines-doubling-40-times": (_claim("dag", "a40", "0", {"x": "real"}) + "[claim.define]\n"
                                  + 'a1 = "x + 1"\n' + "".join(f'a{k + 1} = "a{k}*(a{k} + 1)"\n'
                                                              for k in range(1, 40)),
                                  [], "claim 'dag': define 'a15': the expression has more than"),
    # towers and huge literals
    "literal-shape-1e8": (_claim("s8", "w[1]", "0", {"w": "real[100000000]"}), [],
                          "claim 's8': symbol 'w': shape entry 100000000 is larger"),
    "literal-shape-1e6x1e6": (_claim("s12", "w[1, 1]", "0", {"w": "real[1000000, 1000000]"}),
                              [], "claim 's12': symbol 'w': shape entry 1000000"),
    "literal-power-10-to-the-1e9": (_claim("digits", "x + 10**(10**9)", "x", {"x": "real"}), [],
                                    "claim 'digits': lhs: the number 10**1000000000 is too large"),
    # many of everything
    "too-many-claims": ("".join(_claim(f"c{k}", "1", "1") for k in range(MAX_CLAIMS + 1)), [],
                        f"at most {MAX_CLAIMS} in one file"),
    "too-many-symbols": (_claim("sy", "x0", "x0",
                                {f"x{k}": "real" for k in range(MAX_NAMES + 1)}),
                         [], f"claim 'sy': {MAX_NAMES + 1} declared names"),
    "long-distribution-string": (_claim("big", "E(m)", "1/2", {},
                                        {"m": "Bernoulli(" + "1" * 5000 + ")"}), [],
                                 "claim 'big': random 'm': "),
    "file-over-the-size-cap": (_claim("big", "E(m)", "1/2", {},
                                      {"m": "Bernoulli(" + "1" * (2 * MAX_FILE_BYTES) + ")"}), [],
                               f"at most {MAX_FILE_BYTES} are read"),
    # files that are not files (the special files are set up in the test)
    "toml-nested-5000-deep": ("[[claim]]\nname = 'deep'\nlhs = '1'\nrhs = '1'\nx = "
                              + "[" * 5000 + "]" * 5000 + "\n", [], "nested too deeply"),
    "toml-nested-20-deep": ("[[claim]]\nname = 'deep'\nlhs = '1'\nrhs = '1'\nx = "
                            + "[" * 20 + "]" * 20 + "\n", [], "nested deeper than"),
    "not-utf8": (b"[[claim]]\nname = '\xff\xfe'\n", [], "is not UTF-8 text"),
    # undefined parameters
    "bernoulli-sqrt-minus-1": (_claim("u1", "E(m)", "1", {}, {"m": "Bernoulli(sqrt(-1))"}), [],
                               "claim 'u1': random 'm': invalid Bernoulli probability 'I'"),
    "bernoulli-1-over-0": (_claim("u2", "E(m)", "1", {}, {"m": "Bernoulli(1/0)"}), [],
                           "claim 'u2': random 'm': invalid Bernoulli probability 'zoo'"),
    "normal-0-over-0": (_claim("u4", "E(z)", "0", {}, {"z": "Normal(0, 0/0)"}), [],
                        "claim 'u4': random 'z': invalid Normal standard deviation 'nan'"),
    "normal-sqrt-of-real": (_claim("u3", "E(z)", "0", {"x": "real"}, {"z": "Normal(0, sqrt(x))"}),
                            [], "claim 'u3': invalid Normal parameters 0, sqrt(x) of z"),
    # CLI numbers
    "samples-1e20": (None, ["--samples", "100000000000000000000"],
                     f"--samples must be at most {MAX_SAMPLES}"),
    "alpha-1e-320": (None, ["--alpha", "1e-320"], "--alpha must be a false-alarm rate"),
    "alpha-nan": (None, ["--alpha", "nan"], "--alpha must be a false-alarm rate"),
    "budget-0": (None, ["--budget", "0"], "--budget"),
    "time-limit-nan": (None, ["--time-limit", "nan"], "--time-limit must be in"),
    "seed-1e30": (None, ["--seed", "1" + "0" * 30], "--seed must be below 2**63"),
    # unclear messages, now naming claim, field and value
    "shape-superscript-two": (_claim("sh", "w[1]", "0", {"w": "real[\u00b2]"}), [],
                              "claim 'sh': symbol 'w': shape entry '\u00b2' must be"),
    "shape-100-entries": (_claim("sh100", "1", "1", {"w": "real[" + ", ".join(["2"] * 100) + "]"}),
                          [], "claim 'sh100': symbol 'w': shape"),
    "code-inside-bernoulli": (_claim("cb", "E(m)", "1", {},
                                     {"m": "Bernoulli(__import__('os').getcwd())"}), [],
                              "claim 'cb': random 'm': parameter 1 of Bernoulli"),
    # the constructs of issue 11: the same budgets as Sum, no code anywhere
    "product-bound-d-to-the-6": (_claim("pr", "Product(1 + 1/j, (j, 1, d**6))", "1",
                                        {"d": "dimension"}), [], "claim 'pr': lhs: Sum bound"),
    "nested-products-over-budget": (_claim("pp", "E(Product(Product(Product(1 + z[i]*z[j]*z[k], "
                                           "(k, 1, 100)), (j, 1, 100)), (i, 1, 100)))", "1", {},
                                           {"z": "Normal(0, 1)[100]"}), [],
                                    "claim 'pp': estimated work"),
    "derivative-of-nested-sigmoids": (_claim("dd", "diff(sigmoid(sigmoid(sigmoid(sigmoid("
                                             "sigmoid(x))))), x, 6)", "0", {"x": "real"}), [],
                                      "claim 'dd': lhs: the derivative of order 3 has more"),
    "derivative-order-10-to-the-9": (_claim("do", "diff(x, x, 1000000000)", "0",
                                            {"x": "real"}), [], "the order of diff() must"),
    "softmax-of-code": (_claim("sc", "softmax(__import__('os').getcwd())[1]", "0",
                               {"d": "dimension", "w": "real[d]"}), [], "claim 'sc': lhs:"),
    "approximation-order-1e9": (_claim("ao", "x", "x", {"x": "positive"},
                                       extra='relation = "~"\norder = 1000000000\nin = "x"\n'),
                                [], "claim 'ao': rhs: order must be"),
    "big-o-of-code": (_claim("bo", "x", "x + O(__import__('os'))", {"x": "positive"}), [],
                      "claim 'bo': rhs: unknown function"),
    "assume-code": (_claim("ac", "x", "x", {"x": "real"},
                           extra='assume = ["__import__(\'os\').getcwd() > 0"]\n'), [],
                    "claim 'ac': assume 1: only the listed functions can be called"),
    "assume-10000-premises": (_claim("am", "x", "x", {"x": "real"},
                                     extra="assume = [" + ", ".join(['"x > 0"'] * 10000) + "]\n"),
                              [], "claim 'am': assume must be a list of at most 16"),
    "assume-hard-to-hit": (_claim("ah", "x", "x", {"x": "real"},
                                  extra='assume = ["x > 1.9999"]\n'), [],
                           "the premises are hard to hit"),
}
_OK = _claim("ok", "E(m*x/q)", "x", {"q": "keep", "x": "real"}, {"m": "Bernoulli(q)"})


def _assert_clean_error(result, message):
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines()
             if line.startswith("dropout-theory: error")]
    assert len(lines) == 1 and message in lines[0], result.stderr[-2000:]
    assert len(result.stderr) < 2500  # a short excerpt of the input at most


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_input_exits_2_with_a_message(tmp_path, case):
    text, argv, message = INVALID[case]
    path = tmp_path / "claims.toml"
    if text is None:
        text = _OK
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    _assert_clean_error(_run("check", str(path), *argv), message)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "sparse-100GB", "directory", "missing"])
def test_files_that_are_not_files_are_refused_without_blocking(tmp_path, kind):
    path = tmp_path / "claims.toml"
    if kind == "fifo":
        os.mkfifo(path)      # opening it for reading would block until a writer comes
    elif kind == "dev-zero":
        path = "/dev/zero"   # endless
    elif kind == "sparse-100GB":
        with open(path, "wb") as handle:
            handle.truncate(100 << 30)
    elif kind == "directory":
        path.mkdir()
    message = {"fifo": "a FIFO, not a regular file", "dev-zero": "a character device",
               "sparse-100GB": f"is {100 << 30} bytes", "directory": "a directory",
               "missing": "No such file or directory"}[kind]
    _assert_clean_error(_run("check", str(path)), message)


def test_output_paths_that_cannot_be_written(tmp_path):
    """``figures --out`` a file, a path under a file, a directory where a PNG goes."""
    afile = tmp_path / "afile"
    afile.write_text("x")
    _assert_clean_error(_run("figures", "--out", str(afile)), "exists and is not a directory")
    _assert_clean_error(_run("figures", "--out", str(afile / "sub")), "Not a directory")
    from dropout_theory.registry import figures
    first = sorted(figures())[0]
    (tmp_path / "out" / f"{first}.png").mkdir(parents=True)
    _assert_clean_error(_run("figures", "--out", str(tmp_path / "out")), "Is a directory")


LEGAL = {
    # small files, huge work: within the budget, so they get a verdict
    "nested-sums-1000x1000": (_claim("ns", "Sum(Sum(w[i]*w[j], (j, 1, 1000)), (i, 1, 1000))",
                                     "Sum(w[i], (i, 1, 1000))**2", {"w": "real[1000]"}), FAST,
                              "holds"),
    "40-events": (_claim("ev", " + ".join(f"P(z > {10 + k})" for k in range(40)), "0", {},
                         {"z": "Normal(0, 1)"}), FAST, "holds"),
    # the engine's expansion of a cube of sums is slow: the symbolic route stops at its time
    # limit (inconclusive) and the numeric routes refute the claim
    "variance-of-a-cube-of-sums": (_claim("vc", "Var((Sum(m[i]*x[i], (i, 1, d)) + "
                                                "Sum(g[i]*x[i], (i, 1, d)) + z)**3)", "0",
                                          {"d": "dimension", "x": "real[d]"},
                                          {"m": "Bernoulli(1/2)[d]", "g": "Normal(0, 1)[d]",
                                           "z": "Normal(0, 1)"}),
                                   FAST + ["--time-limit", "1"], "fails"),
    # towers: evaluated in balls, never as exact integers
    "tower-2-2-2-2-d": (_claim("tw", "2**(2**(2**(2**d)))", "0", {"d": "dimension"}), FAST,
                        "fails"),
}


@pytest.mark.parametrize("case", sorted(LEGAL))
def test_legal_but_expensive_claims_get_a_verdict(tmp_path, case):
    text, argv, verdict = LEGAL[case]
    path = tmp_path / "claims.toml"
    path.write_text(text)
    result = _run("check", str(path), "--json", *argv)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    (statement,) = json.loads(result.stdout)["statements"]
    assert statement["verdict"] == verdict
    if case == "variance-of-a-cube-of-sums":
        symbolic = statement["routes"][0]
        assert statement["symbolic"] == symbolic["status"] == "inconclusive"
        assert "time limit" in symbolic["note"]


def test_spoofed_names_are_escaped_and_json_stays_valid(tmp_path):
    path = tmp_path / "claims.toml"
    path.write_text(_claim("a\x1b[2J\x1b[H\nsummary: 9 holds", "1", "1"))
    text = _run("check", str(path))
    assert text.returncode == 0 and "Traceback" not in text.stderr
    for stream in (text.stdout, text.stderr):
        assert "\x1b" not in stream
        assert not any(line.startswith("summary: 9 holds") for line in stream.splitlines())
    assert "a\\x1b[2J\\x1b[H\\nsummary: 9 holds" in text.stdout
    data = json.loads(_run("check", str(path), "--json").stdout)
    assert data["statements"][0]["name"] == "a\\x1b[2J\\x1b[H\\nsummary: 9 holds"


def test_a_real_interpreter_too(tmp_path):
    """One case through ``python -m dropout_theory`` with the cap in ``preexec_fn``."""
    path = tmp_path / "claims.toml"
    path.write_text(_claim("u1", "E(m)", "1", {}, {"m": "Bernoulli(sqrt(-1))"}))
    result = subprocess.run([sys.executable, "-m", "dropout_theory", "check", str(path)],
                            capture_output=True, text=True, timeout=TIME_LIMIT,
                            preexec_fn=_cap_memory)
    _assert_clean_error(result, "claim 'u1': random 'm': invalid Bernoulli probability 'I'")


def test_the_estimate_multiplies_nested_sums_and_counts_every_claim():
    from dropout_theory.claims import ClaimError, claim_from_dict
    from dropout_theory.claims.limits import CLAIM_OVERHEAD, check_budget, estimate
    base = {"name": "n", "rhs": "0", "symbols": {"d": "dimension", "w": "real[d]"}}
    single = claim_from_dict({**base, "lhs": "Sum(w[i], (i, 1, d))"})
    nested = claim_from_dict({**base, "lhs": "Sum(Sum(w[i]*w[j], (j, 1, i)), (i, 1, 1000))"})
    # at d = 4: the sum, 4 copies of its body w[i] (one node), the rhs 0; nested: 1000 * (up
    # to 1000, i at its largest) terms w[i]*w[j] of 3 nodes (SymPy merges the two sums into
    # one with two limits, the inner one first)
    assert estimate(single, n_samples=1, n_points=4).terms == 1 + 4 * 1 + 1
    assert estimate(nested, n_samples=1, n_points=4).terms == 1 + 1000 * 1000 * 3 + 1
    random = claim_from_dict({"name": "r", "lhs": "E(m*x/q)", "rhs": "x",
                              "symbols": {"q": "keep", "x": "real"},
                              "random": {"m": "Bernoulli(q)"}})
    work = estimate(random, n_samples=1000, n_points=4)
    # at least the 2**18 outcomes the exact route may enumerate; two domain edges
    assert (work.samples, work.points) == (1 << 18, 4 + 2)
    assert check_budget([random], n_samples=1000, n_points=4, budget=work.total
                        + CLAIM_OVERHEAD)
    with pytest.raises(ClaimError, match="claim 'r': estimated work"):
        check_budget([random], n_samples=1000, n_points=4, budget=work.total - 1)
    with pytest.raises(ClaimError, match="2 claims: estimated work"):
        check_budget([random, random], n_samples=1000, n_points=4,
                     budget=work.total + CLAIM_OVERHEAD + 1)


def test_out_of_memory_is_a_clean_error(tmp_path):
    """A fresh interpreter capped at 8 MB above the address space the same claim needs at 64
    samples: at 2**20 samples (the Monte Carlo batches of 1000-entry normal arrays take about
    30 MB more here) it runs out of memory and ends as exit 2 with a message, not a
    traceback. (A forked child would reuse the test process's free heap, so the cap is
    measured on a fresh interpreter.)"""
    path = tmp_path / "claims.toml"
    path.write_text(_claim("mem", "P(Sum(g[i]**2, (i, 1, 1000)) > 1000)", "1/2", {},
                           {"g": "Normal(0, 1)[1000]"}))
    argv = ["check", str(path), "--points", "1", "--budget", str(10 ** 15)]
    probe = ("import sys\nfrom dropout_theory.cli import main\ncode = main(sys.argv[1:])\n"
             "status = open('/proc/self/status').read()\n"
             "print(int(status.split('VmPeak:')[1].split()[0]) * 1024)\nsys.exit(code)")
    small = subprocess.run([sys.executable, "-c", probe, *argv, "--samples", "64"],
                           capture_output=True, text=True, timeout=TIME_LIMIT)
    assert small.returncode in (0, 1), small.stderr[-2000:]
    cap = int(small.stdout.strip().splitlines()[-1]) + (8 << 20)
    result = subprocess.run([sys.executable, "-m", "dropout_theory", *argv,
                             "--samples", str(1 << 20)], capture_output=True, text=True,
                            timeout=TIME_LIMIT, preexec_fn=lambda: _cap_memory(cap))
    _assert_clean_error(result, "needs more memory than is available (MemoryError)")


def test_many_slow_claims_share_one_symbolic_time_limit(tmp_path):
    """Six claims whose expansion is slow, --time-limit 0.1: together at most 0.4 s of
    symbolic CPU time, after which the rest say inconclusive at once; all still get verdicts.
    One such expansion (three sums cubed) takes more than 3 s of CPU here. (With two sums it
    took about 0.3 s, and once SymPy's caches were warm from the first claims a later one
    sometimes finished inside 0.1 s: a correct refutation, but not what this test is about.)"""
    def cube(k):
        return (f"Var((Sum(m{k}[i]*x[i], (i, 1, d)) + Sum(g{k}[i]*x[i], (i, 1, d))"
                f" + Sum(u{k}[i]*x[i], (i, 1, d)) + z{k})**3)",
                {"d": "dimension", "x": "real[d]"},
                {f"m{k}": "Bernoulli(1/2)[d]", f"g{k}": "Normal(0, 1)[d]",
                 f"u{k}": "Uniform(0, 1)[d]", f"z{k}": "Normal(0, 1)"})
    path = tmp_path / "claims.toml"
    path.write_text("".join(_claim(f"vc{k}", cube(k)[0], "0", *cube(k)[1:]) for k in range(6)))
    start = time.monotonic()
    result = _run("check", str(path), "--json", "--time-limit", "0.1", *FAST)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    statements = json.loads(result.stdout)["statements"]
    assert [s["verdict"] for s in statements] == ["fails"] * 6
    notes = [s["routes"][0]["note"] for s in statements]
    assert all("time limit" in note for note in notes), notes
    assert any("used up their total" in note for note in notes)
    assert time.monotonic() - start < 30
