"""An :class:`~dropout_theory.identity.ExpressionModel` at one point: the statement's operator
nodes over its random variables, enumerated exactly or sampled.

Columns are the operator arguments (an event's indicator for ``P``), evaluated with rigorous
ball arithmetic, vectorized over samples and over summation indices. Exact enumeration covers
every pattern of the Bernoulli entries the columns read, and Gauss quadrature in every normal
or uniform entry the columns are polynomials of (exact for polynomials of degree up to
``2n - 1`` with ``n`` nodes); anything else is sampled.
"""
from __future__ import annotations

import copy
import itertools
import math
from functools import lru_cache

import numpy as np
import sympy as sp

from ..identity import ExpressionModel, axis_length
from ..sampling import (MAX_NODES, NORMAL_CORES, Node, clipped_normal_tail, enumerate_masks,
                        gamma, gauss_rule, probability_error)
from ..symbolic.balls import Ball
from ..symbolic.distributions import SUPPORT, UNIT
from ..symbolic.evaluate import evaluate_ball, work_estimate
from ..symbolic.operators import OPERATOR_TYPES, Cov, E, P, Var, operator_nodes
from .moments import EXACT_MAX_BITS, EXACT_MAX_OUTCOMES, PILOT_SEED, Prepared, pilot_center, prepare

__all__ = ["polynomial_degree", "MAX_UNROLLED", "unroll"]

#: most terms a Sum around an operator node is unrolled into (E(m[i]) inside Sum over i)
MAX_UNROLLED = 4096
#: most array elements the exact route materialises (outcomes times entries)
EXACT_MAX_ELEMENTS = 1 << 24
#: most random array elements drawn at once (a Monte Carlo block is drawn in pieces this large)
DRAW_ELEMENTS = 1 << 21
#: draws of the pilot sample that centres a claim's Var/Cov (odd: see ``moments.PILOT_SEED``;
#: fewer than a mask model's, each draw evaluates expressions in ball arithmetic)
PILOT_ROWS = 255
#: most elementwise operations (estimated) the pilot may cost: planning prepares a claim at
#: sizes up to 1024 before the budget can skip them, so beyond this the pilot takes fewer
#: rows (an odd number, at least one: any centre is exact, a rough one only widens the gate)
PILOT_WORK = 1 << 24


def _bound(expr, values) -> int:
    value = evaluate_ball(expr, values)
    if float(value.rad) != 0 or not float(value.mid).is_integer():
        raise ValueError(f"the Sum bound {expr} is not an integer at this point")
    return int(value.mid)


def _unroll(expr, values):
    """Unroll the Sums whose index an operator node depends on: ``Sum(E(m[i]), (i, 1, d))``
    has one node per ``i``. Operator arguments keep their Sums (evaluated vectorized)."""
    if isinstance(expr, OPERATOR_TYPES) or not expr.has(*OPERATOR_TYPES):
        return expr
    args = [_unroll(a, values) for a in expr.args]
    if not isinstance(expr, sp.Sum):
        return expr.func(*args) if args else expr
    body = args[0]
    linear = _linear_in_means(body)
    if linear is not None:  # Sum(E(f_i)) = E(Sum(f_i)): one node, its Sum vectorized
        inside, rest = linear
        return E(sp.Sum(inside, *expr.limits)) + sp.Sum(rest, *expr.limits)
    for index, lo, hi in expr.limits:  # innermost first
        low, high = _bound(lo, values), _bound(hi, values)
        sign, span = (1, range(low, high + 1)) if high >= low - 1 else \
            (-1, range(high + 1, low))  # Karr's convention, as SymPy's Sum.doit
        if len(span) > MAX_UNROLLED:
            raise ValueError(f"a Sum around an operator node would unroll into {len(span)} "
                             f"terms (at most {MAX_UNROLLED}): {expr}")
        body = sign * sp.Add(*[body.xreplace({index: sp.Integer(k)}) for k in span])
    return body


def _linear_in_means(body):
    """``(sum_j c_j f_j, c_0)`` when ``body = sum_j c_j E(f_j) + c_0`` with coefficients free
    of operator nodes (expectation is linear, so a Sum of it is the expectation of a Sum);
    ``None`` for a body with a Var, Cov or P, or nonlinear in its means."""
    nodes = operator_nodes(body)
    if not nodes or not all(isinstance(n, E) for n in nodes):
        return None
    stand_ins = [sp.Dummy(f"mean{k}") for k in range(len(nodes))]
    flat = body.xreplace(dict(zip(nodes, stand_ins)))
    if flat.has(*OPERATOR_TYPES):
        return None
    coefficients = [sp.diff(flat, s) for s in stand_ins]
    if any(c.has(*stand_ins) for c in coefficients):
        return None
    rest = flat.xreplace({s: sp.Integer(0) for s in stand_ins})
    return sp.Add(*[c * n.args[0] for c, n in zip(coefficients, nodes)]), rest


#: the Sums around operator nodes unrolled at a point (the exact probability route's too)
unroll = _unroll


def polynomial_degree(expr, name: str) -> float:
    """Degree of ``expr`` as a polynomial in the random variable ``name`` (its entries), or
    ``inf`` when it is not one (a function of it, a division by it, an event)."""
    if isinstance(expr, sp.Indexed):
        return 1 if str(expr.base) == name else 0
    if isinstance(expr, sp.Symbol):
        return 1 if expr.name == name else 0
    if not any(str(getattr(s, "base", s)) == name for s in expr.atoms(sp.Symbol, sp.Indexed)):
        return 0
    parts = [polynomial_degree(a, name) for a in expr.args]
    if expr.is_Add:
        return max(parts)
    if expr.is_Mul:
        return sum(parts)
    if isinstance(expr, sp.Sum):
        return parts[0]
    if expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
        return parts[0] * int(expr.exp)
    return math.inf


def _per_unit(param, values, shape):
    """A per-unit parameter's values at this point (``r[_unit1]``: the array ``r``), exact."""
    name = str(param.base)
    array = np.asarray(values[name], dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"the per-unit parameter {name} has shape {array.shape}, its variable "
                         f"{shape}")
    return array, 0.0


def _normal_vector(variable, values, shape):
    """``((mean, 0), (L, 0))``: a normal vector's mean and the Cholesky factor of its
    covariance at this point (an error naming it where it is not a covariance)."""
    mean = np.asarray(values[str(variable.params[0])], dtype=np.float64)
    cov = np.asarray(values[str(variable.params[1])], dtype=np.float64)
    if mean.shape != shape or cov.shape != shape * 2 or not np.all(np.isfinite(cov)) \
            or not np.all(np.isfinite(mean)):
        raise ValueError(f"{variable.name} ~ MultivariateNormal: mean of shape {mean.shape} and "
                         f"covariance of shape {cov.shape} at this point, finite, are needed")
    if not np.array_equal(cov, cov.T):
        raise ValueError(f"the covariance {variable.params[1]} of {variable.name} is not "
                         f"symmetric at this point")
    try:
        factor = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(f"the covariance {variable.params[1]} of {variable.name} is not "
                         f"positive definite at this point") from None
    return [(mean, 0.0), (factor, 0.0)]


def _law(variable, values):
    where = f"{variable.law} parameter"
    shape = tuple(axis_length(s, values) for s in variable.shape)
    params = []
    if variable.law == "MultivariateNormal":
        return variable.name, variable.law, _normal_vector(variable, values, shape), shape
    for param in variable.params:
        if param.has(*UNIT):
            params.append(_per_unit(param, values, shape))
            continue
        value = evaluate_ball(param, values)
        params.append((float(value.mid), float(value.rad)))
    mids = [m for m, _ in params]
    if not all(np.all(np.isfinite(m)) and math.isfinite(r) for m, r in params):
        raise ValueError(f"invalid {where}s {', '.join(map(str, variable.params))} of "
                         f"{variable.name}: not finite real numbers at this point")
    if variable.law == "Bernoulli" and not np.all((0.0 <= mids[0]) & (mids[0] <= 1.0)):
        raise ValueError(f"{where} {variable.params[0]} = {np.min(mids[0]):g}..."
                         f"{np.max(mids[0]):g} of {variable.name} is outside [0, 1] at this "
                         f"point")
    if variable.law == "Normal" and mids[1] < 0:
        raise ValueError(f"{where} {variable.params[1]} (standard deviation of "
                         f"{variable.name}) is negative ({mids[1]:g}) at this point")
    positive = {"Exponential": (0,), "Gamma": (0, 1), "Beta": (0, 1), "Poisson": (0,)}
    for k in positive.get(variable.law, ()):
        if not mids[k] > 0:
            raise ValueError(f"{where} {variable.params[k]} of {variable.name} "
                             f"({variable.law}) must be > 0, is {mids[k]:g} at this point")
    if variable.law == "Binomial" and not 0.0 <= mids[1] <= 1.0:
        raise ValueError(f"{where} {variable.params[1]} = {mids[1]:g} of {variable.name} is "
                         f"outside [0, 1] at this point")
    if variable.law == "Uniform" and not mids[0] < mids[1]:
        raise ValueError(f"{where}s of {variable.name}: Uniform({mids[0]:g}, {mids[1]:g}) "
                         f"needs a < b")
    return variable.name, variable.law, params, shape


def _sample(law, rng, n):
    _, kind, params, shape = law
    size = (n,) + shape
    if kind == "Bernoulli":
        return (rng.random(size) < params[0][0]).astype(np.float64)
    if kind == "Normal":
        return params[0][0] + params[1][0] * rng.standard_normal(size)
    if kind == "MultivariateNormal":  # mean + L z, z standard normal: covariance L L^T
        return params[0][0] + rng.standard_normal(size) @ params[1][0].T
    if kind == "Uniform":
        return params[0][0] + (params[1][0] - params[0][0]) * rng.random(size)
    first = params[0][0]
    second = params[1][0] if len(params) > 1 else None
    # SciPy's parametrizations (symbolic.distributions), drawn by NumPy's generator
    draws = {"Exponential": lambda: rng.exponential(1.0 / first, size),
             "Gamma": lambda: rng.gamma(first, second, size),
             "Beta": lambda: rng.beta(first, second, size),
             "Poisson": lambda: rng.poisson(first, size).astype(np.float64),
             "Binomial": lambda: rng.binomial(int(first), second, size).astype(np.float64)}
    return draws[kind]()


def _evaluate_columns(columns, values, env, n):
    mids, rads = np.empty((n, len(columns))), np.empty((n, len(columns)))
    for c, column in enumerate(columns):
        ball = evaluate_ball(column, values, random=env)
        mids[:, c] = np.broadcast_to(ball.mid, (n,))
        rads[:, c] = np.broadcast_to(ball.rad, (n,))
    return mids, rads


def _entries(columns, name, values, shape):
    """The 0-based entries of array ``name`` the columns read, or ``None`` for all of them."""
    found = set()
    for column in columns:
        for item in column.atoms(sp.Indexed):
            if str(item.base) != name:
                continue
            index = [evaluate_ball(i, values) if {s.name for s in i.free_symbols} <= set(values)
                     else None for i in item.indices]
            if any(i is None or float(i.rad) != 0 for i in index):
                return None
            found.add(tuple(int(i.mid) - 1 for i in index))
    if any(not all(0 <= e < s for e, s in zip(entry, shape)) for entry in found):
        return None  # out of range: the evaluator names the index
    return sorted(found)


def _enumeration(law, columns, degrees, values):
    """``(entries, nodes per entry)`` of one variable's exact outcomes (``nodes = 2`` for a
    Bernoulli entry), or ``None`` when it cannot be enumerated; nothing is materialised, and
    the entries of an array read whole are listed only once they are few enough."""
    name, kind, _, shape = law
    entries = [()] if not shape else _entries(columns, name, values, shape)
    n_entries = int(np.prod(shape)) if entries is None else len(entries)
    if kind == "Bernoulli":
        n_nodes = 2 if n_entries <= EXACT_MAX_BITS else None
    elif kind not in ("Normal", "Uniform"):  # no quadrature rule: sampled
        return None
    else:
        degree = degrees.get(name, math.inf)
        n_nodes = None if math.isinf(degree) else int(degree) // 2 + 1
        n_nodes = n_nodes if n_nodes is not None and n_nodes <= MAX_NODES else None
    if n_nodes is None or (n_nodes > 1 and n_entries > EXACT_MAX_OUTCOMES.bit_length()) or \
            n_nodes ** n_entries > EXACT_MAX_OUTCOMES or \
            max(int(np.prod(shape)), 1) * n_nodes ** n_entries > EXACT_MAX_ELEMENTS:
        return None
    if entries is None:
        entries = list(itertools.product(*[range(s) for s in shape]))
    return entries, n_nodes


def _factor(law, entries, n_nodes):
    """One variable's exact outcomes: ``(arrays (S_v, *shape), weights (S_v,), rel_error)``
    (Bernoulli patterns, or a tensor Gauss rule over the entries)."""
    _, kind, params, shape = law
    if kind == "Bernoulli" and np.ndim(params[0][0]):  # a rate per unit
        (bits, _), = enumerate_masks(len(entries), 0.5, chunk_bits=max(len(entries), 1))
        rates = np.array([params[0][0][entry] for entry in entries])
        probs = np.prod(np.where(bits == 1, rates, 1.0 - rates), axis=1)
        points = Ball.exact(bits)
        rel = gamma(2 * len(entries) + 4) + sum(probability_error(float(r)) for r in rates)
    elif kind == "Bernoulli":
        (bits, probs), = enumerate_masks(len(entries), 1.0 - params[0][0],
                                         chunk_bits=max(len(entries), 1))
        points = Ball.exact(bits)
        rel = gamma(2 * len(entries) + 4) + len(entries) * probability_error(*params[0])
    else:
        nodes, radius, weights, weight_error = gauss_rule(
            "normal" if kind == "Normal" else "uniform", n_nodes)
        combos = list(itertools.product(range(n_nodes), repeat=len(entries)))
        # (an unread variable has no entries: one outcome of weight 1)
        combos = np.array(combos, dtype=np.int64).reshape(len(combos), len(entries))
        grid = Ball(nodes[combos], radius[combos])  # the exact nodes lie inside these balls
        probs = np.prod(weights[combos], axis=1)
        (a, ra), (b, rb) = params
        lo, width = (Ball(a, ra), Ball(b, rb)) if kind == "Normal" else \
            (Ball(a, ra), (Ball(b, rb) - Ball(a, ra)) * 0.5)
        points = (lo + width * grid) if kind == "Normal" else (lo + width * (grid + 1.0))
        rel = len(entries) * weight_error + gamma(2 * len(entries) + 4)
    keep = probs > 0
    mids = np.zeros((int(keep.sum()),) + shape)
    rads = np.zeros_like(mids)
    for c, entry in enumerate(entries):
        mids[(slice(None),) + entry] = np.broadcast_to(points.mid, points.mid.shape)[keep, c]
        rads[(slice(None),) + entry] = np.broadcast_to(points.rad, points.mid.shape)[keep, c]
    return Ball(mids, rads), probs[keep], rel


def _product(factors):
    """The outcomes of independent variables, every combination: ``(indices, weights,
    rel_error)`` with each variable's outcome per combination (gathered a block at a time by
    the caller, so the combined arrays are never all held), weights multiplied."""
    sizes = [len(w) for _, w, _ in factors]
    total = int(np.prod(sizes)) if sizes else 1
    indices, weights, rel = [], np.ones(total), 0.0
    for k, (ball, w, r) in enumerate(factors):
        inner, outer = int(np.prod(sizes[k + 1:])), int(np.prod(sizes[:k]))
        index = np.tile(np.repeat(np.arange(sizes[k]), inner), outer)
        indices.append(index)
        weights = weights * w[index]
        rel += r
    return indices, weights, rel + gamma(len(factors) + 1)


def _degrees(nodes, columns, laws):
    """Each continuous variable's degree in the statistics the nodes need (a variance
    needs the square of its column)."""
    degrees = {}
    for name, kind, _, _ in laws:
        if kind == "Bernoulli":
            continue
        per_node = []
        for node in nodes:
            a, b = node.columns
            per_node.append(polynomial_degree(columns[a], name) * (2 if node.kind == "var" else 1)
                            + (polynomial_degree(columns[b], name) if node.kind == "cov" else 0))
        degrees[name] = max(per_node, default=0)
    return degrees


def _pilot_rows(args, laws, values) -> int:
    """Rows of the pilot sample: ``PILOT_ROWS``, fewer (odd) where that many would cost more
    than ``PILOT_WORK`` estimated operations (255 rows at ``M[1024, 1024]`` took about 10 s)."""
    work = sum(work_estimate(a, values) for a in args) + sum(
        int(np.prod(law[3])) for law in laws)
    rows = min(PILOT_ROWS, max(1, PILOT_WORK // max(work, 1)))
    return rows - 1 + rows % 2


def _pilot_blocks(laws, block, n_rows=PILOT_ROWS):
    """The pilot sample (``n_rows`` draws of every variable, from ``PILOT_SEED``) as
    ``(rows, env)`` blocks of at most ``block`` rows, so memory is bounded by a block whatever
    the arrays' size (all of it at once held 2 GB at ``M[1024, 1024]``). Each variable's rows
    are those of one draw of all ``n_rows`` in turn: NumPy's generators fill an array in
    order, so a variable is drawn block by block from its own copy of the generator, started
    where the draws of the variables before it end (found by drawing those and discarding)."""
    rng = np.random.default_rng(PILOT_SEED)
    streams = []
    for k, law in enumerate(laws):
        streams.append(copy.deepcopy(rng))
        if k + 1 < len(laws):  # the last variable's draws are never skipped over
            for start in range(0, n_rows, block):
                _sample(law, rng, min(block, n_rows - start))
    for start in range(0, n_rows, block):
        rows = min(block, n_rows - start)
        yield rows, {law[0]: _sample(law, stream, rows) for law, stream in zip(laws, streams)}


def _as_means(exprs, laws, values, block):
    """``Var`` and ``Cov`` nodes as functions of means: ``Cov(X, Y) = E((X - a)(Y - b)) -
    E(X - a) E(Y - b)`` for any constants, here pilot estimates of the means (from a stream of
    their own, :func:`_pilot_rows` rows in blocks of ``block``): the cancellation stays small
    and ``E(X - a)`` near 0, so the rigorous gate's box around it barely widens the variance. A
    batch variance's first-order part vanishes for a symmetric two-valued X, and its t-test
    then has a tail 10^5 times nominal at the default critical value; as a nonlinear function
    of means the second-order part is bounded by the route instead
    (:func:`~dropout_theory.routes.montecarlo.judge_batches`)."""
    found = [n for n in operator_nodes(*exprs) if isinstance(n, (Var, Cov))]
    if not found:
        return exprs
    args = [list(node.args if isinstance(node, Cov) else node.args * 2) for node in found]
    pilot = {arg: [] for pair in args for arg in pair}  # each argument's values, or None
    for rows, env in _pilot_blocks(laws, block, _pilot_rows(pilot, laws, values)):
        for arg, parts in pilot.items():
            if parts is None:
                continue
            try:
                with np.errstate(all="ignore"):
                    parts.append(_evaluate_columns([arg], values, env, rows)[0])
            except (ValueError, ArithmeticError):
                pilot[arg] = None
    mapping = {}
    for node, pair in zip(found, args):
        centered = []
        for arg in pair:
            value = 0.0 if pilot[arg] is None else pilot_center(np.concatenate(pilot[arg]))
            centered.append(arg - sp.Rational(value))  # pilot_center is always finite
        mapping[node] = E(centered[0] * centered[1]) - E(centered[0]) * E(centered[1])
    return [e.xreplace(mapping) for e in exprs]


@prepare.register
def _(model: ExpressionModel, identity, point, claim) -> Prepared:
    values = dict(point)
    laws = [_law(variable, values) for variable in model.variables]
    block = max(1, DRAW_ELEMENTS // max(sum(int(np.prod(law[3])) for law in laws), 1))
    lhs, rhs = _as_means([_unroll(model.lhs, values), _unroll(claim, values)], laws, values,
                         block)
    found = operator_nodes(lhs, rhs)
    columns, nodes = [], []
    for node in found:
        kind = {Var: "var", Cov: "cov"}.get(type(node), "mean")
        nodes.append(Node(kind, len(columns), len(columns) + 1 if kind == "cov" else None))
        columns += list(node.args)
    names = {law[0] for law in laws}

    def draw(rng, n):
        mids, rads = np.empty((n, len(columns))), np.empty((n, len(columns)))
        for start in range(0, n, block):
            rows = min(block, n - start)
            env = {law[0]: _sample(law, rng, rows) for law in laws}
            mids[start:start + rows], rads[start:start + rows] = _evaluate_columns(
                columns, values, env, rows)
        return mids, rads

    degrees = _degrees(nodes, columns, laws)
    plans = [_enumeration(law, columns, degrees, values) for law in laws]
    n_outcomes = None
    if all(plan is not None for plan in plans):
        n_outcomes = int(np.prod([n ** len(e) for e, n in plans])) if plans else 1
        elements = n_outcomes * sum(max(int(np.prod(law[3])), 1) for law in laws)
        if n_outcomes > EXACT_MAX_OUTCOMES or elements > EXACT_MAX_ELEMENTS:
            n_outcomes = None

    def outcomes():
        factors = [_factor(law, *plan) for law, plan in zip(laws, plans)]
        indices, weights, rel = _product(factors)
        n = len(weights)
        mids, rads = np.empty((n, len(columns))), np.empty((n, len(columns)))
        for start in range(0, n, block):  # each outcome's row is evaluated on its own
            rows = slice(start, min(start + block, n))
            env = {law[0]: Ball(ball.mid[index[rows]], ball.rad[index[rows]])
                   for law, (ball, _, _), index in zip(laws, factors, indices)}
            mids[rows], rads[rows] = _evaluate_columns(columns, values, env,
                                                       rows.stop - rows.start)
        return Ball(mids, rads), weights, rel

    def sides(stats):
        env = dict(zip(found, stats))
        return evaluate_ball(lhs, values, nodes=env), evaluate_ball(rhs, values, nodes=env)

    work = sum(work_estimate(c, values) for c in columns) + sum(
        int(np.prod(law[3])) for law in laws)
    curvature = _curvature(lhs - rhs, found, values)
    random = [bool({str(getattr(s, "base", s)) for s in n.atoms(sp.Symbol, sp.Indexed)} & names)
              for n in found]
    return Prepared(nodes, n_outcomes, outcomes, draw, sides, work, random,
                    [isinstance(n, P) for n in found], curvature,
                    ranges=_ranges(columns, laws, values))


def _support(law, radius):
    """A ball holding every value of one variable: its law's support
    (:data:`~dropout_theory.symbolic.distributions.SUPPORT`, widened by its parameters'
    rounding) where bounded, a normal one within ``radius`` standard deviations, ``None`` for
    another unbounded law."""
    _, kind, params, shape = law
    if kind == "Normal":
        (mu, rm), (sd, rs) = params
        lo, hi = mu - rm - radius * (sd + rs), mu + rm + radius * (sd + rs)
    else:
        slack = max((r for _, r in params), default=0.0)
        lo, hi = SUPPORT[kind](*(m for m, _ in params))
        lo, hi = lo - slack, hi + slack
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    mid, rad = (lo + hi) / 2.0, (hi - lo) / 2.0
    rad = float(np.nextafter(rad + gamma(4) * (abs(mid) + rad), np.inf))
    return Ball(np.full((1,) + shape, mid), np.full((1,) + shape, rad))


def _ranges(columns, laws, values):
    """Per column, candidates ``(lo, hi, bias, escape)``, one per core in ``NORMAL_CORES``:
    an interval holding its values while every normal entry stays within the core (ball
    arithmetic over the variables' supports), the bound on the mean's shift by that clipping
    and the probability that one sample is clipped
    (:func:`~dropout_theory.sampling.clipped_normal_tail`; one candidate with both 0 when no
    normal variable is read); ``None`` where a variable it reads is unbounded otherwise, or a
    normal one enters non-polynomially."""
    shared = {law[0]: _support(law, None) for law in laws if law[1] != "Normal"}  # any core
    supports = {core: {**shared, **{law[0]: _support(law, core) for law in laws
                                    if law[1] == "Normal"}} for core in NORMAL_CORES}
    return [_column_range(column, laws, values, supports) for column in columns]


def _column_range(column, laws, values, supports):
    if isinstance(column, (sp.logic.boolalg.Boolean, sp.core.relational.Relational)):
        return [(0.0, 1.0, 0.0, 0.0)]  # an event's indicator, whatever its variables
    reads = {str(getattr(s, "base", s)) for s in column.atoms(sp.Symbol, sp.Indexed)}
    normal = [law for law in laws if law[1] == "Normal" and law[0] in reads]
    degree = sum(polynomial_degree(column, law[0]) for law in normal)
    if math.isinf(degree):
        return None
    entries = sum(max(int(np.prod(law[3])), 1) for law in normal)
    candidates = []
    for core in NORMAL_CORES if normal else NORMAL_CORES[:1]:
        support = supports[core]
        if any(support[name] is None for name in reads & set(support)):
            return None
        try:
            with np.errstate(all="ignore"):
                ball = evaluate_ball(column, values, random={k: v for k, v in support.items()
                                                             if v is not None})
            lo, hi = float(np.min(ball.lo)), float(np.max(ball.hi))
        except (ValueError, ArithmeticError):
            return None
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return None
        tail = clipped_normal_tail(max(abs(lo), abs(hi), 1e-300), int(degree), entries,
                                   core) if normal else (0.0, 0.0)
        candidates.append((lo, hi, *tail))
    return candidates


def _hessian(difference, found: tuple):
    """The non-zero second derivatives of ``lhs - rhs`` in the node values (symbols
    ``stats``), derived once per statement (planning and every route prepare it again).
    The cache is keyed by the expression in the node symbols: the nodes themselves change
    from point to point (a Var node is centred at a value drawn there), its form does not."""
    stats = tuple(sp.Dummy(f"stat{k}", dummy_index=k, real=True) for k in range(len(found)))
    return _hessian_in(difference.xreplace(dict(zip(found, stats))), stats)


#: most non-zero second derivatives derived for one statement; beyond it the curvature is
#: taken as unbounded (the Monte Carlo route can then only say agrees or unresolved)
MAX_HESSIAN_ENTRIES = 4096


@lru_cache(maxsize=256)
def _hessian_in(g, stats: tuple):
    """Term by term: a term of ``g`` (an Add) contributes only to the pairs of statistics it
    reads, so a sum of K expectations costs K first derivatives, not K^2 second ones. Returns
    ``None`` for the entries when more than :data:`MAX_HESSIAN_ENTRIES` pairs would be
    derived (a dense Hessian of many statistics)."""
    position = {s: k for k, s in enumerate(stats)}
    hessian, pairs = {}, 0
    for term in sp.Add.make_args(g):
        reads = sorted((position[s] for s in term.free_symbols if s in position))
        pairs += len(reads) * (len(reads) + 1) // 2
        if pairs > MAX_HESSIAN_ENTRIES:
            return stats, None
        for j in reads:
            first = sp.diff(term, stats[j])
            if not first.free_symbols & set(stats):
                continue
            for k in reads:
                if k >= j:
                    hessian[(j, k)] = hessian.get((j, k), 0) + sp.diff(first, stats[k])
    return stats, {key: h for key, h in hessian.items() if h != 0}


def _curvature(difference, found, values):
    """``box -> (K, K)`` bounds on the second derivatives of ``lhs - rhs`` in the node values
    over the box (balls), or ``None`` when the sides are linear in them."""
    stats, hessian = _hessian(difference, tuple(found))
    if hessian is None:
        return lambda box: np.full((len(stats), len(stats)), np.inf)
    if not hessian:
        return None

    def bound(box):
        result = np.zeros((len(stats), len(stats)))
        for (j, k), h in hessian.items():
            try:
                ball = evaluate_ball(h, values, nodes=dict(zip(stats, box)))
                result[j, k] = result[k, j] = float(abs(ball.mid) + ball.rad)
            except (ValueError, ArithmeticError):
                result[j, k] = result[k, j] = np.inf
        return np.where(np.isnan(result), np.inf, result)
    return bound
