"""One parametrized test per route over the whole registry, plus mutation twins per route."""
import dataclasses

import numpy as np
import pytest
import sympy as sp

from dropout_theory.identity import registry
from dropout_theory.sampling import generator, z_crit
from dropout_theory.symbolic import prove_equal
from dropout_theory.verify import (_approximate, _edges, approximation_order, check_route,
                                   verify)

IDENTITIES = sorted(registry().values(), key=lambda i: i.name)
HOLDING = [i for i in IDENTITIES if i.expected == "holds"]
MOMENTS = [i for i in HOLDING if i.kind == "moment"]
NON_HOLDING = [i for i in IDENTITIES if i.expected != "holds"]
NUMERIC = {"moment": ("exact", "montecarlo"), "gradient": ("gradient",),
           "replicate": ("replicate",)}
APPROXIMATIONS = [i for i in IDENTITIES if i.order is not None]
# an approximation's exact side has no closed form (the symbolic route is inconclusive by
# construction) and its exact/Monte Carlo routes reject the claim itself; the route that can
# tell a right approximation from a wrong one is the measured order
ROUTES = [(i, r) for i in IDENTITIES if i.order is None
          for r in ("symbolic", *NUMERIC[i.kind])] + [(i, "order") for i in APPROXIMATIONS]
N_MC_CHECKS = 5 * len(IDENTITIES)  # true, mutation and corrected checks below, Bonferroni
CRITICAL = z_crit(1e-6, N_MC_CHECKS)   # false-alarm rate of this module: 1e-6 in all


def _point(identity):
    """A fixed point away from q = 1/2, where swapping p and q would change nothing."""
    point = identity.draw_point(generator(2024, identity.name, 0))
    if "q" in point:
        point["q"] = 0.8
    if "p" in point:
        point["p"] = 0.2
    return point


@pytest.mark.parametrize("identity", HOLDING, ids=lambda i: i.name)
def test_symbolic_route_proves_for_symbolic_sizes(identity):
    lhs, rhs = identity.symbolic()
    proof = prove_equal(lhs, rhs)
    assert proof.status == "proved", proof.residual
    sizes = {p.name for p in identity.params if p.integer}
    model = lhs.steps[0].expr if hasattr(lhs, "steps") else lhs
    assert sizes <= {str(s) for s in model.free_symbols}, "sizes must stay symbolic"



@pytest.mark.parametrize("identity,route",
                         [(i, r) for i, r in ROUTES if r != "symbolic" and i in HOLDING],
                         ids=lambda v: getattr(v, "name", v))
def test_numeric_routes_agree(identity, route):
    _, rhs = identity.symbolic()
    result = check_route(identity, route, _point(identity), rhs, root=5, critical=CRITICAL)
    assert result.status == "agrees", result


@pytest.mark.parametrize("identity,route", ROUTES, ids=lambda v: getattr(v, "name", v))
def test_mutation_twins_are_rejected_by_every_route(identity, route):
    lhs, rhs = identity.symbolic()
    mutations = identity.mutations(rhs)
    assert len(mutations) >= 2
    for label, wrong in mutations.items():
        if route == "symbolic":
            assert prove_equal(lhs, wrong).status == "refuted", label
        else:
            result = check_route(identity, route, _point(identity), wrong, root=6,
                                 critical=CRITICAL)
            assert result.status == "disagrees", (label, result)


REFUTED_IN_CLOSED_FORM = [i for i in NON_HOLDING
                          if prove_equal(*i.symbolic()).status == "refuted"]


@pytest.mark.parametrize("identity,route",
                         [(i, r) for i in REFUTED_IN_CLOSED_FORM for r in NUMERIC[i.kind]],
                         ids=lambda v: getattr(v, "name", v))
def test_simulation_of_a_refuted_claim_agrees_with_what_the_engine_derived(identity, route):
    """A refuted claim fails by every route, but the simulation must still be right: it must
    agree with the engine's derived left side, the corrected statement (false-alarm rate in
    the module's Bonferroni count)."""
    lhs, _ = identity.symbolic()
    result = check_route(identity, route, _point(identity), lhs.result, root=8,
                         critical=CRITICAL)
    assert result.status == "agrees", result


@pytest.mark.parametrize("identity", NON_HOLDING, ids=lambda i: i.name)
def test_refuted_and_approximate_identities_get_their_expected_verdict(identity):
    """The run the CLI does (default points and budget) must reach the registered verdict.

    ``verify`` splits its own family-wise 1e-6 over its checks: a claim registered as refuted
    that were in fact true would come out ``fails`` (and pass here) with probability <= 1e-6.
    """
    (verdict,), _ = verify([identity], root=7, progress=False)
    assert verdict.matches, verdict
    if identity.expected == "refuted":  # the simulation itself must refute, not only algebra
        assert any(r.status == "disagrees" for r in verdict.routes if r.route != "symbolic")


def test_registry_names_are_family_slug_and_sources_recorded():
    for identity in IDENTITIES:
        family, _, slug = identity.name.partition(".")
        assert family and slug and identity.source and identity.notation
        assert identity.statistic in ("mean", "var")


@pytest.mark.parametrize("identity", APPROXIMATIONS, ids=lambda i: i.name)
@pytest.mark.parametrize("shift", (-1, 1))
def test_declared_order_off_by_one_is_rejected(identity, shift):
    """The twin of an approximation that claims one order more (or less) must not pass."""
    _, rhs = identity.symbolic()
    twin = dataclasses.replace(identity, order=identity.order + shift)
    result = approximation_order(twin, _point(identity), rhs)
    assert result.status == "disagrees", result
    assert _approximate([result]) == "fails"


def test_gradient_route_refuses_more_units_than_it_can_enumerate():
    identity = next(i for i in IDENTITIES if i.kind == "gradient")
    point = {**_point(identity), "d": 11}
    point.update({name: np.ones(11) for name, value in point.items() if np.ndim(value) == 1})
    _, rhs = identity.symbolic()
    with pytest.raises(ValueError, match=r"at most 10 units are supported, got 11"):
        check_route(identity, "gradient", point, rhs)


EDGED = [i for i in MOMENTS if any(prm.edges for prm in i.params)]


@pytest.mark.parametrize("identity", EDGED, ids=lambda i: i.name)
def test_domain_edges_are_checked_and_a_claim_wrong_only_there_is_rejected(identity):
    """q = 1 (p = 0) by exact enumeration: the true claim agrees; its twin, off by floor(q)
    (or 1 - ceil(p)), which is zero everywhere but at the edge, is rejected there."""
    _, rhs = identity.symbolic()
    point = _point(identity)
    assert all(r.status == "agrees" for r in _edges(identity, point, rhs))
    prob = sp.Symbol(identity.probability, positive=True)
    bump = sp.floor(prob) if identity.probability == "q" else 1 - sp.ceiling(prob)
    routes = _edges(identity, point, rhs + bump)
    assert routes and all(r.status == "disagrees" for r in routes), routes
