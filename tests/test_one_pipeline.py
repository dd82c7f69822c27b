"""One pipeline: a statement registered as an identity and written as a claim gets the same
verdict, the same routes with the same statuses, and records of the same shape."""
import pytest

from dropout_theory.claims import load_identities
from dropout_theory.registry import registry
from dropout_theory.report import to_json
from dropout_theory.verify import verify

UNIT = {"symbols": {"q": "keep", "d": "dimension", "w": "real[d]", "x": "real[d]"},
        "random": {"m": "Bernoulli(q)[d]"}}
NOISY = {"symbols": {**UNIT["symbols"], "sigma": "positive"},
         "random": {**UNIT["random"], "eps": "Normal(0, sigma)"}}
DATA = {"symbols": {"q": "keep", "n": "dimension", "d": "dimension", "x": "real[n, d]",
                    "y": "real[n]", "w": "real[d]"}, "random": {"m": "Bernoulli(q)[n, d]"}}

#: every registry identity whose model the claim language can state (the network's layers
#: become expressions of masks; "any law with two moments" becomes a normal law)
AS_CLAIMS = {
    "basics.inverted-mean": dict(lhs="E(Sum(w[i]*x[i]*m[i]/q, (i, 1, d)))",
                                 rhs="Sum(w[i]*x[i], (i, 1, d))", **UNIT),
    "basics.inverted-variance": dict(lhs="Var(Sum(w[i]*x[i]*m[i]/q, (i, 1, d)))",
                                     rhs="(1 - q)/q*Sum((w[i]*x[i])**2, (i, 1, d))", **UNIT),
    "basics.standard-scaling": dict(lhs="E(m*y)", rhs="q*y",
                                    symbols={"q": "keep", "y": "real"},
                                    random={"m": "Bernoulli(q)"}),
    "bias-variance.inverted": dict(
        lhs="E((Sum(w[i]*m[i]*x[i], (i, 1, d))/q - Sum(w[i]*x[i], (i, 1, d)) - eps)**2)",
        rhs="(1 - q)/q*Sum((w[i]*x[i])**2, (i, 1, d)) + sigma**2", **NOISY),
    "ridge.expected-loss": dict(
        lhs="E(Sum((y[i] - Sum(w[j]*x[i, j]*m[i, j]/q, (j, 1, d)))**2, (i, 1, n))/(2*n))",
        rhs="Sum((y[i] - Sum(w[j]*x[i, j], (j, 1, d)))**2, (i, 1, n))/(2*n)"
            " + (1 - q)/(2*n*q)*Sum(Sum(w[j]**2*x[i, j]**2, (j, 1, d)), (i, 1, n))", **DATA),
    "ridge.srivastava": dict(
        lhs="E(Sum((y[i] - Sum(m[i, j]*x[i, j]*w[j], (j, 1, d)))**2, (i, 1, n)))",
        rhs="Sum((y[i] - q*Sum(x[i, j]*w[j], (j, 1, d)))**2, (i, 1, n))"
            " + q*(1 - q)*Sum(w[j]**2*Sum(x[i, j]**2, (i, 1, n)), (j, 1, d))", **DATA),
}


def _shape(record) -> tuple:
    return tuple(sorted(record)), tuple(sorted(record["routes"][0]))


@pytest.mark.parametrize("name", sorted(AS_CLAIMS))
def test_registry_identity_and_claim_agree(name):
    identity = registry()[name]
    (claim,) = load_identities({"name": name.split(".")[1], **AS_CLAIMS[name]})
    (by_registry,), meta = verify([identity], root=2)
    (by_claim,), claim_meta = verify([claim], root=2)
    assert by_registry.verdict == by_claim.verdict == "holds"
    statuses = [{(r.route, r.status) for r in v.routes} for v in (by_registry, by_claim)]
    assert statuses[0] == statuses[1], statuses
    records = [to_json([v], m, command=c)["statements"][0]
               for v, m, c in ((by_registry, meta, "verify"), (by_claim, claim_meta, "check"))]
    assert _shape(records[0]) == _shape(records[1])
