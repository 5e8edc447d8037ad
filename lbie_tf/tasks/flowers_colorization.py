"""Oxford-102 Flowers colorization runs: the Flowers pipeline (`lbie_tf.data.flowers`) wired into
`ColorizationTask` and the shared `Trainer`, with the Flowers colour metrics and the run's `vocabulary.json`."""

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
from lbie_tf.data import flowers
from lbie_tf.data.batch_shard import WHOLE_BATCH
from lbie_tf.data.flowers_vocabulary import VOCABULARY_FILE, FlowersVocabulary
from lbie_tf.encoders.word_vectors import load_word_vectors
from lbie_tf.errors import ConfigError
from lbie_tf.evaluation import colorization_metrics as metrics
from lbie_tf.tasks.colorization import ColorizationTask, lab_to_rgb
from lbie_tf.training.trainer import Trainer


class FlowersColourMetrics:
    """Accumulates SSIM, colourfulness (Hasler–Süsstrunk) and caption–colour consistency (share of the
    captions' colour words that name a dominant hue of the output; `lbie_tf.evaluation.colorization_metrics`)
    over test batches."""

    def __init__(self):
        self.ssim, self.colourfulness = [], []
        self.colour_words = self.colour_matches = 0

    def update(self, batch: dict, predicted_ab: np.ndarray, predicted_rgb: np.ndarray) -> None:
        del predicted_ab
        self.ssim.append(metrics.ssim(predicted_rgb, lab_to_rgb(batch["gray"], batch["ab"])))
        self.colourfulness.append(metrics.colourfulness(predicted_rgb))
        captions = [c.decode("utf-8") if isinstance(c, bytes) else str(c) for c in batch["caption"]]
        consistency = metrics.caption_colour_consistency(predicted_rgb, captions)
        self.colour_words += consistency["num_words"]
        self.colour_matches += consistency["num_matches"]

    def result(self) -> dict:
        return {"ssim": float(np.mean(np.concatenate(self.ssim))),
                "colourfulness": float(np.mean(np.concatenate(self.colourfulness))),
                "consistency": self.colour_matches / self.colour_words if self.colour_words else None,
                "colour_words": self.colour_words}


def preview_examples(data: flowers.FlowersConfig, count: int = 4) -> dict:
    """The first `count` test examples, as numpy arrays (fixed images for summaries)."""
    batch = next(iter(flowers.test_dataset(data, count)))
    return {key: value.numpy() for key, value in batch.items()}


def make_trainer(generator: ColorizerConfig, discriminator: DiscriminatorConfig, gan: GanConfig,
                 training: TrainingConfig, data: flowers.FlowersConfig, model_dir: str,
                 strategy: tf.distribute.Strategy, word_vectors: str | None = None, eval_batch_size: int = 16,
                 log=print, progress_stream=sys.stderr, previews: int = 4) -> Trainer:
    """A `Trainer` for a Flowers colorization run; the run stores its vocabulary, tokenizer, caption length and
    image size as `<model_dir>/vocabulary.json` (`flowers_vocabulary`), which lbie-edit and lbie-export read.

    Args:
        word_vectors: optional path of a word2vec / GloVe text file; its vectors fill the word embedding(s),
            which are then frozen.
    """
    vocabulary = flowers.vocabulary(data)
    if generator.vocab_size == 0:
        generator = dataclasses.replace(generator, vocab_size=len(vocabulary))
    if generator.use_text and generator.vocab_size < len(vocabulary):
        raise ConfigError(f"ColorizerConfig.vocab_size={generator.vocab_size} but the Flowers training captions "
                          f"have {len(vocabulary)} word ids: raise it to at least {len(vocabulary)}")
    matrix = None
    if word_vectors and generator.use_text:
        matrix, found = load_word_vectors(word_vectors, vocabulary, generator.word_embedding_dim)
        log(f"word vectors: {found} of {len(vocabulary) - 1} vocabulary words found in {word_vectors}; "
            f"the word embedding is frozen")
        padded = tf.zeros((generator.vocab_size, generator.word_embedding_dim), tf.float32)
        matrix = tf.tensor_scatter_nd_update(padded, [[i] for i in range(len(vocabulary))], matrix).numpy()
        generator = dataclasses.replace(generator, word_embedding_trainable=False)
    task = ColorizationTask(generator, discriminator, gan, training, word_vectors=matrix,
                            metrics_factory=FlowersColourMetrics)
    return Trainer(
        task, training, strategy, model_dir,
        train_dataset=lambda start, shard=WHOLE_BATCH: flowers.train_dataset(data, training.batch_size, start, shard),
        eval_dataset=lambda: flowers.test_dataset(data, eval_batch_size),
        preview_examples=preview_examples(data, previews) if previews else None,
        log=log, progress_stream=progress_stream,
        run_files={VOCABULARY_FILE: FlowersVocabulary.of_run(data, vocabulary).to_dict()})
