"""Tests of the Flowers tf.data pipelines (lbie_tf.data.flowers) on a fixture built offline."""

import dataclasses
import logging

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.cli import flags as lbie_flags
from lbie_tf.data import color_space, flowers
from lbie_tf.errors import ConfigError, DataError
from tests.data.shard_check import assert_shards_rebuild_the_global_batches
from tests.datasets.flowers_fixture import (
    CLASS_COLOURS,
    CLASS_SPLIT,
    FIXTURE_CLASSES,
    UNKNOWN_CAPTION,
    fixture_captions,
    fixture_image,
    write_flowers_fixture,
)

IMAGES_PER_CLASS = 2
NUM_IMAGES = IMAGES_PER_CLASS * len(FIXTURE_CLASSES)
SIZE = 24
MAX_WORDS = 12


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    root = tmp_path_factory.mktemp("flowers_pipeline")
    manual = write_flowers_fixture(str(root), images_per_class=IMAGES_PER_CLASS)
    return flowers.FlowersConfig(data_dir=str(root / "data"), manual_dir=manual, image_size=SIZE,
                                 max_words=MAX_WORDS, seed=3)


def _class_of(image_number):
    return FIXTURE_CLASSES[(image_number - 1) % len(FIXTURE_CLASSES)]


def _numbers_in(split_names):
    return {n for n in range(1, NUM_IMAGES + 1) if CLASS_SPLIT[_class_of(n)] in split_names}


def _usable_pairs(numbers):
    """example ids of every (image, caption) pair the pipeline should produce for these images."""
    ids = set()
    for n in numbers:
        lines = [line for line in fixture_captions(n, NUM_IMAGES) if line]
        ids |= {n * 100 + i for i, line in enumerate(lines) if line != UNKNOWN_CAPTION}
    return ids


def _stream(dataset, batches):
    return [{k: v.numpy() for k, v in batch.items()} for batch in dataset.take(batches)]


def test_batches_have_the_agreed_keys_shapes_and_dtypes(config):
    batch = next(iter(flowers.train_dataset(config, batch_size=5)))
    expected = {"gray": ([5, SIZE, SIZE, 1], tf.float32), "ab": ([5, SIZE, SIZE, 2], tf.float32),
                "tokens": ([5, MAX_WORDS], tf.int32), "caption": ([5], tf.string), "example_id": ([5], tf.int64)}
    assert {k: (v.shape.as_list(), v.dtype) for k, v in batch.items()} == expected
    assert -1.0 <= batch["gray"].numpy().min() and batch["gray"].numpy().max() <= 1.0


def test_test_images_are_the_lab_of_the_photo(config):
    batches = _stream(flowers.test_dataset(config, batch_size=7), 10)
    for batch in batches:
        lab = np.concatenate([batch["gray"], batch["ab"]], axis=-1)
        rgb = color_space.lab_to_rgb(color_space.denormalize_lab(lab)).numpy()
        for image, example_id in zip(rgb, batch["example_id"]):
            reference = tf.image.resize(fixture_image(example_id // 100) / 255.0, [SIZE, SIZE], method="area")
            assert np.abs(image - reference.numpy()).mean() < 0.03  # JPEG noise only
            _, colour = CLASS_COLOURS[_class_of(example_id // 100)]
            np.testing.assert_allclose(image[SIZE // 2, SIZE // 2], np.array(colour) / 255.0, atol=0.08)


def test_test_split_is_every_usable_caption_of_the_test_classes_once(config, caplog):
    with caplog.at_level(logging.WARNING):
        batches = _stream(flowers.test_dataset(dataclasses.replace(config, seed=11), batch_size=16), 10)
    ids = np.concatenate([b["example_id"] for b in batches])
    assert [len(b["example_id"]) for b in batches] == [16, 16, 7]  # last batch smaller
    assert sorted(ids) == sorted(_usable_pairs(_numbers_in({"test"})))  # the all-unknown caption is skipped
    assert UNKNOWN_CAPTION.encode() not in np.concatenate([b["caption"] for b in batches])


def test_caption_report_counts_skipped_captions(config, caplog):
    report = flowers.caption_report(config)
    assert report["train"] == {"images": 8, "captions": 79, "skipped_no_known_word": 0, "truncated": 0}
    assert report["test"] == {"images": 4, "captions": 40, "skipped_no_known_word": 1, "truncated": 0}
    short = dataclasses.replace(config, max_words=4)
    flowers._examples.cache_clear()
    with caplog.at_level(logging.WARNING):
        assert flowers.caption_report(short)["train"]["truncated"] == 79
    assert any("skipped 1 of 40 captions with no known word" in r.getMessage() for r in caplog.records)


def test_one_training_epoch_is_every_training_pair_once(config):
    epoch = len(_usable_pairs(_numbers_in({"train", "val"})))
    assert epoch == 79
    ids = np.concatenate([b["example_id"] for b in _stream(flowers.train_dataset(config, batch_size=1), epoch)])
    assert sorted(ids) == sorted(_usable_pairs(_numbers_in({"train", "val"})))
    assert len({i // 100 for i in ids[:10]}) > 3  # shuffled, not the 10 captions of one image in a row


def test_one_caption_per_image_per_epoch(config):
    one = dataclasses.replace(config, captions="one_per_epoch")
    ids = np.concatenate([b["example_id"] for b in _stream(flowers.train_dataset(one, batch_size=4), 6)])
    first, second, third = ids[:8], ids[8:16], ids[16:24]
    for epoch in (first, second, third):
        assert sorted(epoch // 100) == sorted(_numbers_in({"train", "val"}))
    assert set(first % 100) | set(second % 100) | set(third % 100) != {0}
    assert not np.array_equal(first, second)


def test_resuming_continues_the_same_stream(config):
    flipped = dataclasses.replace(config, resize_size=SIZE + 8)
    full = _stream(flowers.train_dataset(flipped, batch_size=3), 40)  # crosses an epoch boundary (79)
    resumed = _stream(flowers.train_dataset(flipped, batch_size=3, start_step=25), 2)
    for a, b in zip(full[25:27], resumed):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    again = _stream(flowers.train_dataset(flipped, batch_size=3), 2)
    np.testing.assert_array_equal(again[1]["gray"], full[1]["gray"])
    other = _stream(flowers.train_dataset(dataclasses.replace(flipped, seed=4), batch_size=3), 2)
    assert not np.array_equal(other[0]["example_id"], full[0]["example_id"])


def _lab_of(image, size):
    """Network-scaled Lab `[size, size, 3]` of a uint8 photo resized (area) to size × size."""
    rgb = tf.image.resize(image / 255.0, [size, size], method="area")
    return color_space.normalize_lab(color_space.rgb_to_lab(rgb)).numpy()


def test_training_crops_come_from_the_resized_photo(config):
    cropping = dataclasses.replace(config, resize_size=2 * SIZE, random_flip=False)
    batch = _stream(flowers.train_dataset(cropping, batch_size=8), 1)[0]
    offsets = []
    for lab, example_id in zip(np.concatenate([batch["gray"], batch["ab"]], axis=-1), batch["example_id"]):
        resized = _lab_of(fixture_image(example_id // 100), 2 * SIZE)
        errors = {(i, j): np.abs(resized[i:i + SIZE, j:j + SIZE] - lab).mean()
                  for i in range(SIZE + 1) for j in range(SIZE + 1)}
        best = min(errors, key=errors.get)
        assert errors[best] < 0.05  # JPEG noise only
        uncropped = _lab_of(fixture_image(example_id // 100), SIZE)
        assert np.abs(uncropped - lab).mean() > 4 * errors[best]  # not the uncropped photo
        offsets.append(best)
    assert len(set(offsets)) > 1


def test_random_flips(config):
    unflipped = _stream(flowers.train_dataset(dataclasses.replace(config, random_flip=False), batch_size=32), 1)[0]
    flipped_any = _stream(flowers.train_dataset(config, batch_size=32), 1)[0]
    np.testing.assert_array_equal(unflipped["example_id"], flipped_any["example_id"])
    same = [np.array_equal(a, b) for a, b in zip(unflipped["gray"], flipped_any["gray"])]
    mirrored = [np.allclose(a[:, ::-1], b) for a, b in zip(unflipped["gray"], flipped_any["gray"])]
    assert all(s or m for s, m in zip(same, mirrored)) and 0 < sum(same) < 32


def test_vocabulary_comes_from_training_captions(config):
    vocabulary = flowers.vocabulary(config)
    assert vocabulary[:2] == ["<pad>", "<unk>"] and len(set(vocabulary)) == len(vocabulary)
    assert {"red", "yellow", "blue", "purple", "petals"} <= set(vocabulary)
    assert "orange" not in vocabulary and "pink" not in vocabulary  # test-class colours only
    assert vocabulary[2] == "petals"  # most frequent first
    rare = flowers.vocabulary(dataclasses.replace(config, min_word_count=21))  # each colour word occurs <= 20 times
    assert set(rare) < set(vocabulary) and "purple" not in rare


def test_tokens_are_the_caption_words(config):
    vocabulary = flowers.vocabulary(config)
    batch = _stream(flowers.test_dataset(config, batch_size=40), 1)[0]
    for caption, tokens in zip(batch["caption"], batch["tokens"]):
        words = flowers.caption_words(caption.decode())[:MAX_WORDS]
        expected = [vocabulary.index(w) if w in vocabulary else 1 for w in words]
        assert list(tokens) == expected + [0] * (MAX_WORDS - len(words))
    assert (batch["tokens"] == 1).any()  # "orange" / "pink" are unknown in the test classes


def test_caption_words_of_both_tokenizers():
    assert flowers.caption_words("This red-ish flower, has 5 petals.") == ["this", "red", "ish", "flower", "has",
                                                                          "5", "petals"]
    assert flowers.caption_words("This red-ish flower.", "released") == ["This", "red", "-", "ish", "flower", "."]


def test_paper_five_captions_per_image(config):
    five = dataclasses.replace(config, captions_per_image=5)
    assert flowers.caption_report(five)["train"]["captions"] == 8 * 5
    ids = np.concatenate([b["example_id"] for b in _stream(flowers.test_dataset(five, batch_size=64), 1)])
    assert len(ids) == 4 * 5 and (ids % 100).max() == 4


def test_official_split_scheme(config):
    official = dataclasses.replace(config, split_scheme="official")
    report = flowers.caption_report(official)
    assert report["train"]["images"] == 8 and report["test"]["images"] == 4


def test_every_config_field_has_flag_help():
    helps = lbie_flags._attribute_help(flowers.FlowersConfig)
    assert set(helps) == {field.name for field in dataclasses.fields(flowers.FlowersConfig)}


def test_bad_configs_and_missing_data(tmp_path):
    with pytest.raises(ConfigError, match="FlowersConfig.data_dir"):
        flowers.FlowersConfig()
    with pytest.raises(ConfigError, match="split_scheme"):
        flowers.FlowersConfig(data_dir="x", split_scheme="random")
    with pytest.raises(ConfigError, match="resize_size"):
        flowers.FlowersConfig(data_dir="x", image_size=64, resize_size=32)
    with pytest.raises(DataError, match="--manual_dir"):
        flowers.load_builder(flowers.FlowersConfig(data_dir=str(tmp_path)))


def test_each_input_pipeline_reads_only_its_rows_of_every_global_batch(config):
    flipped = dataclasses.replace(config, resize_size=SIZE + 8)
    assert_shards_rebuild_the_global_batches(
        lambda start, shard: flowers.train_dataset(flipped, 4, start, shard), global_batch=4, count=2, steps=3,
        start_step=19)  # crosses the epoch boundary at example 79
