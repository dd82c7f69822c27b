"""Claim text is untrusted: hostile input is refused as ClaimError before anything runs."""
import json
import pathlib
import re

import pytest
import sympy as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dropout_theory.claims import ClaimError, check, parse_expression
from dropout_theory.claims.parser import Namespace
from dropout_theory.cli import main

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "dropout_theory" / "claims"


def _namespace():
    return Namespace(scalars={"q": sp.Symbol("q", positive=True), "x": sp.Symbol("x", real=True)},
                     arrays={"w": (sp.IndexedBase("w", real=True), 1)},
                     lengths={"w": sp.Integer(3)})


def _payloads(sentinel):
    s = str(sentinel)
    return [
        f"__import__('os').system('touch {s}')",
        f"__import__('pathlib').Path('{s}').touch()",
        f"open('{s}', 'w').write('x')",
        f"eval(\"open('{s}', 'w')\")",
        f"exec(\"open('{s}', 'w')\")",
        "().__class__.__bases__[0].__subclasses__()",
        "q.__class__.__mro__[-1].__subclasses__()",
        "x.__dict__", "q._args", "q.func",
        f"(lambda: open('{s}', 'w'))()",
        f"[open('{s}', 'w') for _ in (1,)]",
        f"{{k: open('{s}', 'w') for k in (1,)}}",
        f"(open('{s}', 'w') for _ in (1,))",
        f"(y := open('{s}', 'w'))",
        "getattr(q, '__class__')", "globals()", "locals()", "vars()", "breakpoint()",
        f"exp(x) if open('{s}', 'w') else 1",
        f"Sum(x, (j, 1, open('{s}', 'w')))",
        f"E(__import__('os').system('touch {s}'))",
        f"relu(*[open('{s}', 'w')])", "exp(x=1)",
        f"'{s}'", "b'x'", "1j", "x @ x", "x % 2", "x // 2", "x ^ 2", "~x", "x if q else q",
        "w[open]", "w[0]", "w[q]", "w[1:2]", "q[1]", "await q", "yield q",
        "f'{q}'", "...", "None", "True", "x < q", "not q", "q and x",
        "sympify('x')", "S('x')", "Symbol('os')", "Function('f')(x)", "parse_expr('x')",
        # the constructs of issue 11
        f"softmax(__import__('os').system('touch {s}'))[1]", "softmax(w)", "softmax(w)[open]",
        f"logsumexp(open('{s}', 'w'))", f"Product(x, (j, 1, open('{s}', 'w')))",
        f"Product(open('{s}', 'w'), (j, 1, 2))", f"diff(open('{s}', 'w'), x)",
        f"diff(x, open)", f"diff(x, x, open('{s}', 'w'))", "diff(x, x, 10**9)",
        f"where(open('{s}', 'w') > 0, 1, 0)", f"where(x > 0, open('{s}', 'w'), 0)",
        f"KroneckerDelta(open('{s}', 'w'), 1)", f"O(open('{s}', 'w'))", "O(x)",
        f"1 if x > 0 else open('{s}', 'w')", f"(lambda: 1) if x > 0 else 0",
    ]


def test_hostile_expressions_rejected_without_running(tmp_path):
    sentinel = tmp_path / "pwned"
    for text in _payloads(sentinel):
        with pytest.raises(ClaimError):
            parse_expression(text, _namespace())
    assert not sentinel.exists()


def test_hostile_claim_files_exit_2_without_running(tmp_path, capsys):
    sentinel = tmp_path / "pwned"
    for k, text in enumerate(_payloads(sentinel)):
        path = tmp_path / f"claim{k}.toml"
        path.write_text(f"[[claim]]\nname = \"evil{k}\"\nlhs = '''{text}'''\nrhs = \"0\"\n")
        assert main(["check", str(path)]) == 2, text
        err = capsys.readouterr().err
        assert f"evil{k}" in err and "Traceback" not in err
    assert not sentinel.exists()


@pytest.mark.parametrize("field,value", [
    ("random", {"m": "__import__('os').system('touch SENTINEL')"}),
    ("random", {"m": "Bernoulli(__import__('os').system('touch SENTINEL'))"}),
    ("symbols", {"q": "__import__('os')"}),
    ("define", {"a": "open('SENTINEL', 'w')"}),
    ("symbols", {"__class__": "real"}),
])
def test_hostile_declarations_rejected(tmp_path, field, value):
    sentinel = tmp_path / "SENTINEL"
    value = {k: v.replace("SENTINEL", str(sentinel)) for k, v in value.items()}
    entry = {"name": "evil", "lhs": "1", "rhs": "1", field: value}
    with pytest.raises(ClaimError, match="claim 'evil'"):
        check(entry)
    assert not sentinel.exists()


def test_no_dynamic_evaluation_in_the_claims_package():
    """The package never hands text to eval/exec/sympify/parse_expr/lambdify."""
    for path in PACKAGE.glob("*.py"):
        source = path.read_text()
        for forbidden in (r"\beval\(", r"\bexec\(", r"\bsympify\(", r"\bS\(", r"\bparse_expr\(",
                          r"\blambdify\b", r"__import__", r"(?<!re\.)\bcompile\(", r"\bimportlib\b"):
            assert not re.search(forbidden, source), f"{path.name} matches {forbidden}"


def test_huge_numbers_and_deep_nesting_are_refused_quickly():
    for text in ["9**9**9**9", "10**100000", "x**100", "(" * 500 + "x" + ")" * 500,
                 "-" * 5000 + "x", "x" + "+x" * 3000, "sqrt(3)**(10**30)",
                 "(2**(1/2))**(10**12)", "exp(1)**(10**20/7)"]:
        with pytest.raises(ClaimError):
            parse_expression(text, _namespace())


@pytest.mark.parametrize("bound", ["d**15", "1000*(5 - d)**3", "2**(d*4)"])
def test_sum_bounds_too_large_at_some_checked_size_are_refused(bound):
    """The numeric route expands sums at sizes 1..4: d**15 would mean 4**15 terms."""
    namespace = Namespace(scalars={"d": sp.Symbol("d", integer=True, positive=True)},
                          dimensions={"d"})
    with pytest.raises(ClaimError, match="Sum bound"):
        parse_expression(f"Sum(1/(j*j + 1), (j, 1, {bound}))", namespace)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_fuzz_any_text(text):
    try:
        result = parse_expression(text, _namespace())
    except ClaimError:
        return
    assert isinstance(result, sp.Expr)


_ALPHABET = "qxwjdE()[]+-*/., <>=_'\"0123456789Sum VarCovPexplogsqrtrelu:lambda"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=40))
def test_fuzz_claim_like_text(text):
    try:
        result = parse_expression(text, _namespace())
    except ClaimError:
        return
    assert isinstance(result, sp.Expr)


_TOKENS = ["softmax(", "logsumexp(", "Product(", "Sum(", "KroneckerDelta(", "where(", "diff(",
           "O(", "E(", " if ", " else ", "w", "x", "q", "j", "d", "[", "]", "(", ")", ",", "1",
           "2", " > ", " + ", "*", "**", "(j, 1, 2)", "__import__", ".", "lambda:"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_TOKENS), max_size=16).map("".join))
def test_fuzz_the_new_constructs(text):
    """Token soup of issue 11's constructs: an expression or ClaimError, nothing else."""
    try:
        result = parse_expression(text, _namespace())
    except ClaimError:
        return
    event("accepted")
    assert isinstance(result, sp.Expr)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=_ALPHABET, max_size=30), st.text(alphabet=_ALPHABET, max_size=12))
def test_fuzz_whole_claims(lhs, dist):
    entry = {"name": "fuzz", "lhs": lhs, "rhs": "q", "symbols": {"q": "keep", "x": "real"},
             "random": {"m": dist or "Bernoulli(q)"}}
    try:
        check(entry, n_samples=64, n_points=1)
    except ClaimError:
        pass


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_fuzz_claim_files(tmp_path_factory, data):
    from dropout_theory.claims import load_claims
    path = tmp_path_factory.mktemp("fuzz") / "claims.toml"
    path.write_bytes(b"[[claim]]\nname = 'f'\n" + data)
    try:
        load_claims(path)
    except ClaimError:
        pass


_NUMBERS = st.one_of(st.integers(-10 ** 30, 10 ** 30).map(str),
                     st.integers(1, 60).map(lambda k: f"10**(10**{k})"),
                     st.integers(1, 9).map(lambda k: "2**(" * k + "2" + ")" * k),
                     st.floats(allow_nan=False).map(repr), st.sampled_from(["1e309", "0/0", "1/0"]))
_NAMES = st.text(alphabet=st.characters(max_codepoint=0x2100), min_size=1, max_size=30)


def _toml(text: str) -> str:
    return json.dumps(text)  # a JSON string is a valid TOML basic string


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=_NAMES, number=_NUMBERS, depth=st.integers(0, 3000),
       shape=st.lists(st.one_of(st.integers(1, 8), st.integers(0, 10 ** 9)), min_size=1,
                      max_size=6))
def test_fuzz_claim_files_with_large_numbers_deep_nesting_and_control_characters(
        tmp_path_factory, name, number, depth, shape):
    """Claim files with control characters in names, large numbers, deep TOML and
    expression nesting and large shapes: a valid claim, or ClaimError, nothing else; an
    accepted name never reaches the report with a control character."""
    from dropout_theory.claims import load_claims, load_identities
    from dropout_theory.claims.limits import escape
    path = tmp_path_factory.mktemp("fuzz") / "claims.toml"
    lhs = "(" * (depth % 200) + f"x + {number}" + ")" * (depth % 200)
    text = (f"[[claim]]\nname = {_toml(name)}\nlhs = {_toml(lhs)}\nrhs = \"x\"\n"
            f"nested = {'[' * depth}{']' * depth}\n" if depth > 100 else
            f"[[claim]]\nname = {_toml(name)}\nlhs = {_toml(lhs)}\nrhs = \"x\"\n")
    text += f"[claim.symbols]\nx = \"real\"\nw = \"real[{', '.join(map(str, shape))}]\"\n"
    path.write_text(text, encoding="utf-8")
    try:
        claims = load_claims(path)
        identities = load_identities(claims)
    except ClaimError as exc:  # short, and untrusted text in it is escaped
        assert len(str(exc)) < 1000 and not re.search(r"[\x00-\x1f\x7f-\x9f]", str(exc))
        return
    event("accepted")
    assert identities[0].name == escape(name)
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", identities[0].name)
