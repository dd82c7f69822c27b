r"""Symbolic models of the ``batchnorm`` family: every left side is derived by the engine.

The input ``x`` is "any distribution with mean mu and variance sigma^2" (``Moments``), so a
result that needed a third or fourth moment would keep an unknown ``E[x^k]`` and fail to
prove. BatchNorm's training statistic is the *unbiased* batch variance of ``N`` rows and its
running variance follows PyTorch's rule ``rho <- (1 - eta) rho + eta s^2`` from ``rho_0 = 1``:

.. math:: \rho_T = (1-\eta)^T + \sum_{t=1}^{T} \eta (1-\eta)^{T-t} s_t^2 .
"""
from __future__ import annotations

import sympy as sp

from ...symbolic import Bernoulli, Derivation, Moments, RandomSpace, Step, Uniform, expectation
from .._common import q, sigma

__all__ = ["mu", "N", "T", "R", "t", "eta", "beta", "at", "EPS", "TINY", "unit", "batch_variance",
           "combine", "e_rho", "running", "derive", "inflated", "delta", "uout_inflated", "MATCHED_BETA"]

mu = sp.Symbol("mu", real=True)
N = sp.Symbol("N", integer=True, positive=True)        # batch size
T = sp.Symbol("T", integer=True, positive=True)        # training steps
R = sp.Symbol("R", integer=True, positive=True)        # recalibration batches
eta = sp.Symbol("momentum", positive=True)             # PyTorch's BN momentum
beta = sp.Symbol("beta", positive=True)                # Uout half-width
at = sp.Symbol("at", integer=True, nonnegative=True)   # 0: the BN layer, 1: the next layer
t, k = sp.symbols("t k", integer=True)
EPS = sp.Rational(1, 10 ** 5)    # PyTorch's BatchNorm eps, as the layers use it
TINY = sp.Rational(1, 10 ** 12)  # eps of the ``order`` procedures (see simulation.py)
#: Uout half-width whose noise variance beta^2/3 equals Bernoulli's (1 - q)/q
MATCHED_BETA = sp.sqrt(3 * (1 - q) / q)

#: the stated right sides: inflated variance and Li et al.'s variance-shift ratio
inflated = sigma ** 2 / q + mu ** 2 * (1 - q) / q
delta = q * sigma ** 2 / (sigma ** 2 + mu ** 2 * (1 - q))
uout_inflated = sigma ** 2 + beta ** 2 / 3 * (mu ** 2 + sigma ** 2)


def e_rho(v):
    """``E[rho_T]`` when BN's training input has variance ``v`` (the claims' shape)."""
    return (1 - eta) ** T + (1 - (1 - eta) ** T) * v


def unit(noise: str, *, half_width=beta):
    """Random space and ``y(t, k)``: BN's input at step ``t``, row ``k``, for a noise kind.

    ``noise`` is ``"dropout"`` (``m x / q``), ``"uout"`` (``x (1 + r)``, r ~ U(-b, b)) or
    ``"clean"`` (``x``: no noise before BN).
    """
    space = RandomSpace()
    x = space.array("x", Moments(mu, sigma ** 2, "x"))
    if noise == "dropout":
        m = space.array("m", Bernoulli(q))
        return space, lambda a, b: m[a, b] * x[a, b] / q
    if noise == "uout":
        r = space.array("r", Uniform(-half_width, half_width))
        return space, lambda a, b: x[a, b] * (1 + r[a, b])
    if noise == "clean":
        return space, lambda a, b: x[a, b]
    raise ValueError(f"noise must be 'dropout', 'uout' or 'clean', got {noise!r}")


def batch_variance(y, step) -> sp.Expr:
    """Unbiased variance of the ``N`` rows of batch ``step`` (what BN feeds its running stat)."""
    total = sp.Sum(y(step, k), (k, 1, N))
    return (sp.Sum(y(step, k) ** 2, (k, 1, N)) - total ** 2 / N) / (N - 1)


def running(y) -> sp.Expr:
    """The running variance after ``T`` momentum updates from ``rho_0 = 1``."""
    return (1 - eta) ** T + sp.Sum(eta * (1 - eta) ** (T - t) * batch_variance(y, t), (t, 1, T))


def derive(expr, space, *, model=None, label="model") -> Derivation:
    """``E[expr]`` by the engine, then SymPy's summation of the deterministic weight sums.

    ``model`` replaces the first step's expression when the measured quantity combines
    several random expressions (the step then shows the whole measured quantity).
    """
    derivation = expectation(expr, space)
    steps = list(derivation.steps)
    if model is not None:
        steps[0] = Step(f"{label}; " + steps[0].label, model)
    summed = derivation.result.doit()
    steps.append(Step("sum the momentum weights (geometric series, SymPy summation)", summed))
    return Derivation(summed, steps, derivation.terms)


def combine(parts: dict, result: sp.Expr, model: sp.Expr, label: str) -> Derivation:
    """One derivation from several derived parts: their steps, then ``result`` from them."""
    steps = [Step(label, model)]
    for name, part in parts.items():
        steps += [Step(f"[{name}] {s.label}", s.expr) for s in part.steps[1:]]
    steps.append(Step("combine: " + ", ".join(f"{n} = {sp.sstr(p.result)}"
                                              for n, p in parts.items()), result))
    return Derivation(result, steps)
