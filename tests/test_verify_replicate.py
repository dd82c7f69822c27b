"""The replicate route: independent runs of a procedure, z-tested like Monte Carlo."""
import numpy as np
import sympy as sp

from dropout_theory.identity import Identity, Param, ReplicateModel
from dropout_theory.routes import Context, run

q = sp.Symbol("q", positive=True)
#: the two checks below share a false-alarm rate of 1e-6
CONTEXT = Context(root=1, alpha=1e-6, n_checks=2)


def _kept_fraction(point, rng, n):
    """Per replicate: the fraction of 50 units a fresh Bernoulli(q) mask keeps."""
    return (rng.random((n, 50)) < point["q"]).mean(axis=1)


KEPT = Identity(name="test.kept-fraction", statement="E[mean(m)] = q", source="test",
                notation="q keep", params=(Param("q", 0, 1, typical=(0.2, 0.8)),), rhs=q,
                derive=lambda: q, model=ReplicateModel(_kept_fraction, replicates=512))


def test_replicate_route_agrees_with_the_true_claim_and_rejects_a_wrong_one():
    true = run("replicate", KEPT, {"q": 0.7}, q, CONTEXT)
    assert true.status == "agrees" and true.route == "replicate", true
    assert true.se > 0 and np.isfinite(true.z)
    wrong = run("replicate", KEPT, {"q": 0.7}, q ** 2, CONTEXT)
    assert wrong.status == "disagrees", wrong
