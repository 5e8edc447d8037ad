"""Per-cell colour accuracy grouped by sentence kind, against a per-cell loop."""

import numpy as np
import tensorflow as tf

from experiments.cell_accuracy import (
    SENTENCE_KINDS,
    cell_correct,
    correct_by_sentence_kind,
)
from lbie_tf.data import cosal
from lbie_tf.data import cosal_vocabulary as vocab


def _batch(num_direct=4, size=16):
    batch = cosal.generate(tf.range(size, dtype=tf.int64), cosal.CosalConfig(num_direct=num_direct), "test")
    return {key: value.numpy() for key, value in batch.items()}


def _loop_cell_correct(predictions, labels):
    side = labels.shape[1] // 3
    out = np.zeros((labels.shape[0], 9), bool)
    for b in range(labels.shape[0]):
        for cell in range(9):
            r, c = divmod(cell, 3)
            lab = labels[b, r * side:(r + 1) * side, c * side:(c + 1) * side]
            pred = predictions[b, r * side:(r + 1) * side, c * side:(c + 1) * side]
            votes = np.bincount(pred[lab > 0], minlength=vocab.NUM_CLASSES)
            out[b, cell] = np.argmax(votes) == lab.max()
    return out


def test_cell_correct_matches_a_loop_on_corrupted_predictions():
    batch = _batch()
    labels = batch["labels"]
    rng = np.random.default_rng(0)
    predictions = np.where(rng.random(labels.shape) < 0.6, labels, rng.integers(0, 7, labels.shape))
    predictions[3, :16, :16] = np.where(labels[3, :16, :16] > 0, (labels[3, :16, :16] % 6) + 1, 0)  # cell 0 wrong
    got = cell_correct(predictions, labels)
    np.testing.assert_array_equal(got, _loop_cell_correct(predictions, labels))
    assert not got[3, 0] and 0 < got.mean() < 1
    assert cell_correct(labels, labels).all()


def test_counts_by_sentence_kind():
    batch = _batch(num_direct=4)
    labels = batch["labels"].copy()
    # Paint every cell of the first relational sentence of example 0 with a wrong colour.
    target = batch["sentence_cells"][0, 4, 0]
    relation = vocab.VOCABULARY[batch["tokens"][0, 4, 1]]
    r, c = divmod(int(target), 3)
    block = labels[0, r * 16:(r + 1) * 16, c * 16:(c + 1) * 16]
    labels_pred = labels.copy()
    labels_pred[0, r * 16:(r + 1) * 16, c * 16:(c + 1) * 16] = np.where(block > 0, block % 6 + 1, 0)
    counts = correct_by_sentence_kind(labels_pred, batch)
    assert set(counts) == set(SENTENCE_KINDS)
    assert counts["direct"].tolist() == [16 * 4, 16 * 4]
    assert sum(int(v[1]) for v in counts.values()) == 16 * 9
    for kind, (right, total) in counts.items():
        assert right == total - (kind == relation)
