"""ReferIt input pipelines from the prepared TFDS dataset (`datasets/referit`): one example per expression.

Model view of an expression (as the segmenter and `SegmentationTask` take it):
    image       uint8 `[S, S, 3]`   the photo letterboxed to S × S (Hu et al.'s resize_and_pad; the VGG mean
                                      is subtracted by the encoder's first layer)
    tokens      int32 `[20]`        word ids, left-padded with <pad> = 0
    labels      int32 `[S, S]`      1 = object: the mask letterboxed the same way (bilinear), then > 0
    example_id  int64 `[]`          position in the stream (keys the termination-training noise)
The evaluation view adds the ground truth at the original resolution, `mask` bool `[h, w]` (padded to the
largest image of a batch), and `height`, `width`, so that predictions are compared where Hu et al. compare
them (`lbie_tf.metrics.ReferitScore`).
"""

from __future__ import annotations

import dataclasses
import glob
import importlib.util
import os
import sys

import tensorflow as tf
import tensorflow_datasets as tfds

from lbie_tf.data import referit_source
from lbie_tf.data.letterbox import letterbox
from lbie_tf.errors import ConfigError, DataError

DATASET_NAME = "referit"
BUILDER_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "datasets", "referit", "referit_dataset_builder.py")
_BUILDER_MODULE = "referit_dataset_builder"
CLASS_NAMES = ("rest", "object")
PALETTE = ((0, 0, 0), (255, 255, 255))


@dataclasses.dataclass(frozen=True)
class ReferitConfig:
    """Data and initialisation of a ReferIt run.

    Attributes:
        data_dir: TFDS data directory holding the prepared `referit` dataset (`python -m
            lbie_tf.cli.prepare_referit --manual_dir=... --data_dir=...`).
        manual_dir: text_objseg's `exp-referit/` folder; when given and `data_dir` holds no prepared ReferIt,
            it is prepared there first.
        vgg_weights: initial VGG-16 weights: a local keras.applications notop file (.h5 / .weights.h5),
            "imagenet" (downloaded by Keras: only when asked), or empty for random initialisation.
        shuffle_buffer: expressions in the training shuffle buffer.
        shuffle_seed: seed of the training order (the same seed gives the same batches, also on resume).
        eval_split: split evaluated after training: "test" (Hu et al.'s, 60,105 expressions) or "trainval".
        eval_batch_size: expressions per evaluation batch.
        max_eval_expressions: evaluate only the first n expressions of the split (0 = all).
    """

    data_dir: str = ""
    manual_dir: str = ""
    vgg_weights: str = ""
    shuffle_buffer: int = 2000
    shuffle_seed: int = 0
    eval_split: str = "test"
    eval_batch_size: int = 16
    max_eval_expressions: int = 0

    def __post_init__(self):
        if self.eval_split not in referit_source.SPLITS:
            raise ConfigError(f"--eval_split={self.eval_split!r} is not one of {', '.join(referit_source.SPLITS)}")
        for name in ("shuffle_buffer", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if self.max_eval_expressions < 0:
            raise ConfigError(f"--max_eval_expressions must be >= 0, got {self.max_eval_expressions}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def prepared_dir(data_dir: str) -> str | None:
    """The newest prepared version directory `data_dir/referit/<version>`, or None."""
    versions = [p for p in glob.glob(os.path.join(data_dir, DATASET_NAME, "*.*.*"))
                if os.path.isfile(os.path.join(p, "dataset_info.json"))]
    return max(versions, key=lambda p: tuple(int(x) for x in os.path.basename(p).split("."))) if versions else None


def prepare(config: ReferitConfig) -> str:
    """Make sure `config.data_dir` holds the prepared dataset (building it from `manual_dir` if needed);
    returns its version directory."""
    if not config.data_dir:
        raise ConfigError("--data_dir is required: the TFDS data directory with (or for) the prepared ReferIt")
    found = prepared_dir(config.data_dir)
    if found:
        return found
    if not config.manual_dir:
        raise DataError(f"{config.data_dir} holds no prepared ReferIt ({DATASET_NAME}/<version>/); pass "
                        f"--manual_dir=<text_objseg>/exp-referit to prepare it there, or run `python -m "
                        f"lbie_tf.cli.prepare_referit --manual_dir=... --data_dir={config.data_dir}`")
    referit_source.check_layout(config.manual_dir)
    builder_class(data_dir=config.data_dir).download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=config.manual_dir))
    return prepared_dir(config.data_dir)


def builder_class(**kwargs):
    """An instance of the TFDS builder in `datasets/referit/` (the file `tfds build` runs)."""
    module = sys.modules.get(_BUILDER_MODULE)
    if module is None:
        if not os.path.isfile(BUILDER_FILE):
            raise DataError(f"the ReferIt dataset builder {BUILDER_FILE} is missing: prepare the data from a "
                            f"checkout of the lbie-tf repository (it holds datasets/referit/)")
        spec = importlib.util.spec_from_file_location(_BUILDER_MODULE, BUILDER_FILE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[_BUILDER_MODULE] = module  # TFDS looks its module up by name
        with tfds.core.registered.skip_registration():
            spec.loader.exec_module(module)
    return module.Builder(**kwargs)


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


def train_dataset(config: ReferitConfig, image_size: int, batch_size: int, start_step: int = 0) -> tf.data.Dataset:
    """Endless shuffled training batches of `trainval` from step `start_step` on (the same batches as an
    uninterrupted run: the order depends only on `shuffle_seed`)."""
    objects, features = _objects(config, "trainval")
    stream = _numbered(_expressions(objects).shuffle(config.shuffle_buffer, seed=config.shuffle_seed,
                                                     reshuffle_each_iteration=True).repeat())
    return (stream.skip(start_step * batch_size)
            .map(lambda e: _model_view(e, features, image_size, False), num_parallel_calls=tf.data.AUTOTUNE,
                 deterministic=True)
            .batch(batch_size, drop_remainder=True)
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
