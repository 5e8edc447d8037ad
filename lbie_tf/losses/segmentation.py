"""Segmentation losses (paper §3 "Loss and training", released code CoSaL/model.py).

Every function returns one value per example (`[batch]`); the training step averages them over the *global*
batch once, with `tf.nn.compute_average_loss`, so that the loss is the same however a batch is split over
replicas.

- Pixel weights: the released code weights cross-entropy by 10 on shape pixels, 1 on background
  (`foreground_weight`); the paper uses plain cross-entropy (weight 1). Each example's loss is its weighted
  mean over pixels.
- `gumbel`: cross-entropy of the output decoded from the Gumbel-softmax mixture of the step outputs.
- `reinforce`: cross-entropy of the output decoded at sampled stop steps, plus the score-function surrogate
  (loss − baseline)·log p(ζ), whose gradient is the REINFORCE estimator the paper rejects for its variance;
  the baseline is the mean loss of the global batch (all replicas), so the estimator does not depend on how a
  batch is split.
- `marginal`: exact −log Σ_t β_t p_t(y) per pixel (released code), β at region resolution repeated over the
  region's pixels.
"""

from __future__ import annotations

import tensorflow as tf

from lbie_tf.losses import termination


def pixel_cross_entropy(labels, logits):
    """Cross-entropy per pixel: labels int `[..., H, W]`, logits `[..., H, W, C]` → float32 `[..., H, W]`.

    Softmax over C classes; with C = 1 (a binary segmenter) the sigmoid cross-entropy of the single logit,
    label 1 = object, 0 = rest.
    """
    logits = tf.cast(logits, tf.float32)
    if logits.shape[-1] == 1:
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(labels, tf.float32), logits=logits[..., 0])
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(labels, tf.int32), logits=logits)


def class_probabilities(logits):
    """Per-pixel class probabilities `[..., C']` from logits `[..., C]`: softmax, or `[1 − σ, σ]` for C = 1."""
    logits = tf.cast(logits, tf.float32)
    if logits.shape[-1] == 1:
        return tf.concat([tf.sigmoid(-logits), tf.sigmoid(logits)], axis=-1)
    return tf.nn.softmax(logits)


def predicted_classes(logits):
    """Class per pixel, int32 `[...]`, from logits `[..., C]`: argmax, or `logit ≥ 0` for C = 1 (Hu et al.'s
    threshold: score ≥ 1e-9)."""
    if logits.shape[-1] == 1:
        return tf.cast(logits[..., 0] >= 0, tf.int32)
    return tf.argmax(logits, axis=-1, output_type=tf.int32)


def pixel_weights(labels, foreground_weight: float):
    """`[batch, H, W]` weights: `foreground_weight` where label ≠ 0 (shape pixels), 1 on background."""
    return tf.where(tf.not_equal(labels, 0), tf.cast(foreground_weight, tf.float32), 1.0)


def weighted_pixel_mean(values, weights):
    """Per-example weighted mean over pixels: `[batch, H, W]` → `[batch]`."""
    return tf.reduce_sum(values * weights, axis=[1, 2]) / tf.maximum(tf.reduce_sum(weights, axis=[1, 2]), 1.0)


def regions_to_pixels(values, height: int, width: int):
    """Repeat each region's value over its pixels: `[batch, T, m, n]` → `[batch, T, H, W]`."""
    m, n = values.shape[-2], values.shape[-1]
    if (m, n) == (height, width):
        return values
    values = tf.repeat(values, height // m, axis=-2)
    return tf.repeat(values, width // n, axis=-1)


def step_cross_entropies(step_logits, labels, foreground_weight: float = 1.0):
    """Each step's output decoded alone, scored: weighted cross-entropy per example and step, `[batch, T]`.

    Args:
        step_logits: `[batch, T, H, W, C]`, every step decoded (`train_outputs(..., "marginal")["step_logits"]`).
        labels: int `[batch, H, W]`.
        foreground_weight: weight of non-background pixels.

    Returns:
        Float32 `[batch, T]`: `CE_t`, the loss the model would have if every region stopped at step `t`. Their
        mean over steps is the loss of the gate warm-up (`TrainingConfig.gate_warmup_steps`).
    """
    steps = step_logits.shape[1]
    weights = pixel_weights(labels, foreground_weight)[:, None]
    step_labels = tf.repeat(labels[:, None], steps, axis=1)
    values = pixel_cross_entropy(step_labels, step_logits)
    return tf.reduce_sum(values * weights, axis=[2, 3]) / tf.maximum(tf.reduce_sum(weights, axis=[2, 3]), 1.0)


def segmentation_loss(outputs: dict, labels, mode: str, foreground_weight: float = 1.0):
    """Per-example training loss `[batch]` from `LanguageSegmenter.train_outputs(..., mode)`.

    Args:
        outputs: the dict returned by `train_outputs`.
        labels: int `[batch, H, W]` class per pixel.
        mode: "gumbel", "reinforce" or "marginal".
        foreground_weight: weight of non-background pixels (paper 1, released code 10).

    Returns:
        `(loss, cross_entropy)`: both `[batch]`; `loss` is what is minimised (for REINFORCE it includes the
        surrogate term), `cross_entropy` is the plain weighted cross-entropy for logging.
    """
    weights = pixel_weights(labels, foreground_weight)
    if mode == "marginal":
        step_logits = outputs["step_logits"]
        steps = step_logits.shape[1]
        step_labels = tf.repeat(labels[:, None], steps, axis=1)
        log_likelihood = -pixel_cross_entropy(step_labels, step_logits)
        height, width = labels.shape[1], labels.shape[2]
        log_beta = regions_to_pixels(outputs["log_stop_probs"], height, width)
        nll = termination.marginal_nll(log_beta, log_likelihood)
        loss = weighted_pixel_mean(nll, weights)
        return loss, loss
    cross_entropy = weighted_pixel_mean(pixel_cross_entropy(labels, outputs["logits"]), weights)
    if mode == "gumbel":
        return cross_entropy, cross_entropy
    if mode == "reinforce":
        baseline = _global_batch_mean(cross_entropy)
        # log p(ζ) of the whole image is the sum over regions of log β at each region's sampled step.
        surrogate = termination.reinforce_surrogate(outputs["log_stop_probs"], outputs["stop_sample"],
                                                    cross_entropy, baseline)
        return cross_entropy + tf.reduce_sum(surrogate, axis=[1, 2]), cross_entropy
    raise ValueError(f"unknown termination training mode {mode!r}")


def _global_batch_mean(values):
    """Mean of per-example `values` `[batch]` over the global batch: all replicas' examples."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return tf.reduce_mean(values)
    totals = context.all_reduce("SUM", tf.stack([tf.reduce_sum(values), tf.cast(tf.size(values), values.dtype)]))
    return totals[0] / totals[1]

