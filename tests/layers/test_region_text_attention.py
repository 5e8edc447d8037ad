"""RegionTextAttention: paper bilinear softmax, released scaled-dot (no softmax) and additive scores."""

import numpy as np
import pytest

from lbie_tf.layers import RegionTextAttention
from tests.layers.layer_test_helper import run_layer_test

B, M, N, D, L, K = 2, 3, 3, 8, 5, 6
RNG = np.random.default_rng(0)
STATE = RNG.normal(size=(B, M, N, D)).astype("float32")
TEXT = RNG.normal(size=(B, L, K)).astype("float32")
MASK = np.array([[True, True, True, False, False], [True] * L])


def _softmax(x, mask=None):
    if mask is not None:
        x = np.where(mask, x, -np.inf)
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("units,score,num_weights", [
    (None, "bilinear", 1), (4, "bilinear", 2), (None, "scaled_dot", 2), (4, "additive", 4)])
def test_layer_contract(units, score, num_weights, tmp_path):
    run_layer_test(
        RegionTextAttention, {"units": units, "score": score}, (STATE, TEXT), {"text_mask": MASK},
        expected_output_shape=((B, M, N, K), (B, M, N, L)), expected_num_trainable_weights=num_weights,
        build_shapes={"state_shape": STATE.shape, "text_shape": TEXT.shape}, jit_compile=True,
        tmp_path=tmp_path)


@pytest.mark.parametrize("units,score", [(None, "bilinear"), (4, "bilinear"), (4, "additive")])
@pytest.mark.parametrize("use_mask", [False, True])
def test_softmax_weights_sum_to_one(units, score, use_mask):
    layer = RegionTextAttention(units, score)
    mask = MASK if use_mask else None
    _, weights = layer(STATE, TEXT, text_mask=mask)
    weights = np.asarray(weights)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert (weights >= 0).all()
    if use_mask:
        assert (weights[0, ..., 3:] == 0).all()


def test_fully_masked_row_gives_zero_weights():
    mask = np.array([[False] * L, [True] * L])
    attended, weights = RegionTextAttention(4)(STATE, TEXT, text_mask=mask)
    assert np.all(np.asarray(weights)[0] == 0) and np.all(np.asarray(attended)[0] == 0)
    np.testing.assert_allclose(np.asarray(weights)[1].sum(-1), 1.0, atol=1e-5)


def test_bilinear_full_matches_numpy():
    layer = RegionTextAttention(None, "bilinear")
    attended, weights = layer(STATE, TEXT, text_mask=MASK)
    w = layer.kernel.numpy()
    scores = np.einsum("bmnd,dk,blk->bmnl", STATE, w, TEXT)
    expected = _softmax(scores, MASK[:, None, None, :])
    np.testing.assert_allclose(weights, expected, atol=1e-5)
    np.testing.assert_allclose(attended, np.einsum("bmnl,blk->bmnk", expected, TEXT), atol=1e-5)


def test_bilinear_factorised_is_low_rank_bilinear():
    layer = RegionTextAttention(3, "bilinear")
    _, weights = layer(STATE, TEXT)
    w = layer.state_kernel.numpy() @ layer.text_kernel.numpy().T  # W = A Bᵀ, rank 3
    assert np.linalg.matrix_rank(w) == 3
    expected = _softmax(np.einsum("bmnd,dk,blk->bmnl", STATE, w, TEXT))
    np.testing.assert_allclose(weights, expected, atol=1e-5)


def test_scaled_dot_matches_released_code():
    layer = RegionTextAttention(score="scaled_dot")
    attended, weights = layer(STATE, TEXT, text_mask=MASK)
    keys = TEXT @ layer.text_kernel.numpy() + layer.text_bias.numpy()
    scores = np.einsum("bmnd,bld->bmnl", STATE, keys) / np.sqrt(D) * MASK[:, None, None, :]
    np.testing.assert_allclose(weights, scores, atol=1e-5)  # raw scores, no softmax
    np.testing.assert_allclose(attended, np.einsum("bmnl,blk->bmnk", scores, TEXT), atol=1e-5)
    assert not np.allclose(np.asarray(weights).sum(-1), 1.0)


def test_additive_matches_flowers_code():
    layer = RegionTextAttention(4, "additive")
    attended, weights = layer(STATE, TEXT)
    q = STATE @ layer.state_kernel.numpy() + layer.state_bias.numpy()
    k = TEXT @ layer.text_kernel.numpy()
    hidden = np.tanh(q[:, :, :, None, :] + k[:, None, None, :, :])
    expected = _softmax((hidden @ layer.score_kernel.numpy())[..., 0])
    np.testing.assert_allclose(weights, expected, atol=1e-5)
    np.testing.assert_allclose(attended, np.einsum("bmnl,blk->bmnk", expected, TEXT), atol=1e-5)


@pytest.mark.parametrize("score", ["bilinear", "scaled_dot", "additive"])
def test_padding_words_do_not_matter(score):
    layer = RegionTextAttention(4, score)
    attended, _ = layer(STATE, TEXT, text_mask=MASK)
    changed = TEXT.copy()
    changed[0, 3:] = 100.0
    attended_changed, _ = layer(STATE, changed, text_mask=MASK)
    np.testing.assert_allclose(attended, attended_changed, atol=1e-5)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        RegionTextAttention(score="dot")
    with pytest.raises(ValueError):
        RegionTextAttention(None, "additive")
