"""Property-based tests of the claim parser (Hypothesis, derandomized, with deadlines): random
expressions built from the claim grammar's own tokens (functions, operators, Sum, numbers from
tiny to huge, declared and undeclared names, broken brackets) either parse into a SymPy
expression or raise ClaimError, never another exception, and never hang. The character-level
fuzzing lives in test_security.py; this one reaches deeper into the grammar."""
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropout_theory.claims import ClaimError, parse_expression
from dropout_theory.claims.parser import FUNCTIONS, Namespace

# a deadline per example: a parse that takes seconds is a hang in the making
PROPERTIES = settings(max_examples=150, deadline=3000, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow])

_NUMBERS = st.one_of(st.integers(-10**6, 10**6).map(str), st.sampled_from(
    ["0", "1e308", "1e-320", "1e309", "10**400", "2**2**2**2", "0.5", "1/0", "0**0", "1e-5"]))
_NAMES = st.sampled_from(["q", "x", "w[j]", "w[1]", "m", "d", "j", "undeclared", "pi", "E",
                          "w[j + 1]", "w[d - 1]", "w[j + 17]", "w[1 + j]", "w[j * 2]",
                          "w[j + 1 + 1]", "w[-j]"])
_LEAVES = st.one_of(_NUMBERS, _NAMES)


def _extend(inner):
    function = st.sampled_from(sorted(FUNCTIONS)).flatmap(
        lambda f: st.lists(inner, min_size=1, max_size=2).map(lambda a: f"{f}({', '.join(a)})"))
    operator = st.sampled_from(["E", "Var", "P"]).flatmap(
        lambda f: inner.map(lambda a: f"{f}({a})"))
    binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "<", ">=", "=="]),
                       inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    summed = st.tuples(inner, st.sampled_from(["d", "3", "0", "-2", "d**2", "q"])).map(
        lambda t: f"Sum({t[0]}, (j, 1, {t[1]}))")
    cov = st.tuples(inner, inner).map(lambda t: f"Cov({t[0]}, {t[1]})")
    conditional = st.tuples(st.sampled_from(["E", "Var", "P"]), inner, st.sampled_from(
        ["m", "(m, x)", "(m, m)", "x", "q", "m > 0", "(m,)", "()", "m | m", "w"])).map(
        lambda t: f"{t[0]}({t[1]} | {t[2]})")
    return st.one_of(function, operator, binary, summed, cov, conditional,
                     inner.map(lambda a: f"-{a}"))


_EXPRESSIONS = st.recursive(_LEAVES, _extend, max_leaves=12)


def _namespace():
    d = sp.Symbol("d", integer=True, positive=True)
    return Namespace(scalars={"q": sp.Symbol("q", positive=True), "x": sp.Symbol("x", real=True),
                              "m": sp.Symbol("m", real=True), "d": d},
                     arrays={"w": (sp.IndexedBase("w", real=True), 1)},
                     random={"m", "x"}, dimensions={"d"})


def _parse_or_claim_error(text):
    try:
        result = parse_expression(text, _namespace())
    except ClaimError as exc:
        assert str(exc)  # a clear message, not an empty one
        return None
    assert isinstance(result, (sp.Basic, bool))
    return result


@PROPERTIES
@given(_EXPRESSIONS)
def test_grammar_built_expressions_parse_or_raise_claim_error(text):
    _parse_or_claim_error(text)


@PROPERTIES
@given(_EXPRESSIONS, st.integers(0, 200), st.sampled_from(["(", ")", ",", "[", "]", "**",
                                                          "", " ", "\x00", "é"]))
def test_truncated_or_corrupted_expressions_parse_or_raise_claim_error(text, cut, junk):
    cut = cut % (len(text) + 1)
    _parse_or_claim_error(text[:cut] + junk + text[cut:])
