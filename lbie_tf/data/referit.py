"""ReferIt input pipelines from the prepared TFDS dataset (`datasets/referit`): one example per expression.

Model view of an expression (as the segmenter and `SegmentationTask` take it):
    image       uint8 `[S, S, 3]`   the photo letterboxed to S × S (Hu et al.'s resize_and_pad; the VGG mean
                                      is subtracted by the encoder's first layer)
    tokens      int32 `[20]`        word ids, left-padded with <pad> = 0
    labels      int32 `[S, S]`      1 = object: the mask letterboxed the same way (bilinear), then > 0
    example_id  int64 `[]`          position in the stream (keys the termination-training noise)
The evaluation view adds the ground truth at the original resolution, `mask` bool `[h, w]` (padded to the
largest image of a batch), and `height`, `width`, so that predictions are compared where Hu et al. compare
them (`lbie_tf.evaluation.segmentation_metrics.ReferitScore`).
"""

from __future__ import annotations

import glob
import os

import tensorflow as tf
import tensorflow_datasets as tfds

from lbie_tf.configs.referit import ReferitConfig  # noqa: F401 (part of this module's API)
from lbie_tf.data import referit_source
from lbie_tf.data.batch_shard import WHOLE_BATCH, BatchShard
from lbie_tf.data.letterbox import letterbox
from lbie_tf.errors import ConfigError, DataError

DATASET_NAME = "referit"
CLASS_NAMES = ("rest", "object")
PALETTE = ((0, 0, 0), (255, 255, 255))


def prepared_dir(data_dir: str) -> str | None:
    """The newest prepared version directory `data_dir/referit/<version>`, or None."""
    versions = [p for p in glob.glob(os.path.join(data_dir, DATASET_NAME, "*.*.*"))
                if os.path.isfile(os.path.join(p, "dataset_info.json"))]
    return max(versions, key=lambda p: tuple(int(x) for x in os.path.basename(p).split("."))) if versions else None


def prepare(config: ReferitConfig) -> str:
    """Make sure `config.data_dir` holds the prepared dataset (building it from `manual_dir` if needed);
    returns its version directory."""
    if not config.data_dir:
        raise ConfigError("ReferitConfig.data_dir is required: the TFDS data directory with (or for) the prepared "
                          "ReferIt")
    found = prepared_dir(config.data_dir)
    if found:
        return found
    if not config.manual_dir:
        raise DataError(f"{config.data_dir} holds no prepared ReferIt ({DATASET_NAME}/<version>/); pass "
                        f"ReferitConfig.manual_dir=<text_objseg>/exp-referit to prepare it there, or run `python -m "
                        f"lbie_tf.cli.prepare_referit --manual_dir=... --data_dir={config.data_dir}`")
    referit_source.check_layout(config.manual_dir)
    builder_class(data_dir=config.data_dir).download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=config.manual_dir))
    return prepared_dir(config.data_dir)


def builder_class(**kwargs):
    """An instance of the ReferIt TFDS builder (`lbie_tf.data.builders.referit`, which `tfds build
    datasets/referit` runs)."""
    from lbie_tf.data.builders import referit as builder_module

    return builder_module.Referit(**kwargs)


def _objects(config: ReferitConfig, split: str):
    """(per-object dataset with images and masks still encoded, the feature connectors)."""
    builder = tfds.builder_from_directory(prepare(config))
    if split not in builder.info.splits:
        raise DataError(f"the prepared ReferIt in {config.data_dir} has no split {split!r}")
    features = builder.info.features
    objects = builder.as_dataset(split=split, shuffle_files=False, decoders={
        "image": tfds.decode.SkipDecoding(), "mask": tfds.decode.SkipDecoding()})
    return objects, features


def _expressions(objects: tf.data.Dataset) -> tf.data.Dataset:
    """Per-object examples → per-expression examples (image and mask still encoded)."""
    def expand(example):
        count = tf.shape(example["tokens"])[0]
        shared = {key: tf.repeat(example[key][None], count) for key in ("image", "mask", "object_id")}
        return tf.data.Dataset.from_tensor_slices({**shared, "tokens": example["tokens"],
                                                   "expression": example["expressions"]})
    return objects.flat_map(expand)


def _model_view(example, features, image_size: int, with_ground_truth: bool) -> dict:
    image = features["image"].decode_example(example["image"])
    mask = features["mask"].decode_example(example["mask"])[..., 0] > 0
    view = {
        "image": tf.cast(tf.round(tf.clip_by_value(letterbox(image, image_size), 0, 255)), tf.uint8),
        "tokens": example["tokens"],
        "labels": tf.cast(letterbox(tf.cast(mask, tf.float32)[..., None], image_size)[..., 0] > 0, tf.int32),
        "example_id": example["example_id"],
    }
    if with_ground_truth:
        view.update(mask=mask, height=tf.shape(mask)[0], width=tf.shape(mask)[1],
                    object_id=example["object_id"])
    return view


def _numbered(dataset: tf.data.Dataset) -> tf.data.Dataset:
    return dataset.enumerate().map(lambda index, example: {**example, "example_id": index})


def train_dataset(config: ReferitConfig, image_size: int, batch_size: int, start_step: int = 0,
                  shard: BatchShard = WHOLE_BATCH) -> tf.data.Dataset:
    """Endless shuffled training batches of `trainval` from step `start_step` on (the same batches as an
    uninterrupted run: the order depends only on `shuffle_seed`). With a `shard`, only that input pipeline's
    rows of each global batch are read (`lbie_tf.data.batch_shard`; batches of `shard.rows(batch_size)`)."""
    objects, features = _objects(config, "trainval")
    stream = _numbered(_expressions(objects).shuffle(config.shuffle_buffer, seed=config.shuffle_seed,
                                                     reshuffle_each_iteration=True).repeat())
    stream = shard.select(stream.skip(start_step * batch_size), batch_size, position=lambda e: e["example_id"])
    return (stream.map(lambda e: _model_view(e, features, image_size, False), num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=True)
            .batch(shard.rows(batch_size), drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE))


def eval_dataset(config: ReferitConfig, image_size: int, batch_size: int | None = None) -> tf.data.Dataset:
    """The evaluation split in order, every expression once (or the first `max_eval_expressions`); the
    original-resolution masks are padded to the largest of each batch."""
    objects, features = _objects(config, config.eval_split)
    stream = _numbered(_expressions(objects))
    if config.max_eval_expressions:
        stream = stream.take(config.max_eval_expressions)
    return (stream.map(lambda e: _model_view(e, features, image_size, True), num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=True)
            .padded_batch(batch_size or config.eval_batch_size)
            .prefetch(tf.data.AUTOTUNE))


def preview_examples(config: ReferitConfig, image_size: int, count: int = 4) -> dict:
    """The first `count` evaluation expressions in the model view, as numpy arrays (for image summaries)."""
    batch = next(iter(eval_dataset(config, image_size, count)))
    return {key: batch[key].numpy() for key in ("image", "tokens", "labels", "example_id")}
