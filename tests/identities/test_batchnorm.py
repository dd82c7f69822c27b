"""The batchnorm family beyond the registry's generic routes.

The registry tests check every identity at one point with the three input laws mixed over
channels; here each law is checked on its own, both orders and both places of the order
identity are checked, and the procedures (input laws, Uout, recalibration) are tested as
code. Every z-test shares one family-wise false-alarm rate of 1e-6.
"""
import numpy as np
import pytest
from scipy import stats

from dropout_theory.identities.batchnorm import simulation as sim
from dropout_theory.network import Dropout, UOut
from dropout_theory.registry import figures, registry
from dropout_theory.routes import Context, run
from dropout_theory.sampling import float_tolerance, generator

BN = {i.name: i for i in registry().values() if i.family == "batchnorm"}
POINT = {"q": 0.7, "mu": 1.2, "sigma": 0.8, "N": 16, "T": 30, "momentum": 0.2}
LAWS = range(len(sim.DISTRIBUTIONS))
PER_LAW = ["batchnorm.mean-preserved", "batchnorm.variance-inflation",
           "batchnorm.running-variance", "batchnorm.test-shift"]
ORDER_CASES = [(at, q) for at in (0, 1) for q in (0.5, 0.85)]
N_CHECKS = len(PER_LAW) * len(LAWS) + len(ORDER_CASES) + 2
SHARED = dict(alpha=1e-6, n_checks=N_CHECKS)


@pytest.mark.parametrize("law", LAWS, ids=lambda k: sim.DISTRIBUTIONS[k].split()[0])
@pytest.mark.parametrize("name", PER_LAW)
def test_claims_hold_for_each_input_law_alone(name, law):
    identity = BN[name]
    result = run("replicate", identity, {**POINT, "dist": law}, identity.rhs,
                 Context(root=11, key=f"{name}#law{law}", **SHARED))
    assert result.status == "agrees", result


@pytest.mark.parametrize("at,q", ORDER_CASES)
def test_order_difference_at_bn_and_at_the_next_layer(at, q):
    identity = BN["batchnorm.order"]
    result = run("replicate", identity, {**POINT, "q": q, "at": at}, identity.rhs,
                 Context(root=12, key=f"order#{at}{q}", **SHARED))
    assert result.status == "agrees", result


def test_seed_000_holds_and_seed_002_is_refuted_at_the_same_point():
    """Both seeds' claims are the same no-shift value: it fits BN->Dropout, not Dropout->BN."""
    results = {}
    for name in ("batchnorm.order-seed000", "batchnorm.order-seed002"):
        identity = BN[name]
        results[name] = run("replicate", identity, POINT, identity.rhs,
                            Context(root=13, key=name, **SHARED))
    assert results["batchnorm.order-seed000"].status == "agrees"
    assert results["batchnorm.order-seed002"].status == "disagrees"
    assert results["batchnorm.order-seed002"].z > 0  # over-normalised, not under


#: each channel law as a SciPy distribution with mean mu = 1 and standard deviation sigma = 2
SCIPY_LAWS = (stats.norm(1.0, 2.0), stats.uniform(1.0 - 2.0 * np.sqrt(3.0), 4.0 * np.sqrt(3.0)),
              stats.expon(1.0 - 2.0, 2.0))
KS_ALPHA = 1e-6 / (2 * len(SCIPY_LAWS))  # the true laws and their twins: family-wise 1e-6


def test_input_laws_are_the_stated_distributions_and_not_their_neighbours():
    """Kolmogorov-Smirnov against the stated law (false-alarm rate 1e-6 with the twins below);
    mutation twin: the channel tested against the next law (same mean and sd) is rejected."""
    rng = generator(0, "batchnorm-test-laws")
    x = sim.draw_inputs({"mu": 1.0, "sigma": 2.0}, rng, (20000, 6))
    for law in LAWS:
        values = x[:, law::3].ravel()
        assert stats.kstest(values, SCIPY_LAWS[law].cdf).pvalue > KS_ALPHA, law
        wrong = SCIPY_LAWS[(law + 1) % len(SCIPY_LAWS)]
        assert stats.kstest(values, wrong.cdf).pvalue <= KS_ALPHA, law


def test_recalibration_is_the_mean_of_unbiased_batch_variances():
    """PyTorch's momentum=None rule, emulated with factor 1/k: a plain average, no memory."""
    point = {**POINT, "R": 5}
    net, bn, _ = sim.train(Dropout(0.3), point, generator(0, "recal-train"), 4)
    sim.recalibrate(net, bn, point, generator(0, "recal"), 4)
    rng = generator(0, "recal")
    batches = [sim.draw_inputs(point, rng, (point["N"], 4)) for _ in range(point["R"])]
    expected = np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0)
    # two summations of R * N terms each, in different orders
    bound = float_tolerance(np.abs(expected) * 2, 2 * point["R"] * point["N"])
    assert np.all(np.abs(bn.running_var - expected) <= bound)


def test_uout_layer_noise_eval_backward_and_bad_beta():
    layer = UOut(0.5)
    y = layer.forward(np.ones((1000, 3)), rng=generator(0, "uout"))
    assert 0.5 <= y.min() and y.max() <= 1.5
    np.testing.assert_array_equal(layer.backward(np.ones((1000, 3))), y)
    assert np.array_equal(layer.forward(np.ones(3), mask=np.array([0.9, 1.0, 1.1])),
                          [0.9, 1.0, 1.1])
    assert np.array_equal(layer.eval().forward(np.full(2, 3.0)), [3.0, 3.0])
    with pytest.raises(ValueError, match="beta"):
        UOut(-1.0)
    with pytest.raises(ValueError, match="rng"):
        UOut(0.5).forward(np.ones(2))


def test_every_family_member_has_a_figure():
    stems = {name.replace(".", "-") for name in BN}
    assert stems <= set(figures())
    assert {"batchnorm-test-shift", "batchnorm-order"} <= set(figures())
