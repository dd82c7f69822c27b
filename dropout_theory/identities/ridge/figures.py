"""Figures of the ridge family: the coefficient path with SGD runs, and approximation orders."""
import numpy as np

from ...plotting import FigureData, register_figure
from ...sampling import generator
from ...sweeps import order_figure
from .sgd import train_replicates
from .solver import dropout_ridge_solution
from .wager import DROP_RATE_APPROXIMATION, QUADRATIC_APPROXIMATION

#: a fixed data set with unequal column scales (seeded, so the figure is reproducible)
_DATA = np.random.default_rng(4).standard_normal((10, 2)) * np.array([0.6, 1.8])
_TARGET = _DATA @ np.array([1.5, -0.8]) + np.random.default_rng(5).standard_normal(10)


@register_figure("ridge-sgd-limit")
def coefficient_path(root: int) -> FigureData:
    """w*(p) of dropout ridge against p, least squares, and averaged SGD runs (1 s.e.)."""
    grid = np.linspace(0.0, 0.8, 33)
    path = np.array([dropout_ridge_solution(_DATA, _TARGET, p=p) for p in grid])
    data = FigureData("ridge.sgd-limit: dropout-ridge coefficients against the drop rate",
                      "drop probability p", "coefficient")
    for j in range(path.shape[1]):
        data.curves.append((f"w*_{j + 1}(p) closed form", grid, path[:, j]))
        data.curves.append((f"least squares w_{j + 1}", grid[[0, -1]], [path[0, j]] * 2))
    drops = np.linspace(0.1, 0.7, 4)
    # independent replicates: the standard error of their mean is their spread / sqrt(64)
    runs = [train_replicates(_DATA, _TARGET, p=p, rng=generator(root, "ridge-figure", k),
                             n_replicates=64) for k, p in enumerate(drops)]
    for j in range(path.shape[1]):
        data.points.append((f"SGD + dropout, mean of 64 runs, w_{j + 1}", drops,
                            [r[:, j].mean() for r in runs],
                            [r[:, j].std(ddof=1) / np.sqrt(len(r)) for r in runs]))
    return data


register_figure("ridge-wager-quadratic")(
    lambda root: order_figure(QUADRATIC_APPROXIMATION, root=root))
register_figure("ridge-wager-quadratic-drop-rate")(
    lambda root: order_figure(DROP_RATE_APPROXIMATION, root=root))
