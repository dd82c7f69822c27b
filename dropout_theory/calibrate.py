"""Calibration: how often each statistical check rejects a TRUE statement, over many root seeds.

Every true registry identity (``expected = "holds"``) is planned as ``verify`` plans it (typical
points, edges, smallest sizes); each of its statistical checks (Monte Carlo, replicate) is
sampled once per root seed and judged at several per-check false-alarm rates ``alpha``:

* ``t``: the t test of batch means (with its rounding and second-order allowances) alone;
* ``fails``: what ``verify`` reports, the t test confirmed by the rigorous gate (empirical
  Bernstein where the values' range is known, :mod:`~dropout_theory.sampling.bounds`).

A check whose rejection count exceeds the upper end of the binomial band of ``Bin(seeds,
alpha)`` (at a rate of ``BAND`` split over all checks and alphas) is listed as outside: its
false-alarm rate is above nominal. The worst cases the t approximation is known to struggle
with join the registry's checks: a variance at q = 1/2 (first-order part zero), a mean and a
variance at q = 0.001 (skewed), lognormal and exponential inputs (heavy tails).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from . import routes
from .routes.montecarlo import bounded
from .sampling import DEFAULT_ALPHA, N_BATCHES
from .verify import plan

__all__ = ["WORST_CASES", "ALPHAS", "BAND", "CheckCalibration", "calibrate"]

#: per-check false-alarm rates the rejections are counted at
ALPHAS = (0.05, 1e-2, 1e-3)
#: the rate, over all checks and alphas, at which the binomial band flags a check by chance
BAND = 1e-3
#: the worst cases, as claims (compiled like a user's, so they run through the same routes)
WORST_CASES = [
    {"name": "worst.variance-q-half", "lhs": "Var(2*m)", "rhs": "1",
     "random": {"m": "Bernoulli(1/2)"},
     "source": "one inverted unit at q = 1/2: the variance estimate's first-order part is 0"},
    {"name": "worst.mean-q-0.001", "lhs": "E(1000*m)", "rhs": "1",
     "random": {"m": "Bernoulli(1/1000)"},
     "source": "an inverted unit at q = 0.001: the mask mean is skewed (skewness 31.6)"},
    {"name": "worst.variance-q-0.001", "lhs": "Var(1000*m)", "rhs": "999",
     "random": {"m": "Bernoulli(1/1000)"},
     "source": "an inverted unit's variance (1 - q)/q at q = 0.001"},
    {"name": "worst.lognormal-input", "lhs": "E(2*m*exp(2*z))", "rhs": "exp(2)",
     "random": {"m": "Bernoulli(1/2)", "z": "Normal(0, 1)"},
     "source": "inverted dropout at q = 1/2 on a lognormal(0, 2) input (kurtosis ~ 1e7)"},
    {"name": "worst.exponential-input", "lhs": "E(-2*m*log(u))", "rhs": "1",
     "random": {"m": "Bernoulli(1/2)", "u": "Uniform(0, 1)"},
     "source": "inverted dropout at q = 1/2 on an Exponential(1) input, -log(U)"},
    {"name": "worst.exponential-variance", "lhs": "Var(-log(u))", "rhs": "1",
     "random": {"u": "Uniform(0, 1)"},
     "source": "the variance of an Exponential(1) input"},
]


@dataclass
class CheckCalibration:
    """One check's rejections of its true statement over ``seeds`` root seeds."""

    name: str
    route: str
    label: str
    seeds: int
    n_samples: int
    z: list = field(repr=False)
    t_rejections: dict
    fails: dict
    fails_default: int
    gate: str
    ks_p: float
    max_abs_z: float
    outside: list = field(default_factory=list)
    conservative: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"name": self.name, "route": self.route, "label": self.label,
                "seeds": self.seeds, "n_samples": self.n_samples,
                "t_rejections": {f"{a:g}": c for a, c in self.t_rejections.items()},
                "fails": {f"{a:g}": c for a, c in self.fails.items()},
                "fails_at_default_alpha": self.fails_default, "gate": self.gate,
                "ks_p": self.ks_p, "max_abs_z": self.max_abs_z,
                "outside_band": [f"{a:g}" for a in self.outside],
                "conservative": [f"{a:g}" for a in self.conservative]}


def _checks(identities, n_points: int, n_samples: int):
    for identity in identities:
        for check in plan(identity, root=0, n_points=n_points, n_samples=n_samples, proved=True):
            if check.route in routes.STATISTICAL:
                yield identity, check


def _one(identity, check, seeds, n_samples, alphas, default_alpha):
    z, t_count, fail_count = [], dict.fromkeys(alphas, 0), dict.fromkeys(alphas, 0)
    fails_default, gate = 0, "t approximation"
    for seed in range(1, seeds + 1):
        context = routes.Context(root=seed, n_samples=n_samples, key=check.key)
        prepared, batches = routes.sample_batches(check.route, identity, check.point,
                                                  identity.rhs, context)
        if bounded(prepared):
            gate = "empirical Bernstein"
        for alpha in (*alphas, default_alpha):
            at = routes.Context(root=seed, n_samples=n_samples, alpha=alpha, n_checks=1,
                                key=check.key)
            judged = [routes.judge_batches(check.route, identity, check.point, prepared,
                                           batches, at, rigorous=rigorous)
                      for rigorous in (False, True)]
            t_rejects, fails = (r.status == "disagrees" for r in judged)
            if alpha == default_alpha:
                fails_default += fails
                if judged[0].z is not None:
                    z.append(judged[0].z)
            else:
                t_count[alpha] += t_rejects
                fail_count[alpha] += fails
    finite = np.asarray([v for v in z if math.isfinite(v)])
    # an inequality's z is not centred at 0 when it holds with room to spare: no KS test
    ks = float(stats.kstest(finite, stats.t(N_BATCHES - 1).cdf).pvalue) \
        if finite.size > 1 and identity.relation == "==" else math.nan
    return CheckCalibration(identity.name, check.route, check.label, seeds, n_samples, z, t_count,
                            fail_count, fails_default, gate, ks,
                            float(np.max(np.abs(finite))) if finite.size else math.nan)


def calibrate(identities, *, seeds: int = 100, n_samples: int = 1 << 14, n_points: int = 1,
              alphas=ALPHAS, default_alpha: float | None = None, progress=None):
    """Per-check calibration of the true ``identities``' statistical checks.

    ``default_alpha`` is the per-check rate of a default ``verify`` run; ``fails`` there must
    never happen. By default it is the default family-wise rate split over the checks
    calibrated here, which are fewer than a ``verify`` run's (no large sizes): a larger rate,
    so a stricter test. Returns the per-check records and a summary dict."""
    if seeds < 2:
        raise ValueError(f"seeds must be at least 2, got {seeds}")
    say = progress or (lambda message: None)
    checks = list(_checks(identities, n_points, n_samples))
    default_alpha = DEFAULT_ALPHA / max(len(checks), 1) if default_alpha is None \
        else default_alpha
    band = BAND / max(len(checks) * len(alphas), 1)
    records = []
    for number, (identity, check) in enumerate(checks, 1):
        say(f"[{number}/{len(checks)}] {identity.name} {check.route} {check.label}: "
            f"{seeds} seeds")
        record = _one(identity, check, seeds, n_samples, alphas, default_alpha)
        for alpha in alphas:
            upper = stats.binom.ppf(1 - band, seeds, alpha)
            lower = stats.binom.ppf(band, seeds, alpha)
            if max(record.t_rejections[alpha], record.fails[alpha]) > upper:
                record.outside.append(alpha)
            elif record.t_rejections[alpha] < lower:
                record.conservative.append(alpha)
        records.append(record)
    total = {f"{a:g}": sum(r.fails[a] for r in records) for a in alphas}
    summary = {"checks": len(records), "seeds": seeds, "samples": n_samples,
               "alphas": list(alphas), "default_alpha": default_alpha, "band_rate": band,
               "fails_at_default_alpha": sum(r.fails_default for r in records),
               "outside_band": [f"{r.name} {r.route} {r.label}" for r in records if r.outside],
               "fails_total": total,
               "expected_fails_at_most": {f"{a:g}": a * seeds * len(records) for a in alphas}}
    return records, summary


def render(records, summary) -> str:
    """The calibration as a text table: per check and alpha, t-test rejections / fails."""
    alphas = summary["alphas"]
    head = ["check", "route", "point", "gate"] + [f"t/fails @{a:g}" for a in alphas] + \
        ["KS p", "max|z|", "band"]
    rows = [[r.name, r.route, r.label, r.gate]
            + [f"{r.t_rejections[a]}/{r.fails[a]}" for a in alphas]
            + [f"{r.ks_p:.3f}", f"{r.max_abs_z:.2f}",
               "OUTSIDE" if r.outside else ("conservative" if r.conservative else "ok")]
            for r in records]
    widths = [max(len(str(row[k])) for row in [head, *rows]) for k in range(len(head))]
    lines = ["  ".join(f"{str(c):{w}s}" for c, w in zip(row, widths)) for row in [head, *rows]]
    seeds = summary["seeds"]
    lines.append(
        f"{summary['checks']} checks x {seeds} seeds at {summary['samples']} samples: "
        f"expected about {', '.join(f'{a * seeds:.3g}' for a in alphas)} t-test "
        f"rejections per check at alpha {', '.join(f'{a:g}' for a in alphas)}; "
        f"{len(summary['outside_band'])} check(s) above the binomial band (rate "
        f"{summary['band_rate']:.2g} each), {summary['fails_at_default_alpha']} fails at the "
        f"default per-check alpha {summary['default_alpha']:.3g}")
    return "\n".join(lines)
