"""Tests for CoSaL's training-stream options `num_direct_mixture` and `augment` (lbie_tf.data.cosal and
lbie_tf.data.cosal_augmentation)."""

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.data import cosal, cosal_augmentation
from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.data.batch_shard import BatchShard
from lbie_tf.errors import ConfigError
from tests.data.shard_check import assert_shards_rebuild_the_global_batches

NUM = 600
MIXTURE = (4, 4, 6, 8)


def _generate(config, split="train", num=NUM):
    return {key: value.numpy() for key, value in cosal.generate(tf.range(num, dtype=tf.int64), config, split).items()}


def _num_direct(tokens):
    return np.sum(tokens[..., 1] == vocab.IS_ID, axis=-1)


def test_mixture_draws_each_examples_num_direct_with_the_given_weights():
    config = cosal.CosalConfig(num_direct_mixture=MIXTURE)
    out = _generate(config)
    counts = {n: int(np.sum(_num_direct(out["tokens"]) == n)) for n in (1, 2, 3, 4, 5, 6, 7, 8, 9)}
    assert set(n for n, c in counts.items() if c) == {4, 6, 8}
    assert abs(counts[4] / NUM - 0.5) < 0.07 and abs(counts[6] / NUM - 0.25) < 0.06, counts
    # Each example's caption is exactly the one a fixed num_direct generates for it.
    for n in (4, 6, 8):
        fixed = _generate(cosal.CosalConfig(num_direct=n))
        rows = _num_direct(out["tokens"]) == n
        for key in ("tokens", "sentence_cells", "determined", "labels", "sketch"):
            np.testing.assert_array_equal(out[key][rows], fixed[key][rows], err_msg=key)


def test_mixture_leaves_the_test_split_and_the_curriculum_stages_alone():
    plain, mixed = cosal.CosalConfig(num_direct=6), cosal.CosalConfig(num_direct=6, num_direct_mixture=MIXTURE)
    for key, value in _generate(plain, "test", 50).items():
        np.testing.assert_array_equal(value, _generate(mixed, "test", 50)[key], err_msg=key)
    config = cosal.CosalConfig(train_size=0, num_direct_mixture=(8,), curriculum=((4, 2),))
    batches = [b["tokens"].numpy() for b in cosal.train_dataset(config, 16).take(3)]
    assert [set(_num_direct(t)) for t in batches] == [{4}, {4}, {8}]


@pytest.mark.parametrize("bad", [(0,), (4, 10)])
def test_mixture_values_are_checked(bad):
    with pytest.raises(ConfigError, match="num_direct_mixture"):
        cosal.CosalConfig(num_direct_mixture=bad)


def test_augmentation_off_is_the_exact_generator_and_never_touches_the_test_split():
    augmented = cosal.CosalConfig(augment=True)
    for key, value in _generate(cosal.CosalConfig(), "test", 50).items():
        np.testing.assert_array_equal(value, _generate(augmented, "test", 50)[key], err_msg=key)
    train_plain, train_augmented = _generate(cosal.CosalConfig(), num=50), _generate(augmented, num=50)
    assert not np.array_equal(train_plain["sketch"], train_augmented["sketch"])
    np.testing.assert_array_equal(train_plain["tokens"], train_augmented["tokens"])  # the caption is kept


def test_augmented_sketches_keep_their_labels():
    out = _generate(cosal.CosalConfig(augment=True))
    ink = 255.0 - out["sketch"][..., 0]
    inside = out["labels"] > 0
    # Labels follow the moved, re-stroked and toned shapes: thresholded at half of each sketch's darkest ink, the
    # sketch agrees with its labels except where JPEG noise moved an edge pixel across half ink.
    half_ink = ink >= 0.5 * ink.max(axis=(1, 2), keepdims=True)
    assert np.mean(half_ink == inside) > 0.99, np.mean(half_ink == inside)  # measured 0.996; shapes cover ~20 %
    # The sketch is no longer binary (anti-aliased edges, ink level, JPEG) but stays grey: R = G = B.
    assert np.mean((out["sketch"] > 0) & (out["sketch"] < 255)) > 0.05
    np.testing.assert_array_equal(out["sketch"][..., 0], out["sketch"][..., 2])
    # Every shape is still there, in its own cell, with the cell's colour.
    cells = out["labels"].reshape(NUM, 3, 16, 3, 16).transpose(0, 1, 3, 2, 4).reshape(NUM, 9, -1)
    present = cells.max(axis=-1)
    assert np.mean(present == out["cell_colours"] + 1) > 0.99
    np.testing.assert_array_equal(np.where(present > 0, present - 1, out["cell_colours"]), out["cell_colours"])


def test_augmented_stream_is_deterministic_and_resumes_exactly():
    config = cosal.CosalConfig(train_size=10, augment=True, num_direct_mixture=MIXTURE)
    first = list(cosal.train_dataset(config, 4).take(4))
    again = list(cosal.train_dataset(config, 4, start_step=2).take(2))
    for a, b in zip(first[2:], again):
        for key in a:
            np.testing.assert_array_equal(a[key].numpy(), b[key].numpy(), err_msg=key)


def test_move_shapes_is_the_identity_without_scale_and_shift(monkeypatch):
    masks = _generate(cosal.CosalConfig(), num=8)["labels"] > 0
    masks = masks.reshape(8, 3, 16, 3, 16).transpose(0, 1, 3, 2, 4).reshape(8, 9, 16, 16)
    monkeypatch.setattr(cosal_augmentation, "SCALE_RANGE", (1.0, 1.0))
    monkeypatch.setattr(cosal_augmentation, "SHIFT_FRACTION", 0.0)
    coverage = cosal_augmentation.move_shapes(tf.constant(masks), tf.range(8, dtype=tf.int64), seed=0).numpy()
    np.testing.assert_array_equal(coverage, masks.astype(np.float32))
    monkeypatch.setattr(cosal_augmentation, "SCALE_RANGE", (2.0, 2.0))  # twice the size about the centre
    grown = cosal_augmentation.move_shapes(tf.constant(masks), tf.range(8, dtype=tf.int64), seed=0).numpy()
    assert 1.5 < (grown >= 0.5).sum() / masks.sum() < 4.0


def test_change_stroke_grows_or_shrinks_whole_examples_and_never_erases_a_shape(monkeypatch):
    masks = _generate(cosal.CosalConfig(), num=8)["labels"] > 0
    masks = masks.reshape(8, 3, 16, 3, 16).transpose(0, 1, 3, 2, 4).reshape(8, 9, 16, 16).astype(np.float32)
    masks[:, 0] = 0.0
    masks[:, 0, 4:12, 8] = 1.0  # a one-pixel-wide line: thinning would erase it
    ids = tf.range(8, dtype=tf.int64)
    areas = {}
    for name, probabilities in (("thinner", (1.0, 0.0, 0.0)), ("same", (0.0, 1.0, 0.0)),
                                ("thicker", (0.0, 0.0, 1.0))):
        monkeypatch.setattr(cosal_augmentation, "STROKE_PROBABILITIES", probabilities)
        changed = cosal_augmentation.change_stroke(tf.constant(masks), ids, seed=0).numpy()
        areas[name] = (changed >= 0.5).sum(axis=(2, 3))  # [8, 9]
        assert (areas[name] > 0).all(), name  # every shape is still there
    np.testing.assert_array_equal(areas["same"], (masks >= 0.5).sum(axis=(2, 3)))
    np.testing.assert_array_equal(areas["thinner"][:, 0], areas["same"][:, 0])  # the line kept its width
    assert (areas["thinner"] <= areas["same"]).all()
    assert np.mean(areas["thinner"][:, 1:] < areas["same"][:, 1:]) > 0.8  # the thinnest shapes keep their width
    assert (areas["thicker"] > areas["same"]).all()
    monkeypatch.setattr(cosal_augmentation, "STROKE_PROBABILITIES", (0.5, 0.0, 0.5))
    ids = tf.range(64, dtype=tf.int64)
    many = np.tile(masks, (8, 1, 1, 1))
    grown = (cosal_augmentation.change_stroke(tf.constant(many), ids, seed=0).numpy() >= 0.5).sum(axis=(2, 3))
    grown = grown[:, 1:] > (many[:, 1:] >= 0.5).sum(axis=(2, 3))
    assert (grown.all(axis=1) | ~grown.any(axis=1)).all()  # one stroke change per example, all its cells
    assert 10 < grown[:, 0].sum() < 54  # both directions drawn


def test_tone_changes_edges_but_not_full_ink():
    coverage = tf.constant(np.tile(np.linspace(0.0, 1.0, 11, dtype=np.float32), (400, 11, 1)))
    ids = tf.range(400, dtype=tf.int64)
    sketch = cosal_augmentation.draw_sketch(cosal_augmentation.apply_tone(coverage, ids, seed=0), ids, seed=0)
    sketch = sketch.numpy()[..., 0]
    ink = 255.0 - sketch.astype(np.float32)
    relative = ink[:, 5, 5] / ink[:, 5, 10]  # half-covered pixel against a fully covered one, same example
    low, high = cosal_augmentation.TONE_RANGE
    # 0.5 ** tone over the tone range, widened for JPEG noise and rounding.
    assert 0.5**high - 0.08 < relative.min() < 0.5**high + 0.08 and 0.5**low - 0.08 < relative.max() < 1.0
    assert ink[:, 5, 0].max() < 30  # uncovered stays (nearly) white


@pytest.mark.parametrize("count", [2, 4])
def test_each_input_pipeline_generates_only_its_rows_of_every_global_batch(count):
    config = cosal.CosalConfig(augment=True, num_direct_mixture=MIXTURE, curriculum=((8, 3),))
    assert_shards_rebuild_the_global_batches(lambda start, shard: cosal.train_dataset(config, 8, start, shard),
                                             global_batch=8, count=count, steps=5, start_step=1)  # crosses a stage


def test_a_shard_needs_a_global_batch_it_divides():
    with pytest.raises(ConfigError, match="divisible"):
        cosal.train_dataset(cosal.CosalConfig(), 6, shard=BatchShard(0, 4))
    with pytest.raises(ConfigError, match="does not exist"):
        BatchShard(2, 2)
