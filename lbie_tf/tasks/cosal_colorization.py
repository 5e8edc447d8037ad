"""CoSaL colorization runs: the isoluminant Lab view of CoSaL wired into `ColorizationTask` and the `Trainer`.

The view (`lbie_tf.data.cosal.generate`): input `gray` = L/50 − 1 of the picture drawn in the isoluminant
palette (every shape has L* = 60, so the input shows the silhouettes but not the colours), target `ab`, and the
caption's 9 sentences × 3 tokens given to the word BiLSTM as one 27-word sequence, ids shifted by 2 so that
0 = padding and 1 = unknown as in the Flowers vocabulary (CoSaL captions have neither).

Metrics (`CosalColourMetrics`):
- `shape_color_accuracy`: share of shape pixels whose predicted ab is nearest (Euclidean, in ab) to the ab of
  the pixel's true colour among the 6 palette colours;
- `consistency`: share of caption sentences whose stated colour is the dominant predicted palette colour over
  the pixels of the shape the sentence describes (its target cell), over all sentences of the test set.
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import tensorflow as tf

from lbie_tf.configs import (
    ColorizerConfig,
    DiscriminatorConfig,
    GanConfig,
    TrainingConfig,
)
from lbie_tf.data import cosal
from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.data.batch_shard import WHOLE_BATCH, BatchShard
from lbie_tf.errors import ConfigError
from lbie_tf.tasks.colorization import ColorizationTask
from lbie_tf.training.trainer import Trainer

TOKEN_OFFSET = 2  # CoSaL id k → colorization id k + 2 (0 = padding, 1 = unknown)
VOCAB_SIZE = vocab.VOCAB_SIZE + TOKEN_OFFSET
WORDS = vocab.SENTENCES_PER_CAPTION * vocab.TOKENS_PER_SENTENCE
PALETTE_AB = np.asarray(vocab.ISOLUMINANT_LAB[1:, 1:] / 110.0, np.float32)  # [6, 2], colour index order


def caption_ids(tokens) -> tf.Tensor:
    """CoSaL caption tokens int `[..., 9, 3]` → the generator's word ids int32 `[..., 27]` (one sequence)."""
    tokens = tf.cast(tokens, tf.int32)
    return tf.reshape(tokens, tf.concat([tf.shape(tokens)[:-2], [WORDS]], axis=0)) + TOKEN_OFFSET


def colorization_view(batch: dict) -> dict:
    """A CoSaL batch (`cosal.generate`) → the colorization fields, plus what the CoSaL metrics need."""
    words = tf.gather(tf.constant(vocab.VOCABULARY), batch["tokens"])  # [b, 9, 3]
    sentences = tf.strings.reduce_join(words, axis=-1, separator=" ")
    return {
        "gray": batch["gray"],
        "ab": batch["ab"],
        "tokens": caption_ids(batch["tokens"]),
        "caption": tf.strings.reduce_join(sentences, axis=-1, separator=". "),
        "example_id": batch["example_id"],
        "labels": batch["labels"],
        "sentence_cells": batch["sentence_cells"],
        "sentence_tokens": batch["tokens"],
    }


def train_batches(data: cosal.CosalConfig, batch_size: int, start_step: int = 0,
                  shard: BatchShard = WHOLE_BATCH) -> tf.data.Dataset:
    """Endless global batches (or `shard`'s rows of them) of the training stream from `start_step` on."""
    return cosal.train_dataset(data, batch_size, start_step=start_step, shard=shard).map(colorization_view)


def test_batches(data: cosal.CosalConfig, batch_size: int) -> tf.data.Dataset:
    """The fixed held-out test split, batched."""
    return cosal.test_dataset(data, batch_size).map(colorization_view)


def nearest_palette_colour(ab: np.ndarray) -> np.ndarray:
    """Palette colour index (0..5) nearest to each ab: `[..., 2]` → int `[...]`."""
    distance = np.sum((ab[..., None, :] - PALETTE_AB) ** 2, axis=-1)
    return np.argmin(distance, axis=-1)


class CosalColourMetrics:
    """Accumulates `shape_color_accuracy` and `consistency` (module docstring) over test batches."""

    def __init__(self):
        self.correct_pixels = self.shape_pixels = 0
        self.consistent_sentences = self.sentences = 0

    def update(self, batch: dict, predicted_ab: np.ndarray, predicted_rgb: np.ndarray) -> None:
        del predicted_rgb
        labels = batch["labels"]  # [b, S, S], 0 = background, k = colour index k − 1
        predicted = nearest_palette_colour(predicted_ab)  # [b, S, S]
        shape = labels > 0
        self.correct_pixels += int(np.sum(shape & (predicted == labels - 1)))
        self.shape_pixels += int(np.sum(shape))
        size = labels.shape[1]
        cell_of_pixel = (np.arange(size) // (size // cosal.GRID))
        cells = cell_of_pixel[:, None] * cosal.GRID + cell_of_pixel[None, :]  # [S, S]
        # votes[b, cell, colour]: predicted colours over each cell's shape pixels.
        votes = np.einsum("bhw,hwc,bhwk->bck", shape.astype(np.int64),
                          np.eye(cosal.NUM_CELLS, dtype=np.int64)[cells],
                          np.eye(vocab.NUM_COLOURS, dtype=np.int64)[predicted])
        dominant = np.argmax(votes, axis=-1)  # [b, 9]
        tokens = batch["sentence_tokens"]  # [b, 9, 3]: colour is token 2 (direct) or token 0 (relational)
        direct = tokens[..., 1] == vocab.IS_ID
        stated = np.where(direct, tokens[..., 2], tokens[..., 0]) - vocab.FIRST_COLOUR_ID
        target_cells = batch["sentence_cells"][..., 0]
        self.consistent_sentences += int(np.sum(np.take_along_axis(dominant, target_cells, axis=1) == stated))
        self.sentences += int(stated.size)

    def result(self) -> dict:
        return {"shape_color_accuracy": self.correct_pixels / max(self.shape_pixels, 1),
                "consistency": self.consistent_sentences / max(self.sentences, 1)}


def preview_examples(data: cosal.CosalConfig, count: int = 4) -> dict:
    """The first `count` test examples, as numpy arrays (fixed images for summaries)."""
    batch = next(iter(test_batches(data, count)))
    return {key: value.numpy() for key, value in batch.items()}


def check_compatible(generator: ColorizerConfig) -> None:
    """Refuse a generator that cannot read CoSaL captions (one line)."""
    if generator.use_text and generator.vocab_size != VOCAB_SIZE:
        raise ConfigError(f"ColorizerConfig.vocab_size={generator.vocab_size} but CoSaL colorization uses "
                          f"{VOCAB_SIZE} word ids (20 words + padding + unknown)")


def make_trainer(generator: ColorizerConfig, discriminator: DiscriminatorConfig, gan: GanConfig,
                 training: TrainingConfig, data: cosal.CosalConfig, model_dir: str,
                 strategy: tf.distribute.Strategy, eval_batch_size: int = 250, log=print,
                 progress_stream=sys.stderr, previews: int = 4) -> Trainer:
    """A `Trainer` for a CoSaL colorization run (the text-aware model or the text-free baseline)."""
    if generator.vocab_size == 0:
        generator = dataclasses.replace(generator, vocab_size=VOCAB_SIZE)
    check_compatible(generator)
    if data.augment:
        raise ConfigError("CosalConfig.augment augments the segmentation sketches; CoSaL colorization reads the "
                          "grey picture, which it does not augment: leave it off")
    task = ColorizationTask(generator, discriminator, gan, training, metrics_factory=CosalColourMetrics)
    return Trainer(
        task, training, strategy, model_dir,
        train_dataset=lambda start, shard=WHOLE_BATCH: train_batches(data, training.batch_size, start, shard),
        eval_dataset=(lambda: test_batches(data, eval_batch_size)) if data.test_size else None,
        preview_examples=preview_examples(data, min(previews, data.test_size)) if previews and data.test_size else None,
        log=log, progress_stream=progress_stream)
