"""Ball arithmetic encloses exact values, keeps exact results exact, and the vectorized tree
evaluator agrees with SymPy within its balls."""
import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import special

from dropout_theory.symbolic import balls
from dropout_theory.symbolic.balls import LIBM_ULPS, Ball
from dropout_theory.symbolic.evaluate import (evaluate, evaluate_ball, evaluate_with_bound,
                                              work_estimate)
from dropout_theory.symbolic.operators import E, P

PREC = 300
EXACT = 2200  # bits: the exact sum of any two doubles (2**-1074 to 2**1024)
i, j, k, d, n = sp.symbols("i j k d n", integer=True)
x, m, w, X = (sp.IndexedBase(s) for s in "xmwX")


def _operands(rng, size, *, positive=False):
    """Midpoints over many binades (plus zeros, integers, tiny and huge values) and radii that
    are 0 for a third of them."""
    mid = rng.choice([-1.0, 1.0], size) * 10.0 ** rng.uniform(-6, 6, size) * rng.random(size)
    mid[: size // 10] = rng.integers(-20, 20, size // 10)
    mid[size // 10: size // 8] = rng.choice([2.0 ** -1000, 3.0 ** -600, 2.0 ** 900, 0.0],
                                            size // 8 - size // 10)
    if positive:
        mid = np.abs(mid) + (mid == 0)
    rad = np.abs(mid) * 10.0 ** rng.uniform(-16, -1, size) * (rng.random(size) < 0.67)
    return Ball(mid, rad)


def _inside(ball, t):
    """Exact points of the ball (t in [-1, 1] of the radius), as mpmath numbers."""
    return [mpmath.mpf(float(a)) + t * mpmath.mpf(float(r)) for a, r in zip(ball.mid, ball.rad)]


def _assert_encloses(result, exact_values, label):
    for idx, value in enumerate(exact_values):
        if value is None:
            continue
        a, r = float(result.mid[idx]), float(result.rad[idx])
        if np.isnan(a) or r == np.inf:
            continue
        lo, hi = mpmath.mpf(a) - mpmath.mpf(r), mpmath.mpf(a) + mpmath.mpf(r)
        assert lo <= value <= hi, f"{label}: {value} not in {a} +- {r} (case {idx})"


_BINARY = {
    "add": (balls.add, lambda a, b: a + b),
    "sub": (balls.sub, lambda a, b: a - b),
    "mul": (balls.mul, lambda a, b: a * b),
    "div": (balls.div, lambda a, b: a / b if b != 0 else None),
}


@pytest.mark.parametrize("name", sorted(_BINARY))
def test_binary_operations_enclose_every_point_of_their_inputs(name):
    rng = np.random.default_rng(1)
    a, b = _operands(rng, 300), _operands(rng, 300)
    op, exact = _BINARY[name]
    result = op(a, b)
    with mpmath.workprec(EXACT):
        for s, t in [(0, 0), (1, -1), (-1, 0.5), (0.3, 1)]:
            values = [exact(p, q) for p, q in zip(_inside(a, s), _inside(b, t))]
            _assert_encloses(result, values, name)


_UNARY = {
    "exp": (balls.exp, mpmath.exp, False),
    "log": (balls.log, mpmath.log, True),
    "tanh": (balls.tanh, mpmath.tanh, False),
    "erf": (balls.erf, mpmath.erf, False),
    "sqrt": (balls.sqrt, mpmath.sqrt, True),
    "abs": (balls.absolute, abs, False),
    "power 0.37": (lambda a: balls.power(a, 0.37), lambda v: v ** mpmath.mpf(0.37), True),
    "power -1.5": (lambda a: balls.power(a, -1.5), lambda v: v ** mpmath.mpf(-1.5), True),
    "power ball": (lambda a: balls.power(a, Ball(0.6, 1e-3)), None, True),
    "cube": (lambda a: balls.ipow(a, 3), lambda v: v ** 3, False),
    "inverse square": (lambda a: balls.ipow(a, -2), lambda v: v ** -2 if v else None, False),
    "floor": (balls.floor, mpmath.floor, False),
    "ceil": (balls.ceil, mpmath.ceil, False),
}


@pytest.mark.parametrize("name", sorted(_UNARY))
def test_functions_enclose_every_point_of_their_inputs(name):
    rng = np.random.default_rng(2)
    op, exact, positive = _UNARY[name]
    a = _operands(rng, 200, positive=positive)
    if name in ("exp", "tanh", "erf"):
        a = Ball(np.clip(a.mid, -700, 700) % 50 - 25, np.minimum(a.rad, 1.0))
    result = op(a)
    with mpmath.workprec(PREC):
        for t in (0, 1, -1, 0.4):
            points = _inside(a, t)
            if name == "power ball":
                values = [v ** (mpmath.mpf(0.6) + (t / 2) * mpmath.mpf(1e-3)) for v in points]
            else:
                values = [exact(v) if v >= 0 or not positive else None for v in points]
            _assert_encloses(result, values, name)


def test_max_min_and_comparisons_enclose():
    rng = np.random.default_rng(3)
    a, b = _operands(rng, 200), _operands(rng, 200)
    a = Ball(a.mid, a.rad)
    with mpmath.workprec(PREC):
        for s, t in [(0, 0), (1, -1), (-1, 1)]:
            pa, pb = _inside(a, s), _inside(b, t)
            _assert_encloses(balls.maximum(a, b), [max(p, q) for p, q in zip(pa, pb)], "max")
            _assert_encloses(balls.minimum(a, b), [min(p, q) for p, q in zip(pa, pb)], "min")
            for op, f in [("<", lambda p, q: p < q), (">=", lambda p, q: p >= q),
                          ("==", lambda p, q: p == q), ("!=", lambda p, q: p != q)]:
                _assert_encloses(balls.compare(op, a, b), [int(f(p, q)) for p, q in zip(pa, pb)],
                                 op)


def test_sums_and_weighted_means_enclose_the_exact_value():
    rng = np.random.default_rng(4)
    noisy = _operands(rng, 5000)
    noisy = Ball(np.where(np.abs(noisy.mid) > 1e100, 1.0, noisy.mid), noisy.rad)
    weights = rng.random(5000)
    with mpmath.workprec(EXACT):
        for values in (Ball(noisy.mid), noisy):
            for t in (0, 1, -1):
                points = _inside(values, t)
                for length in (7, 4096, 5000):  # TwoSum cascade; Higham's bound beyond 4096
                    total = Ball(values.mid[:length], values.rad[:length]).sum(axis=0)
                    _assert_encloses(total.reshape(1), [mpmath.fsum(points[:length])], "sum")
                mean = balls.weighted_mean(values, weights)
                exact = mpmath.fsum(mpmath.mpf(float(q)) * p for q, p in zip(weights, points))
                _assert_encloses(mean.reshape(1), [exact], "weighted mean")


def test_the_libm_assumption_holds_on_this_machine():
    """LIBM_ULPS bounds the error (in spacings of the result) of every library function the
    balls use; erfc and ndtr are not accurate in ulps and are never used."""
    rng = np.random.default_rng(5)
    size = 1500
    inputs = {
        "exp": (np.exp, mpmath.exp, np.concatenate([rng.uniform(-745, 709, size),
                                                    rng.uniform(-1, 1, size)])),
        "expm1": (np.expm1, mpmath.expm1, rng.uniform(-40, 40, size) * rng.random(size) ** 8),
        "log": (np.log, mpmath.log, np.concatenate([10.0 ** rng.uniform(-300, 300, size),
                                                    1 + rng.uniform(-1e-3, 1e-3, size)])),
        "tanh": (np.tanh, mpmath.tanh, rng.uniform(-20, 20, size) * rng.random(size) ** 4),
        "erf": (special.erf, mpmath.erf, rng.uniform(-6, 6, size) * rng.random(size) ** 4),
    }
    base, exponent = 10.0 ** rng.uniform(-30, 30, size), rng.uniform(-8, 8, size)
    with mpmath.workprec(200):
        worst = {}
        for name, (f, exact, xs) in inputs.items():
            got = f(xs)
            worst[name] = max(float(abs(mpmath.mpf(float(g)) - exact(mpmath.mpf(float(v))))
                                    / np.spacing(abs(g))) for g, v in zip(got, xs))
        got = np.power(base, exponent)
        worst["power"] = max(float(abs(mpmath.mpf(float(g)) - mpmath.power(mpmath.mpf(float(b)),
                                                                            mpmath.mpf(float(e))))
                                   / np.spacing(abs(g))) for g, b, e in zip(got, base, exponent))
        assert mpmath.mpf(balls._ERF_LIPSCHITZ) >= 2 / mpmath.sqrt(mpmath.pi)
    assert max(worst.values()) <= LIBM_ULPS, worst


# --- exactness --------------------------------------------------------------------------------

a_, b_, q_, t_ = sp.symbols("a b q t")


def test_exact_inputs_with_exact_results_stay_exact():
    masks = np.random.default_rng(6).integers(0, 2, size=(50, 9)).astype(float)
    total = evaluate_ball(sp.Sum(m[i], (i, 1, d)), {"d": 9}, random={"m": masks})
    assert np.all(total.rad == 0) and np.all(total.mid == masks.sum(axis=1))
    for expr in (1 * t_ * a_ - a_ * t_, 0 * a_, a_ - a_, (a_ + 3) * 4 - 4 * a_ - 12):
        ball = evaluate_ball(sp.Mul(expr, 1, evaluate=False), {"a": 0.1, "t": 1.0})
        assert ball.rad == 0 and ball.mid == 0, expr
    assert evaluate_ball(1 * t_, {"t": 0.1}).rad == 0


def test_cancelling_terms_of_a_true_statement_give_a_ball_containing_zero():
    rng = np.random.default_rng(7)
    mask = sp.Symbol("mask")
    expr = (mask * a_ + mask * b_) ** 2 - mask * (a_ ** 2 + 2 * a_ * b_ + b_ ** 2)
    square = (t_ + a_) ** 2 - (t_ ** 2 + 2 * a_ * t_ + a_ ** 2)
    for _ in range(100):
        point = {"a": float(rng.normal() * 10.0 ** rng.integers(-5, 5)), "b": float(rng.normal())}
        ball = evaluate_ball(expr, point, random={"mask": np.array([0.0, 1.0])})
        assert np.all(ball.contains_zero()) and ball.rad[0] == 0
        ball = evaluate_ball(square, {**point, "t": float(rng.normal() * 1e3)})
        assert ball.contains_zero()


def test_ties_are_decided_and_small_differences_certified():
    masks = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    m1, m2 = sp.symbols("m1 m2")
    event = evaluate_ball(m1 + m2 >= 1, {}, random={"m1": masks[:, 0], "m2": masks[:, 1]})
    assert event.mid.tolist() == [0, 1, 1, 1] and np.all(event.rad == 0)
    both = evaluate_ball(sp.And(m1 > 0, sp.Not(m2 > 0)), {}, random={"m1": masks[:, 0],
                                                                      "m2": masks[:, 1]})
    assert both.mid.tolist() == [0, 0, 1, 0] and np.all(both.rad == 0)
    for gap in (sp.Rational(1, 10 ** 9), sp.Float(1e-9), 10 ** -9):
        ball = evaluate_ball(t_ - (t_ + gap), {"t": 12345.678})
        assert ball.excludes_zero(), gap
    undecided = balls.compare(">", Ball(1.0, 1e-3), 1.0)
    assert undecided.mid == 0.5 and undecided.rad == 0.5


def test_undefined_and_unbounded_values_are_never_certified():
    for expr, point in [(sp.log(a_), {"a": -1.0}), (a_ / (a_ - a_), {"a": 2.0}),
                        (sp.sqrt(a_), {"a": -4.0}), (sp.nan * a_, {"a": 1.0})]:
        ball = evaluate_ball(expr, point)
        assert np.isnan(ball.mid) and not ball.excludes_zero() and not ball.is_finite()
        assert ball.contains_zero() and ball.lo == -np.inf and ball.hi == np.inf
    huge = evaluate_ball(sp.exp(a_) - sp.exp(b_), {"a": 1000.0, "b": 1000.0})
    assert huge.contains_zero() and not huge.is_finite()
    assert balls.div(1.0, Ball(0.5, 0.6)).rad == np.inf


# --- the tree evaluator -------------------------------------------------------------------------

def _reference(expr):
    """SymPy's own value: the outermost index substituted one value at a time (Karr's
    convention for reversed ranges, as ``Sum.doit``), ``Sum.doit`` on the innermost sum."""
    if isinstance(expr, sp.Sum) and len(expr.limits) > 1:
        index, lo, hi = expr.limits[-1]
        inner, lo, hi = sp.Sum(expr.function, *expr.limits[:-1]), int(lo), int(hi)
        sign, span = (1, range(lo, hi + 1)) if hi >= lo - 1 else (-1, range(hi + 1, lo))
        return sign * sp.Add(*[_reference(inner.subs(index, v)) for v in span])
    return expr.doit()


SUMS = [
    sp.Sum(x[i] * w[i], (i, 1, d)),
    sp.Sum(sp.Sum(x[i] * X[i, j] * w[j], (j, 1, d)), (i, 1, d)),
    sp.Sum(sp.Sum(x[j], (j, 1, i)), (i, 1, d)),             # triangular
    sp.Sum(sp.Sum(x[j] * w[i] + i * j, (j, i, d)), (i, 1, d)),
    sp.Sum(x[i + 1] - x[i], (i, 1, d - 1)),                 # shifted index
    sp.Sum(x[i], (i, 3, 2)),                                # empty
    sp.Sum(x[i] ** 2, (i, 4, 1)),                           # Karr: minus the sum over 2..3
    sp.Sum(sp.Sum(x[j], (j, i + 2, 3)), (i, 1, d - 1)),     # mixed forward and reversed
    sp.Sum(sp.exp(sp.Sum(w[k] * x[k], (k, 1, d))) * x[i] / (1 + w[i] ** 2), (i, 1, d)),
    sp.Sum(sp.KroneckerDelta(i, j) * x[i] * w[j], (i, 1, d), (j, 1, d)),
    sp.Sum(sp.Sum(x[j] + w[i], (j, 1, i)), (i, 1, d)),      # index-free terms: counted
    sp.Sum(w[2] * x[3], (i, 4, 1)),
]


@pytest.mark.parametrize("expr", SUMS, ids=[str(s) for s in SUMS])
def test_vectorized_sums_agree_with_sympy(expr):
    rng = np.random.default_rng(8)
    size = 5
    xv, wv, Xv = rng.normal(size=size), rng.normal(size=size), rng.normal(size=(size, size))
    ball = evaluate_ball(expr, {"d": size, "x": xv, "w": wv, "X": Xv})
    subs = {x[a + 1]: sp.Float(xv[a], 60) for a in range(size)}
    subs |= {w[a + 1]: sp.Float(wv[a], 60) for a in range(size)}
    subs |= {X[a + 1, b + 1]: sp.Float(Xv[a, b], 60) for a in range(size) for b in range(size)}
    exact = _reference(expr.subs(d, size)).xreplace(subs).evalf(60)
    mid, rad = sp.Float(float(ball.mid), 60), sp.Float(float(ball.rad), 60)
    assert mid - rad <= exact <= mid + rad, (exact, ball)
    assert float(ball.rad) <= 1e-12 * max(1.0, abs(float(exact)))


def test_random_arrays_broadcast_against_index_axes():
    rng = np.random.default_rng(9)
    samples, size = 64, 7
    masks = rng.integers(0, 2, size=(samples, size)).astype(float)
    xv, Xv = rng.normal(size=size), rng.normal(size=(size, size))
    noise = Ball(rng.normal(size=samples), 1e-12)
    expr = sp.Sum(sp.Sum(m[i] * Xv[0, 0] * X[i, j] * m[j], (j, 1, d)), (i, 1, d)) + t_ * sp.Sum(
        m[i] * x[i], (i, 1, d))
    ball = evaluate_ball(expr, {"d": size, "x": xv, "X": Xv}, random={"m": masks, "t": noise})
    expected = Xv[0, 0] * np.einsum("si,ij,sj->s", masks, Xv, masks) + noise.mid * (masks @ xv)
    assert ball.shape == (samples,)
    assert np.all(np.abs(ball.mid - expected) <= ball.rad + 1e-12 * np.abs(expected))
    assert np.all(ball.rad < 1e-9)


def test_operator_nodes_come_from_the_caller():
    node = E(t_)
    ball = evaluate_ball(node - a_, {"a": 0.25}, nodes={node: Ball(np.array([0.25, 1.0]), 0.0)})
    assert ball.mid.tolist() == [0.0, 0.75] and np.all(ball.rad == 0)
    with pytest.raises(ValueError, match=r"no value for P\(t > 0\)"):
        evaluate_ball(P(t_ > 0), {})


def test_indices_out_of_range_and_missing_values_are_named():
    with pytest.raises(ValueError, match=r"x\[6\].*shape \(5,\)"):
        evaluate_ball(sp.Sum(x[i + 1], (i, 1, d)), {"d": 5, "x": np.ones(5)})
    with pytest.raises(ValueError, match=r"X\[2, 4\].*shape \(3, 3\)"):
        evaluate_ball(sp.Sum(X[2, i], (i, 1, d)), {"d": 4, "X": np.ones((3, 3))})
    with pytest.raises(ValueError, match="no value given for the array w"):
        evaluate_ball(sp.Sum(w[i], (i, 1, d)), {"d": 2})
    with pytest.raises(ValueError, match="no value given for q"):
        evaluate(q_ + 1, {})
    with pytest.raises(ValueError, match="cannot evaluate gamma numerically"):
        evaluate(sp.gamma(a_ + sp.Rational(1, 3)), {"a": 1.0})
    # masked-out positions of a triangular sum are never read
    triangle = sp.Sum(sp.Sum(x[i - j + 1], (j, 1, i)), (i, 1, d))
    assert evaluate(triangle, {"d": 3, "x": np.ones(3)}) == 6


def test_numbers_carry_their_conversion_error():
    assert evaluate_with_bound(sp.Integer(2) ** 60 + 1 - 2 ** 60, {}) == (1.0, 0.0)
    value, bound = evaluate_with_bound(sp.Integer(10) ** 30 + 1, {})
    assert abs(sp.Integer(10) ** 30 + 1 - sp.Rational(value)) <= bound
    value, bound = evaluate_with_bound(sp.pi - sp.Float("3.14159265358979323846264338", 30), {})
    assert abs(value) <= bound <= 1e-15
    value, bound = evaluate_with_bound((1 - t_) ** n, {"t": 0.5, "n": 10})
    assert value == 2.0 ** -10 and bound == 0.0
    value, bound = evaluate_with_bound(t_ ** (a_ / 2), {"t": 2.0, "a": 3.0})
    assert abs(value - 2 ** 1.5) <= bound <= 1e-14


def test_work_estimate_counts_summand_nodes_times_axis_lengths():
    small = work_estimate(sp.Sum(x[i] * w[i], (i, 1, d)), {"d": 10})
    assert work_estimate(sp.Sum(x[i] * w[i], (i, 1, d)), {"d": 1000}) == 100 * small
    # index-free factors leave the inner sum: d + d work, not d**2
    assert work_estimate(sp.Sum(sp.Sum(x[i] * w[j], (j, 1, d)), (i, 1, d)), {"d": 1000}) < 10 ** 4
    assert work_estimate(sp.Sum(sp.Sum(X[i, j], (j, 1, d)), (i, 1, d)), {"d": 1000}) >= 10 ** 6


@pytest.mark.parametrize("block", [7, 64, 2 ** 18])
def test_blocks_of_rows_and_index_pieces_give_the_same_exact_values(monkeypatch, block):
    """Integer data: every result is exact, whatever the blocks the evaluator cuts."""
    import dropout_theory.symbolic.evaluate as module
    monkeypatch.setattr(module, "BLOCK", block)
    rng = np.random.default_rng(10)
    samples, size = 33, 9
    masks = rng.integers(0, 2, size=(samples, size)).astype(float)
    xv, Xv = rng.integers(-5, 6, size), rng.integers(-5, 6, (size, size))
    mean = E(t_)
    nodes = {mean: Ball(rng.integers(-3, 4, samples).astype(float))}
    cases = [
        (sp.Sum(sp.Sum(m[i] * X[i, j] * m[j], (j, 1, d)), (i, 1, d)),
         np.einsum("si,ij,sj->s", masks, Xv, masks)),
        (sp.Sum(sp.Sum(m[j] * x[j] * i, (j, 1, i)), (i, 1, d)),
         sum(i_ * masks[:, :i_] @ xv[:i_] for i_ in range(1, size + 1))),
        (sp.Sum(mean * x[i] * m[i], (i, 1, d)) + sp.Sum(m[i], (i, d, 2)),
         nodes[mean].mid * (masks @ xv) - masks[:, 2:size - 1].sum(axis=1)),
    ]
    for expr, expected in cases:
        ball = evaluate_ball(expr, {"d": size, "x": xv, "X": Xv}, random={"m": masks},
                             nodes=nodes)
        assert ball.mid.tolist() == expected.tolist() and np.all(ball.rad == 0), expr


def test_piecewise_and_product():
    """A conditional takes the piece whose condition holds and spans both where the condition
    is undecided; a product over an index is multiplied out (an empty range is 1)."""
    choice = sp.Piecewise((a_, a_ > 0), (-2 * a_, True))
    assert evaluate(choice, {"a": 1.5}) == 1.5 and evaluate(choice, {"a": -1.0}) == 2.0
    near = evaluate_ball(sp.Piecewise((1, a_ > sp.Rational(1, 3)), (0, True)),
                         {"a": 1 / 3})  # 1/3 rounds: the condition is undecided
    assert float(near.lo) <= 0.0 and float(near.hi) >= 1.0
    product = sp.Product(1 + x[i], (i, 1, d))
    assert evaluate(product, {"d": 3, "x": np.array([1.0, 2.0, 3.0])}) == 24.0
    assert evaluate(product, {"d": 0, "x": np.array([1.0])}) == 1.0
