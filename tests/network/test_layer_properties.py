"""Property-based tests of the dropout layers (Hypothesis, derandomized: CI sees the same
examples every run): eval mode is the identity (the mean network for standard dropout and
non-inverted DropConnect), zeros exactly where masked, kept units scaled by 1/q, shapes kept."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dropout_theory.network import (AlphaDropout, ConcreteDropout, DropBlock, DropConnect,
                                    Dropout, GaussianDropout, SpatialDropout, StandardDropout,
                                    UOut)

PROPERTIES = settings(max_examples=40, deadline=2000, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow])

_P = st.floats(0.0, 1.0, exclude_max=True)
_VALUES = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
_FOUR_AXES = hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=4)
_LAYERS = [lambda p: Dropout(p), lambda p: SpatialDropout(p, n_spatial=2),
           lambda p: SpatialDropout(p, n_spatial=1), lambda p: GaussianDropout(max(p, 1e-3)),
           lambda p: UOut(beta=p), lambda p: AlphaDropout(p),
           lambda p: DropBlock(p, block_size=1), lambda p: ConcreteDropout(max(p, 1e-3))]


def _ulps(a, b, k: int = 2) -> bool:
    """``a`` equals ``b`` up to ``k`` roundings (float64 precision, not a chosen rtol)."""
    return bool(np.all(np.abs(a - b) <= k * np.spacing(np.maximum(np.abs(a), np.abs(b)))))


@PROPERTIES
@given(p=_P, layer=st.integers(0, len(_LAYERS) - 1), x=hnp.arrays(np.float64, _FOUR_AXES,
                                                                   elements=_VALUES))
def test_eval_mode_is_the_identity_for_every_inverted_layer(p, layer, x):
    module = _LAYERS[layer](p).eval()
    y = module.forward(x)
    assert y.shape == x.shape and np.array_equal(y, x)
    assert np.array_equal(module.backward(np.ones_like(x)), np.ones_like(x))


@PROPERTIES
@given(p=_P, x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=3), elements=_VALUES))
def test_standard_dropout_eval_is_the_mean_network(p, x):
    assert _ulps(StandardDropout(p).eval().forward(x), (1.0 - p) * x, k=1)


@PROPERTIES
@given(p=_P, inverted=st.booleans(), seed=st.integers(0, 2**32 - 1),
       x=hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.just(3)), elements=_VALUES))
def test_dropconnect_eval_is_the_plain_or_mean_linear_layer(p, inverted, seed, x):
    layer = DropConnect(3, 2, p=p, inverted=inverted, rng=np.random.default_rng(seed)).eval()
    scale = 1.0 if inverted else 1.0 - p
    expected = x @ (scale * layer.weight).T + layer.bias
    assert np.array_equal(layer.forward(x), expected)


@st.composite
def _masked(draw, shape=hnp.array_shapes(max_dims=4, max_side=5)):
    shape = draw(shape)
    x = draw(hnp.arrays(np.float64, shape, elements=_VALUES))
    mask = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])))
    return x, mask


@PROPERTIES
@given(p=_P, pair=_masked())
def test_inverted_dropout_zeros_exactly_where_masked_and_scales_kept_units(p, pair):
    x, mask = pair
    layer = Dropout(p)
    y = layer.forward(x, mask=mask)
    q = 1.0 - p
    assert y.shape == x.shape
    assert np.all(y[mask == 0.0] == 0.0)
    assert _ulps(y[mask == 1.0], x[mask == 1.0] / q)
    g = np.arange(x.size, dtype=np.float64).reshape(x.shape)
    back = layer.backward(g)
    assert np.all(back[mask == 0.0] == 0.0) and _ulps(back[mask == 1.0], g[mask == 1.0] / q)


@PROPERTIES
@given(p=_P, pair=_masked())
def test_standard_dropout_keeps_units_unscaled(p, pair):
    x, mask = pair
    y = StandardDropout(p).forward(x, mask=mask)
    assert np.all(y[mask == 0.0] == 0.0) and np.array_equal(y[mask == 1.0], x[mask == 1.0])


@PROPERTIES
@given(p=st.floats(0.0, 1.0), seed=st.integers(0, 2**32 - 1),
       x=hnp.arrays(np.float64, _FOUR_AXES, elements=_VALUES))
def test_drawn_masks_are_binary_and_shapes_are_kept(p, seed, x):
    rng = np.random.default_rng(seed)
    for layer in (Dropout(p), SpatialDropout(p), StandardDropout(p), DropBlock(p, block_size=1)):
        y = layer.forward(x, rng=rng)
        assert y.shape == x.shape
        if layer.mask is None:  # p = 0 draws no mask: every unit kept, unscaled
            assert p == 0.0 and np.array_equal(y, x)
            continue
        assert set(np.unique(layer.mask)) <= {0.0, 1.0}
        mask = np.broadcast_to(layer.mask, x.shape)
        assert np.all(y[mask == 0.0] == 0.0)
        if p == 1.0:
            assert not np.any(y)


@PROPERTIES
@given(p=_P, pair=_masked(_FOUR_AXES))
def test_spatial_dropout_drops_whole_channels(p, pair):
    x, _ = pair
    channels = np.random.default_rng(0).integers(0, 2, x.shape[:2]).astype(np.float64)
    y = SpatialDropout(p, n_spatial=2).forward(x, mask=channels)
    kept = np.broadcast_to(channels[..., None, None], x.shape)
    assert np.all(y[kept == 0.0] == 0.0) and _ulps(y[kept == 1.0], x[kept == 1.0] / (1 - p))
