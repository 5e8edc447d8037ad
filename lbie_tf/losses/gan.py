"""The colorization GAN's losses (paper §4.3; released model2.py, docs/released_code.md, "Colorization model").

The discriminator returns patch logits; D = sigmoid(logit), so −log D = softplus(−logit) and
−log(1 − D) = softplus(logit): the released code's −log(D + 1e-12) terms without the epsilon, and finite for
any logit. Every function returns one value per example (`[batch]`).
"""

from __future__ import annotations

import tensorflow as tf


def discriminator_loss(real_logits, fake_logits):
    """−log D(real) − log(1 − D(fake)), mean over patches: logits `[batch, P, P]` → `[batch]`."""
    return (tf.reduce_mean(tf.nn.softplus(-real_logits), axis=[1, 2])
            + tf.reduce_mean(tf.nn.softplus(fake_logits), axis=[1, 2]))


def generator_adversarial_loss(fake_logits, mode: str = "non_saturating"):
    """The generator's GAN term, mean over patches: `[batch, P, P]` → `[batch]`.

    `"non_saturating"` (released code): −log D(fake). `"minimax"` (the paper's log(1 − D(fake)), minimised).
    """
    if mode == "non_saturating":
        return tf.reduce_mean(tf.nn.softplus(-fake_logits), axis=[1, 2])
    if mode == "minimax":
        return -tf.reduce_mean(tf.nn.softplus(fake_logits), axis=[1, 2])
    raise ValueError(f"unknown generator GAN loss {mode!r}")


def l1_loss(target, predicted):
    """Mean absolute error per example: `[batch, H, W, C]` → `[batch]` (ab scaled by 1/110, as released)."""
    return tf.reduce_mean(tf.abs(target - predicted), axis=[1, 2, 3])


def l2_loss(target, predicted):
    """Mean squared error per example: `[batch, H, W, C]` → `[batch]`."""
    return tf.reduce_mean(tf.square(target - predicted), axis=[1, 2, 3])
