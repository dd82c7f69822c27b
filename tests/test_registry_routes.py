"""One parametrized test per route over the whole registry, plus mutation twins per route."""
import dataclasses

import numpy as np
import pytest
import sympy as sp

from dropout_theory.identity import Approximation, MaskModel
from dropout_theory.registry import registry
from dropout_theory.routes import Context, enumerable, names, run
from dropout_theory.routes.symbolic import confirm
from dropout_theory.sampling import generator
from dropout_theory.symbolic import NoClosedForm, prove_equal
from dropout_theory.verify import aggregate, verify

IDENTITIES = sorted(registry().values(), key=lambda i: i.name)
HOLDING = [i for i in IDENTITIES if i.expected == "holds"]
MOMENTS = [i for i in HOLDING if isinstance(i.model, MaskModel)]
NON_HOLDING = [i for i in IDENTITIES if i.expected != "holds"]
APPROXIMATIONS = [i for i in IDENTITIES if isinstance(i.model, Approximation)]


def _point(identity):
    """A fixed point away from q = 1/2, where swapping p and q would change nothing."""
    point = identity.draw_point(generator(2024, identity.name, 0))
    if "q" in point:
        point["q"] = 0.8
    if "p" in point:
        point["p"] = 0.2
    return point


# an approximation's exact side has no closed form (the symbolic route is inconclusive by
# construction) and its exact/Monte Carlo routes reject the claim itself; the route that can
# tell a right approximation from a wrong one is the measured order; the exact route runs
# where it can enumerate (not a Gaussian inside a sigmoid)
ROUTES = [(i, r) for i in IDENTITIES if i not in APPROXIMATIONS
          for r in ("symbolic", *i.routes)
          if r != "exact" or enumerable(i, _point(i))] + [(i, "order") for i in APPROXIMATIONS]
# the symbolic route decides an identity when it proves it or finds a polynomial residual;
# where it has no rule (an activation of a whole unit, the sign of a non-constant residual)
# its twins are left to the numeric routes, as the statement is
UNDECIDED = {i.name for i in IDENTITIES if i not in APPROXIMATIONS
             and run("symbolic", i, None, i.rhs).status in ("inconclusive", "not-applicable")}
# twins of a refuted statement are only required where it has some (a wrong '>= 0' has none)
TWINS = [(i, r) for i, r in ROUTES if not (r == "symbolic" and i.name in UNDECIDED)
         and (i.expected != "refuted" or i.mutations(i.rhs))]
#: true, mutation and corrected checks below share a false-alarm rate of 1e-6 (Bonferroni)
SHARED = dict(alpha=1e-6, n_checks=5 * len(IDENTITIES))


@pytest.mark.parametrize("identity", [i for i in HOLDING if i.name not in UNDECIDED],
                         ids=lambda i: i.name)
def test_symbolic_route_proves_for_symbolic_sizes(identity):
    result = run("symbolic", identity, None, identity.rhs)
    assert result.status == "proved", result.residual
    sizes = {p.name for p in identity.params if p.integer}
    lhs = identity.derive()
    model = lhs.steps[0].expr if hasattr(lhs, "steps") else lhs
    assert sizes <= {str(s) for s in model.free_symbols}, "sizes must stay symbolic"


def _numeric(route, identity, claim, root):
    """``route`` at the fixed point; for a value the same under every mask (a pointwise
    identity) sampling can only say it never varied, so the exact route judges it there."""
    result = run(route, identity, _point(identity), claim, Context(root=root, **SHARED))
    if result.status == "unresolved" and "never varied" in result.note:
        result = run("exact", identity, _point(identity), claim)
    return result


@pytest.mark.parametrize("identity,route",
                         [(i, r) for i, r in ROUTES if r != "symbolic" and i in HOLDING],
                         ids=lambda v: getattr(v, "name", v))
def test_numeric_routes_agree(identity, route):
    result = _numeric(route, identity, identity.rhs, root=5)
    assert result.status == "agrees", result


def test_every_holding_identity_is_proved_or_numeric_only_by_nature():
    """Only inequalities and activations of whole units may lack a proof: an equality whose
    derivation stopped working would otherwise slip out of the proof test above."""
    for name in UNDECIDED:
        identity = registry()[name]
        if identity.expected == "holds" and identity.relation == "==":
            pytest.fail(f"{name}: an equality the symbolic route cannot decide")


@pytest.mark.parametrize("identity,route", TWINS, ids=lambda v: getattr(v, "name", v))
def test_mutation_twins_are_rejected_by_every_route(identity, route):
    mutations = identity.mutations(identity.rhs)
    assert len(mutations) >= (1 if identity.expected == "refuted" else 2)
    for label, wrong in mutations.items():
        if route == "symbolic":
            # a non-zero canonical residual is only a candidate; the exact route, where the
            # model has one, must then confirm it with a witness
            result = run("symbolic", identity, None, wrong)
            # never proved; a residual of functions the canonical form cannot decide (erf)
            # is inconclusive, and the numeric routes below must then reject the twin
            assert result.status == "unconfirmed" or (
                result.status == "inconclusive" and result.residual not in (None, "0")
                and "canonical form cannot decide" in result.note), (label, result)
            if (identity, "exact") in ROUTES:
                exact = run("exact", identity, _point(identity), wrong)
                assert confirm(result, [exact]).status == "refuted", (label, exact)
        else:
            result = _numeric(route, identity, wrong, root=6)
            assert result.status == "disagrees", (label, result)


REFUTED_IN_CLOSED_FORM = [i for i in NON_HOLDING
                          if run("symbolic", i, None, i.rhs).status == "unconfirmed"]


@pytest.mark.parametrize("identity,route",
                         [(i, r) for i in REFUTED_IN_CLOSED_FORM for r in i.routes],
                         ids=lambda v: getattr(v, "name", v))
def test_simulation_of_a_refuted_claim_agrees_with_what_the_engine_derived(identity, route):
    """A refuted claim fails by every route, but the simulation must still be right: it must
    agree with the engine's derived left side, the corrected statement (false-alarm rate in
    the module's Bonferroni count)."""
    result = run(route, identity, _point(identity), identity.derive().result,
                 Context(root=8, **SHARED))
    assert result.status == "agrees", result


@pytest.fixture(scope="module")
def whole_run():
    """The run the CLI does (default points and budget) over the whole registry, once."""
    verdicts, _ = verify(IDENTITIES, root=7)
    return {v.name: v for v in verdicts}


@pytest.mark.parametrize("identity", IDENTITIES, ids=lambda i: i.name)
def test_every_identity_gets_its_expected_verdict_and_no_defect(identity, whole_run):
    """``verify`` splits its own family-wise 1e-6 over its checks: a claim registered as refuted
    that were in fact true would come out ``fails`` (and pass here) with probability <= 1e-6.
    No proof may be contradicted by a number (that would be a defect of the tool)."""
    verdict = whole_run[identity.name]
    assert verdict.matches, (verdict.verdict, verdict.reason)
    assert not verdict.reason.startswith("defect")
    if identity.expected == "refuted":  # the simulation itself must refute, not only algebra
        assert any(r.status == "disagrees" for r in verdict.routes[1:])


def test_registry_names_are_family_slug_and_sources_recorded():
    for identity in IDENTITIES:
        family, _, slug = identity.name.partition(".")
        assert family and slug and identity.source and identity.notation


@pytest.mark.parametrize("identity", APPROXIMATIONS, ids=lambda i: i.name)
@pytest.mark.parametrize("shift", (-1, 1))
def test_declared_order_off_by_one_is_rejected(identity, shift):
    """The twin of an approximation that claims one order more (or less) must not pass."""
    model = dataclasses.replace(identity.model, order=identity.model.order + shift)
    twin = dataclasses.replace(identity, model=model)
    result = run("order", twin, _point(identity), identity.rhs)
    assert result.status == "disagrees", result
    assert aggregate(twin, run("symbolic", twin, None, twin.rhs), [result])[0] == "fails"


def test_gradient_route_refuses_more_units_than_it_can_enumerate():
    identity = next(i for i in IDENTITIES if i.routes == ("gradient",))
    point = {**_point(identity), "d": 11}
    point.update({name: np.ones(11) for name, value in point.items() if np.ndim(value) == 1})
    with pytest.raises(ValueError, match=r"at most 10 units are supported, got 11"):
        run("gradient", identity, point, identity.rhs)


def test_an_unknown_route_is_an_error_not_a_fallback():
    assert names() == ["exact", "exact probability", "gradient", "montecarlo", "order", "replicate",
                       "symbolic"]
    with pytest.raises(ValueError, match="unknown route 'monte-carlo'"):
        run("monte-carlo", IDENTITIES[0], _point(IDENTITIES[0]), IDENTITIES[0].rhs)


EDGED = [i for i in MOMENTS if any(prm.edges for prm in i.params)]


@pytest.mark.parametrize("identity", EDGED, ids=lambda i: i.name)
def test_domain_edges_are_checked_and_a_claim_wrong_only_there_is_rejected(identity):
    """q = 1 (p = 0) by exact enumeration: the true claim agrees; its twin, off by floor(q)
    (or 1 - ceil(p)), which is zero everywhere but at the edge, is rejected there."""
    edges = identity.edge_points(_point(identity))
    assert edges and all(run("exact", identity, e, identity.rhs).status == "agrees"
                         for e in edges)
    prob = sp.Symbol(identity.probability, positive=True)
    bump = sp.floor(prob) if identity.probability == "q" else 1 - sp.ceiling(prob)
    twins = [run("exact", identity, e, identity.rhs + bump) for e in edges]
    assert all(r.status == "disagrees" for r in twins), twins
    try:
        assert prove_equal(identity.derive(), identity.rhs + bump).status != "proved"
    except NoClosedForm:  # no derivation to compare with: nothing proved either
        pass
