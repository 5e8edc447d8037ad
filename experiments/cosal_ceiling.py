"""The best mean IoU a CoSaL caption allows: an oracle that colours every determined cell right.

With the released generator's captions (`legacy_captions=True`) some cells' colours are not fixed by the
caption, so no model can reach 1.0. The oracle here predicts the true class on every background pixel and
on the shapes of determined cells, and paints each undetermined shape with a colour drawn uniformly at random
(what a model that knows the shape but cannot know its colour can do at best, in expectation). Its mean IoU
over the test split is the ceiling reported beside the legacy rows of Table 2.
"""

from __future__ import annotations

import tensorflow as tf

from lbie_tf.data import cosal
from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.evaluation.segmentation_metrics import (
    ConfusionMatrix,
    confusion_matrix_batch,
    mean_iou,
)
from lbie_tf.ops import random_hash

_ORACLE_STREAM = 2  # random_hash stream of the oracle's guesses (train 0, test 1, Gumbel noise 7)


def oracle_prediction(batch: dict, seed: int = 0) -> tf.Tensor:
    """The oracle's class map, int32 `[batch, S, S]`, for a batch from `cosal.generate`."""
    guesses = random_hash.uniform(seed, _ORACLE_STREAM, batch["example_id"], cosal.NUM_CELLS)  # [batch, 9]
    guessed_colour = tf.cast(tf.floor(guesses * vocab.NUM_COLOURS), tf.int32) + 1
    cells = tf.where(batch["determined"], batch["cell_colours"] + 1, guessed_colour)  # [batch, 9]
    side = int(batch["labels"].shape[1]) // cosal.GRID
    cell_map = tf.repeat(tf.repeat(tf.reshape(cells, [-1, cosal.GRID, cosal.GRID]), side, axis=1), side, axis=2)
    return tf.where(batch["labels"] > 0, cell_map, 0)


def caption_ceiling(config: cosal.CosalConfig, batch_size: int = 500, seed: int = 0) -> float:
    """Mean IoU of the oracle over the test split of `config` (1.0 when every caption determines every cell)."""
    confusion = ConfusionMatrix(vocab.NUM_CLASSES)
    for batch in cosal.test_dataset(config, batch_size):
        prediction = oracle_prediction(batch, seed)
        confusion.merge(confusion_matrix_batch(batch["labels"], prediction, vocab.NUM_CLASSES).numpy())
    return mean_iou(confusion.matrix)
