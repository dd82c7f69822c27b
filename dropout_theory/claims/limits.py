"""Limits on claim input and a work estimate per claim, checked before any work is done.

A claim file is untrusted and may be hostile or merely enormous. Everything here runs before
the pipeline: the file is read with a size cap (special files are refused without opening
them in a way that could block), the TOML nesting, string lengths, names, shapes and the
number of claims are bounded, and each claim gets an estimate of the work its numeric checks
ask for, refused with a named reason above :data:`DEFAULT_BUDGET` (``--budget`` raises it).

The estimate (in "term-samples", about one elementwise NumPy operation each):

    work(claim) = points x (max(samples, 2**18) if the claim is random else 1)
                  x (size of lhs and rhs with every Sum written out at the checked sizes
                     + elements of every array)

(2**18 is the most outcomes the exact route enumerates in place of sampling) where a
``Sum`` counts its body times the number of its terms with dimensions at their
largest typical size (:data:`~.parser.MAX_SIZE`, or the smallest size an index literal
needs) and every outer index at its largest value, so nested sums multiply; every ``P``
event, ``E``, ``Var`` and ``Cov`` node counts with its argument; ``points`` is the typical
points plus one per domain edge and per dimension (the smallest sizes). The file's work is
the sum over its claims plus :data:`CLAIM_OVERHEAD` per claim. It is an upper estimate:
the evaluator often factors a sum instead of writing it out, so a claim may run much faster
than its estimate (a triple sum estimated at 4.2e11 ran in 3.5 s). Larger sizes (8, 64, 1024)
have their own budget in :mod:`dropout_theory.verify`, and the symbolic route its own size
estimate and time limit (:mod:`dropout_theory.symbolic.budget`).
"""
from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass

import sympy as sp

from ..routes.moments import EXACT_MAX_OUTCOMES
from ..symbolic.operators import OPERATORS
from .parser import MAX_SIZE, MAX_TEXT, ClaimError, excerpt

__all__ = ["MAX_FILE_BYTES", "MAX_TOML_DEPTH", "MAX_CLAIMS", "MAX_NAMES", "MAX_NAME_LENGTH",
           "MAX_SHAPE_RANK", "MAX_SHAPE_ENTRY", "MAX_ARRAY_ELEMENTS", "MAX_SAMPLES",
           "DEFAULT_BUDGET", "CLAIM_OVERHEAD", "read_claim_text", "check_depth", "check_strings",
           "escape", "excerpt", "Work", "estimate", "check_budget"]

#: largest claim file read, in bytes (the example files are a few kB)
MAX_FILE_BYTES = 1 << 20
#: deepest nesting of tables and arrays in a claim file (a claim needs 4)
MAX_TOML_DEPTH = 8
#: most claims in one file or call
MAX_CLAIMS = 200
#: most declared names (symbols, random variables, defines) in one claim
MAX_NAMES = 64
#: longest claim or declared name
MAX_NAME_LENGTH = 200
#: most axes of an array
MAX_SHAPE_RANK = 4
#: largest literal shape entry, ``real[4096]``
MAX_SHAPE_ENTRY = 4096
#: most elements of one array at the checked sizes
MAX_ARRAY_ELEMENTS = 1 << 20
#: most Monte Carlo samples per check (``--samples``)
MAX_SAMPLES = 1 << 24
#: default work budget of a file, in term-samples: Monte Carlo runs at about 1e9 per second
#: here, so about 30 s of sampling (an 8.8e9 claim takes 10 s; the 39-claim cancellation
#: corpus, 1.6e10 with overheads, 36 s; the example files 1.7e9 to 4.0e9)
DEFAULT_BUDGET = 30_000_000_000
#: work charged per claim for planning, the symbolic route and reporting (0.15 s for a
#: trivial claim, about 1 s for one of the cancellation corpus)
CLAIM_OVERHEAD = 300_000_000


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape(text) -> str:
    """``text`` with control characters (ANSI escapes, newlines, bidi overrides) shown as
    escapes, so a claim's name cannot redraw the terminal or forge an output line.

    >>> escape("a\\x1b[2J\\nsummary: 9 holds")
    'a\\\\x1b[2J\\\\nsummary: 9 holds'
    """
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


def read_claim_text(path) -> str:
    """The text of a claim file: a regular file of at most :data:`MAX_FILE_BYTES`.

    FIFOs, devices, sockets and directories are refused from ``stat`` before opening; the
    file is then opened non-blocking (a FIFO swapped in meanwhile cannot block the open) and
    checked again on the open descriptor, and at most ``MAX_FILE_BYTES + 1`` bytes are read.
    """
    where = excerpt(os.fspath(path), 120)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ClaimError(f"cannot read claim file {where}: {_kind(info.st_mode)}, not a "
                             f"regular file")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise ClaimError(f"cannot read claim file {where}: {_kind(info.st_mode)}, not a "
                                 f"regular file")
            if info.st_size > MAX_FILE_BYTES:
                raise ClaimError(f"claim file {where} is {info.st_size} bytes; at most "
                                 f"{MAX_FILE_BYTES} are read")
            chunks, size = [], 0
            while size <= MAX_FILE_BYTES:
                chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ClaimError(f"cannot read claim file {where}: "
                         f"{exc.strerror or errno.errorcode.get(exc.errno, exc)}") from None
    if size > MAX_FILE_BYTES:
        raise ClaimError(f"claim file {where} is larger than {MAX_FILE_BYTES} bytes")
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ClaimError(f"claim file {where} is not UTF-8 text (byte {exc.start})") from None


def _kind(mode) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def check_depth(data, where: str = "input") -> None:
    """Refuse tables and arrays nested deeper than :data:`MAX_TOML_DEPTH` (iteratively)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list, tuple)):
            if depth > MAX_TOML_DEPTH:
                raise ClaimError(f"{where}: tables and arrays nested deeper than "
                                 f"{MAX_TOML_DEPTH} levels")
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)


def check_strings(entry: dict) -> None:
    """Refuse a claim whose strings (expressions, distributions, source) are longer than the
    expression limit, or whose declarations are too many."""
    tables = [entry.get(k) for k in ("symbols", "random", "define")]
    count = sum(len(t) for t in tables if isinstance(t, dict))
    if count > MAX_NAMES:
        raise ClaimError(f"{count} declared names; at most {MAX_NAMES} per claim")
    values = [(k, v) for k, v in entry.items() if k not in ("symbols", "random", "define")]
    for key, table in zip(("symbols", "random", "define"), tables):
        if isinstance(table, dict):
            values += [(f"{key} {excerpt(name, 40)}", v) for name, v in table.items()]
            for name in table:
                if isinstance(name, str) and len(name) > MAX_NAME_LENGTH:
                    raise ClaimError(f"{key}: the name {excerpt(name)} is longer than "
                                     f"{MAX_NAME_LENGTH} characters")
    for field, value in values:
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise ClaimError(f"{field}: {excerpt(value)} is longer than {MAX_TEXT} characters")


@dataclass(frozen=True)
class Work:
    """A claim's work estimate and its factors (see the module docstring)."""

    name: str
    terms: int
    arrays: int
    samples: int
    points: int

    @property
    def total(self) -> int:
        return self.points * self.samples * (self.terms + self.arrays)

    def describe(self) -> str:
        return (f"{self.points} points x {self.samples} samples x ({self.terms} terms with sums "
                f"written out + {self.arrays} array elements) = {self.total:.3g}")


def _sizes(claim) -> dict:
    """Each dimension symbol at its largest typical size."""
    return {claim.names.scalars[n]: sp.Integer(max(MAX_SIZE, claim.min_sizes.get(n, 1)))
            for n in claim.names.dimensions}


def _terms(expr, env: dict) -> int:
    """Size of ``expr`` with every Sum (and Product) written out (iterative over args,
    recursive over Sums, whose nesting the parser bounds)."""
    if isinstance(expr, (sp.Sum, sp.Product)):
        inner, count = dict(env), 1
        for index, low, high in reversed(expr.limits):  # SymPy lists the innermost first
            hi, lo = high.xreplace(inner), low.xreplace(inner)
            # a lower bound with an outer index is taken at 1 (an upper estimate of the count)
            if not lo.is_Integer or any(not v.is_positive for v in low.free_symbols):
                lo = sp.Integer(1)
            n = int(hi - lo + 1) if (hi - lo).is_Integer else MAX_SIZE
            count *= max(n, 1)
            inner[index] = hi if hi.is_Integer else sp.Integer(MAX_SIZE)
        return 1 + count * _terms(expr.function, inner)
    total, stack = 0, [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (sp.Sum, sp.Product)):
            total += _terms(node, env)
            continue
        total += 1
        if not isinstance(node, (sp.Indexed, sp.Symbol, sp.Number)):
            stack.extend(node.args)
    return total


def _elements(shape, sizes: dict) -> int:
    count = 1
    for axis in shape:
        name, shift = axis if isinstance(axis, tuple) else (axis, 0)
        count *= axis if isinstance(axis, int) else \
            int(max(MAX_SIZE, sizes.get(name, 1))) + max(shift, 0)
    return count


def estimate(claim, *, n_samples: int, n_points: int) -> Work:
    """The work of ``claim``'s numeric checks at its typical and smallest sizes."""
    sizes = _sizes(claim)
    env = dict(sizes)
    terms = _terms(claim.lhs, env) + _terms(claim.rhs, env)
    by_name = {n: claim.min_sizes.get(n, 1) for n in claim.names.dimensions}
    shapes = [s for _, s in claim.domains.values() if s]
    shapes += [spec.shape for spec in claim.random.values() if spec.shape]
    arrays = sum(_elements(s, by_name) for s in shapes)
    random = bool(claim.random) and any(claim.lhs.has(op) or claim.rhs.has(op)
                                        for op in OPERATORS.values())
    edges = sum(1 for d, s in claim.domains.values() if d != "dimension" and not s)
    points = n_points + edges + len(claim.names.dimensions)
    # the exact route may enumerate up to EXACT_MAX_OUTCOMES outcomes instead of sampling
    samples = max(n_samples, EXACT_MAX_OUTCOMES) if random else 1
    return Work(claim.name, terms, arrays, samples, points)


def check_budget(claims, *, n_samples: int, n_points: int, budget: int) -> list[Work]:
    """Estimates for ``claims``; a claim or file over ``budget`` is refused as ClaimError."""
    works, total = [], 0
    for claim in claims:
        work = estimate(claim, n_samples=n_samples, n_points=n_points)
        if work.total > budget:
            raise ClaimError(f"claim {excerpt(claim.name)}: estimated work {work.describe()} "
                             f"exceeds the budget of {budget:.3g} term-samples (raise it with "
                             f"--budget, or lower --samples)")
        works.append(work)
        total += work.total + CLAIM_OVERHEAD
    if total > budget:
        raise ClaimError(f"{len(works)} claims: estimated work {total:.3g} term-samples "
                         f"(including {CLAIM_OVERHEAD:.3g} per claim) exceeds the budget of "
                         f"{budget:.3g} (raise it with --budget, or split the file)")
    return works
