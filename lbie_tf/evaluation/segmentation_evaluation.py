"""Evaluation of a segmenter over a whole data set: one pooled confusion matrix, mean IoU, per-class IoU,
pixel accuracy and the distribution of inference stop steps."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from lbie_tf.evaluation.segmentation_metrics import (
    ConfusionMatrix,
    confusion_matrix_batch,
    segmentation_report,
)
from lbie_tf.losses import segmentation as losses


def segmenter_eval_batch(model, num_classes: int, jit_compile: bool = False):
    """The `tf.function` that scores one batch: `(image [batch, H, W, 3], tokens, labels [batch, H, W] int32)
    -> (confusion matrix [num_classes, num_classes] int64, inference stop-step counts [T] int64)`."""
    steps = model.config.steps

    @tf.function(jit_compile=jit_compile, autograph=False)
    def eval_batch(image, tokens, labels):
        outputs = model({"image": image, "tokens": tokens}, training=False)
        prediction = losses.predicted_classes(outputs["logits"])
        stop_counts = tf.reduce_sum(tf.one_hot(tf.reshape(outputs["stop_step"], [-1]), steps,
                                               dtype=tf.int64), axis=0)
        return confusion_matrix_batch(labels, prediction, num_classes), stop_counts

    return eval_batch


def evaluate_segmenter(model, dataset: tf.data.Dataset, class_names, jit_compile: bool = False,
                       eval_batch=None) -> dict:
    """Mean IoU over all classes from one confusion matrix over the whole dataset (also reported, rows =
    truth), per-class IoU, pixel accuracy and the distribution of inference stop steps.

    Args:
        model: a built `LanguageSegmenter`.
        dataset: batches with `image` `[batch, H, W, 3]`, `tokens` and int `labels` `[batch, H, W]`.
        class_names: one name per label class (2 for a binary segmenter: rest, object).
        jit_compile: compile the per-batch evaluation with XLA.
        eval_batch: a `segmenter_eval_batch` of this model to reuse (repeated evaluations then trace once);
            None builds one.
    """
    num_classes, steps = len(class_names), model.config.steps
    eval_batch = eval_batch or segmenter_eval_batch(model, num_classes, jit_compile)
    confusion = ConfusionMatrix(num_classes)
    stop_counts = np.zeros(steps, np.int64)
    images = 0
    for batch in dataset:
        cm, counts = eval_batch(batch["image"], batch["tokens"], tf.cast(batch["labels"], tf.int32))
        confusion.merge(cm.numpy())
        stop_counts += counts.numpy()
        images += int(batch["image"].shape[0])
    report = segmentation_report(confusion.matrix, class_names)
    report["num_images"] = images
    report["confusion_matrix"] = confusion.matrix.tolist()
    shares = stop_counts / max(stop_counts.sum(), 1)
    report["stop_step_distribution"] = {str(t + 1): float(s) for t, s in enumerate(shares)}
    report["mean_stop_step"] = float(np.sum(shares * np.arange(1, steps + 1)))
    return report
