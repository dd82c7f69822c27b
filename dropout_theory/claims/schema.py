"""Claim schema: a TOML file or a dict becomes a validated :class:`Claim`.

Every problem is a :class:`~dropout_theory.claims.parser.ClaimError` whose message starts with
``claim 'NAME':`` and names the field and the value, so the CLI can report it without a
traceback.
"""
from __future__ import annotations

import ast
import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

from ..symbolic import Bernoulli, Normal, RandomSpace, Uniform
from ..symbolic.distributions import (UNIT, Beta, Binomial, Exponential, Gamma,
                                      MultivariateNormal, Poisson, symmetric_entry)
from .conditional import (Given, almost_surely, expand_conditionals, has_given,
                          top_level_conditioned)
from .limits import (MAX_ARRAY_ELEMENTS, MAX_CLAIMS, MAX_NAME_LENGTH, MAX_SHAPE_ENTRY,
                     MAX_SHAPE_RANK, check_depth, check_strings, excerpt, read_claim_text)
from .parser import (BIG_O, MAX_INDEX_SHIFT, MAX_SIZE, MAX_TEXT, OPERATORS, ClaimError, Namespace,
                     check_identifier, check_tree_size, parse_expression)

__all__ = ["Claim", "RandomSpec", "load_claims", "claim_from_dict", "DOMAINS", "RELATIONS"]

#: scalar domains: SymPy assumptions of the symbol
DOMAINS = {"keep": {"positive": True}, "probability": {"positive": True},
           "real": {"real": True}, "positive": {"positive": True},
           "nonnegative": {"nonnegative": True}, "negative": {"negative": True},
           "integer": {"integer": True}, "dimension": {"integer": True, "positive": True},
           "covariance": {"real": True}}  # arrays only: a covariance matrix "covariance[d, d]"
_ARRAY_DOMAINS = ("real", "positive", "nonnegative", "negative", "keep", "probability",
                  "covariance")
#: an interval domain "real(a, b)": a closed interval with literal decimal ends, a < b
_INTERVAL = re.compile(r"\s*real\s*\(\s*(-?[0-9]{1,6}(?:\.[0-9]{1,6})?)\s*,"
                       r"\s*(-?[0-9]{1,6}(?:\.[0-9]{1,6})?)\s*\)\s*(?:\[([^\]]*)\])?\s*\Z")


def interval(domain: str):
    """``(a, b)`` of an interval domain ``"real(a, b)"`` (exact decimals), else ``None``."""
    match = _INTERVAL.match(domain)
    return None if match is None else (sp.Rational(match.group(1)), sp.Rational(match.group(2)))


def domain_assumptions(domain: str) -> dict:
    """The SymPy assumptions of a scalar of ``domain`` (an interval's sign when it has one)."""
    ends = interval(domain)
    if ends is None:
        return DOMAINS[domain]
    a, b = ends
    return {"positive": True} if a > 0 else {"negative": True} if b < 0 else \
        {"nonnegative": True} if a == 0 else {"nonpositive": True} if b == 0 else {"real": True}
#: "~": an approximation, lhs - rhs = Theta(h**order) as h -> 0 (keys ``order`` and ``in``,
#: or a term ``O(h**order)`` of the rhs); "~=" and "\u2248" are read as "~"
RELATIONS = ("==", "<=", ">=", "~")
_RELATION_ALIASES = {"~=": "~", "\u2248": "~"}
_KEYS = {"name", "lhs", "rhs", "relation", "source", "symbols", "define", "random", "expected",
         "order", "in", "assume"}
_VERDICTS = ("holds", "fails", "approximate")
#: most premises of one claim, and the highest order of an approximation
MAX_ASSUME = 16
MAX_ORDER = 8
_DISTRIBUTIONS = {"Bernoulli": (1, Bernoulli), "Normal": (2, Normal), "Uniform": (2, Uniform),
                  "Exponential": (1, Exponential), "Gamma": (2, Gamma), "Beta": (2, Beta),
                  "Poisson": (1, Poisson), "Binomial": (2, Binomial),
                  "MultivariateNormal": (2, MultivariateNormal)}
_DOMAIN_TEXT = re.compile(r"\s*([a-z]+)\s*(?:\[([^\]]*)\])?\s*\Z")
_DIGITS = re.compile(r"[0-9]{1,12}\Z")
#: a shifted size in a shape, "T + 1"
_SHIFTED = re.compile(r"([A-Za-z][A-Za-z0-9_]*)\s*([+-])\s*([0-9]{1,6})\Z")


@dataclass(frozen=True)
class RandomSpec:
    """A random variable: ``kind`` (Bernoulli, Normal, Uniform), parameters and shape."""

    name: str
    kind: str
    params: tuple
    shape: tuple = ()


@dataclass
class Claim:
    """A validated claim: parsed sides, declarations and the random space for the engine."""

    name: str
    lhs: sp.Expr
    rhs: sp.Expr
    relation: str = "=="
    source: str = ""
    expected: str | None = None
    text: dict = field(default_factory=dict)        # lhs/rhs as written
    domains: dict = field(default_factory=dict)     # name -> (domain, shape)
    random: dict = field(default_factory=dict)      # name -> RandomSpec
    names: Namespace = field(default_factory=Namespace)
    space: RandomSpace = field(default_factory=RandomSpace)
    min_sizes: dict = field(default_factory=dict)   # dimension name -> smallest legal value
    order: float | None = None                      # an approximation's order ...
    parameter: str | None = None                    # ... as this scalar goes to 0
    premises: tuple = ()                            # assume = [...]: parsed events
    question: bool = False                          # no rhs: derive lhs's closed form
    #: a claim with conditional means E(f | m) (claims.conditional): its sides as written,
    #: (lhs, rhs), before they were rewritten over copies of the variables
    written: tuple = ()
    #: a statement between random variables, equal almost surely: lhs/rhs above are then
    #: E[(lhs - rhs) probe] (the probe the engine's lhs - rhs) or E[(lhs - rhs)^2], and 0
    surely: bool = False
    probe: sp.Expr | None = None

    def symbol(self, name: str):
        return self.names.scalars.get(name) or self.names.arrays[name][0]


def _shape(text: str, dimensions: set, where: str) -> tuple:
    parts = [p.strip() for p in text.split(",")]
    if len(parts) > MAX_SHAPE_RANK:
        raise ClaimError(f"{where}: shape {excerpt(text)} has {len(parts)} entries; at most "
                         f"{MAX_SHAPE_RANK} axes")
    shape, elements = [], 1
    for part in parts:
        if _DIGITS.match(part) and 1 <= int(part) <= MAX_SHAPE_ENTRY:
            shape.append(int(part))
            elements *= int(part)
        elif part in dimensions:
            shape.append(part)
            elements *= MAX_SIZE
        elif _SHIFTED.match(part) and _SHIFTED.match(part).group(1) in dimensions:
            name, sign, shift = _SHIFTED.match(part).groups()
            if not 1 <= int(shift) <= MAX_INDEX_SHIFT:
                raise ClaimError(f"{where}: shape entry {excerpt(part)} shifts a size by more "
                                 f"than {MAX_INDEX_SHIFT}")
            shape.append((name, int(shift) if sign == "+" else -int(shift)))
            elements *= MAX_SIZE + int(shift)
        elif _DIGITS.match(part) and int(part) >= 1:
            raise ClaimError(f"{where}: shape entry {part} is larger than {MAX_SHAPE_ENTRY}")
        else:
            raise ClaimError(f"{where}: shape entry {excerpt(part)} must be a positive integer "
                             f"(digits 0-9), a name declared as \"dimension\" or one plus or "
                             f"minus an integer (\"T + 1\")")
    if elements > MAX_ARRAY_ELEMENTS:
        raise ClaimError(f"{where}: shape {excerpt(text)} has {elements} elements at the "
                         f"checked sizes; at most {MAX_ARRAY_ELEMENTS}")
    return tuple(shape)


def _domains(table) -> dict:
    if not isinstance(table, dict):
        raise ClaimError(f"[claim.symbols] must be a table of name = \"domain\", got "
                         f"{excerpt(table)}")
    parsed = {}
    for name, text in table.items():
        check_identifier(name, "symbol")
        ranged = _INTERVAL.match(text) if isinstance(text, str) else None
        if ranged is not None:
            a, b = sp.Rational(ranged.group(1)), sp.Rational(ranged.group(2))
            if not a < b:
                raise ClaimError(f"symbol {name!r}: the interval {excerpt(text)} needs a < b")
            parsed[name] = (f"real({ranged.group(1)}, {ranged.group(2)})", ranged.group(3))
            continue
        match = _DOMAIN_TEXT.match(text) if isinstance(text, str) else None
        if match is None or match.group(1) not in DOMAINS:
            raise ClaimError(f"symbol {name!r}: unknown domain {excerpt(text)}; use one of "
                             f"{', '.join(DOMAINS)}, \"real(a, b)\" or arrays \"real[d]\", "
                             f"\"real[n, d]\"")
        parsed[name] = (match.group(1), match.group(2))
    dims = {n for n, (dom, shape) in parsed.items() if dom == "dimension" and shape is None}
    result = {}
    for name, (domain, shape) in parsed.items():
        if domain == "covariance" and (shape is None or len(_shape(shape, dims, name)) != 2
                                       or len(set(_shape(shape, dims, name))) != 1):
            raise ClaimError(f"symbol {name!r}: a covariance is a square matrix, "
                             f"\"covariance[d, d]\", got {excerpt(f'{domain}[{shape}]')}")
        if shape is None:
            result[name] = (domain, ())
        elif domain not in _ARRAY_DOMAINS and interval(domain) is None:
            raise ClaimError(f"symbol {name!r}: arrays take a domain among {_ARRAY_DOMAINS}, "
                             f"got {domain!r}")
        else:
            result[name] = (domain, _shape(shape, dims, f"symbol {name!r}"))
    return result


def _per_unit(where: str, kind: str, arg, shape: tuple, domains: dict):
    """A Bernoulli rate given as a declared array (``Bernoulli(r)[d]`` with ``r = "keep[d]"``):
    entry ``m[i]`` is kept with probability ``r[i]``. ``None`` when ``arg`` is not an array."""
    if not (isinstance(arg, ast.Name) and arg.id in domains and domains[arg.id][1]):
        return None
    domain, own = domains[arg.id]
    if kind != "Bernoulli":
        raise ClaimError(f"{where}: a parameter per unit ({arg.id!r}) is supported for "
                         f"Bernoulli only, not {kind}")
    if domain not in ("keep", "probability"):
        raise ClaimError(f"{where}: the per-unit rate {arg.id!r} must be declared \"keep[...]\" "
                         f"or \"probability[...]\", not {domain!r}")
    if own != shape:
        raise ClaimError(f"{where}: the per-unit rate {arg.id!r} has shape {list(own)} but the "
                         f"variable has shape {list(shape) or 'scalar'}; they must be equal")
    return sp.IndexedBase(arg.id, real=True)[UNIT[:len(shape)]]


def _normal_vector(name: str, where: str, node, shape: tuple, domains: dict) -> RandomSpec:
    """``MultivariateNormal(mu, S)``: ``mu`` a declared vector ``real[d]``, ``S`` a declared
    ``covariance[d, d]``; the variable is the vector ``[d]`` (a shape, if written, must agree)."""
    if len(node.args) != 2 or not all(isinstance(a, ast.Name) for a in node.args):
        raise ClaimError(f"{where}: MultivariateNormal takes two declared arrays, the mean "
                         f"vector and the covariance matrix: MultivariateNormal(mu, S)")
    mean, cov = (a.id for a in node.args)
    found = {n: domains.get(n, (None, ()))[1] for n in (mean, cov)}
    if len(found[mean]) != 1 or domains[mean][0] == "covariance":
        raise ClaimError(f"{where}: the mean {mean!r} must be a declared vector such as "
                         f"\"real[d]\"")
    if domains.get(cov, (None,))[0] != "covariance" or found[cov] != found[mean] * 2:
        raise ClaimError(f"{where}: the covariance {cov!r} must be declared "
                         f"\"covariance[{found[mean][0]}, {found[mean][0]}]\"")
    if shape and shape != found[mean]:
        raise ClaimError(f"{where}: the shape {list(shape)} differs from the mean's "
                         f"{list(found[mean])}")
    params = (sp.IndexedBase(mean, real=True), sp.IndexedBase(cov, real=True))
    return RandomSpec(name, "MultivariateNormal", params, found[mean])


def _distribution(name: str, text, names: Namespace, domains=None) -> RandomSpec:
    where = f"random {name!r}"
    if not isinstance(text, str):
        raise ClaimError(f"{where}: expected a string such as \"Bernoulli(q)\", got "
                         f"{excerpt(text)}")
    if len(text) > MAX_TEXT:
        raise ClaimError(f"{where}: {excerpt(text)} is longer than {MAX_TEXT} characters")
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ClaimError(f"{where}: cannot parse {excerpt(text)} ({type(exc).__name__})") from None
    shape = ()
    if isinstance(node, ast.Subscript):
        shape = _shape(ast.unparse(node.slice).strip("()"), names.dimensions, where)
        node = node.value
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in _DISTRIBUTIONS and not node.keywords):
        raise ClaimError(f"{where}: {excerpt(text)} is not Bernoulli(q), Normal(mu, sigma), "
                         f"Uniform(a, b), Exponential(rate), Gamma(a, theta), Beta(a, b), "
                         f"Poisson(lam) or Binomial(n, q), optionally followed by a shape [d] "
                         f"or [n, d], or MultivariateNormal(mu, S)")
    kind = node.func.id
    if kind == "MultivariateNormal":
        return _normal_vector(name, where, node, shape, domains or {})
    arity, _ = _DISTRIBUTIONS[kind]
    if len(node.args) != arity:
        raise ClaimError(f"{where}: {kind} takes {arity} parameter(s), got {len(node.args)}")
    params, units = [], []
    for position, arg in enumerate(node.args, 1):
        unit = _per_unit(where, kind, arg, shape, domains or {})
        if unit is not None:
            params.append(unit)
            units.append(unit)
            continue
        try:
            params.append(parse_expression(ast.unparse(arg), names, allow_operators=False))
        except ClaimError as exc:
            raise ClaimError(f"{where}: parameter {position} of {kind}: {exc}") from None
    params = tuple(params)
    for value in params:
        if value in units:
            continue
        if value.has(sp.Indexed) or any(n in names.random for n in map(str, value.free_symbols)):
            raise ClaimError(f"{where}: parameters must be numbers or declared scalar symbols, "
                             f"got {value}")
    _check_constant_params(where, kind, params)
    return RandomSpec(name, kind, params, shape)


_PARAMETER_NAMES = {"Bernoulli": ("probability",), "Normal": ("mean", "standard deviation"),
                    "Uniform": ("lower bound", "upper bound"), "Exponential": ("rate",),
                    "Gamma": ("shape", "scale"), "Beta": ("a", "b"), "Poisson": ("mean",),
                    "Binomial": ("number of trials", "probability")}
#: parameters that must be positive (checked here for numbers, at each point otherwise)
_POSITIVE = {"Exponential": (0,), "Gamma": (0, 1), "Beta": (0, 1), "Poisson": (0,)}
#: most trials of a Binomial (a literal positive integer)
MAX_TRIALS = 10 ** 6


def _check_constant_params(where: str, kind: str, params: tuple) -> None:
    """Parameters must be finite real numbers: a number that is not (``sqrt(-1)``, ``1/0``,
    ``0/0``) or an expression that is never real is refused here; an expression real only on
    part of its symbols' domains (``sqrt(x)`` with ``x`` real) is refused at the first checked
    point where it is not (as ``Bernoulli(2*q)`` outside [0, 1]), by the numeric routes."""
    for value, role in zip(params, _PARAMETER_NAMES[kind]):
        if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or value.is_extended_real is False \
                or value.is_finite is False \
                or (value.is_number and value.is_extended_real is not True):
            raise ClaimError(f"{where}: invalid {kind} {role} {excerpt(str(value))}: not a "
                             f"finite real number")
    try:
        values = [float(v) if v.is_number else None for v in params]
    except (TypeError, ValueError, OverflowError) as exc:
        raise ClaimError(f"{where}: invalid {kind} parameters {excerpt(str(params))}: "
                         f"{type(exc).__name__}") from None
    if kind == "Bernoulli" and values[0] is not None and not 0.0 <= values[0] <= 1.0:
        raise ClaimError(f"{where}: Bernoulli probability must be in [0, 1], got {params[0]}")
    if kind == "Normal" and values[1] is not None and values[1] < 0:
        raise ClaimError(f"{where}: Normal standard deviation must be >= 0, got {params[1]}")
    for k in _POSITIVE.get(kind, ()):
        if values[k] is not None and not values[k] > 0:
            raise ClaimError(f"{where}: {kind} {_PARAMETER_NAMES[kind][k]} must be > 0, got "
                             f"{params[k]}")
    if kind == "Binomial":
        n = params[0]
        if not (n.is_Integer and 1 <= n <= MAX_TRIALS):
            raise ClaimError(f"{where}: Binomial number of trials must be an integer literal "
                             f"from 1 to {MAX_TRIALS}, got {excerpt(str(n))}")
        if values[1] is not None and not 0.0 <= values[1] <= 1.0:
            raise ClaimError(f"{where}: Binomial probability must be in [0, 1], got {params[1]}")
    if kind == "Uniform" and None not in values and not values[0] < values[1]:
        raise ClaimError(f"{where}: Uniform(a, b) needs a < b, got {params[0]}, {params[1]}")


def _register(claim: Claim, table, signs=None) -> None:
    names, space = claim.names, claim.space

    def length(shape):
        axis = shape[0]
        if isinstance(axis, tuple):
            return names.scalars[axis[0]] + axis[1]
        return names.scalars[axis] if isinstance(axis, str) else sp.Integer(axis)

    for name, (domain, shape) in claim.domains.items():
        if shape:
            names.arrays[name] = (sp.IndexedBase(name, real=True), len(shape))
        else:
            try:
                names.scalars[name] = sp.Symbol(name, **{**domain_assumptions(domain),
                                                          **(signs or {}).get(name, {})})
            except (ValueError, TypeError) as exc:  # InconsistentAssumptions
                raise ClaimError(f"symbol {name!r}: a premise contradicts its domain "
                                 f"{domain!r}: {excerpt(str(exc), 80)}") from None
            if domain == "dimension":
                names.dimensions.add(name)
    names.lengths.update({name: length(shape) for name, (_, shape) in claim.domains.items()
                          if len(shape) == 1})
    if not isinstance(table, dict):
        raise ClaimError(f"[claim.random] must be a table of name = \"distribution\", got "
                         f"{excerpt(table)}")
    for name, text in table.items():
        check_identifier(name, "random variable")
        if name in claim.domains:
            raise ClaimError(f"{name!r} is declared both in [claim.symbols] and [claim.random]")
        spec = _distribution(name, text, names, claim.domains)
        _, make = _DISTRIBUTIONS[spec.kind]
        dist = make(*spec.params)
        if spec.shape:
            names.arrays[name] = (space.array(name, dist), len(spec.shape))
            if len(spec.shape) == 1:
                names.lengths[name] = length(spec.shape)
        else:
            names.scalars[name] = space.scalar(name, dist)
        names.random.add(name)
        claim.random[name] = spec


def _random_outside(expr: sp.Expr, names: Namespace):
    """Names of random variables that appear outside E/Var/Cov/P (and outside conditional
    means ``E(f | m)``)."""
    if isinstance(expr, tuple(OPERATORS.values()) + (Given,)):
        return set()
    if isinstance(expr, sp.Indexed):
        return {str(expr.base)} & names.random
    if isinstance(expr, sp.Symbol):
        return {expr.name} & names.random
    found = set()
    for arg in expr.args:
        found |= _random_outside(arg, names)
    return found


def _min_sizes(claim: Claim, exprs) -> dict:
    """The smallest size of each dimension at which every index and Sum range is defined: an
    index literal ``W[2, j]`` needs 2 rows, ``Sum(m[i], (i, 1, 3))`` 3 entries of ``m``, and
    ``Sum(.., (i, 3, d))`` needs ``d >= 2`` (below it SymPy's convention reads the range as a
    negative sum, not an empty one)."""
    shapes = {n: s for n, (_, s) in claim.domains.items() if s}
    shapes.update({n: spec.shape for n, spec in claim.random.items() if spec.shape})
    dimensions = {claim.names.scalars[n]: n for n in claim.names.dimensions}
    sizes, top = {}, {}

    def need(name, value):
        sizes[name] = max(sizes.get(name, 1), int(value))

    for axis in (a for shape in shapes.values() for a in shape if isinstance(a, tuple)):
        need(axis[0], 1 - axis[1])  # [T - 2] needs T >= 3: no axis is empty
    for expr in exprs:
        for total in expr.atoms(sp.Sum, sp.Product):
            for index, lo, hi in total.limits:
                if hi.is_Integer:
                    top[index] = max(top.get(index, 1), int(hi))
                offset, free = hi.as_independent(*dimensions, as_Add=True)
                if lo.is_Integer and free in dimensions and offset.is_Integer:
                    need(dimensions[free], int(lo) - 1 - int(offset))
        for item in expr.atoms(sp.Indexed):
            for axis, index in zip(shapes[str(item.base)], item.indices):
                value = int(index) if index.is_Integer else top.get(index)
                if isinstance(axis, str) and value is not None:
                    need(axis, value)
                elif isinstance(axis, tuple) and value is not None:  # [T + 1]: T >= value - 1
                    need(axis[0], value - axis[1])
                elif isinstance(axis, int) and index.is_Integer and int(index) > axis:
                    raise ClaimError(f"index {index} of {item.base} is beyond its size {axis}")
    return sizes


def _text(entry: dict, key: str, required: bool = True):
    value = entry.get(key)
    if not required and (value is None or value == ""):
        return None
    if not isinstance(value, str) or not value.strip():
        raise ClaimError(f"{key!r} must be a non-empty string, got {excerpt(value)}")
    return value


def _build(entry: dict) -> Claim:
    unknown = set(entry) - _KEYS
    if unknown:
        raise ClaimError(f"unknown key(s) {excerpt(sorted(unknown))}; allowed: {sorted(_KEYS)}")
    check_strings(entry)
    relation = entry.get("relation", "==")
    relation = _RELATION_ALIASES.get(relation, relation) if isinstance(relation, str) else relation
    if relation not in RELATIONS:
        raise ClaimError(f"relation must be one of {RELATIONS}, got {excerpt(relation)}")
    expected = entry.get("expected")
    if expected is not None and expected not in _VERDICTS:
        raise ClaimError(f"expected must be one of {_VERDICTS}, got {excerpt(expected)}")
    assume = _premise_texts(entry.get("assume", []))
    claim = Claim(name=entry["name"], lhs=sp.S.Zero, rhs=sp.S.Zero, relation=relation,
                  source=_text(entry, "source", required=False) or "", expected=expected,
                  text={"lhs": _text(entry, "lhs"), "rhs": _text(entry, "rhs", required=False)},
                  domains=_domains(entry.get("symbols", {})))
    _register(claim, entry.get("random", {}), _signs(assume, claim.domains))
    defines = entry.get("define", {})
    if not isinstance(defines, dict):
        raise ClaimError(f"[claim.define] must be a table of name = \"expression\", got "
                         f"{excerpt(defines)}")
    for name, text in defines.items():
        check_identifier(name, "define")
        if claim.names.declared(name):
            raise ClaimError(f"define {name!r} clashes with a declared name")
        try:
            claim.names.defines[name] = check_tree_size(parse_expression(text, claim.names),
                                                        "the expression")
        except ClaimError as exc:
            raise ClaimError(f"define {name!r}: {exc}") from None
    claim.question = claim.text["rhs"] is None
    if claim.question and (relation != "==" or any(k in entry for k in ("order", "in"))):
        raise ClaimError("a claim without rhs asks for lhs's closed form; it takes no relation, "
                         "order or in")
    sides = {}
    for side in ("lhs", "rhs") if not claim.question else ("lhs",):
        try:
            value = check_tree_size(parse_expression(claim.text[side], claim.names,
                                                     allow_order=side == "rhs"),
                                    "the expression")
            if side == "rhs":
                value = _approximation(claim, value, entry)
        except ClaimError as exc:
            raise ClaimError(f"{side}: {exc}") from None
        sides[side] = value
    conditioned = set().union(*map(top_level_conditioned, sides.values()))
    if any(map(has_given, sides.values())):
        claim.written = (sides["lhs"], sides.get("rhs"))
    for side, value in sides.items():
        outside = _random_outside(value, claim.names) - conditioned
        if outside:
            raise ClaimError(f"{side}: random variable(s) {sorted(outside)} appear outside "
                             f"E(), Var(), Cov() or P(); a claim compares numbers (or "
                             f"random variables it conditions on: E(x*m | m) == mu*m)")
        setattr(claim, side, _symmetric(expand_conditionals(claim, value, side), claim))
    if conditioned:
        almost_surely(claim)
    claim.premises = tuple(_premise(claim, k, text) for k, text in enumerate(assume, 1))
    claim.min_sizes = _min_sizes(claim, (claim.lhs, claim.rhs) + claim.premises)
    if claim.expected == "approximate" and claim.relation != "~":
        raise ClaimError("expected = \"approximate\" is the verdict of an approximation "
                         "(relation = \"~\")")
    return claim


def _symmetric(expr, claim):
    """A covariance ``S`` is symmetric: every entry read by
    :func:`~dropout_theory.symbolic.distributions.symmetric_entry`, as the engine's pairings
    are (the value is the same: the drawn covariances are exactly symmetric)."""
    bases = {n for n, (domain, _) in claim.domains.items() if domain == "covariance"}
    if not bases:
        return expr
    return expr.xreplace({e: symmetric_entry(e.base, *e.indices)
                          for e in expr.atoms(sp.Indexed) if str(e.base) in bases})


def _premise_texts(value) -> list:
    if not isinstance(value, list) or len(value) > MAX_ASSUME or \
            not all(isinstance(v, str) and v.strip() for v in value):
        raise ClaimError(f"assume must be a list of at most {MAX_ASSUME} conditions such as "
                         f"[\"x > 0\"], got {excerpt(value)}")
    for text in value:
        if len(text) > MAX_TEXT:
            raise ClaimError(f"assume: {excerpt(text)} is longer than {MAX_TEXT} characters")
    return value


_SIGNS = {(ast.Gt, False): "positive", (ast.GtE, False): "nonnegative",
          (ast.Lt, False): "negative", (ast.LtE, False): "nonpositive",
          (ast.Lt, True): "positive", (ast.LtE, True): "nonnegative",
          (ast.Gt, True): "negative", (ast.GtE, True): "nonpositive"}


def _signs(texts, domains) -> dict:
    """SymPy assumptions from premises that bound a declared scalar by 0 (``x > 0``,
    ``0 <= x``): the symbolic route then knows them (``Max(0, x)`` is ``x``); every premise
    also restricts the checked points (:mod:`.compile`)."""
    found = {}
    for text in texts:
        try:
            node = ast.parse(text.strip(), mode="eval").body
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # reported with its reason when the premise is parsed
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1):
            continue
        left, right = node.left, node.comparators[0]
        zero = lambda n: isinstance(n, ast.Constant) and type(n.value) in (int, float) \
            and n.value == 0  # noqa: E731
        if isinstance(left, ast.Name) and zero(right):
            name, flipped = left.id, False
        elif zero(left) and isinstance(right, ast.Name):
            name, flipped = right.id, True
        else:
            continue
        sign = _SIGNS.get((type(node.ops[0]), flipped))
        if sign and name in domains and not domains[name][1] and domains[name][0] != "dimension":
            found.setdefault(name, {})[sign] = True
    return found


def _premise(claim: Claim, number: int, text: str):
    """One ``assume`` entry: an event over the declared non-random names."""
    where = f"assume {number}"
    # parsed with the symbols as declared: with the sign a premise gave them, "x > 0" would
    # already be True and restrict nothing (the evaluator reads values by name)
    plain = {name: sp.Symbol(name, **domain_assumptions(claim.domains[name][0]))
             for name in claim.names.scalars if name in claim.domains}
    names = dataclasses.replace(claim.names, scalars={**claim.names.scalars, **plain})
    try:
        value = parse_expression(f"P({text})", names)
    except ClaimError as exc:
        raise ClaimError(f"{where}: {exc}".replace("P()", "a condition")) from None
    event = value.args[0]
    if event in (sp.true, sp.false):
        raise ClaimError(f"{where}: {excerpt(text)} is always {event} on the declared domains")
    if _random_outside(event, claim.names):
        raise ClaimError(f"{where}: a premise restricts the parameters; random variables "
                         f"cannot appear in it")
    return check_tree_size(event, where)


def _approximation(claim: Claim, rhs, entry: dict):
    """The rhs without its ``O(h**k)`` term; the claim's order and parameter from it or from
    the keys ``order`` and ``in`` (which must agree with it)."""
    terms = [t for t in sp.Add.make_args(rhs) if t.has(BIG_O)]
    order, parameter = entry.get("order"), entry.get("in")
    if order is not None and (isinstance(order, bool) or not isinstance(order, (int, float))
                              or not 0 < order <= MAX_ORDER or not float(2 * order).is_integer()):
        raise ClaimError(f"order must be a positive integer or half-integer up to {MAX_ORDER}, "
                         f"got {excerpt(order)}")
    if parameter is not None and not isinstance(parameter, str):
        raise ClaimError(f"in must be the name of a declared scalar, got {excerpt(parameter)}")
    if len(terms) > 1 or (terms and not isinstance(terms[0].as_independent(BIG_O)[1], BIG_O)):
        raise ClaimError("O() must appear once, as a term of the rhs: rhs = \"... + O(p**2)\"")
    if terms:
        big = terms[0].as_independent(BIG_O)[1]
        base, power = big.args[0].as_base_exp()
        if not (isinstance(base, sp.Symbol) and power.is_Rational and power > 0):
            raise ClaimError(f"O() takes a declared scalar to a positive power, O(p**2), got "
                             f"O({big.args[0]})")
        if parameter is not None and parameter != base.name or \
                order is not None and sp.Rational(str(order)) != power:
            raise ClaimError(f"O({big.args[0]}) disagrees with order = {order!r}, "
                             f"in = {parameter!r}")
        order, parameter = power, base.name
        rhs = rhs - terms[0]
        claim.relation = "~"
    if claim.relation != "~":
        if order is not None or parameter is not None:
            raise ClaimError("order and in belong to an approximation: relation = \"~\"")
        return rhs
    if order is None or parameter is None:
        raise ClaimError("an approximation (relation = \"~\") needs order = K and in = NAME "
                         "(lhs - rhs = Theta(NAME**K) as NAME -> 0), or a term O(NAME**K)")
    if isinstance(order, bool) or not isinstance(order, (int, float, sp.Rational)) or \
            not 0 < float(order) <= MAX_ORDER or not (2 * float(order)).is_integer():
        raise ClaimError(f"order must be a positive integer or half-integer up to {MAX_ORDER}, "
                         f"got {excerpt(order)}")
    domain = claim.domains.get(parameter, (None, ()))
    if not isinstance(parameter, str) or domain[0] in (None, "dimension") or domain[1]:
        raise ClaimError(f"in = {excerpt(parameter)} must name a declared scalar symbol (not a "
                         f"dimension, not an array) that can go to 0")
    ends = interval(domain[0]) if isinstance(domain[0], str) else None
    if domain[0] in ("negative", "integer") or (ends is not None and not ends[0] <= 0 < ends[1]):
        raise ClaimError(f"in = {parameter!r} ({domain[0]}) cannot go to 0 from above")
    claim.order, claim.parameter = float(order), parameter
    return rhs


def claim_from_dict(entry) -> Claim:
    """Validate one claim given as a dict (the TOML ``[[claim]]`` table)."""
    if not isinstance(entry, dict):
        raise ClaimError(f"a claim must be a table (dict), got {type(entry).__name__}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ClaimError(f"every claim needs a non-empty string 'name', got {excerpt(name)}")
    if len(name) > MAX_NAME_LENGTH:
        raise ClaimError(f"claim {excerpt(name)}: the name is longer than {MAX_NAME_LENGTH} "
                         f"characters")
    label = excerpt(name, MAX_NAME_LENGTH)
    try:
        return _build(entry)
    except ClaimError as exc:
        raise ClaimError(f"claim {label}: {exc}") from None
    except RecursionError:
        raise ClaimError(f"claim {label}: expression too deeply nested") from None
    except MemoryError:
        raise ClaimError(f"claim {label}: out of memory building the expression") from None


def load_claims(path) -> list[Claim]:
    """Read and validate every ``[[claim]]`` of a TOML file."""
    path = Path(path)
    where = excerpt(str(path), 120)
    text = read_claim_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ClaimError(f"{where} is not valid TOML: {excerpt(str(exc), 200)}") from None
    except RecursionError:
        raise ClaimError(f"{where}: tables and arrays nested too deeply") from None
    except MemoryError:
        raise ClaimError(f"{where}: out of memory reading the TOML") from None
    check_depth(data, where)
    return claims_from_tables(data, where=where)


def claims_from_tables(data: dict, *, where: str = "input") -> list[Claim]:
    """Validate ``{"claim": [table, ...]}``; names must be unique."""
    entries = data.get("claim") if isinstance(data, dict) else None
    unknown = set(data) - {"claim"} if isinstance(data, dict) else set()
    if not isinstance(entries, list) or not entries or unknown:
        raise ClaimError(f"{where}: expected one or more [[claim]] tables and nothing else"
                         + (f" (unknown top-level keys {excerpt(sorted(unknown))})"
                            if unknown else ""))
    if len(entries) > MAX_CLAIMS:
        raise ClaimError(f"{where}: {len(entries)} claims; at most {MAX_CLAIMS} in one file "
                         f"(split it)")
    check_depth(data, where)
    claims, seen = [], set()
    for entry in entries:
        claim = claim_from_dict(entry)
        if claim.name in seen:
            raise ClaimError(f"claim {excerpt(claim.name)}: duplicate name in {where}")
        seen.add(claim.name)
        claims.append(claim)
    return claims
