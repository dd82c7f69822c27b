"""Figures of the ``ensemble`` family: the weight-scaling gap against depth (exact on tiny
networks, Monte Carlo through ``mc_dropout_predict`` at width 256) and path survival against
depth. Data only; ``plotting`` draws."""
from __future__ import annotations

import numpy as np

from ...network import mc_dropout_predict
from ...plotting import FigureData, register_figure
from ...routes import Context, run
from ...sampling import generator
from ...sweeps import claim_value
from .._subnetworks import ensemble_mean, forward
from .depth import deep_net
from .members import PATH_SURVIVAL

DEPTHS = range(1, 7)
TINY_WIDTH, WIDE, INPUTS = 3, 256, 8
WIDE_PASSES = 1 << 12
TINY_NETS, WIDE_NETS = 4, 2


def random_deep_net(depth, width, drop, activation, rng):
    """``depth`` hidden layers of ``width`` (weights N(0, 1/fan-in), biases N(0, 0.1^2)),
    dropout after each, linear readout of unit scale; returns net, dropout indices, input."""
    fans = [INPUTS] + [width] * depth
    weights = [rng.standard_normal((width, fan)) / np.sqrt(fan) for fan in fans[:-1]]
    weights.append(rng.standard_normal((1, width)) / np.sqrt(width))
    biases = [0.1 * rng.standard_normal(width) for _ in range(depth)] + [None]
    net, dropouts = deep_net(weights, biases, drop, activation)
    return net, dropouts, rng.standard_normal(INPUTS)


def exact_gap(depth, drop, activation, rng, width=TINY_WIDTH):
    """``(E_m f_m - f_ws, sqrt(E_m f_m^2))`` over all ``2**(depth * width)`` sub-networks."""
    net, dropouts, x = random_deep_net(depth, width, drop, activation, rng)
    widths = (width,) * depth
    def moments_of(masks):
        out = forward(net, dropouts, x, masks, widths)[:, 0]
        return np.stack([out, out ** 2], axis=1)

    moments = ensemble_mean(moments_of, depth * width, drop)
    scaled = float(net.eval().forward(x)[0])
    return float(moments[0]) - scaled, float(np.sqrt(moments[1]))


def sampled_gap(depth, drop, activation, rng, width=WIDE, passes=WIDE_PASSES):
    """``(gap, standard error, output scale)`` from ``passes`` MC-dropout passes."""
    net, _, x = random_deep_net(depth, width, drop, activation, rng)
    scaled = float(net.eval().forward(x)[0])
    mean, var = mc_dropout_predict(net.train(), x, n_samples=passes, rng=rng)
    spread = float(np.sqrt(var[0] * passes / (passes - 1)))
    return float(mean[0]) - scaled, spread / np.sqrt(passes), float(np.sqrt(var[0] + mean[0] ** 2))


def relative_gaps(depth, activation, root, *, wide: bool, n_nets: int, drop=0.5):
    """``|E f_m - f_ws| / RMS(f_m)`` averaged over ``n_nets`` random networks (dead ones left
    out), and its standard error (Monte Carlo error of the wide networks and the spread over
    networks)."""
    name = f"figure-depth-{'wide-' if wide else ''}{activation}"
    values, errors = [], []
    for net in range(n_nets):
        rng = generator(root, name, depth, net)
        if wide:
            gap, se, scale = sampled_gap(depth, drop, activation, rng)
        else:
            (gap, scale), se = exact_gap(depth, drop, activation, rng), 0.0
        if scale > 0:  # a ReLU net can be dead (every sub-network outputs 0): no gap to scale
            values.append(abs(gap) / scale)
            errors.append(se / scale)
    n_nets = len(values)
    spread = np.std(values, ddof=1) / np.sqrt(n_nets) if n_nets > 1 else 0.0
    return float(np.mean(values)), float(np.hypot(spread, np.linalg.norm(errors) / n_nets))


@register_figure("ensemble-depth-gap")
def _depth_figure(root: int) -> FigureData:
    """|E f_m - f_ws| relative to the output's RMS against the number of hidden layers."""
    data = FigureData("ensemble.depth-gap: weight-scaled vs ensemble mean, p = 0.5",
                      "hidden layers with dropout", "mean |E_m f_m - f_ws| / RMS(f_m)")
    for activation in ("tanh", "relu"):
        exact = [relative_gaps(n, activation, root, wide=False, n_nets=TINY_NETS)
                 for n in DEPTHS]
        data.curves.append((f"{activation}, width {TINY_WIDTH}: exact over all masks "
                            f"({TINY_NETS} nets)", list(DEPTHS), [g for g, _ in exact]))
        wide = [relative_gaps(n, activation, root, wide=True, n_nets=WIDE_NETS) for n in DEPTHS]
        data.points.append((f"{activation}, width {WIDE}: {WIDE_PASSES} MC passes x "
                            f"{WIDE_NETS} nets (1 s.e.)", list(DEPTHS), [g for g, _ in wide],
                            [e for _, e in wide]))
    return data


@register_figure("ensemble-path-survival")
def _path_figure(root: int) -> FigureData:
    """log10 P(a given path is active) against L: q^L lines, simulated points (width 1)."""
    data = FigureData("ensemble.path-survival: a path through L dropped layers",
                      "dropped hidden layers L", "log10 P(path active)")
    depths = np.arange(1, 9)
    for keep in (0.9, 0.7, 0.5):
        rhs = PATH_SURVIVAL.rhs
        data.curves.append((f"q^L, q = {keep}", depths,
                            [np.log10(claim_value(rhs, {"q": keep, "h": 1, "L": int(n)}))
                             for n in depths]))
        sims = [run("montecarlo", PATH_SURVIVAL, {"q": keep, "h": 1, "L": int(n)}, rhs,
                    Context(root=root, n_samples=1 << 14, key=f"figure-path#{keep}-{n}"))
                for n in depths]
        data.points.append((f"simulated, q = {keep} (1 s.e.)", depths,
                            [np.log10(r.lhs) for r in sims],
                            [r.se / (r.lhs * np.log(10)) for r in sims]))
    return data
