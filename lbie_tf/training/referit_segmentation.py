"""ReferIt segmentation runs: the prepared ReferIt data wired into `SegmentationTask` and the shared `Trainer`,
and Hu et al.'s evaluation (overall IoU, precision@0.5..0.9 at the original image resolution).

Used by `train_segmentation.py --dataset=referit`, `lbie-evaluate-referit`, the benchmarks and the tests.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from lbie_tf.config import SegmenterConfig, TrainingConfig
from lbie_tf.data import referit, referit_source
from lbie_tf.data.letterbox import unletterbox
from lbie_tf.encoders.vgg16 import load_vgg16_weights
from lbie_tf.errors import ConfigError
from lbie_tf.metrics import ReferitScore, format_table3
from lbie_tf.training.loop import Trainer
from lbie_tf.training.segmentation_task import SegmentationTask


class ReferitSegmentationTask(SegmentationTask):
    """A binary `SegmentationTask` over word-level expressions, initialised from VGG-16 weights if given, and
    evaluated with `evaluate_referit`.

    Args:
        model_config: a `SegmenterConfig` with `text_encoder="words"` and `num_classes=1`.
        training: the `TrainingConfig`.
        vgg_weights: a VGG-16 notop weight file, "imagenet", or "" (random initialisation). Loaded once when
            the task is built; a resumed run then restores its own checkpoint over it.
        words: tokens per expression (20).
    """

    def __init__(self, model_config: SegmenterConfig, training: TrainingConfig, vgg_weights: str = "",
                 words: int = referit_source.MAX_WORDS):
        super().__init__(model_config, training, referit.CLASS_NAMES, referit.PALETTE, sentences=1, words=words)
        self.vgg_weights = vgg_weights

    def build(self, jit_compile: bool) -> None:
        super().build(jit_compile)
        if self.vgg_weights:
            load_vgg16_weights(self.model.image_encoder, self.vgg_weights)

    def evaluate(self, dataset: tf.data.Dataset) -> dict:
        return evaluate_referit(self.model, dataset, self.jit_compile)


def evaluate_referit(model, dataset: tf.data.Dataset, jit_compile: bool = False) -> dict:
    """Hu et al.'s ReferIt evaluation of a binary segmenter over an evaluation dataset
    (`lbie_tf.data.referit.eval_dataset`).

    Per expression: prediction = logit ≥ 0 at S × S; mapped back to the original h × w by undoing the
    letterbox (bilinear resize of the 0/1 map and centre crop; non-zero = object, as Hu et al.'s
    `resize_and_crop` followed by `np.logical_and`); I and U against the original mask.

    Returns:
        `ReferitScore.report()` plus `table3` (Markdown, the paper's rows beside this one) and the stop-step
        distribution.
    """
    steps = model.config.steps

    @tf.function(jit_compile=jit_compile)
    def predict(image, tokens):
        outputs = model({"image": image, "tokens": tokens}, training=False)
        stop_counts = tf.reduce_sum(tf.one_hot(tf.reshape(outputs["stop_step"], [-1]), steps, dtype=tf.int64), 0)
        return tf.cast(outputs["logits"][..., 0] >= 0, tf.float32), stop_counts

    score = ReferitScore()
    stop_counts = np.zeros(steps, np.int64)
    for batch in dataset:
        predictions, counts = predict(batch["image"], batch["tokens"])
        stop_counts += counts.numpy()
        for index in range(int(predictions.shape[0])):
            height, width = int(batch["height"][index]), int(batch["width"][index])
            prediction = unletterbox(predictions[index], height, width).numpy() > 0
            score.update(prediction, batch["mask"][index, :height, :width].numpy())
    report = score.report()
    shares = stop_counts / max(stop_counts.sum(), 1)
    report["stop_step_distribution"] = {str(t + 1): float(s) for t, s in enumerate(shares)}
    report["table3"] = format_table3(report)
    return report


def check_compatible(model: SegmenterConfig, data: referit.ReferitConfig) -> None:
    """Refuse model settings that cannot work on ReferIt, with a one-line message."""
    if model.text_encoder != "words":
        raise ConfigError("ReferIt expressions are word sequences: set --text_encoder=words")
    if model.num_classes != 1:
        raise ConfigError(f"ReferIt is binary segmentation: set --num_classes=1 (got {model.num_classes})")
    info = tfds.builder_from_directory(referit.prepare(data)).info
    vocabulary = (info.metadata or {}).get("vocabulary_size")
    if vocabulary is not None and model.vocab_size != vocabulary:
        raise ConfigError(f"--vocab_size={model.vocab_size} but the prepared ReferIt vocabulary has "
                          f"{vocabulary} words")


def make_trainer(model: SegmenterConfig, training: TrainingConfig, data: referit.ReferitConfig, model_dir: str,
                 strategy: tf.distribute.Strategy, log=print, progress_stream=sys.stderr,
                 previews: int = 4) -> Trainer:
    """A `Trainer` for a ReferIt segmentation run (training on trainval, evaluation on `data.eval_split`)."""
    check_compatible(model, data)
    task = ReferitSegmentationTask(model, training, data.vgg_weights)
    size = model.image_size
    return Trainer(
        task, training, strategy, model_dir,
        train_dataset=lambda start: referit.train_dataset(data, size, training.batch_size, start),
        eval_dataset=lambda: referit.eval_dataset(data, size),
        preview_examples=referit.preview_examples(data, size, previews) if previews else None,
        log=log, progress_stream=progress_stream)


TABLE_FILE = "referit_table3.md"


def write_table(report: dict, directory: str, file_name: str = TABLE_FILE) -> str:
    """Write the Table 3 layout of `report` (with its expression count) to `directory/file_name`; returns
    the text written."""
    text = (f"{report['table3']}\n\n{report['num_expressions']} expressions; mean IoU "
            f"{'–' if report['mean_iou'] is None else format(100 * report['mean_iou'], '.2f') + '%'}; overall "
            f"IoU = Σ intersections / Σ unions at the original image resolution (Hu et al.).\n")
    with open(os.path.join(directory, file_name), "w", encoding="utf-8") as f:
        f.write(text)
    return text
