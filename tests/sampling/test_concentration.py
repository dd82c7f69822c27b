"""The Monte Carlo gate's concentration cores (``MaskModel.differences``, McDiarmid): at the
sizes people use they confirm a rejection the worst-case range could not, a declaration
smaller than the model's real differences is an error, never a verdict, and the cores are
what the bound says."""
import dataclasses
import math

import numpy as np
import pytest

from dropout_theory import routes, scale
from dropout_theory.registry import select
from dropout_theory.routes.moments import CORE_ESCAPES, concentration_cores
from dropout_theory.sampling import generator

_CHECKS = 400  # a default --large run's number of statistical checks


def _large(identity):
    first = identity.draw_points(generator(0, identity.name, 1 << 30), 4)[0]
    (_, point, _, key, samples), = scale.large_checks(identity, first, root=0,
                                                      n_samples=1 << 17)
    return point, routes.Context(0, samples, n_checks=_CHECKS, key=key)


def _rigorous(identity, point, context):
    prepared, stats = routes.sample_batches("montecarlo", identity, point, identity.rhs,
                                            context)
    true = routes.judge_batches("montecarlo", identity, point, prepared, stats, context)
    lo, hi = true.detail()
    return true, stats, max(abs(lo), abs(hi)) / abs(true.rhs)


@pytest.mark.parametrize("name", ["basics.inverted-mean", "mc-dropout.linear-unbiased"])
def test_cores_confirm_what_the_worst_case_range_could_not(name):
    """The same samples judged with and without the declared differences: the cores' rigorous
    resolution is narrower, and a twin between the two resolutions is a confirmed ``fails``
    with the cores and ``unresolved`` without them."""
    identity, = select([name])
    point, context = _large(identity)
    plain = dataclasses.replace(identity, model=dataclasses.replace(identity.model,
                                                                    differences=None))
    true, stats, rigorous = _rigorous(identity, point, context)
    _, _, worst = _rigorous(plain, point, context)
    assert true.status == "agrees" and rigorous < worst / 1.4, (rigorous, worst)
    off = (rigorous + worst) / 2  # a relative error the cores can confirm, the range cannot
    wrong = identity.rhs * (1 + off)
    for model_identity, expected in ((identity, "disagrees"), (plain, "unresolved")):
        twin = routes.prepare(model_identity.model, model_identity, point, wrong)
        result = routes.judge_batches("montecarlo", model_identity, point, twin, stats,
                                      context)
        assert result.status == expected, (model_identity.model.differences, off, result)


def test_a_declared_difference_too_small_is_an_error():
    identity, = select(["basics.inverted-mean"])
    point = identity.draw_points(generator(0, identity.name, 1 << 30), 1)[0]
    declared = identity.model.differences
    halved = dataclasses.replace(identity, model=dataclasses.replace(
        identity.model, differences=lambda pt: declared(pt) / 2))
    with pytest.raises(ValueError, match="changed the value by more than its declared"):
        routes.prepare(halved.model, halved, point, halved.rhs)
    wrong_shape = dataclasses.replace(identity, model=dataclasses.replace(
        identity.model, differences=lambda pt: declared(pt)[:-1]))
    with pytest.raises(ValueError, match="finite non-negative"):
        routes.prepare(wrong_shape.model, wrong_shape, point, wrong_shape.rhs)


def test_the_cores_are_mcdiarmids():
    spread = 9.0  # sum L_i^2
    cores = concentration_cores(spread, [(-1e3, 1e3, 0.0, 0.0)])
    assert len(cores) == len(CORE_ESCAPES) + 1 and cores[-1] == (-1e3, 1e3, 0.0, 0.0)
    for (lo, hi, bias, escape), e in zip(cores, CORE_ESCAPES):
        t = hi
        assert lo == -t and escape == e
        # P(|f - Ef| >= t) <= 2 exp(-2 t^2 / S) = e at this half-width (rounded up)
        assert 2 * math.exp(-2 * t * t / spread) <= e * (1 + 1e-12)
        # the clipped mean's offset, the tail integral, is at most the declared bias
        tail = math.sqrt(math.pi * spread / 2) * math.erfc(t * math.sqrt(2 / spread))
        assert tail <= bias
    assert [c[1] for c in cores[:-1]] == sorted(c[1] for c in cores[:-1])  # narrowest first
    # cores no narrower than the worst case are left out
    assert concentration_cores(spread, [(-1.0, 1.0, 0.0, 0.0)]) == [(-1.0, 1.0, 0.0, 0.0)]
    assert np.isfinite([c[:3] for c in cores]).all()
