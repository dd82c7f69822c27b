import math

import pytest

from dropout_theory._validation import check_p, check_positive_int, keep_probability


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan, "0.5", None, True])
def test_bad_p_is_named_with_its_value(bad):
    with pytest.raises(ValueError, match=r"^p must .*" + repr(bad).replace("(", r"\(")[:3]):
        check_p(bad)


def test_p_one_is_legal_but_keep_probability_refuses_it():
    assert check_p(1) == 1.0
    with pytest.raises(ValueError, match="divides by the keep probability"):
        keep_probability(1.0)
    assert keep_probability(0.25) == 0.75


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_positive_int(bad):
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        check_positive_int(bad, name="n_samples")
