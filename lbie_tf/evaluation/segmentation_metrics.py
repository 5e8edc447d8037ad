"""Segmentation metrics pooled over a whole evaluation set through a confusion matrix.

A confusion matrix is int64 `[num_classes, num_classes]`: rows are the true class, columns the predicted
class, entry (i, j) counts pixels of class i predicted as j. Accumulate it batch by batch (in NumPy with
`ConfusionMatrix`, or inside a `tf.function` with `confusion_matrix_batch`) and derive IoU and accuracy
from the pooled counts at the end, as the released code's `tf.metrics.mean_iou` does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf


class ConfusionMatrix:
    """Accumulates a `[num_classes, num_classes]` int64 confusion matrix over batches.

    Args:
        num_classes: number of classes C (CoSaL: 7 colour classes, 0 = background).
        ignore_label: if given, pixels whose label equals it or lies outside [0, C) are skipped (e.g. 255
            for "void"); if None, such labels are an error.
    """

    def __init__(self, num_classes: int, ignore_label: int | None = None):
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        self.num_classes = num_classes
        self.ignore_label = ignore_label
        self.matrix = np.zeros((num_classes, num_classes), np.int64)

    def update(self, labels: Any, predictions: Any) -> ConfusionMatrix:
        """Adds one batch and returns self.

        Args:
            labels: true classes, int array (NumPy or TF) of any shape, e.g. `[batch, height, width]`.
            predictions: predicted classes, int array of the same shape, each in [0, C).

        Raises:
            ValueError: shapes differ, non-integer arrays, predictions outside [0, C), or labels outside
                [0, C) without an `ignore_label`.
        """
        labels, predictions = _as_int_array(labels, "labels"), _as_int_array(predictions, "predictions")
        if labels.shape != predictions.shape:
            raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} differ in shape")
        c = self.num_classes
        if predictions.size and (predictions.min() < 0 or predictions.max() >= c):
            raise ValueError(f"predictions must lie in [0, {c}), got values in "
                             f"[{predictions.min()}, {predictions.max()}]")
        in_range = (labels >= 0) & (labels < c)
        if self.ignore_label is None:
            if not in_range.all():
                raise ValueError(f"labels must lie in [0, {c}) (or set ignore_label), got values in "
                                 f"[{labels.min()}, {labels.max()}]")
            keep = in_range
        else:
            keep = in_range & (labels != self.ignore_label)
        index = labels[keep].astype(np.int64) * c + predictions[keep]
        self.matrix += np.bincount(index, minlength=c * c).reshape(c, c)
        return self

    def merge(self, other: ConfusionMatrix | Any) -> ConfusionMatrix:
        """Adds the counts of another accumulator or of an int `[C, C]` matrix (e.g. the NumPy value of
        `confusion_matrix_batch`) and returns self."""
        counts = np.asarray(other)
        if counts.shape != self.matrix.shape or not np.issubdtype(counts.dtype, np.integer):
            raise ValueError(f"can only merge integer {self.matrix.shape} counts, "
                             f"got {counts.dtype} {counts.shape}")
        self.matrix += counts
        return self

    def reset(self) -> None:
        """Sets all counts to zero."""
        self.matrix[...] = 0

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self.matrix if dtype is None else self.matrix.astype(dtype)


def confusion_matrix_batch(labels: tf.Tensor, predictions: tf.Tensor, num_classes: int,
                           ignore_label: int | None = None) -> tf.Tensor:
    """The confusion matrix of one batch, as TF ops (usable inside `tf.function`, fixed output shape).

    Args:
        labels: int tensor of any shape, e.g. `[batch, height, width]`.
        predictions: int tensor of the same shape with values in [0, num_classes) (checked with
            `tf.debugging` assertions, which XLA skips).
        num_classes: C.
        ignore_label: as in `ConfusionMatrix`; if None, every label must lie in [0, C).

    Returns:
        int64 `[C, C]`, rows = true class, columns = predicted class.
    """
    c = num_classes
    labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
    predictions = tf.cast(tf.reshape(predictions, [-1]), tf.int32)
    checks = [tf.debugging.assert_non_negative(predictions, message="predictions must be >= 0"),
              tf.debugging.assert_less(predictions, c, message=f"predictions must be < {c}")]
    keep = (labels >= 0) & (labels < c)
    if ignore_label is None:
        checks.append(tf.debugging.Assert(tf.reduce_all(keep), [f"labels must lie in [0, {c})"]))
    else:
        keep &= tf.not_equal(labels, ignore_label)
    with tf.control_dependencies(checks):
        # One-hot rows (all-zero for skipped labels) and a [C, N] x [N, C] product: shape-static and fast
        # under XLA, where bincount needs a compile-time output size.
        truth = tf.one_hot(tf.where(keep, labels, -1), c, dtype=tf.float32)
        predicted = tf.one_hot(predictions, c, dtype=tf.float32)
    counts = tf.matmul(truth, predicted, transpose_a=True)
    return tf.cast(tf.round(counts), tf.int64)


def iou_from_confusion(cm: Any) -> np.ndarray:
    """Per-class intersection over union, float64 `[C]`: TP / (TP + FP + FN); NaN where the union is 0."""
    cm = np.asarray(cm, np.float64)
    tp = np.diag(cm)
    union = cm.sum(axis=0) + cm.sum(axis=1) - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, tp / union, np.nan)


def mean_iou(cm: Any) -> float:
    """Mean of the per-class IoU over the classes that occur (in the labels or the predictions).

    Classes with an empty union are left out (as Keras `MeanIoU` does). The released code's TF 1.2
    `tf.metrics.mean_iou` averaged over all C classes, counting an absent class as 0: the two agree whenever
    every class occurs, as all 7 CoSaL colour classes do over a test set. NaN for an empty matrix.
    """
    iou = iou_from_confusion(cm)
    present = iou[~np.isnan(iou)]
    return float(present.mean()) if present.size else math.nan


def pixel_accuracy(cm: Any) -> float:
    """Fraction of pixels whose predicted class is the true class; NaN for an empty matrix."""
    cm = np.asarray(cm)
    total = cm.sum()
    return float(np.trace(cm) / total) if total else math.nan


def segmentation_report(cm: Any, class_names: Sequence[str]) -> dict[str, Any]:
    """A JSON-serialisable summary of a pooled confusion matrix (NaN written as None).

    Returns:
        {"mean_iou": float, "per_class_iou": {name: float | None}, "pixel_accuracy": float,
         "num_pixels": int}
    """
    cm = np.asarray(cm)
    if len(class_names) != cm.shape[0]:
        raise ValueError(f"{len(class_names)} class names for a {cm.shape[0]}-class confusion matrix")
    iou = iou_from_confusion(cm)
    return {
        "mean_iou": _finite_or_none(mean_iou(cm)),
        "per_class_iou": {name: _finite_or_none(v) for name, v in zip(class_names, iou)},
        "pixel_accuracy": _finite_or_none(pixel_accuracy(cm)),
        "num_pixels": int(cm.sum()),
    }


def _as_int_array(x: Any, name: str) -> np.ndarray:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array, got {x.dtype}")
    return x


def _finite_or_none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)
