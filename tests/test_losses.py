"""Binary (one-logit) segmentation in the shared losses: sigmoid cross-entropy, probabilities, threshold."""

import numpy as np
import tensorflow as tf

from lbie_tf import losses


def test_binary_pixel_cross_entropy_is_the_sigmoid_cross_entropy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 4, 4, 1)).astype(np.float32)
    labels = rng.integers(0, 2, (2, 4, 4))
    probability = 1 / (1 + np.exp(-logits[..., 0]))
    expected = -(labels * np.log(probability) + (1 - labels) * np.log(1 - probability))
    np.testing.assert_allclose(losses.pixel_cross_entropy(labels, logits), expected, rtol=1e-5)
    # Two-class softmax with logits (0, x) is the same loss.
    two_class = np.concatenate([np.zeros_like(logits), logits], axis=-1)
    np.testing.assert_allclose(losses.pixel_cross_entropy(labels, two_class), expected, rtol=1e-5)


def test_binary_probabilities_and_prediction():
    logits = tf.constant([[-2.0], [0.0], [3.0]])
    np.testing.assert_allclose(tf.reduce_sum(losses.class_probabilities(logits), -1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(losses.predicted_classes(logits), [0, 1, 1])  # logit >= 0 is the object
    np.testing.assert_array_equal(losses.predicted_classes(tf.constant([[0.1, 0.7, 0.2]])), [1])


def test_marginal_loss_with_one_logit():
    logits = tf.constant(np.random.default_rng(1).normal(size=(1, 2, 4, 4, 1)), tf.float32)
    log_beta = tf.math.log(tf.fill((1, 2, 2, 2), 0.5))
    labels = tf.ones((1, 4, 4), tf.int32)
    loss, _ = losses.segmentation_loss({"step_logits": logits, "log_stop_probs": log_beta}, labels, "marginal")
    p = tf.sigmoid(logits[..., 0])
    expected = -tf.reduce_mean(tf.math.log(0.5 * p[:, 0] + 0.5 * p[:, 1]))
    np.testing.assert_allclose(loss, [expected], rtol=1e-5)
