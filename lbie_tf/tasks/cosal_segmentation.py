"""CoSaL segmentation runs: the generated data wired into `SegmentationTask` and the shared `Trainer`.

Used by `train_segmentation.py`, `make demo`, the benchmarks and the tests, so they all train the same way.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import tensorflow as tf

from lbie_tf.configs import SegmenterConfig, TrainingConfig
from lbie_tf.data import cosal, cosal_vocabulary
from lbie_tf.data.batch_shard import WHOLE_BATCH, BatchShard
from lbie_tf.errors import ConfigError
from lbie_tf.tasks.segmentation import SegmentationTask
from lbie_tf.training.trainer import Trainer
from lbie_tf.visualization.figures import (
    colorize_labels,
    save_example_figure,
    stop_step_image,
)

CLASS_NAMES = ("background",) + tuple(cosal_vocabulary.COLOUR_NAMES)


def segmentation_view(batch: dict) -> dict:
    """The fields a segmenter needs from a CoSaL batch: the sketch as `image`, tokens, labels, example ids."""
    return {"image": batch["sketch"], "tokens": batch["tokens"], "labels": batch["labels"],
            "example_id": batch["example_id"]}


def train_batches(data: cosal.CosalConfig, batch_size: int, start_step: int = 0,
                  shard: BatchShard = WHOLE_BATCH) -> tf.data.Dataset:
    """Endless global batches (or `shard`'s rows of them) of the training stream from `start_step` on."""
    return cosal.train_dataset(data, batch_size, start_step=start_step, shard=shard).map(segmentation_view)


def test_batches(data: cosal.CosalConfig, batch_size: int) -> tf.data.Dataset:
    """The held-out test stream, batched."""
    return cosal.test_dataset(data, batch_size).map(segmentation_view)


def curve_batches(data: cosal.CosalConfig, size: int, batch_size: int) -> tf.data.Dataset:
    """The first `size` test examples (at most the whole test split), batched: the learning-curve stream."""
    return test_batches(dataclasses.replace(data, test_size=min(size, data.test_size)), batch_size)


def preview_examples(data: cosal.CosalConfig, count: int = 4) -> dict:
    """The first `count` test examples in the segmentation view, as numpy arrays (fixed images for
    summaries and figures)."""
    batch = next(iter(test_batches(data, count)))
    return {key: value.numpy() for key, value in batch.items()}


def describe_caption(tokens) -> str:
    """A CoSaL caption's tokens `[9, 3]` as text: "1. circle is red  2. ..."."""
    return "  ".join(f"{i + 1}. {sentence}" for i, sentence in enumerate(cosal_vocabulary.decode_caption(tokens)))


def check_compatible(model: SegmenterConfig, data: cosal.CosalConfig) -> None:
    """Refuse model and data settings that cannot work together, with a one-line message."""
    if model.image_size != data.image_size:
        raise ConfigError(f"SegmenterConfig.image_size={model.image_size} but CoSaL images are {data.image_size} "
                          f"pixels")
    if model.vocab_size != len(cosal_vocabulary.VOCABULARY):
        raise ConfigError(f"SegmenterConfig.vocab_size={model.vocab_size} but the CoSaL vocabulary has "
                          f"{len(cosal_vocabulary.VOCABULARY)} words")
    if model.num_classes != cosal_vocabulary.NUM_CLASSES:
        raise ConfigError(f"SegmenterConfig.num_classes={model.num_classes} but CoSaL has "
                          f"{cosal_vocabulary.NUM_CLASSES} colour classes")


def training_stream_settings(data: cosal.CosalConfig) -> dict:
    """The data settings that decide the training batches (all but the test split's size), stored with a run so
    that resuming it with other data is refused."""
    settings = dataclasses.asdict(data)
    del settings["test_size"]
    return settings


def make_trainer(model: SegmenterConfig, training: TrainingConfig, data: cosal.CosalConfig, model_dir: str,
                 strategy: tf.distribute.Strategy, eval_batch_size: int = 250, log=print,
                 progress_stream=sys.stderr, previews: int = 4) -> Trainer:
    """A `Trainer` for a CoSaL segmentation run."""
    check_compatible(model, data)
    task = SegmentationTask(model, training, CLASS_NAMES, cosal_vocabulary.RGB_PALETTE,
                            training_data=training_stream_settings(data), describe_caption=describe_caption)
    return Trainer(
        task, training, strategy, model_dir,
        train_dataset=lambda start, shard=WHOLE_BATCH: train_batches(data, training.batch_size, start, shard),
        eval_dataset=(lambda: test_batches(data, eval_batch_size)) if data.test_size else None,
        curve_dataset=(lambda: curve_batches(data, training.curve_eval_size, eval_batch_size))
        if data.test_size and training.eval_every else None,
        preview_examples=preview_examples(data, min(previews, data.test_size)) if previews and data.test_size else None,
        log=log, progress_stream=progress_stream)


def write_figure(task: SegmentationTask, data: cosal.CosalConfig, path: str, index: int = 0) -> str:
    """Save a PNG of test example `index`: input, ground truth, prediction, stop-step map and the caption."""
    examples = preview_examples(data, index + 1)
    inputs = {"image": examples["image"][index:index + 1], "tokens": examples["tokens"][index:index + 1]}
    outputs = task.model(inputs, training=False)
    prediction = np.argmax(np.asarray(outputs["logits"])[0], axis=-1)
    steps, size = task.model_config.steps, task.model_config.image_size
    palette = cosal_vocabulary.RGB_PALETTE
    panels = [
        ("input", np.asarray(examples["image"][index], np.uint8)),
        ("ground truth", colorize_labels(examples["labels"][index], palette)),
        ("prediction", colorize_labels(prediction, palette)),
        (f"stop step (1..{steps})", stop_step_image(np.asarray(outputs["stop_step"])[0], steps, size)),
    ]
    caption = [f"{i + 1}. {s}" for i, s in enumerate(cosal_vocabulary.decode_caption(examples["tokens"][index]))]
    return save_example_figure(path, panels, caption, legend_steps=steps)
