"""Figures of the ``variants`` family: the claims with simulated points from the core's layers.

Every simulated point is a route run (Monte Carlo or replicate) or a seeded draw of the
layer itself; ``plotting`` only draws. Identities without a dedicated figure get the default
sweep of their claim over the keep probability, except those without one (SELU's constants,
max-norm), swept over their own parameter.
"""
import numpy as np

from ...identity import registered
from ...network import DropBlock
from ...plotting import FigureData, register_figure
from ...routes import Context, run
from ...sampling import generator
from ...sweeps import claim_value, sweep
from . import alpha, dropblock, masks, noise

SAMPLES = 1 << 14
DROPS = np.linspace(0.05, 0.8, 8)
GRID = np.linspace(0.01, 0.85, 60)


def _simulated(identity, points, root, key, claim=None):
    results = [run("montecarlo", identity, pt, identity.rhs if claim is None else claim,
                   Context(root=root, n_samples=SAMPLES, key=f"{key}#{k}"))
               for k, pt in enumerate(points)]
    return [r.lhs for r in results], [r.se for r in results]


@register_figure("variants-alpha-constants")
def _alpha_figure(root: int) -> FigureData:
    """AlphaDropout's output mean and variance against p, normal and constant inputs."""
    data = FigureData("AlphaDropout: output mean and variance against p",
                      "drop probability p", "value")
    reg = registered()
    variance, mean = reg["variants.alpha-constants"], reg["variants.alpha-constants-mean"]
    constant = reg["variants.alpha-constant-input-variance"]
    data.curves.append(("variance, x ~ N(0, 1): 1", GRID, np.ones_like(GRID)))
    for c in (0.0, 1.0):
        data.curves.append((f"variance, constant x = {c:g} (derived)", GRID,
                            [claim_value(alpha.CONSTANT_VARIANCE, {"q": 1 - p, "c": c})
                             for p in GRID]))
    data.curves.append(("mean, constant x = 1: a q c (derived)", GRID,
                        [claim_value(alpha.A_KLAMBAUER * alpha.q, {"q": 1 - p}) for p in GRID]))
    points = [{"q": 1 - p} for p in DROPS]
    for label, identity, pts, key in [
            ("variance, x ~ N(0, 1)", variance, points, "normal-var"),
            ("mean, x ~ N(0, 1)", mean, points, "normal-mean"),
            ("variance, x = 0", constant, [{**pt, "c": 0.0} for pt in points], "c0"),
            ("variance, x = 1", constant, [{**pt, "c": 1.0} for pt in points], "c1")]:
        values, errors = _simulated(identity, pts, root, f"variants#figure-alpha-{key}")
        data.points.append((f"{label} (AlphaDropout, 1 s.e.)", DROPS, values, errors))
    return data


@register_figure("variants-dropblock-rate")
def _dropblock_figure(root: int) -> FigureData:
    """Realised drop rate of DropBlock against its nominal rate 1 - keep_prob."""
    data = FigureData("DropBlock: realised against nominal drop rate (one f x f map)",
                      "nominal drop rate 1 - keep_prob", "realised drop rate")
    nominal = np.linspace(0.0, 0.5, 51)
    data.curves.append(("nominal (the gamma formula's target)", nominal, nominal))
    for k, (size, block) in enumerate([(7, 3), (14, 7), (5, 2)]):
        gammas = nominal / dropblock.nominal_rate(1.0, size, block)
        data.curves.append((f"exact, f = {size}, b = {block}", nominal,
                            [dropblock.realised_rate(g, size, block) for g in gammas]))
        drops = nominal[5::9]
        rates, errors = [], []
        for j, p in enumerate(drops):
            layer = DropBlock(float(p), block_size=block, rng=generator(root, "variants#dblk",
                                                                         100 * k + j))
            out = layer.forward(np.ones((SAMPLES, 1, 1, size, size)))
            fraction = (out == 0.0).mean(axis=(1, 2, 3, 4))
            rates.append(float(fraction.mean()))
            errors.append(float(fraction.std(ddof=1) / np.sqrt(SAMPLES)))
        data.points.append((f"DropBlock layer, f = {size}, b = {block} (1 s.e.)", drops, rates,
                            errors))
    return data


@register_figure("variants-spatial-correlation")
def _spatial_figure(root: int) -> FigureData:
    """Variance of a channel sum: one mask per channel against one per element."""
    x = np.array([[0.8, 1.1, 0.5, 0.9]])
    point = {"C": 1, "L": 4, "x": x}
    data = FigureData("Channel-sum variance (C = 1, L = 4): spatial vs element-wise",
                      "drop probability p", "Var[sum of the channel]")
    data.curves.append(("spatial: (1-q)/q (sum x)^2", GRID,
                        [claim_value(masks.SPATIAL, {**point, "q": 1 - p}) for p in GRID]))
    data.curves.append(("element-wise: (1-q)/q sum x^2", GRID,
                        [claim_value(masks.ELEMENTWISE, {**point, "q": 1 - p}) for p in GRID]))
    spatial = registered()["variants.spatial-correlation"]
    values, errors = _simulated(spatial, [{**point, "q": 1 - p} for p in DROPS], root,
                                "variants#figure-spatial")
    data.points.append(("SpatialDropout (1 s.e.)", DROPS, values, errors))
    elementwise = registered()["basics.inverted-variance"]
    flat = {"d": 4, "w": np.ones(4), "x": x[0]}
    values, errors = _simulated(elementwise, [{**flat, "q": 1 - p} for p in DROPS], root,
                                "variants#figure-elementwise")
    data.points.append(("Dropout, element-wise masks (1 s.e.)", DROPS, values, errors))
    return data


def _own_parameter(name, param, span):
    @register_figure(name.replace(".", "-"))
    def figure(root: int) -> FigureData:
        return sweep(registered()[name], root=root, param=param, span=span,
                     inner=(span[0] + 0.1 * (span[1] - span[0]),
                            span[1] - 0.1 * (span[1] - span[0])))
    return figure


for _name in ("variants.selu-fixed-point", "variants.selu-fixed-point-mean"):
    _own_parameter(_name, "alpha", (1.2, 2.0))


def _max_norm_point(s):
    direction = np.array([0.6, -0.48, 0.64])  # unit norm
    return {"p": 0.0, "d": 3, "c": 1.5, "s": float(s), "w": 1.5 * s * direction,
            "g": np.array([1.0, 0.5, -0.25])}


def _max_norm_figure(root: int) -> FigureData:
    """P(w).g and ||w - P(w)||^2 against ||w|| / c, from max_norm itself."""
    data = FigureData("max_norm(w, c = 1.5): projection and distance against s = ||w|| / c",
                      "s = ||w|| / c", "value")
    grid = np.linspace(0.05, 3.0, 60)
    reg = registered()
    inside, outside = reg["variants.max-norm-inside"], reg["variants.max-norm"]
    distance = reg["variants.max-norm-distance"]
    data.curves.append(("claim P(w).g: w.g inside, w.g / s outside", grid,
                        [claim_value((inside if s <= 1 else outside).rhs, _max_norm_point(s))
                         for s in grid]))
    data.curves.append(("claim ||w - P(w)||^2 = (s-1)^2 c^2 outside, 0 inside", grid,
                        [claim_value(distance.rhs, _max_norm_point(s)) if s > 1 else 0.0
                         for s in grid]))
    marks = np.linspace(0.2, 2.9, 10)
    for label, pick in [("P(w).g", lambda s: inside if s <= 1 else outside),
                        ("||w - P(w)||^2", lambda s: distance if s > 1 else None)]:
        shown = [s for s in marks if pick(s) is not None]
        values = [run("exact", pick(s), _max_norm_point(s), pick(s).rhs).lhs for s in shown]
        data.points.append((f"{label} from max_norm (exact)", shown, values, None))
    return data


# one figure shows all three max-norm claims; each identity's stem gets it
for _stem in ("variants-max-norm", "variants-max-norm-distance", "variants-max-norm-inside"):
    register_figure(_stem)(_max_norm_figure)


def _fourth_figure(root: int) -> FigureData:
    """Fourth central moment of the noisy unit: Gaussian against Bernoulli dropout (x = 1)."""
    data = FigureData("E[(noisy x - x)^4] at x = 1: Gaussian and Bernoulli dropout",
                      "drop probability p", "fourth central moment (log scale values)")
    grid = np.linspace(0.05, 0.8, 60)
    data.curves.append(("Gaussian: 3 ((1-q)/q)^2", grid,
                        [claim_value(noise.GAUSS_FOURTH, {"q": 1 - p, "x": 1.0}) for p in grid]))
    data.curves.append(("Bernoulli: (1-q)((1-q)^3 + q^3)/q^3", grid,
                        [claim_value(noise.BERNOULLI_FOURTH, {"q": 1 - p, "x": 1.0})
                         for p in grid]))
    reg = registered()
    for label, name in [("GaussianDropout", "variants.gaussian-fourth-moment"),
                        ("Dropout", "variants.bernoulli-fourth-moment")]:
        values, errors = _simulated(reg[name], [{"q": 1 - p, "x": 1.0} for p in DROPS], root,
                                    f"{name}#figure")
        data.points.append((f"{label} (1 s.e.)", DROPS, values, errors))
    return data


for _stem in ("variants-gaussian-fourth-moment", "variants-bernoulli-fourth-moment",
              "variants-gaussian-matches-bernoulli"):
    register_figure(_stem)(_fourth_figure)
