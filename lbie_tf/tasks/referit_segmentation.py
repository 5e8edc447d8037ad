"""ReferIt segmentation runs: the prepared ReferIt data wired into `SegmentationTask` and the shared `Trainer`,
and Hu et al.'s evaluation (overall IoU, precision@0.5..0.9 at the original image resolution).

Used by `train_segmentation.py --dataset=referit`, `lbie-evaluate-referit`, the benchmarks and the tests.
"""

from __future__ import annotations

import sys

import tensorflow as tf
import tensorflow_datasets as tfds

from lbie_tf.configs import SegmenterConfig, TrainingConfig
from lbie_tf.configs.training import check_no_learning_curve
from lbie_tf.data import referit, referit_source
from lbie_tf.data.batch_shard import WHOLE_BATCH
from lbie_tf.encoders.vgg16 import load_vgg16_weights
from lbie_tf.errors import ConfigError
from lbie_tf.evaluation.referit_evaluation import evaluate_referit
from lbie_tf.tasks.segmentation import SegmentationTask
from lbie_tf.training.trainer import Trainer


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
        check_no_learning_curve(training)
        super().__init__(model_config, training, referit.CLASS_NAMES, referit.PALETTE, sentences=1, words=words)
        self.vgg_weights = vgg_weights

    def build(self, jit_compile: bool) -> None:
        super().build(jit_compile)
        if self.vgg_weights:
            load_vgg16_weights(self.model.image_encoder, self.vgg_weights)

    def evaluate(self, dataset: tf.data.Dataset) -> dict:
        return evaluate_referit(self.model, dataset, self.jit_compile)


def check_compatible(model: SegmenterConfig, data: referit.ReferitConfig) -> None:
    """Refuse model settings that cannot work on ReferIt, with a one-line message."""
    if model.text_encoder != "words":
        raise ConfigError("ReferIt expressions are word sequences: set SegmenterConfig.text_encoder=words")
    if model.num_classes != 1:
        raise ConfigError(f"ReferIt is binary segmentation: set SegmenterConfig.num_classes=1 "
                          f"(got {model.num_classes})")
    info = tfds.builder_from_directory(referit.prepare(data)).info
    vocabulary = (info.metadata or {}).get("vocabulary_size")
    if vocabulary is not None and model.vocab_size != vocabulary:
        raise ConfigError(f"SegmenterConfig.vocab_size={model.vocab_size} but the prepared ReferIt vocabulary has "
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
        train_dataset=lambda start, shard=WHOLE_BATCH: referit.train_dataset(data, size, training.batch_size, start,
                                                                   shard),
        eval_dataset=lambda: referit.eval_dataset(data, size),
        preview_examples=referit.preview_examples(data, size, previews) if previews else None,
        log=log, progress_stream=progress_stream)
