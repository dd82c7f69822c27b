"""Safe parser: claim text (untrusted) to SymPy, through a whitelist of ``ast`` nodes and names.

The text is parsed with :func:`ast.parse` and nothing else: no ``eval``, ``exec``,
``sympify`` or ``parse_expr`` ever sees it. Every node type is checked against a whitelist
and every name against the claim's declarations; the SymPy objects are built here, node by
node. Attribute access, imports, lambdas, comprehensions, keywords, strings, starred
arguments and calls of anything but the listed functions are refused as :class:`ClaimError`.
"""
from __future__ import annotations

import ast
import itertools
import keyword
import math
import re
from dataclasses import dataclass, field

import sympy as sp

from ..symbolic.operators import OPERATORS, Cov, E, Given, P, Var

__all__ = ["ClaimError", "Namespace", "parse_expression", "FUNCTIONS", "OPERATORS", "SPECIAL",
           "BIG_O", "MAX_DIFF_ORDER", "MAX_DIFF_TREE",
           "E", "Var", "Cov", "P", "check_identifier", "MAX_TEXT", "excerpt", "tree_size",
           "check_tree_size", "MAX_TREE"]

#: longest expression text accepted (claims are formulas, not programs)
MAX_TEXT = 4000
_MAX_NODES = 3000
_MAX_DEPTH = 60
#: largest |integer exponent| of a non-numeric base: powers of sums are expanded symbolically
MAX_EXPONENT = 16
#: largest literal Sum bound: sums are expanded term by term at each numeric point
MAX_SUM_BOUND = 1000
#: largest shift of an index (``m[i + 1]``, ``x[d - 2]``)
MAX_INDEX_SHIFT = 16
#: sizes are drawn from 1 to MAX_SIZE, small enough for exact enumeration, large enough to
#: expose size-dependent errors such as d versus d - 1
MAX_SIZE = 4
#: most dimensions in one Sum bound (its largest value is found over MAX_SIZE**k sizes)
MAX_BOUND_DIMENSIONS = 5
_MAX_DIGITS = 4000
#: most nodes of an expression once the defines it uses are written out: defines that use
#: each other twice (a2 = a1*(a1 + 1), a3 = a2*(a2 + 1), ...) double the tree at every step
MAX_TREE = 50000
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_INDEX = re.compile(r"[a-z][a-z0-9_]*\Z")


class ClaimError(ValueError):
    """Invalid claim input: the message names the claim (when known) and the problem."""


def excerpt(text, limit: int = 60) -> str:
    """A short quoted excerpt of untrusted input for an error message (``repr`` escapes
    control characters); a non-string is shown by its (truncated) ``repr``."""
    if not isinstance(text, str):
        shown = repr(text)
        return shown if len(shown) <= limit else f"{shown[:limit]}... ({len(shown)} characters)"
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


_SQRT2 = sp.sqrt(2)
FUNCTIONS = {
    "exp": (1, sp.exp), "log": (1, sp.log), "sqrt": (1, sp.sqrt), "Abs": (1, sp.Abs),
    "tanh": (1, sp.tanh), "erf": (1, sp.erf),
    "Max": (None, sp.Max), "Min": (None, sp.Min),
    "relu": (1, lambda z: sp.Max(0, z)),
    "sigmoid": (1, lambda z: 1 / (1 + sp.exp(-z))),
    "Phi": (1, lambda z: (1 + sp.erf(z / _SQRT2)) / 2),
    "phi": (1, lambda z: sp.exp(-z ** 2 / 2) / sp.sqrt(2 * sp.pi)),
}
_CONSTANTS = {"pi": sp.pi}
#: constructs with their own builder (not plain functions of numbers): sums and products
#: over an index, vector functions of declared 1-D arrays, Kronecker's delta, conditionals,
#: derivatives taken symbolically, and ``O(h**k)`` (only as a term of an approximation's rhs)
SPECIAL = ("Sum", "Product", "softmax", "logsumexp", "KroneckerDelta", "where", "diff", "O")
RESERVED = set(FUNCTIONS) | set(OPERATORS) | set(_CONSTANTS) | set(SPECIAL)
#: highest derivative order of diff(expr, x, n), and most nodes of a derivative at any order
#: (sigmoid nested five times has 2021 nodes at order 2, 11106 at order 3)
MAX_DIFF_ORDER = 6
MAX_DIFF_TREE = 5000
#: the symbol ``O(h**k)`` becomes while a right side is parsed (the schema takes it out)
BIG_O = sp.Function("O")

_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
           ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}
_COMPARE = {ast.Lt: sp.StrictLessThan, ast.LtE: sp.LessThan, ast.Gt: sp.StrictGreaterThan,
            ast.GtE: sp.GreaterThan, ast.Eq: sp.Eq, ast.NotEq: sp.Ne}


def check_identifier(name, what: str) -> str:
    """A declared name: letters, digits, underscores; not a keyword, reserved word or dunder."""
    if not isinstance(name, str) or not _NAME.match(name) or keyword.iskeyword(name):
        raise ClaimError(f"{what} {excerpt(name)} is not a valid name (letters, digits and _ only, "
                         f"starting with a letter)")
    if name in RESERVED:
        raise ClaimError(f"{what} {name!r} is reserved for a function or operator")
    return name


@dataclass
class Namespace:
    """What a claim declares: names to SymPy objects, array ranks and random names."""

    scalars: dict = field(default_factory=dict)      # name -> Symbol
    arrays: dict = field(default_factory=dict)       # name -> (IndexedBase, rank)
    defines: dict = field(default_factory=dict)      # name -> parsed expression
    random: set = field(default_factory=set)         # names of random scalars and arrays
    dimensions: set = field(default_factory=set)     # names of dimension symbols
    lengths: dict = field(default_factory=dict)      # 1-D array name -> its length (SymPy)

    def declared(self, name: str) -> bool:
        return name in self.scalars or name in self.arrays or name in self.defines


class _Builder:
    """Walks a checked AST and builds the SymPy expression; raises ClaimError on anything else."""

    def __init__(self, names: Namespace, *, allow_operators: bool, allow_order: bool = False,
                 used=frozenset(), text: str = ""):
        self.names, self.allow_operators = names, allow_operators
        self.text = text             # the source of the tree (a conditional's | splits it)
        self.allow_order = allow_order
        self.bound: dict = {}        # Sum index name -> Symbol
        self.largest: dict = {}      # Sum index Symbol -> its largest value at checked sizes
        self.inside_operator = False
        self.inside_event = False
        self.inside_given = False    # inside E(... | m): no further conditioning
        self.vector = None           # (index Symbol, [length]) inside softmax()/logsumexp()
        self.used = set(used)        # every name in the text: vector indices avoid them

    def build(self, node):
        # the whitelist: only these node types have a builder; everything else is refused
        handlers = {ast.Expression: self._Expression, ast.Constant: self._Constant,
                    ast.UnaryOp: self._UnaryOp, ast.BinOp: self._BinOp, ast.Name: self._Name,
                    ast.Subscript: self._Subscript, ast.Call: self._Call,
                    ast.Compare: self._Compare, ast.BoolOp: self._BoolOp,
                    ast.IfExp: self._IfExp}
        handler = handlers.get(type(node))
        if handler is None:
            raise ClaimError(f"{_describe(node)} is not allowed in a claim expression")
        return handler(node)

    def _Expression(self, node):
        return self.build(node.body)

    def _Constant(self, node):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ClaimError(f"the constant {excerpt(value)} is not a number")
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ClaimError(f"the number {value!r} is not finite")
            return sp.Rational(repr(value))  # exact decimal: 0.1 is 1/10 in the proof
        if len(str(abs(value))) > _MAX_DIGITS:
            raise ClaimError("a number has too many digits")
        return sp.Integer(value)

    def _UnaryOp(self, node):
        if isinstance(node.op, ast.Not) and self.inside_event:
            operand = self.build(node.operand)
            if not _is_event(operand):
                raise ClaimError("'not' negates a comparison, e.g. P(not x > 0)")
            return sp.Not(operand)
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise ClaimError(f"the operator {_describe(node.op)} is not allowed")
        value = _expr(self.build(node.operand))
        return -value if isinstance(node.op, ast.USub) else value

    def _BinOp(self, node):
        left, right = _expr(self.build(node.left)), _expr(self.build(node.right))
        if isinstance(node.op, ast.Pow):
            return _power(left, right)
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise ClaimError(f"the operator {_describe(node.op)} is not allowed "
                             f"(use + - * / **)")
        return op(left, right)

    def _Name(self, node):
        name = node.id
        if name in self.bound:
            return self.bound[name]
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        names = self.names
        if name in names.scalars:
            return names.scalars[name]
        if name in names.defines:
            value = names.defines[name]
            if self.inside_operator and value.has(*OPERATORS.values()):
                raise ClaimError(f"{name!r} contains E/Var/Cov/P and cannot sit inside another "
                                 f"one (nested operators are not supported)")
            return value
        if name in names.arrays:
            if self.vector is not None:
                return self._vector_entry(name)
            raise ClaimError(f"the array {name!r} must be indexed, e.g. {name}[j]")
        if name in FUNCTIONS or name in OPERATORS or name in SPECIAL:
            raise ClaimError(f"{name!r} is a function: call it, e.g. {name}(...)")
        raise ClaimError(f"undeclared name {excerpt(name)} (declare it in [claim.symbols], "
                         f"[claim.random] or [claim.define])")

    def _Subscript(self, node):
        if isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) \
                and node.value.func.id == "softmax":
            return self._softmax(node.value, node.slice)
        if not isinstance(node.value, ast.Name) or node.value.id not in self.names.arrays:
            raise ClaimError(f"only declared arrays can be indexed, not {_describe(node.value)}")
        base, rank = self.names.arrays[node.value.id]
        parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if len(parts) != rank:
            raise ClaimError(f"{node.value.id!r} has {rank} ind{'ex' if rank == 1 else 'ices'}, "
                             f"got {len(parts)}")
        return base[tuple(self._index(p) for p in parts)]

    def _index(self, node):
        if isinstance(node, ast.Name) and node.id in self.bound:
            return self.bound[node.id]
        if isinstance(node, ast.Name) and node.id in self.names.dimensions:
            return self.names.scalars[node.id]
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value >= 1:
            return sp.Integer(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) \
                and isinstance(node.right, ast.Constant) and type(node.right.value) is int \
                and 0 < node.right.value <= MAX_INDEX_SHIFT \
                and isinstance(node.left, ast.Name):  # m[i + 1], x[d - 1]
            base = self._index(node.left)
            shift = node.right.value if isinstance(node.op, ast.Add) else -node.right.value
            return base + shift
        raise ClaimError(f"an index must be a Sum index, a dimension or a positive integer, "
                         f"optionally plus or minus an integer up to {MAX_INDEX_SHIFT} "
                         f"(m[i + 1]), not {_describe(node)}")

    def _Call(self, node):
        if not isinstance(node.func, ast.Name):
            raise ClaimError(f"only the listed functions can be called, not "
                             f"{_describe(node.func)}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ClaimError(f"{node.func.id}() takes plain positional arguments only")
        name = node.func.id
        special = {"Sum": self._sum, "Product": self._sum, "logsumexp": self._logsumexp,
                   "KroneckerDelta": self._delta, "where": self._where, "diff": self._diff,
                   "O": self._order, "softmax": self._softmax_unindexed}
        if name in special:
            return special[name](node)
        if name in OPERATORS:
            return self._operator(name, node.args)
        if name not in FUNCTIONS:
            raise ClaimError(f"unknown function {excerpt(name)}; allowed: "
                             f"{', '.join(sorted(FUNCTIONS))}, E, Var, Cov, P, "
                             f"{', '.join(SPECIAL[:-1])}")
        arity, make = FUNCTIONS[name]
        if (arity is not None and len(node.args) != arity) or (arity is None and len(node.args) < 2):
            raise ClaimError(f"{name}() takes {arity or 'at least 2'} argument(s), "
                             f"got {len(node.args)}")
        return make(*[_expr(self.build(a)) for a in node.args])

    def _operator(self, name, args):
        if not self.allow_operators:
            raise ClaimError(f"{name}() is not allowed here")
        split = _condition_split(args[-1], self.text) if args else None
        on_variables = split is not None and self._conditioned(split[1]) is not None
        if self.inside_given:
            raise ClaimError(f"{name}() inside a conditional E(... | m) is not supported")
        if self.inside_operator and not on_variables:
            raise ClaimError(f"{name}() inside another E/Var/Cov/P is not supported, except "
                             f"conditioned on random variables: E(Var(y | m)), Var(E(y | m))")
        arity = 2 if name == "Cov" else 1
        if len(args) != arity:
            example = "Cov(f, g | m > 0)" if name == "Cov" else f"{name}(f | m > 0)"
            raise ClaimError(f"{name}() takes {arity} argument(s), got {len(args)} (a condition "
                             f"is written after '|': {example})")
        if split is not None:
            return self._conditional(name, args[:-1], *split)
        self.inside_operator, self.inside_event = True, name == "P"
        try:
            built = [self.build(a) for a in args]
        finally:
            self.inside_operator = self.inside_event = False
        if name == "P":
            if not _is_event(built[0]):
                raise ClaimError("P() takes an event, a comparison such as P(z > 1/2)")
            return P(built[0])
        return OPERATORS[name](*[_expr(b) for b in built])

    def _part(self, text, *, event: bool):
        """One side of a conditional's ``|``, parsed on its own (its text for nested splits)."""
        text = text.strip()
        tree = _parse_tree(text)
        previous = self.text, self.inside_operator, self.inside_event
        self.text, self.inside_operator, self.inside_event = text, True, event
        try:
            return self.build(tree.body)
        finally:
            self.text, self.inside_operator, self.inside_event = previous

    def _conditioned(self, condition: str):
        """The random variables of a condition that names them (``m``, ``(m, x)``), or
        ``None`` when it is something else (an event, say)."""
        try:
            body = _parse_tree(condition).body
        except ClaimError:
            return None
        parts = body.elts if isinstance(body, ast.Tuple) else [body]
        if not parts or not all(isinstance(p, ast.Name) and p.id in self.names.random
                                for p in parts):
            if isinstance(body, ast.Tuple):
                raise ClaimError(f"a tuple after '|' lists declared random variables, "
                                 f"E(x | (m, w)); {excerpt(condition.strip(), 40)} does not")
            return None
        names = self.names
        return [names.arrays[n][0] if n in names.arrays else names.scalars[n]
                for n in dict.fromkeys(p.id for p in parts)]

    def _given(self, name, first, given, variables):
        """``E(f | V)``, ``Var(f | V) = E(f^2 | V) - E(f | V)^2``, ``Cov`` likewise and
        ``P(A | V) = E(1_A | V)``: random variables, functions of ``V``, as :class:`Given`
        nodes (:mod:`.conditional` rewrites them for the routes)."""
        self.inside_given = True
        try:
            value = self._part(given, event=name == "P")
            values = [_expr(self._part(ast.unparse(a), event=False)) for a in first]
        finally:
            self.inside_given = False
        kept = sp.Tuple(*variables)

        def mean(f):
            return Given(f, kept)
        if name == "P":
            if not _is_event(value):
                raise ClaimError("P() takes an event, a comparison such as P(x > 1 | m)")
            return mean(sp.Piecewise((1, value), (0, True)))
        values.append(_expr(value))
        if name == "E":
            return mean(values[0])
        if name == "Var":
            return mean(values[0] ** 2) - mean(values[0]) ** 2
        return mean(values[0] * values[1]) - mean(values[0]) * mean(values[1])

    def _conditional(self, name, first, given, condition):
        """``P(A | B) = P(A and B) / P(B)``; ``E(f | B) = E(f 1_B) / P(B)`` (the indicator as
        ``where(B, f, 0)``); ``Var`` and ``Cov`` from those conditional means. ``B`` must be an
        event (its probability is checked to be positive where the claim is checked), or
        declared random variables (``E(f | m)``, :meth:`_given`)."""
        variables = self._conditioned(condition)
        if variables is not None:
            return self._given(name, first, given, variables)
        event = self._part(condition, event=True)
        if not _is_event(event):
            raise ClaimError(f"the condition of {name}(... | {excerpt(condition.strip(), 40)}) is "
                             f"neither an event nor declared random variables: condition on a "
                             f"comparison, E(x | m > 0), or on random variables, E(x | m), "
                             f"E(x | (m, w))")
        value = self._part(given, event=name == "P")
        if name == "P":
            if not _is_event(value):
                raise ClaimError("P() takes an event, a comparison such as P(x > 1 | m > 0)")
            return P(sp.And(value, event)) / P(event)
        values = [_expr(self._part(ast.unparse(a), event=False)) for a in first] + [_expr(value)]

        def mean(f):
            return E(sp.Piecewise((f, event), (0, True))) / P(event)
        if name == "E":
            return mean(values[0])
        if name == "Var":
            return mean(values[0] ** 2) - mean(values[0]) ** 2
        return mean(values[0] * values[1]) - mean(values[0]) * mean(values[1])

    def _Compare(self, node):
        if not self.inside_event:
            raise ClaimError("comparisons are only allowed as events inside P(...)")
        values = [_expr(self.build(node.left))] + [_expr(self.build(c)) for c in node.comparators]
        parts = []
        for op, a, b in zip(node.ops, values, values[1:]):
            relation = _COMPARE.get(type(op))
            if relation is None:
                raise ClaimError(f"the comparison {_describe(op)} is not allowed")
            parts.append(relation(a, b))
        return sp.And(*parts) if len(parts) > 1 else parts[0]

    def _BoolOp(self, node):
        if not self.inside_event:
            raise ClaimError("'and'/'or' are only allowed inside P(...)")
        values = [self.build(v) for v in node.values]
        if not all(_is_event(v) for v in values):
            raise ClaimError("'and'/'or' combine comparisons, e.g. P(x > 0 and y > 0)")
        return sp.And(*values) if isinstance(node.op, ast.And) else sp.Or(*values)

    def _sum(self, node):
        kind = node.func.id
        if len(node.args) < 2:
            raise ClaimError(f"{kind}() takes an expression and limits: {kind}(expr, (j, 1, d))")
        limits, added = [], []
        try:
            for limit in node.args[1:]:
                if not (isinstance(limit, ast.Tuple) and len(limit.elts) == 3
                        and isinstance(limit.elts[0], ast.Name)):
                    raise ClaimError(f"each {kind} limit must be a tuple (index, lower, upper), "
                                     f"e.g. (j, 1, d)")
                index = limit.elts[0].id
                if not _INDEX.match(index) or self.names.declared(index) or index in self.bound \
                        or index in RESERVED or keyword.iskeyword(index):
                    raise ClaimError(f"{kind} index {excerpt(index)} must be a lowercase name that "
                                     f"is not declared or already in use")
                (low, _), (high, top) = (self._bound(e) for e in limit.elts[1:])
                symbol = sp.Symbol(index, integer=True)
                self.bound[index] = symbol
                self.largest[symbol] = top
                added.append(index)
                limits.append((symbol, low, high))
            body = _expr(self.build(node.args[0]))
        finally:
            for index in added:
                self.bound.pop(index, None)
        if kind == "Product":
            if body.has(*OPERATORS.values()):
                raise ClaimError("E/Var/Cov/P inside a Product are not supported (write the "
                                 "Product inside the operator)")
            for limit in limits:  # one Product per index, the first limit innermost (as Sum)
                body = sp.Product(body, limit)
            return body
        return sp.Sum(body, *limits)

    # --- vector functions: softmax(v)[k], logsumexp(v) -------------------------------------

    def _vector_entry(self, name):
        """An unindexed 1-D array inside softmax()/logsumexp(): its entry at the vector index."""
        index, lengths = self.vector
        length = self.names.lengths.get(name)
        if length is None:
            raise ClaimError(f"softmax()/logsumexp() take expressions of 1-D arrays; {name!r} "
                             f"is not one")
        if lengths and lengths[0] != length:
            raise ClaimError(f"the arrays in softmax()/logsumexp() must have one length, got "
                             f"{lengths[0]} and {length} ({name!r})")
        lengths.append(length)
        return self.names.arrays[name][0][index]

    def _vector(self, node, what):
        """``(body at a fresh index j, j, length)`` of a vector argument: an expression of
        unindexed 1-D arrays of one length (``z*m`` is the vector of ``z[j]*m[j]``)."""
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise ClaimError(f"{what}() takes one vector, an expression of 1-D arrays such as "
                             f"{what}(z) or {what}(z*m)")
        if self.vector is not None:
            raise ClaimError("softmax()/logsumexp() cannot be nested")
        taken = self.used | set(self.bound) | set(self.names.scalars) | set(self.names.arrays)
        for value in self.names.defines.values():  # their Sum indices too
            taken |= {s.name for s in value.atoms(sp.Symbol)}
        name = next(n for n in itertools.chain("jklmnrstuv", (f"j{k}" for k in itertools.count()))
                    if n not in taken)
        index = sp.Symbol(name, integer=True)
        self.vector = (index, [])
        try:
            body = _expr(self.build(node.args[0]))
            lengths = self.vector[1]
        finally:
            self.vector = None
        if not lengths:
            raise ClaimError(f"{what}() takes a vector: an expression of declared 1-D arrays, "
                             f"e.g. {what}(z)")
        if body.has(*OPERATORS.values()):
            raise ClaimError(f"E/Var/Cov/P inside {what}() are not supported")
        length = lengths[0]
        top = length if length.is_Integer else sp.Integer(MAX_SIZE)
        self.largest[index] = top
        return body, index, length

    def _softmax(self, call, slice_node):
        if not isinstance(call.func, ast.Name):  # pragma: no cover - checked by the caller
            raise ClaimError("only softmax(v)[k] can be indexed")
        body, index, length = self._vector(call, "softmax")
        parts = slice_node.elts if isinstance(slice_node, ast.Tuple) else [slice_node]
        if len(parts) != 1:
            raise ClaimError("softmax(v) is a vector: it takes one index, softmax(v)[k]")
        k = self._index(parts[0])
        if k.is_Integer and length.is_Integer and k > length:
            raise ClaimError(f"softmax index {k} is beyond the vector's length {length}")
        return sp.exp(body.xreplace({index: k})) / sp.Sum(sp.exp(body), (index, 1, length))

    def _softmax_unindexed(self, node):
        raise ClaimError("softmax(v) is a vector: take one entry, softmax(v)[k]")

    def _logsumexp(self, node):
        body, index, length = self._vector(node, "logsumexp")
        return sp.log(sp.Sum(sp.exp(body), (index, 1, length)))

    # --- KroneckerDelta, conditionals, derivatives, O() ----------------------------------

    def _delta(self, node):
        if len(node.args) != 2:
            raise ClaimError(f"KroneckerDelta() takes 2 indices, got {len(node.args)}")
        return sp.KroneckerDelta(*[self._index(a) for a in node.args])

    def _condition(self, node):
        previous, self.inside_event = self.inside_event, True
        try:
            condition = self.build(node)
        finally:
            self.inside_event = previous
        if not _is_event(condition):
            raise ClaimError("a condition is a comparison, e.g. where(x > 0, x, 0) or "
                             "x if x > 0 else 0")
        return condition

    def _choice(self, condition, yes, no):
        return sp.Piecewise((_expr(self.build(yes)), condition), (_expr(self.build(no)), True))

    def _where(self, node):
        if len(node.args) != 3:
            raise ClaimError(f"where() takes a condition and two values, where(x > 0, x, 0); "
                             f"got {len(node.args)} argument(s)")
        return self._choice(self._condition(node.args[0]), node.args[1], node.args[2])

    def _IfExp(self, node):
        return self._choice(self._condition(node.test), node.body, node.orelse)

    def _diff(self, node):
        if len(node.args) not in (2, 3):
            raise ClaimError("diff() takes an expression, a variable and an optional order, "
                             "diff(f, x) or diff(f, x, 2)")
        variable = node.args[1]
        names = self.names
        if not (isinstance(variable, ast.Name) and variable.id in names.scalars
                and variable.id not in names.random and variable.id not in names.dimensions):
            raise ClaimError(f"diff() differentiates in a declared scalar symbol (not random, "
                             f"not a dimension), not {_describe(variable)}")
        order = 1
        if len(node.args) == 3:
            given = node.args[2]
            if not (isinstance(given, ast.Constant) and type(given.value) is int
                    and 1 <= given.value <= MAX_DIFF_ORDER):
                raise ClaimError(f"the order of diff() must be an integer from 1 to "
                                 f"{MAX_DIFF_ORDER}")
            order = given.value
        body = _expr(self.build(node.args[0]))
        if body.has(*OPERATORS.values()):
            raise ClaimError("diff() of E/Var/Cov/P is not supported: differentiate inside, "
                             "E(diff(f, x))")
        result = body
        for step in range(1, order + 1):  # one order at a time: derivatives grow fast
            result = sp.diff(result, names.scalars[variable.id])
            if tree_size(result, MAX_DIFF_TREE) > MAX_DIFF_TREE:
                raise ClaimError(f"the derivative of order {step} has more than {MAX_DIFF_TREE} "
                                 f"nodes (derivatives of nested functions grow fast)")
        if result.has(sp.Derivative, sp.Subs):
            raise ClaimError(f"diff() has no closed form here: {excerpt(str(result), 80)}")
        return result

    def _order(self, node):
        if not self.allow_order:
            raise ClaimError("O() is only allowed as a term of an approximation's rhs, "
                             "rhs = \"... + O(p**2)\"")
        if len(node.args) != 1:
            raise ClaimError("O() takes one argument, O(p**2)")
        return BIG_O(_expr(self.build(node.args[0])))

    def _bound(self, node):
        value = _expr(self.build(node))
        allowed = {self.names.scalars[n] for n in self.names.dimensions} | set(self.bound.values())
        if not value.free_symbols <= allowed or value.is_integer is not True:
            raise ClaimError(f"Sum bounds must be integers or dimensions, got "
                             f"{excerpt(str(value))}")
        # the bound's largest magnitude over the checked sizes 1..MAX_SIZE (an outer index at
        # its own largest): d**15 would ask the numeric route for 4**15 terms
        outer = {s: self.largest[s] for s in value.free_symbols if s in self.largest}
        dims = sorted(value.free_symbols - set(outer), key=str)
        if len(dims) > MAX_BOUND_DIMENSIONS:  # checked at 4**len(dims) size combinations
            raise ClaimError(f"Sum bound {excerpt(str(value))} involves {len(dims)} dimensions; "
                             f"at most {MAX_BOUND_DIMENSIONS}")
        largest = max(abs(value.xreplace({**outer, **dict(zip(dims, map(sp.Integer, sizes)))}))
                      for sizes in itertools.product(range(1, MAX_SIZE + 1), repeat=len(dims)))
        if largest > MAX_SUM_BOUND:
            raise ClaimError(f"Sum bound {excerpt(str(value))} is too large (at most "
                             f"{MAX_SUM_BOUND} at the "
                             f"checked sizes, up to {MAX_SIZE})")
        return value, largest


def tree_size(expr, limit: int = MAX_TREE) -> int:
    """Nodes of ``expr`` as a tree (shared subexpressions counted each time they occur),
    counted over the shared graph in linear time; stops counting above ``limit``."""
    sizes: dict = {}
    stack = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in sizes:
            continue
        if ready:
            sizes[node] = min(1 + sum(sizes[a] for a in node.args), limit + 1)
            continue
        stack.append((node, True))
        stack.extend((a, False) for a in node.args if a not in sizes)
    return sizes[expr]


def check_tree_size(expr, what: str):
    """``expr``, or ClaimError when it is larger than :data:`MAX_TREE` nodes as a tree."""
    if tree_size(expr) > MAX_TREE:
        raise ClaimError(f"{what} has more than {MAX_TREE} nodes once its defines are written "
                         f"out")
    return expr


def _is_event(value) -> bool:
    """A comparison or a logical combination of comparisons (a SymPy Symbol is Boolean too)."""
    return isinstance(value, sp.logic.boolalg.Boolean) and not isinstance(value, sp.Expr)


def _expr(value):
    if _is_event(value):
        raise ClaimError("a comparison or event can only be the argument of P(...)")
    return value


def _power(base, exponent):
    if exponent.is_number and not exponent.is_Rational:
        return base ** exponent
    if exponent.is_Rational and abs(exponent) > MAX_EXPONENT and not base.is_Rational:
        # SymPy evaluates sqrt(3)**(10**30) as 3**(5*10**29) exactly: refuse, do not hang
        raise ClaimError(f"exponent {exponent} is too large (at most {MAX_EXPONENT} in absolute "
                         f"value unless the base is a rational number)")
    if base.is_Rational and exponent.is_Rational:
        size = max(len(str(abs(base.p))), len(str(base.q)))
        if size * abs(float(exponent)) > _MAX_DIGITS:
            raise ClaimError(f"the number {base}**{exponent} is too large")
    return base ** exponent


def _describe(node) -> str:
    text = type(node).__name__
    return {"Attribute": "attribute access (.)", "Lambda": "lambda", "ListComp": "a comprehension",
            "GeneratorExp": "a comprehension", "SetComp": "a comprehension",
            "DictComp": "a comprehension", "Call": "a call", "Mod": "%", "FloorDiv": "//",
            "MatMult": "@", "NamedExpr": "':='", "Invert": "~", "BitXor": "^"}.get(text, text)


def _condition_split(node, text: str):
    """``(given, condition)`` source texts of an operator argument ``A | B`` (``|`` binds
    tighter than comparisons, so ``x > 1 | m > 0`` is found inside the comparison chain), or
    ``None`` without a ``|``. One ``|`` per operator, separating the whole argument."""
    found, stack = [], [(node, True)]
    while stack:
        current, top = stack.pop()
        if isinstance(current, ast.BinOp) and isinstance(current.op, ast.BitOr):
            found.append((current, top))
            top = False
        if isinstance(current, (ast.Call, ast.Subscript)):
            continue  # a nested operator splits its own argument
        inner = top and isinstance(current, (ast.Compare, ast.BoolOp, ast.UnaryOp, ast.BinOp)) \
            and (not isinstance(current, ast.BinOp) or isinstance(current.op, ast.BitOr))
        stack.extend((child, inner) for child in ast.iter_child_nodes(current))
    if not found:
        return None
    if len(found) > 1:
        raise ClaimError("a conditional takes one '|': E(expr | condition), P(A | B)")
    bar, top = found[0]
    if not top:
        raise ClaimError("'|' separates a whole operator argument from its condition, "
                         "E(expr | condition); it is not an operator on numbers")
    data = text.encode()
    starts = [0]
    for line in data.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(line, column):
        return starts[line - 1] + column
    between = data[offset(bar.left.end_lineno, bar.left.end_col_offset):
                   offset(bar.right.lineno, bar.right.col_offset)]
    cut = offset(bar.left.end_lineno, bar.left.end_col_offset) + between.index(b"|")
    begin = offset(node.lineno, node.col_offset)
    end = offset(node.end_lineno, node.end_col_offset)
    given, condition = data[begin:cut].decode(), data[cut + 1:end].decode()
    if not given.strip() or not condition.strip():
        raise ClaimError("a conditional needs both sides of '|': E(expr | condition)")
    return given, condition


def _parse_tree(text: str):
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ClaimError(f"syntax error in {excerpt(text.strip())}: {exc.msg} (a conditional "
                         f"is written E(expr | condition), the '|' outside parentheses)") from None
    _validate_tree(tree)
    return tree


def _validate_tree(tree) -> None:
    count = 0
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > _MAX_NODES or depth > _MAX_DEPTH:
            raise ClaimError("the expression is too large or too deeply nested")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def parse_expression(text, names: Namespace, *, allow_operators: bool = True,
                     allow_order: bool = False) -> sp.Expr:
    """Parse one claim expression into SymPy, or raise :class:`ClaimError`.

    Examples
    --------
    >>> ns = Namespace(scalars={"q": sp.Symbol("q", positive=True)})
    >>> parse_expression("(1 - q)/q", ns)
    (1 - q)/q
    >>> parse_expression("q.__class__", ns)
    Traceback (most recent call last):
    ...
    dropout_theory.claims.parser.ClaimError: attribute access (.) is not allowed in a claim expression
    """
    if not isinstance(text, str):
        raise ClaimError(f"an expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise ClaimError(f"the expression is longer than {MAX_TEXT} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ClaimError(f"syntax error in {excerpt(text)}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise ClaimError(f"cannot parse {excerpt(text)}: {type(exc).__name__}") from None
    _validate_tree(tree)
    try:
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        return _expr(_Builder(names, allow_operators=allow_operators, allow_order=allow_order,
                              used=used, text=text.strip()).build(tree))
    except ClaimError:
        raise
    except (RecursionError, MemoryError, OverflowError, TypeError, ValueError,
            ArithmeticError, AttributeError) as exc:  # SymPy refusing a combination
        raise ClaimError(f"cannot build {excerpt(text)}: {type(exc).__name__}: "
                         f"{excerpt(str(exc), 120)}") from None
