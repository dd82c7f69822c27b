"""The variants family beyond the registry's generic routes: the README's variant table, SELU's
fixed point to the last bit, alpha dropout's (a, b) table against the layer, and DropBlock's
exact rate formula against exact enumeration on the layer. No statistical check here."""
import re
from pathlib import Path

import numpy as np
import pytest

from dropout_theory.identities.variants import alpha, dropblock, selu
from dropout_theory.identities.variants.table import VARIANTS, variant_table
from dropout_theory.network import ALPHA_PRIME, SELU_ALPHA, SELU_SCALE, AlphaDropout
from dropout_theory.registry import registry
from dropout_theory.routes import run

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
