r"""Dropout and BatchNorm: variance inflation, the learned running variance, the test shift.

Seed 000 derives that inverted dropout before BN keeps the mean and inflates the variance,
so that BN's running variance converges to :math:`\sigma^2/q + \mu^2 (1-q)/q` and BN
over-normalises at test time (Li et al. 2019's variance shift). Every procedure here runs
the network core's ``Dropout`` and ``BatchNorm1d`` (PyTorch semantics: unbiased batch
variance in the running statistic, momentum rule from ``rho_0 = 1``); every left side is
derived for an arbitrary input law with mean ``mu`` and variance ``sigma^2`` and checked on
Gaussian, uniform and skewed (exponential) inputs at once (see :mod:`.simulation`).

The test-time shift is measured as the *over-normalisation* ``1 / Var_test[BN output]`` =
``(rho_T + eps) / sigma^2``: it is linear in the learned running variance, so its
expectation over training is exact; the output variance itself, ``sigma^2 / (rho_T +
eps)``, carries a Jensen gap of order ``momentum / N`` that no exact claim could state.
"""
import numpy as np
import sympy as sp

from ...identity import Identity, Param, ReplicateModel, drop_probability, register
from ...network import Dropout, UOut
from ...symbolic import Bernoulli, RandomSpace, expectation, variance
from .._common import q, sigma
from . import simulation as sim
from .theory import (EPS, MATCHED_BETA, TINY, N, R, T, at, batch_variance, beta, combine, delta,
                     derive, e_rho, eta, inflated, mu, running, t, unit, uout_inflated)

NOTATION = ("q = keep probability = 1 - p (p = drop probability, torch.nn.Dropout(p)); "
            "m ~ Bernoulli(q), inverted scaling m x / q; x independent of m with mean mu "
            "and variance sigma^2 (seed 000 also writes q for keep)")
BN_NOTATION = (NOTATION + "; BatchNorm1d: batch size N, T training steps, momentum eta "
               "(PyTorch: rho <- (1 - eta) rho + eta * unbiased batch variance, rho_0 = 1), "
               "eps = 1e-5; rho_T the running variance after T steps")
OMEGA = ("omega = 1 / Var_test[BN output] = (rho_T + eps) / sigma^2, the over-normalisation "
         "at test time (Li et al.'s shift is Delta = 1/omega once rho_T has converged)")
LI = "Li, Chen, Hu, Yang 2019 (CVPR), variance shift; their p is the keep probability q"

Q = Param("q", 0.0, 1.0, typical=(0.5, 0.9))
MU = Param("mu", typical=(0.8, 1.5))
SIGMA = Param("sigma", 0.0, np.inf, typical=(0.5, 1.2))
NB = Param("N", 2, np.inf, typical=(16, 32), integer=True)
TS = Param("T", 1, np.inf, typical=(20, 60), integer=True)
MOM = Param("momentum", 0.0, 1.0, typical=(0.1, 0.25))
BN_PARAMS = (Q, MU, SIGMA, NB, TS, MOM)
MANY, RUNS = 1 << 18, 1 << 13  # replicates: single draws; trained BN layers (channels)


def _no_mu2(rhs):
    return {"inflation without the mu^2 term": rhs.xreplace({mu: 0})}


# --- the two moments of a dropped-out input --------------------------------------------------
# Replicate kind although these are moments: the moment kind's exact route integrates its
# noise with Gauss-Hermite nodes, exact only for polynomials of a Gaussian, so a uniform input
# could not be enumerated exactly; one replicate is one (x, mask) draw through ``Dropout``.

def _mean_model():
    space, y = unit("dropout")
    return expectation(y(1, 1), space)


def _variance_model():
    space, y = unit("dropout")
    return variance(y(1, 1), space)


register(Identity(
    name="batchnorm.mean-preserved",
    statement=r"E\left[\frac{m x}{q}\right] = \mu \quad (x \perp m,\ E x = \mu)",
    source="seed 000 (interaction with batch normalization)", notation=NOTATION,
    params=(Q, MU, SIGMA), rhs=mu, derive=_mean_model,
    model=ReplicateModel(sim.dropout_samples, "mean", replicates=MANY),
    wrong_claims=lambda rhs: {"standard-dropout mean q mu": q * mu},
))

register(Identity(
    name="batchnorm.variance-inflation",
    statement=r"\operatorname{Var}\left[\frac{m x}{q}\right] = \frac{\sigma^2}{q}"
              r" + \mu^2 \frac{1-q}{q}\quad\text{(any law of } x \text{ with these moments)}",
    source="seed 000 (interaction with batch normalization); REFERENCES.md (moments)",
    notation=NOTATION, params=(Q, MU, SIGMA), rhs=inflated, derive=_variance_model,
    model=ReplicateModel(sim.dropout_samples, "var", replicates=MANY),
    wrong_claims=lambda rhs: {**_no_mu2(rhs), "no inflation (sigma^2)": sigma ** 2},
))


# --- what a real BatchNorm1d learns behind dropout ---------------------------------------------

def _running_model():
    space, y = unit("dropout")
    return derive(running(y), space)


def _running_sim(point, rng, n):
    _, bn, _ = sim.train(Dropout(drop_probability(point)), point, rng, n)
    return bn.running_var


register(Identity(
    name="batchnorm.running-variance",
    statement=r"E[\rho_T] = (1-\eta)^T + \bigl(1-(1-\eta)^T\bigr)\left(\frac{\sigma^2}{q}"
              r" + \mu^2\frac{1-q}{q}\right) \xrightarrow{T\to\infty} \frac{\sigma^2}{q}"
              r" + \mu^2\frac{1-q}{q}\quad\text{(dropout before BatchNorm1d)}",
    source="seed 000 ('the BN layer's running statistics converge to this ... inflated "
           "variance'); PyTorch's BatchNorm1d running-variance rule",
    notation=BN_NOTATION, params=BN_PARAMS, rhs=e_rho(inflated), derive=_running_model,
    model=ReplicateModel(_running_sim, "mean", replicates=RUNS),
    assumptions=("the running variance uses the unbiased batch variance (N - 1 divisor)",),
    wrong_claims=lambda rhs: {**_no_mu2(rhs),
                              "biased batch variance": e_rho(inflated * (N - 1) / N)},
))


def _omega(noise, eps=EPS):
    """``(derivation, E[omega])``: over-normalisation of BN trained behind ``noise``."""
    space, y = unit(noise)
    return derive((running(y) + eps) / sigma ** 2, space)


TEST_SHIFT = (e_rho(sigma ** 2 / delta) + EPS) / sigma ** 2


def _omega_sim(noise_first=True):
    def simulate(point, rng, n):
        net, _, _ = sim.train(Dropout(drop_probability(point)), point, rng, n,
                              noise_first=noise_first)
        return sim.over_normalisation(net, point, n)
    return simulate


register(Identity(
    name="batchnorm.test-shift",
    statement=r"E\left[\frac{1}{\operatorname{Var}_{test}[\mathrm{BN}(x)]}\right]"
              r" = \frac{(1-\eta)^T + (1-(1-\eta)^T)\,\sigma^2/\Delta + \epsilon}{\sigma^2}"
              r" \to \frac{1}{\Delta},\quad \Delta = \frac{q\sigma^2}{\sigma^2 + \mu^2(1-q)}",
    source=LI + "; seed 000 ('over-normalize the test-time activations')",
    notation=BN_NOTATION + "; " + OMEGA, params=BN_PARAMS, rhs=TEST_SHIFT,
    derive=lambda: _omega("dropout"), model=ReplicateModel(_omega_sim(), "mean", replicates=RUNS),
    wrong_claims=lambda rhs: {"Delta = q (mu^2 term dropped)": rhs.xreplace({mu: 0})},
))


# --- where dropout goes: the two orders --------------------------------------------------------

def _next_mask_factor():
    """``E_m[(1/N) sum_k m_k z_k^2 / q^2]`` for BN's training output ``z`` (sum z^2 = N)."""
    k = sp.Symbol("k", integer=True)
    z = sp.IndexedBase("z", real=True)
    space = RandomSpace()
    m = space.array("m", Bernoulli(q))
    derivation = expectation(sp.Sum(m[k] * z[k] ** 2, (k, 1, N)) / (N * q ** 2), space)
    # the engine renames the dummy index: replace any sum of z_j^2 over 1..N
    normalised = derivation.result.replace(
        lambda e: isinstance(e, sp.Sum) and e.function == z[e.variables[0]] ** 2
        and e.limits[0][1:] == (1, N), lambda e: N)
    return derivation, normalised


def _order_model():
    before, after = _omega("dropout", TINY), _omega("clean", TINY)
    factor_d, factor = _next_mask_factor()
    omega_a, omega_b = (_omega_expr(noise) for noise in ("dropout", "clean"))
    nu = sp.Symbol("nu_B", positive=True)
    model = (1 - at) * (omega_a - omega_b) + at * (omega_a - nu * omega_b)
    result = (1 - at) * (before.result - after.result) + at * (
        before.result - factor * after.result)
    parts = {"E omega_A (dropout -> BN)": before, "E omega_B (BN -> dropout)": after,
             "E nu_B (mean square of dropout(BN output))": factor_d}
    label = ("model: omega_A - omega_B at the BN layer (at = 0) or at the next layer's input "
             "(at = 1); omega = training-time mean square / test-time variance there = "
             "(rho_T + eps)/sigma^2 times nu, the mean square of the next layer's training "
             "input relative to BN's output (1 for A; nu_B = (1/N) sum_k m_k z_k^2/q^2 for B, "
             "masks independent of the BN output z whose mean square is 1: sum z_k^2 = N)")
    return combine(parts, result, model, label)


def _omega_expr(noise, eps=TINY):
    _, y = unit(noise)
    return (running(y) + eps) / sigma ** 2


ORDER_CLAIM = (1 - at) * (1 - (1 - eta) ** T) * (1 - q) * (mu ** 2 + sigma ** 2) / (
    q * sigma ** 2) + at * (1 - q) / (q * sigma ** 2) * (
    (1 - (1 - eta) ** T) * mu ** 2 - (1 - eta) ** T - TINY)


def _order_sim(point, rng, n):
    """Both orders on the same input batches (paired), the shift at BN or at the next input."""
    x = sim.draw_inputs(point, rng, (point["T"], point["N"], n))
    shifts = []
    for noise_first in (True, False):
        net, _, out = sim.train(Dropout(drop_probability(point)), point, rng, n, x=x,
                                noise_first=noise_first, eps=sim.TINY_EPS)
        shifts.append(sim.next_input_over_normalisation(net, out, point, n) if point["at"]
                      else sim.over_normalisation(net, point, n))
    return shifts[0] - shifts[1]


register(Identity(
    name="batchnorm.order",
    statement=r"E[\omega_A - \omega_B] = \begin{cases}(1-(1-\eta)^T)\frac{(1-q)(\mu^2+"
              r"\sigma^2)}{q\sigma^2} & \text{at BN}\\ \frac{1-q}{q\sigma^2}\bigl((1-(1-\eta)^T)"
              r"\mu^2 - (1-\eta)^T - \epsilon\bigr) & \text{at the next layer's input}"
              r"\end{cases}",
    source="issue 5 (measure both orders); seeds 000 and 002 disagree on the order; " + LI,
    notation=BN_NOTATION + "; order A = Dropout -> BN, order B = BN -> Dropout, both trained "
             "on the same batches; omega = training-time mean square / test-time variance of "
             "the signal at that place (1 = no shift); eps = 1e-12 here so that BN's training "
             "output has mean square 1 up to 1e-12; at = 0 or 1 selects the place",
    params=BN_PARAMS + (Param("at", 0, 1, typical=(0, 1), integer=True),),
    rhs=ORDER_CLAIM, derive=_order_model,
    model=ReplicateModel(_order_sim, "mean", replicates=RUNS),
))


# --- the seeds' placement advice, as measurable claims -------------------------------------------

#: "BN's learned statistics match the inference statistics": no dropout inflation in E[omega]
NO_SHIFT = (e_rho(sigma ** 2) + EPS) / sigma ** 2


def _seed_model(noise):
    return lambda: _omega(noise)


register(Identity(
    name="batchnorm.order-seed002",
    statement=r"\text{dropout before BatchNorm: } E[\omega_A] = \frac{(1-\eta)^T + "
              r"(1-(1-\eta)^T)\sigma^2 + \epsilon}{\sigma^2}\ (\text{no shift})",
    source="seed 002, 'Possible Solutions': 'Apply dropout before BatchNorm, not after' (the "
           "problem it answers: 'the learned BN statistics don't match the inference "
           "statistics'); the same list also says 'Use dropout only after the last BatchNorm "
           "layer'",
    notation=BN_NOTATION + "; " + OMEGA + "; translation: with Dropout -> BN the running "
             "variance learns the test-time input variance sigma^2, i.e. E[omega] is the "
             "no-dropout value",
    params=(Q, Param("mu", typical=(0.8, 1.0)), Param("sigma", 0.0, np.inf, typical=(1.0, 1.2)),
            NB, TS, MOM),
    rhs=NO_SHIFT, derive=_seed_model("dropout"),
    model=ReplicateModel(_omega_sim(True), "mean", replicates=RUNS), expected="refuted",
    wrong_claims=lambda rhs: {"under-normalised (q times)": q * rhs},
))

register(Identity(
    name="batchnorm.order-seed000",
    statement=r"\text{dropout after the last BatchNorm: } E[\omega_B] = \frac{(1-\eta)^T + "
              r"(1-(1-\eta)^T)\sigma^2 + \epsilon}{\sigma^2}\ (\text{no shift})",
    source="seed 000: 'apply dropout after all convolutional and normalization layers, just "
           "before the final linear classifiers. This sequencing isolates the statistical "
           "computations of BN from the stochasticity of dropout'; seed 002's first 'Possible "
           "Solution', 'Use dropout only after the last BatchNorm layer', says the same",
    notation=BN_NOTATION + "; " + OMEGA + "; translation: with BN -> Dropout (no BN after the "
             "dropout) BN's running variance learns the test-time input variance",
    params=BN_PARAMS, rhs=NO_SHIFT, derive=_seed_model("clean"),
    model=ReplicateModel(_omega_sim(False), "mean", replicates=RUNS),
    wrong_claims=lambda rhs: {"inflated as with dropout before BN":
                              (e_rho(inflated) + EPS) / sigma ** 2},
))


# --- the remedies: recalibration and Uout --------------------------------------------------------

RECAL_STEPS = 40  # dropout training steps before recalibration (their effect is erased)


def _recal_model():
    space, y = unit("clean")
    recalibrated = sp.Sum(batch_variance(y, t), (t, 1, R)) / R
    return derive((recalibrated + EPS) / sigma ** 2, space)


def _recal_sim(point, rng, n):
    net, bn, _ = sim.train(Dropout(drop_probability(point)), point, rng, n, steps=RECAL_STEPS)
    sim.recalibrate(net, bn, point, rng, n)
    return sim.over_normalisation(net, point, n)


register(Identity(
    name="batchnorm.recalibration",
    statement=r"E[\omega] = 1 + \frac{\epsilon}{\sigma^2}\ \text{after re-estimating BN on } R"
              r"\text{ batches with dropout off (cumulative average)}",
    source="REFERENCES.md ('Re-estimating BN statistics with dropout off removes the shift'); "
           "PyTorch's reset_running_stats() with momentum=None",
    notation=BN_NOTATION + f"; {RECAL_STEPS} Dropout -> BN training steps, then Dropout in "
             "eval mode and BN's running statistics re-estimated from R batches with factor "
             "1/k on the k-th (PyTorch's momentum=None); " + OMEGA,
    params=(Q, MU, SIGMA, NB, MOM, Param("R", 1, np.inf, typical=(8, 24), integer=True)),
    rhs=1 + EPS / sigma ** 2, derive=_recal_model,
    model=ReplicateModel(_recal_sim, "mean", replicates=RUNS),
    wrong_claims=lambda rhs: {
        "shift kept (converged dropout value)": (inflated + EPS) / sigma ** 2,
        "biased batch variance": ((N - 1) / N * sigma ** 2 + EPS) / sigma ** 2},
))

UOUT_NOTATION = ("Uout: y = x (1 + r), r ~ U(-beta, beta) i.i.d., identity at test time (noise "
                 "variance beta^2/3); x independent of r with mean mu, variance sigma^2")


def _uout_model(half_width=beta):
    def model():
        space, y = unit("uout", half_width=half_width)
        return derive(running(y), space)
    return model


def _uout_sim(point, rng, n):
    # batchnorm.uout-matched sets the half-width whose noise variance is (1 - q)/q
    half_width = point["beta"] if "beta" in point else np.sqrt(3 * (1 - point["q"]) / point["q"])
    _, bn, _ = sim.train(UOut(float(half_width)), point, rng, n)
    return bn.running_var


register(Identity(
    name="batchnorm.uout",
    statement=r"E\bigl[(x(1+r))^2\bigr] = \Bigl(1 + \frac{\beta^2}{3}\Bigr)(\mu^2 + \sigma^2)"
              r",\ E[\rho_T] = (1-\eta)^T + (1-(1-\eta)^T)\Bigl(\sigma^2 + \frac{\beta^2}{3}"
              r"(\mu^2 + \sigma^2)\Bigr)\quad\text{(Uout before BatchNorm1d)}",
    source=LI + " (Uout, their variance-stable variant); REFERENCES.md (mean-1 noise kappa)",
    notation=BN_NOTATION.replace("m ~ Bernoulli(q), inverted scaling m x / q; ", "") + "; "
             + UOUT_NOTATION,
    # q plays no part; it is declared because claim evaluation asks every point for one
    params=(Q, MU, SIGMA, NB, TS, MOM, Param("beta", 0.0, np.inf, typical=(0.6, 1.5))),
    rhs=e_rho(uout_inflated), derive=_uout_model(),
    model=ReplicateModel(_uout_sim, "mean", replicates=RUNS),
    wrong_claims=lambda rhs: {**_no_mu2(rhs),
                              "noise variance beta^2 (not beta^2/3)":
                              e_rho(sigma ** 2 + beta ** 2 * (mu ** 2 + sigma ** 2))},
))

register(Identity(
    name="batchnorm.uout-matched",
    statement=r"\frac{\beta^2}{3} = \frac{1-q}{q} \Rightarrow E[\rho_T^{\mathrm{Uout}}] = "
              r"E[\rho_T^{\mathrm{dropout}}] = (1-\eta)^T + (1-(1-\eta)^T)\left(\frac{\sigma^2}"
              r"{q} + \mu^2\frac{1-q}{q}\right)",
    source=LI + "; issue 5 (compare at matched noise variance)",
    notation=BN_NOTATION + "; " + UOUT_NOTATION + "; here beta = sqrt(3 (1 - q)/q)",
    params=BN_PARAMS, rhs=e_rho(inflated), derive=_uout_model(MATCHED_BETA),
    model=ReplicateModel(_uout_sim, "mean", replicates=RUNS),
    wrong_claims=_no_mu2,
))
