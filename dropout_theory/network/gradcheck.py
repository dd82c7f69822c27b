r"""Finite-difference gradient checks with tolerances derived from float64 precision.

Every tolerance the network tests use comes from here, built on the project's one rounding
bound (:func:`dropout_theory.sampling.float_tolerance`); none is typed by hand. The scalar
checked is :math:`L = \sum_i c_i\, y_i` for a fixed random :math:`c`, so one backward pass
with ``grad_out = c`` gives the whole analytic gradient.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..sampling.tolerance import float_tolerance

__all__ = ["EPS", "SAFETY", "fd_step", "rounding_bound", "GradcheckResult", "check_gradients"]

#: Unit roundoff of float64.
EPS = float(np.finfo(np.float64).eps)
#: Multiplier on the derived error bound: covers the few rounded operations behind each
#: output and the O(h^4) remainder of the Richardson truncation estimate. The mutation tests
#: show the bound stays far below any real gradient error.
SAFETY = 8.0


def fd_step(values: np.ndarray) -> np.ndarray:
    r"""Central-difference steps :math:`h_i = \epsilon^{1/3} s_i`, the step that balances
    rounding :math:`\epsilon |f| / h` against truncation :math:`h^2 |f'''| / 6`.

    The scale :math:`s_i = \max(|v_i|, \operatorname{rms}(v))` keeps near-zero entries from
    getting a step that rounding would swamp.

    Examples
    --------
    >>> fd_step(np.array([0.0, 2.0])).round(8).tolist()
    [8.56e-06, 1.211e-05]
    """
    v = np.asarray(values, dtype=np.float64)
    rms = float(np.sqrt(np.mean(v ** 2))) if v.size else 0.0
    return EPS ** (1.0 / 3.0) * np.maximum(np.abs(v), rms if rms > 0 else 1.0)


def rounding_bound(scale, *, n_ops: int) -> np.ndarray:
    r"""Bound on the difference of two float64 evaluations of one formula.

    Each evaluation is within Higham's :math:`\gamma_n s` of the exact value
    (:func:`dropout_theory.sampling.float_tolerance`, the project's one rounding bound), so

    .. math:: |a - b| \le 2\gamma_{n_{\text{ops}}}\, s
              = \frac{n_{\text{ops}}\,\epsilon}{1 - n_{\text{ops}}\,\epsilon/2}\, s

    ``scale`` is the magnitude of the terms combined (e.g. :math:`\sum_j |W_{ij} x_j|`), not
    of the result, so cancellation is accounted for; ``n_ops`` counts the rounded operations
    on the longest path (length of a reduction plus the elementwise steps).

    Examples
    --------
    >>> bool(rounding_bound(1.0, n_ops=2) == 2 * float_tolerance(1.0, 2))
    True
    """
    return 2.0 * float_tolerance(np.asarray(scale, dtype=np.float64), n_ops)


@dataclass
class GradcheckResult:
    """Analytic and numeric gradient of one array, with the derived bound per entry."""

    name: str
    analytic: np.ndarray
    numeric: np.ndarray
    bound: np.ndarray

    @property
    def ok(self) -> bool:
        return bool(np.all(np.abs(self.analytic - self.numeric) <= self.bound))

    @property
    def worst_ratio(self) -> float:
        """max |analytic - numeric| / bound; the check passes when this is at most 1."""
        return float(np.max(np.abs(self.analytic - self.numeric) / self.bound, initial=0.0))


def _central_differences(objective, array: np.ndarray, f_scale: float):
    """FD derivative of ``objective`` in each entry of ``array`` (perturbed in place)."""
    flat = array.reshape(-1)
    if not np.shares_memory(flat, array):
        raise ValueError("gradcheck needs contiguous arrays it can perturb in place")
    steps = fd_step(flat)
    numeric, bound = np.empty(flat.size), np.empty(flat.size)
    for i, h in enumerate(steps):
        original = flat[i]
        diffs = []
        for step in (h, 2.0 * h):
            flat[i] = original + step
            f_plus = objective()
            flat[i] = original - step
            f_minus = objective()
            diffs.append((f_plus - f_minus) / (2.0 * step))
        flat[i] = original
        # Richardson: D(2h) - D(h) = 3 h^2 f'''/6 + O(h^4), three times D(h)'s truncation.
        truncation = abs(diffs[1] - diffs[0]) / 3.0
        numeric[i] = diffs[0]
        bound[i] = SAFETY * (EPS * f_scale / h + truncation)
    return numeric.reshape(array.shape), bound.reshape(array.shape)


def check_gradients(layer, x, *, rng: np.random.Generator, forward_kwargs: dict | None = None,
                    grad_out: np.ndarray | None = None) -> list[GradcheckResult]:
    r"""Compare ``layer.backward`` with central differences for ``x`` and every parameter.

    Pass the layer's randomness through ``forward_kwargs`` (``mask=...``) so every
    evaluation sees the same function; ``grad_out`` fixes the upstream gradient ``c``
    (drawn from ``rng`` otherwise). Per entry the bound is

    .. math:: \text{SAFETY}\left(\frac{\epsilon F}{h} + \frac{|D(2h) - D(h)|}{3}\right),
              \qquad F = \sum_i |c_i| \cdot \max(\lVert y \rVert_\infty, \lVert x \rVert_\infty)

    the rounding error of the difference quotient plus a Richardson estimate of its
    truncation error.

    Examples
    --------
    >>> from dropout_theory.network import Linear
    >>> rng = np.random.default_rng(0)
    >>> results = check_gradients(Linear(3, 2, rng=rng), rng.normal(size=(4, 3)), rng=rng)
    >>> all(r.ok for r in results)
    True
    """
    kwargs = dict(forward_kwargs or {})
    x = np.array(x, dtype=np.float64)
    y = np.asarray(layer.forward(x, **kwargs))
    c = rng.standard_normal(y.shape) if grad_out is None else np.asarray(grad_out, float)
    f_scale = float(np.abs(c).sum() * max(np.abs(y).max(initial=0.0), np.abs(x).max()))

    def objective() -> float:
        return float(np.sum(c * layer.forward(x, **kwargs)))

    arrays = {"x": x, **layer.params}
    numeric = {name: _central_differences(objective, arr, f_scale) for name, arr in arrays.items()}
    layer.forward(x, **kwargs)
    analytic = {"x": np.asarray(layer.backward(c)), **layer.grads}
    return [GradcheckResult(name, np.asarray(analytic[name], dtype=np.float64), *numeric[name])
            for name in arrays]
