"""The TFDS builder run for real on the fixture (`download_and_prepare` with a manual_dir into a tmp data_dir)
and the per-expression pipelines read from its output."""

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.data import referit
from lbie_tf.errors import ConfigError, DataError
from tests.data import referit_fixture
from tests.data.shard_check import assert_shards_rebuild_the_global_batches


def _config(referit_prepared, **overrides):
    return referit.ReferitConfig(data_dir=referit_prepared[1], **overrides)


def test_builder_output(referit_prepared):
    builder = referit.tfds.builder_from_directory(referit.prepared_dir(referit_prepared[1]))
    assert builder.info.splits["trainval"].num_examples == len(referit_fixture.TRAINVAL_OBJECTS)
    assert builder.info.splits["test"].num_examples == 3
    assert builder.info.metadata["vocabulary_size"] == len(referit_fixture.VOCABULARY)
    objects = {e["object_id"].numpy().decode(): e for e in builder.as_dataset(split="trainval")}
    assert sorted(objects) == referit_fixture.TRAINVAL_OBJECTS
    grey = objects["3_1"]
    assert grey["image"].shape == (32, 32, 3) and grey["mask"].shape == (32, 32, 1)
    assert int(tf.reduce_sum(tf.cast(grey["mask"], tf.int32))) == 16 * 16
    assert objects["4_1"]["image"].shape == (24, 36, 3)  # CMYK converted


def test_training_batches(referit_prepared):
    config = _config(referit_prepared, shuffle_buffer=4)
    first = [next(iter(referit.train_dataset(config, 64, batch_size=3))) for _ in range(2)]
    batch = first[0]
    assert batch["image"].shape == (3, 64, 64, 3) and batch["image"].dtype == tf.uint8
    assert batch["tokens"].shape == (3, 20) and batch["labels"].shape == (3, 64, 64)
    assert set(np.unique(batch["labels"])) <= {0, 1} and int(tf.reduce_sum(batch["labels"])) > 0
    np.testing.assert_array_equal(batch["example_id"], [0, 1, 2])
    np.testing.assert_array_equal(first[0]["tokens"], first[1]["tokens"])  # seeded order
    # Resuming at step 2 yields what an uninterrupted run yields after 2 batches (past one epoch of 8).
    stream = iter(referit.train_dataset(config, 64, batch_size=3))
    uninterrupted = [next(stream) for _ in range(4)]
    resumed = next(iter(referit.train_dataset(config, 64, batch_size=3, start_step=2)))
    np.testing.assert_array_equal(resumed["tokens"], uninterrupted[2]["tokens"])
    np.testing.assert_array_equal(resumed["example_id"], [6, 7, 8])


def test_evaluation_batches_keep_the_original_masks(referit_prepared):
    batches = list(referit.eval_dataset(_config(referit_prepared, eval_batch_size=3), 64))
    assert sum(int(b["image"].shape[0]) for b in batches) == referit_fixture.TEST_EXPRESSIONS
    for batch in batches:
        for i in range(int(batch["image"].shape[0])):
            h, w = int(batch["height"][i]), int(batch["width"][i])
            assert (h, w) in {(36, 48), (40, 60)}
            assert batch["mask"][i, :h, :w].numpy().any() and not batch["mask"][i, h:].numpy().any()
    limited = list(referit.eval_dataset(_config(referit_prepared, max_eval_expressions=2), 64, 5))
    assert int(limited[0]["image"].shape[0]) == 2


def test_missing_prepared_data_and_bad_config(tmp_path):
    with pytest.raises(DataError, match="holds no prepared ReferIt.*lbie_tf.cli.prepare_referit"):
        referit.prepare(referit.ReferitConfig(data_dir=str(tmp_path)))
    with pytest.raises(ConfigError, match="ReferitConfig.data_dir is required"):
        referit.prepare(referit.ReferitConfig())
    with pytest.raises(DataError, match="referit-dataset/images is missing"):
        referit.prepare(referit.ReferitConfig(data_dir=str(tmp_path), manual_dir=str(tmp_path)))
    with pytest.raises(ConfigError, match="ReferitConfig.eval_split='val'"):
        referit.ReferitConfig(eval_split="val")


def test_each_input_pipeline_reads_only_its_rows_of_every_global_batch(referit_prepared):
    config = _config(referit_prepared, shuffle_buffer=4)
    assert_shards_rebuild_the_global_batches(
        lambda start, shard: referit.train_dataset(config, 64, 4, start, shard), global_batch=4, count=2, steps=3,
        start_step=1)  # crosses the epoch boundary at expression 8
