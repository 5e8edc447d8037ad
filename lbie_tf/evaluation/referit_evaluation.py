"""Hu et al.'s ReferIt evaluation of a segmenter: overall IoU and precision@0.5..0.9 at the original image
resolution, and the result laid out as the paper's Table 3."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from lbie_tf.data.letterbox import unletterbox
from lbie_tf.evaluation.referit_metrics import ReferitScore, format_table3

TABLE_FILE = "referit_table3.md"


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


def write_table(report: dict, directory: str, file_name: str = TABLE_FILE) -> str:
    """Write the Table 3 layout of `report` (with its expression count) to `directory/file_name`; returns
    the text written."""
    text = (f"{report['table3']}\n\n{report['num_expressions']} expressions; mean IoU "
            f"{'–' if report['mean_iou'] is None else format(100 * report['mean_iou'], '.2f') + '%'}; overall "
            f"IoU = Σ intersections / Σ unions at the original image resolution (Hu et al.).\n")
    with open(os.path.join(directory, file_name), "w", encoding="utf-8") as f:
        f.write(text)
    return text
