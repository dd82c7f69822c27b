r"""Exact probabilities of dropout events, and expectations on events, in closed form.

``P(B)`` and ``E(f 1_B)`` for an event ``B`` on independent Bernoulli masks and Normal
inputs (as a claim declares them), without enumerating mask patterns and without sampling:

* **counts.** A Bernoulli array read only through one count ``Sum(m[i], (i, a, b))`` is
  replaced by the count, ``Binomial(b - a + 1, q)`` (its entries are i.i.d.): ``k + 1``
  cases instead of ``2**k`` patterns. Other Bernoulli scalars and entries at fixed indices,
  and ``Binomial`` scalars, are enumerated; at most :data:`MAX_CASES` cases in all
  (:data:`MAX_GAUSSIAN_CASES` when Normal inputs are integrated in each), each costing the
  event's size, so the work is bounded before any is done.
* **Gaussian inputs given the masks.** In each case every comparison must be affine in the
  Normal variables along one direction ``u = a.x``; the event is then a union of intervals
  of ``u`` (found by ordering the thresholds exactly) and, with
  :math:`\Phi(z) = (1 + \operatorname{erf}(z/\sqrt 2))/2`,

  .. math:: E[(\alpha + \beta Z + \gamma Z^2) 1_{a < Z < b}] = (\alpha + \gamma)(\Phi(b) -
            \Phi(a)) + \beta (\varphi(a) - \varphi(b)) + \gamma (a \varphi(a) - b \varphi(b)).

* **symbolic sizes.** One count of symbolic size ``n`` compared with a threshold a fixed
  distance from 0 or from ``n`` (``S >= 2``, ``S > n - 1/2``): finitely many binomial terms,
  :math:`P(S \ge t) = 1 - \sum_{j < t} \binom{n}{j} q^j (1-q)^{n-j}`, a polynomial in ``n``
  times powers.

Anything else raises :class:`~dropout_theory.symbolic.expectation.NoClosedForm`: a
comparison that is not affine in the Normal inputs, two directions (a bivariate normal
probability), thresholds whose order the assumptions do not decide, other laws. ``at``
(parameter symbol -> exact number) decides signs and orders the symbols leave open, for a
closed form valid at that point (the numeric route's use); the expression keeps the symbols,
so it is evaluated with rigorous rounding bounds at the point.

Examples
--------
>>> from dropout_theory.symbolic import Bernoulli, Normal, RandomSpace
>>> q = sp.Symbol("q", positive=True); d = sp.Symbol("d", integer=True, positive=True)
>>> i = sp.Symbol("i", integer=True)
>>> space = RandomSpace(); m = space.array("m", Bernoulli(q))
>>> sp.factor(probability(sp.Sum(m[i], (i, 1, d)) >= 1, space))
1 - (1 - q)**d
>>> x = space.scalar("x", Normal(sp.Rational(1, 2), 1)); b = space.scalar("b", Bernoulli(q))
>>> probability(b * x / q > 1, space)
q*(1/2 - erf(sqrt(2)*(q - 1/2)/2)/2)
"""
from __future__ import annotations

import itertools
import math
from fractions import Fraction

import sympy as sp

from .distributions import Bernoulli, Binomial, Normal
from .expectation import Derivation, NoClosedForm, Step, expectation
from .operators import P

__all__ = ["probability", "expectation_on", "derive_probability", "derive_on_event",
           "MAX_CASES", "MAX_GAUSSIAN_CASES", "MAX_COUNT", "MAX_UNROLL", "indicator_parts",
           "conditions"]

#: most discrete cases (count values times enumerated patterns) one closed form sums
MAX_CASES = 1 << 12
#: most discrete cases when Normal inputs are integrated in each (each costs SymPy work)
MAX_GAUSSIAN_CASES = 256
#: largest count of one Bernoulli array (the binomial weights stay finite in floating point)
MAX_COUNT = 1000
#: most terms a Sum of Normal entries is written out into
MAX_UNROLL = 256
#: most thresholds one event may put on its Normal direction
MAX_THRESHOLDS = 64

_REL = sp.core.relational.Relational


def _phi(z):
    if z in (sp.oo, -sp.oo):
        return sp.Integer(0)
    return sp.exp(-z ** 2 / 2) / sp.sqrt(2 * sp.pi)


def _cdf(z):
    if z == sp.oo:
        return sp.Integer(1)
    if z == -sp.oo:
        return sp.Integer(0)
    return sp.Rational(1, 2) + sp.erf(z / sp.sqrt(2)) / 2


def _z_phi(z):
    return sp.Integer(0) if z in (sp.oo, -sp.oo) else z * _phi(z)


def _sign(expr, at) -> int:
    """+1, -1 or 0 for ``expr``, decided by its assumptions or, failing that, exactly at the
    point ``at``; NoClosedForm when neither decides."""
    expr = sp.simplify(expr) if not expr.is_number else expr
    if expr.is_zero:
        return 0
    if expr.is_positive:
        return 1
    if expr.is_negative:
        return -1
    if at:
        value = expr.xreplace(at)
        if value.is_zero:
            return 0
        if value.is_positive:
            return 1
        if value.is_negative:
            return -1
    raise NoClosedForm(f"the sign of {expr} is not decided by the assumptions")


def _law(atom, space):
    return space.distribution(atom)


def _random(expr, space) -> set:
    return {a for a in expr.atoms(sp.Symbol, sp.Indexed) if space.is_random(a)}


def _bound_indices(expr) -> set:
    found = set()
    for node in expr.atoms(sp.Sum, sp.Product):
        found |= {limit[0] for limit in node.limits}
    return found


def _counts(exprs, space):
    """``exprs`` with each count ``Sum(m[i], (i, a, b))`` of a Bernoulli array that is read
    nowhere else replaced by a fresh integer symbol; returns ``(exprs, [(symbol, n, q)])``."""
    counts = []
    for base, law in list(space.variables.items()):
        if not isinstance(base, sp.IndexedBase) or not isinstance(law, Bernoulli) \
                or not _shared_rate(law.q):
            continue
        candidates = {s for e in exprs for s in e.atoms(sp.Sum)
                      if len(s.limits) == 1 and s.function == base[s.limits[0][0]]}
        if len(candidates) != 1:
            continue
        node, = candidates
        index, low, high = node.limits[0]
        if node.free_symbols & set().union(*(_bound_indices(e) for e in exprs)):
            continue  # the count's range depends on an outer index: not one count
        symbol = sp.Dummy(f"count_{base}", integer=True, nonnegative=True)
        replaced = [e.xreplace({node: symbol}) for e in exprs]
        if any(e.has(base) for e in replaced):
            continue  # the array is also read elsewhere: its entries are enumerated
        exprs = replaced
        counts.append((symbol, sp.simplify(high - low + 1), sp.sympify(law.q)))
    return exprs, counts


def _shared_rate(rate) -> bool:
    """Whether a Bernoulli rate is one number for every entry (no array entries in it): only
    then is a count of entries Binomial."""
    return not sp.sympify(rate).atoms(sp.Indexed, sp.IndexedBase)


def _unrolled(expr, space):
    """Sums (and Products) over random entries written out term by term (concrete bounds)."""
    def expand(node):
        if not _random(node, space):
            return node
        for index, low, high in node.limits:
            if not (low.is_Integer and high.is_Integer):
                raise NoClosedForm(f"{node} runs over a symbolic range of random entries")
            if high - low + 1 > MAX_UNROLL:
                raise NoClosedForm(f"{node} has {high - low + 1} terms of random entries "
                                   f"(at most {MAX_UNROLL} are written out)")
        return node.doit()
    while True:
        nodes = [n for n in expr.atoms(sp.Sum, sp.Product) if not n.atoms(sp.Sum, sp.Product)
                 - {n}]
        nodes = [n for n in nodes if _random(n, space)]
        if not nodes:
            return expr
        expr = expr.xreplace({n: expand(n) for n in nodes})


def _discrete(atoms, counts, space):
    """``[(symbol, [(value, weight)])]`` for every discrete random atom and count."""
    supports = []
    for atom in sorted(atoms, key=sp.default_sort_key):
        law = _law(atom, space)
        if isinstance(law, Bernoulli):  # an entry's own rate (a per-unit one is read there)
            q = sp.sympify(law.q)
            supports.append((atom, [(sp.Integer(0), 1 - q), (sp.Integer(1), q)]))
        elif isinstance(law, Binomial):
            n, q = sp.sympify(law.n), sp.sympify(law.q)
            if not n.is_Integer or n > MAX_COUNT:
                raise NoClosedForm(f"{atom} ~ {law.describe()} needs a fixed n up to {MAX_COUNT}")
            supports.append((atom, _binomial(int(n), q)))
    for symbol, n, q in counts:
        if not n.is_Integer:
            raise NoClosedForm(f"a count of symbolic size {n} beside other random variables")
        if n < 0 or n > MAX_COUNT:
            raise NoClosedForm(f"a count of {n} masks (at most {MAX_COUNT})")
        supports.append((symbol, _binomial(int(n), q)))
    return supports


def _binomial(n: int, q):
    """``[(s, P(S = s))]`` for ``S ~ Binomial(n, q)``; exact integers for a rational ``q``."""
    if q.is_Rational:
        a, b = int(q.p), int(q.q)
        scale = b ** n
        return [(sp.Integer(s), sp.Rational(math.comb(n, s) * a ** s * (b - a) ** (n - s), scale))
                for s in range(n + 1)]
    return [(sp.Integer(s), math.comb(n, s) * q ** s * (1 - q) ** (n - s)) for s in range(n + 1)]


def _symbolic_count(event, symbol, n, q, at):
    """``P(event)`` for one count ``S ~ Binomial(n, q)`` with ``n`` symbolic: one comparison
    linear in ``S`` with a threshold a fixed distance from 0 or from ``n``."""
    if not isinstance(event, _REL):
        raise NoClosedForm(f"an event on a count of symbolic size {n} must be one comparison")
    if n.is_nonnegative is not True:  # an empty or reversed range (Karr's convention)
        raise NoClosedForm(f"the count's size {n} is not known to be >= 0")
    g = sp.expand(event.lhs - event.rhs)
    slope = g.coeff(symbol)
    if sp.expand(g - slope * symbol).has(symbol) or slope.has(symbol) or slope == 0:
        raise NoClosedForm(f"{event} is not linear in the count")
    threshold = sp.simplify(-(g - slope * symbol) / slope)
    flip = _sign(slope, at) < 0
    op = type(event)
    if flip:
        op = {sp.StrictGreaterThan: sp.StrictLessThan, sp.StrictLessThan: sp.StrictGreaterThan,
              sp.GreaterThan: sp.LessThan, sp.LessThan: sp.GreaterThan}.get(op, op)
    mirror = not threshold.is_number
    if mirror:  # a distance from n: count the zeros Z = n - S ~ Binomial(n, 1 - q)
        distance = sp.simplify(n - threshold)
        if not distance.is_number:
            raise NoClosedForm(f"the threshold {threshold} is neither a number nor a fixed "
                               f"distance from {n}")
        threshold, q = distance, 1 - q
        op = {sp.StrictGreaterThan: sp.StrictLessThan, sp.StrictLessThan: sp.StrictGreaterThan,
              sp.GreaterThan: sp.LessThan, sp.LessThan: sp.GreaterThan}.get(op, op)
    if not threshold.is_real or abs(threshold) > MAX_COUNT:
        raise NoClosedForm(f"the threshold {threshold} is not a real number up to {MAX_COUNT}")
    top = max(int(sp.floor(threshold)) + 1, 0)
    large = bool(op(top + 1, threshold))  # the truth for every count beyond ``top``
    total = sp.Integer(1) if large else sp.Integer(0)
    for j in range(top + 1):
        truth = bool(op(j, threshold))
        if truth != large:
            weight = sp.expand_func(sp.binomial(n, j)) * q ** j * (1 - q) ** (n - j)
            total += weight if truth else -weight
    return total


def _normal_poly(g, normals):
    """``g`` as a polynomial in the Normal inputs; NoClosedForm when it is not one."""
    try:
        return sp.Poly(g, *normals)
    except (sp.PolynomialError, sp.GeneratorsNeeded) as exc:
        raise NoClosedForm(f"{g} is not a polynomial in the Normal inputs ({exc})") from None


def _affine(g, normals):
    """``(coefficients, constant)`` of ``g`` affine in ``normals``; NoClosedForm otherwise."""
    poly = _normal_poly(g, normals)
    if poly.total_degree() > 1:
        raise NoClosedForm(f"{g} is not affine in the Normal inputs {normals}")
    one = (0,) * len(normals)
    coefficients = [poly.coeff_monomial(tuple(int(k == j) for k in range(len(normals))))
                    for j in range(len(normals))]
    return coefficients, poly.coeff_monomial(one) if poly.as_dict().get(one) is not None \
        else sp.Integer(0)


_FLIP = {sp.StrictGreaterThan: sp.StrictLessThan, sp.StrictLessThan: sp.StrictGreaterThan,
         sp.GreaterThan: sp.LessThan, sp.LessThan: sp.GreaterThan, sp.Eq: sp.Eq, sp.Ne: sp.Ne}


def _gaussian(f, event, space, at):
    """``E(f 1_event)`` with every random atom left a Normal variable."""
    normals = sorted(_random(event, space) | _random(f, space), key=sp.default_sort_key)
    for atom in normals:
        if not isinstance(_law(atom, space), Normal):
            raise NoClosedForm(f"{atom} ~ {_law(atom, space).describe()}: only Normal inputs "
                               f"are integrated in closed form")
    relations = sorted(event.atoms(_REL), key=sp.default_sort_key)
    direction, decided, placed = None, {}, []
    for relation in relations:
        a, b = _affine(sp.expand(relation.lhs - relation.rhs), normals)
        if all(c == 0 for c in a):
            truth = relation.func(b, 0)
            if truth not in (sp.true, sp.false):
                sign = _sign(b, at)
                truth = relation.func(sign, 0)
            decided[relation] = truth
            continue
        if direction is None:
            lead = next(c for c in a if c != 0)
            direction = [sp.simplify(c / lead) for c in a]
        pivot = next(k for k, c in enumerate(direction) if c != 0)
        scale = sp.simplify(a[pivot] / direction[pivot])
        if any(sp.simplify(c - scale * r) != 0 for c, r in zip(a, direction)):
            raise NoClosedForm(f"{event} compares two different combinations of the Normal "
                               f"inputs (a multivariate normal probability)")
        sign = _sign(scale, at)
        op = relation.func if sign > 0 else _FLIP[relation.func]
        placed.append((relation, op, sp.simplify(-b / scale)))
    if direction is None:  # nothing Normal in the event: it is decided
        truth = event.xreplace(decided)
        return _plain(f, space) if truth == sp.true else sp.Integer(0) \
            if truth == sp.false else _undecided(event)
    thresholds = []
    for _, _, t in placed:
        if all(_sign(t - u, at) != 0 for u in thresholds):
            thresholds.append(t)
    if len(thresholds) > MAX_THRESHOLDS:
        raise NoClosedForm(f"{len(thresholds)} thresholds on one direction")
    thresholds.sort(key=_order_key(at))
    mean = sp.Add(*[c * _law(x, space).mu for c, x in zip(direction, normals)])
    sd = sp.sqrt(sp.Add(*[c ** 2 * _law(x, space).sigma ** 2 for c, x in zip(direction, normals)]))
    if _sign(sd, at) == 0:
        raise NoClosedForm("the Normal direction has variance 0")
    alpha, beta, gamma = _in_direction(f, normals, direction, mean, sd)
    ends = [-sp.oo] + thresholds + [sp.oo]
    total, start = sp.Integer(0), None
    for k in range(len(ends) - 1):  # interval k lies between ends[k] and ends[k + 1]
        truth = {}
        for relation, op, t in placed:
            j = next(j for j, u in enumerate(thresholds) if _sign(t - u, at) == 0)
            above = k > j  # the interval lies above threshold j
            truth[relation] = {sp.StrictGreaterThan: above, sp.GreaterThan: above,
                               sp.StrictLessThan: not above, sp.LessThan: not above,
                               sp.Eq: False, sp.Ne: True}[op]
        value = event.xreplace({r: sp.true if v else sp.false for r, v in truth.items()})
        value = value.xreplace(decided)
        if value not in (sp.true, sp.false):
            return _undecided(event)
        if value == sp.true and start is None:
            start = ends[k]
        if value != sp.true and start is not None:
            total += _piece(start, ends[k], mean, sd, alpha, beta, gamma)
            start = None
    if start is not None:
        total += _piece(start, sp.oo, mean, sd, alpha, beta, gamma)
    return total


def _undecided(event):
    raise NoClosedForm(f"the truth of {event} is not decided on each interval")


def _order_key(at):
    import functools

    def compare(a, b):
        return _sign(a - b, at)
    return functools.cmp_to_key(compare)


def _plain(f, space):
    """``E(f)`` with no event left: ``f`` must be a polynomial of degree <= 2 in one Normal
    direction, or free of random variables."""
    normals = sorted(_random(f, space), key=sp.default_sort_key)
    if not normals:
        return f
    raise NoClosedForm(f"E({f}) on a certain event is left to the moment engine")


def _in_direction(f, normals, direction, mean, sd):
    """``f = alpha + beta Z + gamma Z**2`` with ``u = direction . x = mean + sd Z``."""
    if not _random_free(f, normals):
        poly = _normal_poly(f, normals)
        if poly.total_degree() > 2:
            raise NoClosedForm(f"{f} has degree above 2 in the Normal inputs")
        if len(normals) != 1 and poly.total_degree() > 1:
            raise NoClosedForm(f"{f}: a quadratic in several Normal inputs")
        u = sp.Dummy("u")
        if len(normals) == 1:
            g = sp.expand(f.xreplace({normals[0]: u / direction[0]}))
        else:
            coefficients, constant = _affine(f, normals)
            pivot = next(k for k, c in enumerate(direction) if c != 0)
            scale = sp.simplify(coefficients[pivot] / direction[pivot])
            if any(sp.simplify(c - scale * r) != 0 for c, r in zip(coefficients, direction)):
                raise NoClosedForm(f"{f} is not a function of the event's Normal direction")
            g = constant + scale * u
        z = sp.Dummy("z")
        h = sp.Poly(sp.expand(g.xreplace({u: mean + sd * z})), z)
        return tuple(h.coeff_monomial(z ** k) for k in range(3))
    return f, sp.Integer(0), sp.Integer(0)


def _random_free(f, normals) -> bool:
    return not any(f.has(x) for x in normals)


def _piece(lo, hi, mean, sd, alpha, beta, gamma):
    a = (lo - mean) / sd if lo != -sp.oo else -sp.oo
    b = (hi - mean) / sd if hi != sp.oo else sp.oo
    mass = _cdf(b) - _cdf(a)
    return (alpha + gamma) * mass + beta * (_phi(a) - _phi(b)) + gamma * (_z_phi(a) - _z_phi(b))


def expectation_on(f, event, space, at=None):
    """``E(f 1_event)`` in closed form (see the module docstring); NoClosedForm otherwise."""
    f, event = sp.sympify(f), sp.sympify(event)
    (f, event), counts = _counts([f, event], space)
    f, event = _unrolled(f, space), _unrolled(event, space)
    symbolic = [c for c in counts if not c[1].is_Integer]
    if symbolic:
        others = _random(event, space) | _random(f, space)
        if len(counts) > 1 or others or f != 1:
            raise NoClosedForm("a count of symbolic size must be the event's only random part")
        return _symbolic_count(event, *symbolic[0], at)
    atoms = {a for a in _random(event, space) | _random(f, space)
             if isinstance(_law(a, space), (Bernoulli, Binomial))}
    supports = _discrete(atoms, counts, space)
    cases = math.prod(len(s) for _, s in supports)
    continuous = bool((_random(event, space) | _random(f, space)) - atoms)
    limit = MAX_GAUSSIAN_CASES if continuous else MAX_CASES
    if cases > limit:
        raise NoClosedForm(f"{cases} mask cases (at most {limit}"
                           f"{' with Normal inputs' if continuous else ''}): read the masks "
                           f"through a count Sum(m[i], (i, 1, k)) to compress them")
    terms = []
    for combination in itertools.product(*[s for _, s in supports]):
        weight = sp.Mul(*[w for _, w in combination])
        if weight == 0:
            continue
        assign = {symbol: value for (symbol, _), (value, _) in zip(supports, combination)}
        case_event = event.xreplace(assign)
        case_f = f.xreplace(assign)
        if case_event == sp.false or case_f == 0:
            continue
        if not _random(case_event, space):  # decided by the parameters alone
            mean = case_f if not _random(case_f, space) else expectation(case_f, space).result
            terms.append(weight * (mean if case_event == sp.true else
                                   sp.Piecewise((mean, case_event), (0, True))))
            continue
        terms.append(weight * _gaussian(case_f, case_event, space, at))
    return _total(terms)


def _total(terms):
    """The sum of the cases' terms; exact rationals (numeric keep rates) summed as Python
    fractions, which is linear in the number of terms where SymPy's repeated Add is not."""
    if terms and all(t.is_Rational for t in terms):
        total = sum((Fraction(int(t.p), int(t.q)) for t in terms), Fraction(0))
        return sp.Rational(total.numerator, total.denominator)
    return sp.Add(*terms)


def probability(event, space, at=None):
    """``P(event)`` in closed form (see the module docstring); NoClosedForm otherwise."""
    return expectation_on(sp.Integer(1), event, space, at)


def indicator_parts(expr):
    """``[(f, event)]`` with ``expr = sum f 1_event`` for a Piecewise ``expr`` (conditions
    in order, each piece taking what the earlier ones left), or ``None``."""
    if not isinstance(expr, sp.Piecewise):
        return None
    parts, before = [], sp.true
    for value, condition in expr.args:
        parts.append((value, sp.And(condition, before)))
        before = sp.And(before, sp.Not(condition))
    return parts


def conditions(*exprs) -> list:
    """The events ``B`` whose ``P(B)`` divides a side (the conditions of conditionals)."""
    found = set()
    for expr in exprs:
        for power in sp.sympify(expr).atoms(sp.Pow):
            if isinstance(power.base, P) and power.exp.is_negative:
                found.add(power.base)
    return sorted(found, key=sp.default_sort_key)


def derive_probability(event, space, at=None) -> Derivation:
    """:func:`probability` as a derivation (the steps name the method)."""
    result = probability(event, space, at)
    return Derivation(result, [Step("event", event), Step(
        "exact probability: masks by their counts, Normal inputs integrated in closed form",
        result)])


def derive_on_event(expr, space, at=None) -> Derivation:
    """``E(expr)`` for a Piecewise ``expr`` (a conditional's numerator), piece by piece."""
    parts = indicator_parts(expr)
    if parts is None:
        raise NoClosedForm(f"{expr} is not a Piecewise on events")
    result = sp.Add(*[expectation_on(f, event, space, at) for f, event in parts])
    return Derivation(result, [Step("expectation", expr), Step(
        "exact probability: E(f 1_B) piece by piece, masks by their counts, Normal inputs in "
        "closed form", result)])
