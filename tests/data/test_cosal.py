"""Tests for lbie_tf.data.cosal: the on-the-fly CoSaL generator and its tf.data pipelines."""

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.data import cosal
from lbie_tf.data import cosal_vocabulary as vocab

NUM_SAMPLES = 2000
CELL = 16
# Mean number of determined cells per image with the released code's caption order, measured with a py3 port
# of CoSaL/make_data.py (docs/released_code.md, "CoSaL generator"), keyed by num_direct.
RELEASED_CODE_COVERAGE = {1: 9.0, 2: 8.13, 4: 7.12, 6: 7.12, 8: 8.12, 9: 9.0}


def _generate(config, split="train", num=NUM_SAMPLES, first_id=0):
    ids = tf.range(first_id, first_id + num, dtype=tf.int64)
    return {key: value.numpy() for key, value in cosal.generate(ids, config, split).items()}


@pytest.fixture(scope="module")
def default_batch():
    return _generate(cosal.CosalConfig())


def _cells(image):
    """`[batch, 48, 48, ...]` -> `[batch, 9, 16, 16, ...]`, cells row-major."""
    batch, rest = image.shape[0], image.shape[3:]
    grid = image.reshape((batch, 3, CELL, 3, CELL) + rest)
    return np.moveaxis(grid, 2, 3).reshape((batch, 9, CELL, CELL) + rest)


def _ellipse_reference(ax, ay, lower_half_only=False):
    """Pixel count of a filled ellipse centred on a pixel, by brute force (exact integer test)."""
    dy, dx = np.mgrid[-20:21, -20:21]
    inside = dx**2 * ay**2 + dy**2 * ax**2 <= ax**2 * ay**2
    return int(np.sum(inside & (dy >= 0))) if lower_half_only else int(np.sum(inside))


def _datasets_equal(first, second, num_batches):
    for a, b in zip(first.take(num_batches), second.take(num_batches)):
        for key in a:
            np.testing.assert_array_equal(a[key].numpy(), b[key].numpy(), err_msg=key)


# --- configuration ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_direct": 0}, "num_direct"),
        ({"num_direct": 10}, "num_direct"),
        ({"image_size": 47}, "image_size"),
        ({"image_size": 15}, "image_size"),
        ({"train_size": -1}, "train_size"),
        ({"curriculum": ((10, 5),)}, "curriculum"),
        ({"curriculum": ((8, 5), (6, 5))}, "curriculum"),
        ({"curriculum": ((8, 0),)}, "curriculum"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cosal.CosalConfig(**kwargs)


def test_unknown_split_is_rejected():
    with pytest.raises(ValueError, match="split"):
        cosal.generate(tf.constant([0], tf.int64), cosal.CosalConfig(), "validation")


@pytest.mark.parametrize("image_size", [48, 30])
def test_keys_shapes_and_dtypes(image_size):
    out = cosal.generate(tf.range(3, dtype=tf.int64), cosal.CosalConfig(image_size=image_size), "train")
    size = image_size
    expected = {
        "sketch": (tf.uint8, (3, size, size, 3)),
        "labels": (tf.int32, (3, size, size)),
        "rgb": (tf.uint8, (3, size, size, 3)),
        "gray": (tf.float32, (3, size, size, 1)),
        "ab": (tf.float32, (3, size, size, 2)),
        "tokens": (tf.int32, (3, 9, 3)),
        "sentence_cells": (tf.int32, (3, 9, 2)),
        "cell_shapes": (tf.int32, (3, 9)),
        "cell_colours": (tf.int32, (3, 9)),
        "determined": (tf.bool, (3, 9)),
        "example_id": (tf.int64, (3,)),
    }
    assert set(out) == set(expected)
    for key, (dtype, shape) in expected.items():
        assert out[key].dtype == dtype and tuple(out[key].shape) == shape, key


# --- images -----------------------------------------------------------------------------------------------
def test_every_shape_once_and_colours_in_range(default_batch):
    sorted_shapes = np.sort(default_batch["cell_shapes"], axis=1)
    np.testing.assert_array_equal(sorted_shapes, np.tile(np.arange(9), (NUM_SAMPLES, 1)))
    colours = default_batch["cell_colours"]
    assert colours.min() == 0 and colours.max() == 5
    assert np.all(np.abs(np.bincount(colours.ravel()) / colours.size - 1 / 6) < 0.01)
    # Every shape visits every cell.
    assert np.all(np.bincount(default_batch["cell_shapes"][:, 4], minlength=9) > NUM_SAMPLES / 9 / 2)


def test_labels_match_cell_colours_and_stay_inside_their_cell(default_batch):
    cells = _cells(default_batch["labels"])  # [batch, 9, 16, 16]
    colour_class = default_batch["cell_colours"][:, :, None, None] + 1
    assert np.all((cells == 0) | (cells == colour_class))
    assert np.all((cells > 0).sum(axis=(2, 3)) > 0), "some shape is empty"
    border = np.ones((CELL, CELL), bool)
    border[1:-1, 1:-1] = False
    assert np.all(cells[:, :, border] == 0), "a shape touches its cell border"


def test_sketch_and_rgb_follow_labels(default_batch):
    labels = default_batch["labels"]
    expected_sketch = np.where(labels[..., None] > 0, 0, 255) * np.ones(3, np.uint8)
    np.testing.assert_array_equal(default_batch["sketch"], expected_sketch)
    np.testing.assert_array_equal(default_batch["rgb"], vocab.RGB_PALETTE[labels])


def test_colorization_view_is_isoluminant(default_batch):
    labels, gray, ab = default_batch["labels"], default_batch["gray"][..., 0], default_batch["ab"]
    shape_gray = gray[labels > 0]
    assert len(np.unique(labels[labels > 0])) == 6
    np.testing.assert_allclose(shape_gray, vocab.ISOLUMINANT_LIGHTNESS / 50.0 - 1.0, atol=1e-6)
    np.testing.assert_allclose(gray[labels == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(ab, vocab.ISOLUMINANT_LAB[labels][..., 1:] / 110.0, atol=1e-6)


def test_ellipse_and_circle_pixel_counts_match_brute_force(default_batch):
    counts = (_cells(default_batch["labels"]) > 0).sum(axis=(2, 3))  # [batch, 9]
    shapes = default_batch["cell_shapes"]
    fat, thin = (CELL // 3, CELL // 6), (CELL // 6, CELL // 3)
    expected = {
        "half fat ellipse": {_ellipse_reference(*fat, lower_half_only=True)},
        "fat ellipse": {_ellipse_reference(*fat)},
        "thin ellipse": {_ellipse_reference(*thin)},
        "half thin ellipse": {_ellipse_reference(*thin, lower_half_only=True)},
        "circle": {_ellipse_reference(r, r) for r in (4, 5, 6)},  # radius floor(U(.3, .4) * 16)
    }
    for name, allowed in expected.items():
        observed = set(counts[shapes == vocab.SHAPE_NAMES.index(name)].tolist())
        assert observed <= allowed and observed, (name, observed, allowed)
    circle_counts = counts[shapes == vocab.SHAPE_NAMES.index("circle")]
    assert set(circle_counts.tolist()) == {49, 81, 113}


def _rasterize_one(shape_name, slots):
    shapes = tf.constant([[vocab.SHAPE_NAMES.index(shape_name)] * 9])
    coordinates = tf.constant([[slots + [0] * (8 - len(slots))] * 9], tf.int32)
    return cosal.rasterize_cells(shapes, coordinates, CELL).numpy()[0, 0]


def test_rasterised_shapes_match_hand_references():
    row, col = np.mgrid[0:CELL, 0:CELL]
    circle = _rasterize_one("circle", [7, 8, 5])
    np.testing.assert_array_equal(circle, (col - 7) ** 2 + (row - 8) ** 2 <= 25)
    rectangle = _rasterize_one("rectangle", [2, 3, 12, 11])
    np.testing.assert_array_equal(rectangle, (col >= 2) & (col <= 12) & (row >= 3) & (row <= 11))
    half = _rasterize_one("half thin ellipse", [8, 7])
    np.testing.assert_array_equal(half, (25 * (col - 8) ** 2 + 4 * (row - 7) ** 2 <= 100) & (row >= 7))
    # Triangle (4, 12), (12, 12), (8, 4): apex up, sides of slope 2; pixels on the boundary are inside.
    triangle = _rasterize_one("triangle", [4, 12, 12, 12, 8, 4])
    np.testing.assert_array_equal(triangle, (row <= 12) & (2 * np.abs(col - 8) <= row - 4))
    # Reverse triangle (4, 4), (12, 4), (8, 12): apex down.
    reverse = _rasterize_one("reverse triangle", [4, 4, 12, 4, 8, 12])
    np.testing.assert_array_equal(reverse, (row >= 4) & (2 * np.abs(col - 8) <= 12 - row))
    # Diamond slots: left (3, 8), right (13, 8), top (8, 3), bottom (8, 13): |dx| + |dy| <= 5.
    diamond = _rasterize_one("diamond", [3, 8, 13, 8, 8, 3, 8, 13])
    np.testing.assert_array_equal(diamond, np.abs(col - 8) + np.abs(row - 8) <= 5)


# --- captions ---------------------------------------------------------------------------------------------
def _check_captions(out, config):
    """Decodes and checks the meaning and the order of every sentence of every caption."""
    tokens, cells = out["tokens"], out["sentence_cells"]
    shapes, colours = out["cell_shapes"], out["cell_colours"]
    batch = np.arange(len(tokens))
    nd = config.num_direct
    direct = cells[:, :nd, 0]
    assert all(len(set(row)) == nd for row in direct.tolist())
    np.testing.assert_array_equal(cells[:, :nd, 0], cells[:, :nd, 1])
    np.testing.assert_array_equal(tokens[:, :nd, 0], shapes[batch[:, None], direct])
    assert np.all(tokens[:, :nd, 1] == vocab.IS_ID)
    np.testing.assert_array_equal(tokens[:, :nd, 2], colours[batch[:, None], direct] + vocab.FIRST_COLOUR_ID)

    known = np.zeros((len(tokens), 9), bool)
    known[batch[:, None], direct[:, :1] if config.legacy_captions else direct] = True
    described = np.zeros_like(known)
    described[batch[:, None], direct] = True
    offsets = {vocab.BELOW_ID: (1, 0), vocab.ABOVE_ID: (-1, 0), vocab.RIGHT_ID: (0, 1), vocab.LEFT_ID: (0, -1)}
    for sentence in range(nd, 9):
        target, reference = cells[:, sentence, 0], cells[:, sentence, 1]
        colour, relation, shape = tokens[:, sentence].T
        assert np.all(known[batch, reference]) and not np.any(known[batch, target])
        np.testing.assert_array_equal(colour, colours[batch, target] + vocab.FIRST_COLOUR_ID)
        np.testing.assert_array_equal(shape, shapes[batch, reference])
        d_row = np.array([offsets[r][0] for r in relation])
        d_col = np.array([offsets[r][1] for r in relation])
        np.testing.assert_array_equal(target // 3, reference // 3 + d_row)
        np.testing.assert_array_equal(target % 3, reference % 3 + d_col)
        known[batch, target] = described[batch, target] = True
    np.testing.assert_array_equal(out["determined"], described)
    # The decoded text round-trips.
    text = vocab.decode_caption(tokens[0])
    np.testing.assert_array_equal(vocab.encode_caption(text), tokens[0])


def test_caption_semantics_and_order(default_batch):
    _check_captions(default_batch, cosal.CosalConfig())


@pytest.mark.parametrize("num_direct", [1, 4, 9])
@pytest.mark.parametrize("legacy", [False, True])
def test_caption_semantics_for_other_settings(num_direct, legacy):
    config = cosal.CosalConfig(num_direct=num_direct, legacy_captions=legacy)
    _check_captions(_generate(config, num=300), config)


def test_default_captions_determine_every_cell(default_batch):
    assert default_batch["determined"].sum(axis=1).mean() == 9.0
    assert np.all(default_batch["determined"])


@pytest.mark.parametrize("num_direct", sorted(RELEASED_CODE_COVERAGE))
def test_legacy_caption_coverage_matches_the_released_code(num_direct):
    out = _generate(cosal.CosalConfig(num_direct=num_direct, legacy_captions=True), split="test")
    mean_determined = out["determined"].sum(axis=1).mean()
    assert abs(mean_determined - RELEASED_CODE_COVERAGE[num_direct]) < 0.15, mean_determined


# --- determinism and pipelines ----------------------------------------------------------------------------
def test_examples_do_not_depend_on_their_batch(default_batch):
    alone = _generate(cosal.CosalConfig(), num=1, first_id=17)
    for key, value in alone.items():
        np.testing.assert_array_equal(value[0], default_batch[key][17], err_msg=key)


def test_same_seed_same_batches_different_seed_different():
    config = cosal.CosalConfig(train_size=100)
    _datasets_equal(cosal.train_dataset(config, 8), cosal.train_dataset(config, 8), num_batches=2)
    first = next(iter(cosal.train_dataset(config, 8)))
    other = next(iter(cosal.train_dataset(cosal.CosalConfig(train_size=100, seed=1), 8)))
    assert not np.array_equal(first["labels"].numpy(), other["labels"].numpy())
    assert not np.array_equal(first["tokens"].numpy(), other["tokens"].numpy())


def test_start_step_resumes_exactly_across_epochs():
    config = cosal.CosalConfig(train_size=10)
    resumed = cosal.train_dataset(config, 4, start_step=3)
    _datasets_equal(resumed, cosal.train_dataset(config, 4).skip(3), num_batches=3)


def test_curriculum_stages_switch_captions_by_step_and_resume_exactly():
    config = cosal.CosalConfig(train_size=10, curriculum=((8, 2), (6, 3)))
    batches = list(cosal.train_dataset(config, 4).take(5))
    relations = [int(np.sum(batch["tokens"].numpy()[:, :, 1] != vocab.IS_ID) // 4) for batch in batches]
    assert relations == [1, 1, 3, 5, 5]  # 9 - num_direct relational sentences per caption
    plain = cosal.train_dataset(cosal.CosalConfig(train_size=10, num_direct=6), 4)
    _datasets_equal(cosal.train_dataset(config, 4).skip(2).take(1), plain.skip(2), num_batches=1)
    for start in (1, 3):  # inside the first stage (crossing both switches), and in the last stage
        _datasets_equal(cosal.train_dataset(config, 4, start_step=start), cosal.train_dataset(config, 4).skip(start),
                        num_batches=2 if start == 3 else 3)


def test_training_epochs_are_reshuffled_permutations():
    config = cosal.CosalConfig(train_size=10)
    ids = np.concatenate([b["example_id"].numpy() for b in cosal.train_dataset(config, 5).take(4)])
    for epoch in ids.reshape(2, 10):
        assert sorted(epoch.tolist()) == list(range(10))
    assert not np.array_equal(ids[:10], ids[10:])
    endless = cosal.CosalConfig(train_size=0)
    ids = next(iter(cosal.train_dataset(endless, 6, start_step=2)))["example_id"].numpy()
    np.testing.assert_array_equal(ids, np.arange(12, 18))


def test_train_and_test_streams_are_disjoint(default_batch):
    config = cosal.CosalConfig(test_size=NUM_SAMPLES)
    test = [b for b in cosal.test_dataset(config, 500).as_numpy_iterator()]
    test_labels = np.concatenate([b["labels"] for b in test])
    test_tokens = np.concatenate([b["tokens"] for b in test])
    train_keys = {l.tobytes() + t.tobytes() for l, t in zip(default_batch["labels"], default_batch["tokens"])}
    test_keys = {l.tobytes() + t.tobytes() for l, t in zip(test_labels, test_tokens)}
    assert len(train_keys) == len(test_keys) == NUM_SAMPLES
    assert not train_keys & test_keys


def test_test_dataset_is_finite_ordered_and_keeps_the_remainder():
    config = cosal.CosalConfig(test_size=10)
    batches = list(cosal.test_dataset(config, 4).as_numpy_iterator())
    assert [len(b["example_id"]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b["example_id"] for b in batches]), np.arange(10))
    expected = _generate(config, split="test", num=10)
    np.testing.assert_array_equal(np.concatenate([b["tokens"] for b in batches]), expected["tokens"])
