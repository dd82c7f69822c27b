"""The replicate route: independent runs of a procedure, z-tested like Monte Carlo."""
import numpy as np
import sympy as sp

from dropout_theory.identity import Identity, Param
from dropout_theory.sampling import z_crit
from dropout_theory.verify import check_route

q = sp.Symbol("q", positive=True)
CRITICAL = z_crit(1e-6, 2)  # the two checks below; false-alarm rate 1e-6


def _kept_fraction(point, rng, n):
    """Per replicate: the fraction of 50 units a fresh Bernoulli(q) mask keeps."""
    return (rng.random((n, 50)) < point["q"]).mean(axis=1)


KEPT = Identity(name="test.kept-fraction", statement="E[mean(m)] = q", source="test",
                notation="q keep", params=(Param("q", 0, 1, typical=(0.2, 0.8)),),
                symbolic=lambda: (q, q), simulate=_kept_fraction, kind="replicate",
                replicates=512)


def test_replicate_route_agrees_with_the_true_claim_and_rejects_a_wrong_one():
    true = check_route(KEPT, "replicate", {"q": 0.7}, q, root=1, critical=CRITICAL)
    assert true.status == "agrees" and true.route == "replicate", true
    assert true.se > 0 and np.isfinite(true.z)
    wrong = check_route(KEPT, "replicate", {"q": 0.7}, q ** 2, root=1, critical=CRITICAL)
    assert wrong.status == "disagrees", wrong
