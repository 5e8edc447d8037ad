"""Which CoSaL sentences a segmenter gets right: colour accuracy per cell, grouped by the sentence that
determines the cell (direct `[shape, is, colour]`, or relational by its relation word).

Mean IoU pools pixels; this asks the question the architecture choices are about: are the cells described
by direct sentences right, and those described relative to a neighbour ("the shape above the circle")?
A cell counts as right when the majority of the predicted classes over its shape pixels is its colour class.
"""

from __future__ import annotations

import numpy as np

from lbie_tf.data import cosal
from lbie_tf.data import cosal_vocabulary as vocab

SENTENCE_KINDS = ("direct",) + vocab.RELATION_NAMES


def cell_correct(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Whether each cell's shape is painted its colour.

    Args:
        predictions: int `[batch, S, S]` predicted classes.
        labels: int `[batch, S, S]` true classes (0 background, every cell holds one non-empty shape).

    Returns:
        bool `[batch, 9]`, cells row-major: the most frequent predicted class over the cell's shape pixels
        (ties: the smallest class) equals the cell's colour class.
    """
    batch, size = labels.shape[0], labels.shape[1]
    side = size // cosal.GRID

    def by_cell(x):  # [batch, S, S] -> [batch, 9, side * side]
        x = np.asarray(x).reshape(batch, cosal.GRID, side, cosal.GRID, side).transpose(0, 1, 3, 2, 4)
        return x.reshape(batch, cosal.NUM_CELLS, side * side)

    cell_labels, cell_predictions = by_cell(labels), by_cell(predictions)
    shape = cell_labels > 0
    votes = np.stack([np.sum(shape & (cell_predictions == c), axis=-1) for c in range(vocab.NUM_CLASSES)], -1)
    colour = np.max(cell_labels, axis=-1)  # the one colour class of the cell's shape
    return np.argmax(votes, axis=-1) == colour


def correct_by_sentence_kind(predictions: np.ndarray, batch: dict) -> dict[str, np.ndarray]:
    """Counts `[right, total]` (int64 `[2]`) per sentence kind over a `cosal.generate` batch.

    Every sentence determines its target cell (`batch["sentence_cells"][..., 0]`); its kind is "direct" or
    its relation word ("above", "below", "left", "right").
    """
    correct = cell_correct(predictions, np.asarray(batch["labels"]))
    targets = np.asarray(batch["sentence_cells"])[..., 0]  # [batch, 9]
    sentence_correct = np.take_along_axis(correct, targets, axis=1)
    second_token = np.asarray(batch["tokens"])[..., 1]
    kinds = np.where(second_token == vocab.IS_ID, 0, second_token - vocab.ABOVE_ID + 1)
    return {name: np.array([np.sum(sentence_correct & (kinds == k)), np.sum(kinds == k)], np.int64)
            for k, name in enumerate(SENTENCE_KINDS)}
