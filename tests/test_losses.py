"""The colorization GAN + L1 terms against their definitions with D = sigmoid(logits), in NumPy."""

import numpy as np
import pytest

from lbie_tf import losses


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_gan_terms_match_the_log_definitions():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(3, 4, 4)).astype(np.float32), rng.normal(size=(3, 4, 4)).astype(np.float32)
    expected_d = np.mean(-np.log(_sigmoid(real)), axis=(1, 2)) + np.mean(-np.log(1 - _sigmoid(fake)), axis=(1, 2))
    np.testing.assert_allclose(losses.discriminator_loss(real, fake), expected_d, rtol=1e-5)
    np.testing.assert_allclose(losses.generator_adversarial_loss(fake, "non_saturating"),
                               np.mean(-np.log(_sigmoid(fake)), axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(losses.generator_adversarial_loss(fake, "minimax"),
                               np.mean(np.log(1 - _sigmoid(fake)), axis=(1, 2)), rtol=1e-5)
    with pytest.raises(ValueError, match="unknown"):
        losses.generator_adversarial_loss(fake, "wasserstein")


def test_gan_terms_stay_finite_for_saturated_logits():
    logits = np.array([[[-200.0, 200.0]]], np.float32)
    assert np.all(np.isfinite(losses.discriminator_loss(logits, logits)))
    assert np.all(np.isfinite(losses.generator_adversarial_loss(logits)))


def test_l1_is_the_mean_absolute_error_per_example():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 3, 3, 2)).astype(np.float32), rng.normal(size=(2, 3, 3, 2)).astype(np.float32)
    np.testing.assert_allclose(losses.l1_loss(a, b), np.abs(a - b).mean(axis=(1, 2, 3)), rtol=1e-6)
