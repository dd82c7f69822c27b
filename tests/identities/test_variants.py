"""The variants family beyond the registry's generic routes: the README's variant table, SELU's
fixed point to the last bit, alpha dropout's (a, b) table against the layer, and DropBlock's
exact rate formula against exact enumeration on the layer, and concrete dropout's relaxed mask
against its Bernoulli limit (Hoeffding bounds at a family-wise 1e-6, with a twin)."""
import re
from pathlib import Path

import numpy as np
import pytest

from dropout_theory.identities.variants import alpha, concrete, dropblock, selu
from dropout_theory.identities.variants.table import VARIANTS, variant_table
from dropout_theory.network import ALPHA_PRIME, SELU_ALPHA, SELU_SCALE, AlphaDropout
from dropout_theory.registry import registry
from dropout_theory.routes import run
from dropout_theory.sampling import generator

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_variant_table_is_the_generated_one():
    text = README.read_text()
    found = re.search(r"<!-- variants-table:begin -->\n(.*?)\n<!-- variants-table:end -->",
                      text, re.S)
    assert found, "README lacks the variants-table markers"
    assert found.group(1) == variant_table(), (
        "README's variant table is stale: paste the output of "
        "dropout_theory.identities.variants.table.variant_table()")


def test_every_variants_identity_is_in_a_row_of_the_table():
    listed = {name for *_, names in VARIANTS for name in names}
    family = {name for name, i in registry().items() if i.family == "variants"}
    assert family <= listed, sorted(family - listed)
    assert listed <= set(registry()), sorted(listed - set(registry()))


def test_selu_fixed_point_is_the_published_constants_bit_for_bit():
    lam, alp = selu.fixed_point()
    assert (lam, alp) == (SELU_SCALE, SELU_ALPHA)
    # the layer's alpha' is the product of the two doubles, as PyTorch's constant
    assert ALPHA_PRIME == -SELU_SCALE * SELU_ALPHA


def test_solved_constants_reduce_to_klambauer_and_match_the_layer():
    steps = {s.label: s for s in alpha._constants_steps()}
    assert any("(True), b equals -a (1-q) alpha' (True)" in label for label in steps)
    for p, a, b in alpha.constants_table():
        layer = AlphaDropout(p)
        kept = np.ones(2)
        # a kept unit maps x to a x + b: two inputs give a and b through the layer
        y = layer.forward(np.array([0.0, 1.0]), mask=kept)
        assert y[0] == pytest.approx(b, rel=8 * np.finfo(float).eps)
        assert y[1] - y[0] == pytest.approx(a, rel=8 * np.finfo(float).eps)


@pytest.mark.parametrize("size,block,gamma", [(4, 2, 0.1), (5, 3, 0.3), (5, 2, 0.02)])
def test_dropblock_rate_formula_is_the_layers_exact_rate(size, block, gamma):
    identity = registry()["variants.dropblock-rate"]
    result = run("exact", identity, {"p": gamma, "f": size, "b": block}, identity.rhs)
    formula = dropblock.realised_rate(gamma, size, block)
    assert abs(result.lhs - formula) <= result.rounding + 64 * np.finfo(float).eps
    assert formula < dropblock.nominal_rate(gamma, size, block)


#: the concrete checks below: 6 bounds that must hold, 6 means, 1 twin that must fail
CONCRETE = [(p, t) for p in (0.1, 0.4) for t in (0.5, 0.1, 0.02)]
CONCRETE_ALPHA = 1e-6 / (2 * len(CONCRETE) + 1)
CONCRETE_N = 1 << 18


def _hoeffding(n, alpha):
    """Deviation of a mean of n values in [0, 1] exceeded with probability <= alpha (one
    side): exp(-2 n eps^2) = alpha; no normal approximation of the tails."""
    return np.sqrt(np.log(1 / alpha) / (2 * n))


def _distance(p, t, key):
    u = generator(20261129, key, 0).random(CONCRETE_N)
    z = concrete.relaxed_indicator({"p": p, "t": t}, u)
    return z, np.abs(z - (u > 1 - p))


@pytest.mark.parametrize("p,t", CONCRETE)
def test_concrete_mask_is_within_t_ln2_over_2_of_its_bernoulli_limit(p, t):
    """E|z - b| <= t ln 2 / 2 (logistic density <= 1/4), hence |E z - p| <= t ln 2 / 2: the
    relaxed mask's mean tends to p as t -> 0. Hoeffding at the family-wise 1e-6."""
    z, distance = _distance(p, t, f"concrete#{p}#{t}")
    eps = _hoeffding(CONCRETE_N, CONCRETE_ALPHA)
    assert distance.mean() <= t * np.log(2) / 2 + eps
    assert abs(z.mean() - p) <= t * np.log(2) / 2 + _hoeffding(CONCRETE_N, CONCRETE_ALPHA / 2)


def test_concrete_distance_twin_of_order_t_squared_is_rejected():
    """The twin E|z - b| <= t^2 ln 2 / 2 fails: the distance is of order t (about
    2 ln 2 p(1-p) t as t -> 0), measured beyond Hoeffding's deviation."""
    p, t = 0.4, 0.1
    _, distance = _distance(p, t, "concrete#twin")
    assert distance.mean() > t ** 2 * np.log(2) / 2 + _hoeffding(CONCRETE_N, CONCRETE_ALPHA)
