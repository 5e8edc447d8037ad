"""The shared losses against their definitions: binary (one-logit) segmentation (sigmoid cross-entropy,
probabilities, threshold) and the colorization GAN + L1 terms with D = sigmoid(logits), in NumPy."""

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.losses import gan as gan_losses
from lbie_tf.losses import segmentation as losses
from lbie_tf.losses import termination as termination_losses


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


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_gan_terms_match_the_log_definitions():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(3, 4, 4)).astype(np.float32), rng.normal(size=(3, 4, 4)).astype(np.float32)
    expected_d = np.mean(-np.log(_sigmoid(real)), axis=(1, 2)) + np.mean(-np.log(1 - _sigmoid(fake)), axis=(1, 2))
    np.testing.assert_allclose(gan_losses.discriminator_loss(real, fake), expected_d, rtol=1e-5)
    np.testing.assert_allclose(gan_losses.generator_adversarial_loss(fake, "non_saturating"),
                               np.mean(-np.log(_sigmoid(fake)), axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(gan_losses.generator_adversarial_loss(fake, "minimax"),
                               np.mean(np.log(1 - _sigmoid(fake)), axis=(1, 2)), rtol=1e-5)
    with pytest.raises(ValueError, match="unknown"):
        gan_losses.generator_adversarial_loss(fake, "wasserstein")


def test_gan_terms_stay_finite_for_saturated_logits():
    logits = np.array([[[-200.0, 200.0]]], np.float32)
    assert np.all(np.isfinite(gan_losses.discriminator_loss(logits, logits)))
    assert np.all(np.isfinite(gan_losses.generator_adversarial_loss(logits)))


def test_l1_is_the_mean_absolute_error_per_example():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 3, 3, 2)).astype(np.float32), rng.normal(size=(2, 3, 3, 2)).astype(np.float32)
    np.testing.assert_allclose(gan_losses.l1_loss(a, b), np.abs(a - b).mean(axis=(1, 2, 3)), rtol=1e-6)


def test_stop_prior_kl_against_hand_values():
    uniform = np.full((1, 4, 2, 3), np.log(0.25), np.float32)  # [batch, T, m, n]
    np.testing.assert_allclose(termination_losses.stop_prior_kl(uniform).numpy(), [0.0], atol=1e-6)
    beta = np.array([0.7, 0.1, 0.1, 0.1], np.float64)
    expected = float(np.sum(beta * np.log(beta / 0.25)))
    mixed = np.broadcast_to(np.log(beta)[None, :, None, None], (2, 4, 2, 3)).astype(np.float32).copy()
    mixed[1] = np.log(0.25)  # the second example is uniform
    np.testing.assert_allclose(termination_losses.stop_prior_kl(mixed).numpy(), [expected, 0.0], rtol=1e-5, atol=1e-6)
    one_hot = np.log(np.array([1.0, 1e-30, 1e-30, 1e-30], np.float64))[None, :, None, None].astype(np.float32)
    np.testing.assert_allclose(termination_losses.stop_prior_kl(one_hot).numpy(), [np.log(4.0)], rtol=1e-5)


def test_stop_prior_gradient_moves_mass_away_from_a_dominant_step():
    logits = tf.Variable(np.array([[2.0, 0.0, 0.0, 0.0]], np.float32)[:, :, None, None])
    with tf.GradientTape() as tape:
        log_beta = tf.nn.log_softmax(logits, axis=1)
        kl = tf.reduce_sum(termination_losses.stop_prior_kl(log_beta))
    gradient = tape.gradient(kl, logits).numpy()[0, :, 0, 0]
    assert gradient[0] > 0 and np.all(gradient[1:] < 0)  # descent lowers the dominant step, raises the others


def test_step_cross_entropies_score_every_step_alone_with_pixel_weights():
    # 2 steps, one example 1×2 pixels, labels [0, 1], 2 classes; step 1 right, step 2 uniform.
    labels = tf.constant([[[0, 1]]])
    step_logits = tf.constant([[[[[2.0, 0.0], [0.0, 2.0]]], [[[0.0, 0.0], [0.0, 0.0]]]]])  # [1, 2, 1, 2, 2]
    right = -np.log(np.exp(2.0) / (np.exp(2.0) + 1.0))
    values = losses.step_cross_entropies(step_logits, labels, foreground_weight=3.0).numpy()
    # Weighted mean over pixels: (1 · ce(bg) + 3 · ce(fg)) / 4.
    np.testing.assert_allclose(values, [[right, np.log(2.0)]], rtol=1e-5)
