"""Figures of the jensen family: the gap of five activations against the drop rate, and the
Gaussian approximation's error against the width."""
import numpy as np

from ...identity import registered
from ...network import Dropout, bernoulli_mask
from ...plotting import FigureData, register_figure
from ...routes import Context, run
from ...sampling import exact_mean, generator
from ...sweeps import claim_value
from .gaps import ACTIVATIONS, unit_gap
from .gaussian import RELU_GAUSSIAN, RELU_GAUSSIAN_IDENTITY, relu_unit

#: a fixed unit whose contributions w_i x_i have both signs (a one-signed unit has no ReLU gap)
_UNIT = {"d": 4, "w": np.array([0.9, -0.6, 1.1, 0.4]), "x": np.array([1.2, 0.8, -0.5, 1.5])}


@register_figure("jensen-gap-against-p")
def gap_against_p(root: int) -> FigureData:
    """E[f(s)] - f(w . x) against the drop rate for five activations, in units of the
    pre-activation's dropout variance Var[s] (the quadratic's gap is exactly 1 of them):
    exact over all 16 masks (lines) and Monte Carlo through the network core (points)."""
    data = FigureData("jensen: gap E[f(s)] - f(E s) / Var[s], s = w.(m x)/q, d = 4",
                      "drop probability p", "gap in units of Var[s]")
    grid = np.linspace(0.02, 0.9, 45)
    drops = np.linspace(0.1, 0.8, 8)
    scale = np.sum((_UNIT["w"] * _UNIT["x"]) ** 2)

    def variance(p):
        return p / (1 - p) * scale

    for k, name in enumerate(ACTIVATIONS):
        gap = unit_gap(name)
        exact = [exact_mean(lambda masks: gap({**_UNIT, "q": 1 - p}, masks), 4, p)[0]
                 / variance(p) for p in grid]
        data.curves.append((f"{name}: exact (all masks)", grid, exact))
        rng = generator(root, "jensen-gap-figure", k)
        samples = [gap({**_UNIT, "q": 1 - p}, bernoulli_mask((1 << 14, 4), p, rng)) / variance(p)
                   for p in drops]
        data.points.append((f"{name}: simulated (1 s.e.)", drops, [v.mean() for v in samples],
                            [v.std(ddof=1) / np.sqrt(len(v)) for v in samples]))
    return data


def _random_unit_error(d, q, mu, rng, n):
    """Monte Carlo of E[relu(z)] - Gaussian value for a random unit of width d (the
    identity's own unit and claimed value): weights N(0, 1/d), inputs |N(0, 1)| (post-ReLU
    activations), bias putting the mean at mu."""
    point = {"q": q, "d": d, "mu": mu, "w": rng.standard_normal(d) / np.sqrt(d),
             "x": np.abs(rng.standard_normal(d))}
    gauss = claim_value(RELU_GAUSSIAN, point)
    chunk = max(1, (1 << 22) // d)
    values = np.concatenate([
        relu_unit(point, bernoulli_mask((min(chunk, n - start), d), 1 - q, rng)) - gauss
        for start in range(0, n, chunk)])
    return values.mean(), values.std(ddof=1) / np.sqrt(n)


@register_figure("jensen-relu-gaussian")
def relu_gaussian_error(root: int) -> FigureData:
    """|E relu(z) - Gaussian value| against the width on log-log axes: exact for the
    registered two-weight unit (count enumeration), Monte Carlo for random units up to
    d = 4096 (the resolution reached is the error bar)."""
    q, mu = 0.8, 1.0
    identity = RELU_GAUSSIAN_IDENTITY
    data = FigureData("jensen.relu-gaussian: error of the Gaussian approximation, q = 0.8",
                      "log10 width d", "log10 |E relu(z) - Gaussian value|")
    widths = np.unique(np.rint(np.geomspace(4, 500, 11)).astype(int))
    errors = []
    for d in widths:
        point = identity.complete({"q": q, "d": int(d), "mu": mu}, np.random.default_rng(0))
        result = run("exact", identity, point, RELU_GAUSSIAN, Context(root=root))
        errors.append(abs(result.difference))
    data.curves.append(("two-weight unit, mu = 1: exact (kept counts)", np.log10(widths),
                        np.log10(errors)))
    anchor = errors[-1] * np.sqrt(widths[-1])
    data.curves.append(("slope -1/2", np.log10(widths), np.log10(anchor / np.sqrt(widths))))
    rng = generator(root, "jensen-relu-gaussian-figure", 0)
    random_widths = np.array([16, 64, 256, 1024, 4096])
    sims = np.array([_random_unit_error(d, q, 0.3, rng, 1 << 14) for d in random_widths])
    data.points.append(("random units, mu = 0.3: |Monte Carlo estimate| (unresolved below "
                        "the resolution line)", np.log10(random_widths),
                        np.log10(np.abs(sims[:, 0])), None))
    data.curves.append(("Monte Carlo resolution (2 s.e., 16384 masks)",
                        np.log10(random_widths), np.log10(2 * sims[:, 1])))
    return data


@register_figure("jensen-relu-homogeneity")
def placement(root: int) -> FigureData:
    """Dropout after the activation against dropout before it, every unit under every mask
    (d = 6, q = 0.7): on the diagonal for ReLU, off it for the sigmoid (a dropped unit gives
    sigma(0) = 1/2 before, 0 after)."""
    x = generator(root, "jensen-placement-figure", 0).standard_normal(6) * 1.5
    masks = np.array([[(k >> j) & 1 for j in range(6)] for k in range(64)], dtype=float)
    data = FigureData("jensen.relu-homogeneity: f before or after dropout, 64 masks",
                      "dropout after f: m f(x) / q", "dropout before f: f(m x / q)")
    span = [-0.5, float(np.abs(x).max() / 0.7) + 0.5]
    data.curves.append(("y = x", span, span))
    for name in ("relu", "sigmoid"):
        layer = ACTIVATIONS[name][0]
        before = layer().forward(Dropout(0.3).forward(np.broadcast_to(x, masks.shape),
                                                      mask=masks))
        after = Dropout(0.3).forward(layer().forward(np.broadcast_to(x, masks.shape)),
                                     mask=masks)
        data.points.append((f"{name}: every unit, every mask", after.ravel(), before.ravel(),
                            None))
    return data


def _sign_figure(name, root):
    """The gap of a single input against x, exact (two masks) for three keep rates, with
    Monte Carlo points at q = 0.6: positive for x < 0, negative for x > 0."""
    identity = registered()[f"jensen.{name}-sign"]
    data = FigureData(f"jensen.{name}-sign: E[f(m x/q)] - f(x), f = {name}", "input x",
                      "gap")
    grid = np.linspace(-4.0, 4.0, 81)
    for q in (0.3, 0.6, 0.9):
        data.curves.append((f"q = {q}: exact", grid, [
            run("exact", identity, {"q": q, "x": v}, identity.rhs).lhs for v in grid]))
    xs = np.linspace(-3.5, 3.5, 8)
    sims = [run("montecarlo", identity, {"q": 0.6, "x": v}, identity.rhs,
                Context(root=root, n_samples=1 << 14, key=f"{identity.name}#figure{k}"))
            for k, v in enumerate(xs)]
    data.points.append(("q = 0.6: simulated (network core, 1 s.e.)", xs,
                        [r.lhs for r in sims], [r.se for r in sims]))
    return data


register_figure("jensen-sigmoid-sign")(lambda root: _sign_figure("sigmoid", root))
register_figure("jensen-tanh-sign")(lambda root: _sign_figure("tanh", root))
