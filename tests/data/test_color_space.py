"""Tests for lbie_tf.data.color_space: sRGB <-> CIE Lab (D65) and the network normalisation."""

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.data import color_space


@pytest.mark.parametrize(
    "rgb, lab",
    [
        ((1.0, 1.0, 1.0), (100.0, 0.0, 0.0)),
        ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
        ((1.0, 0.0, 0.0), (53.24, 80.09, 67.20)),
        ((0.0, 1.0, 0.0), (87.73, -86.18, 83.18)),
        ((0.0, 0.0, 1.0), (32.30, 79.19, -107.86)),
        ((1.0, 1.0, 0.0), (97.14, -21.55, 94.48)),
        ((0.0, 1.0, 1.0), (91.11, -48.09, -14.13)),
        ((1.0, 0.0, 1.0), (60.32, 98.23, -60.82)),
        ((0.5, 0.5, 0.5), (53.39, 0.0, 0.0)),
    ],
)
def test_known_colours(rgb, lab):
    np.testing.assert_allclose(color_space.rgb_to_lab(tf.constant(rgb)).numpy(), lab, atol=0.1)
    np.testing.assert_allclose(color_space.lab_to_rgb(tf.constant(lab)).numpy(), rgb, atol=1e-3)


def test_round_trip_on_random_colours():
    rgb = np.random.default_rng(0).uniform(size=(4, 50, 50, 3)).astype(np.float32)
    lab = color_space.rgb_to_lab(rgb)
    assert lab.shape == (4, 50, 50, 3)
    back = color_space.lab_to_rgb(lab).numpy()
    assert np.abs(back - rgb).max() < 1.0 / 255.0


def test_greys_lie_on_the_neutral_axis():
    """sRGB greys map to a = b = 0 only if the white point divides out the matrix's white (D65)."""
    grey = np.repeat(np.linspace(0.0, 1.0, 256, dtype=np.float32)[:, None], 3, axis=1)
    lab = color_space.rgb_to_lab(grey).numpy()
    assert np.abs(lab[:, 1:]).max() < 1e-2
    assert np.all(np.diff(lab[:, 0]) > 0)


def test_round_trip_on_an_8_bit_grid():
    levels = np.arange(0, 256, 3, dtype=np.float32) / 255.0  # 86**3 colours, the cube's corners included
    rgb = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)
    back = color_space.lab_to_rgb(color_space.rgb_to_lab(rgb)).numpy()
    assert np.abs(back - rgb).max() < 1.0 / 255.0 / 10.0


def test_out_of_gamut_lab_is_clipped():
    rgb = color_space.lab_to_rgb(tf.constant([[50.0, 120.0, -120.0], [100.0, -120.0, 120.0]])).numpy()
    assert rgb.min() >= 0.0 and rgb.max() <= 1.0


def test_normalisation_round_trip_and_values():
    lab = tf.constant([[100.0, 110.0, -110.0], [0.0, 0.0, 55.0]])
    normalized = color_space.normalize_lab(lab).numpy()
    np.testing.assert_allclose(normalized, [[1.0, 1.0, -1.0], [-1.0, 0.0, 0.5]], atol=1e-6)
    np.testing.assert_allclose(color_space.denormalize_lab(normalized).numpy(), lab.numpy(), atol=1e-4)


def test_gradients_are_finite():
    rgb = tf.constant([[0.0, 0.0, 0.0], [0.02, 0.5, 1.0], [1.0, 1.0, 1.0]])
    lab = tf.constant([[0.0, 0.0, 0.0], [5.0, 30.0, -40.0], [100.0, 0.0, 0.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([rgb, lab])
        forward = tf.reduce_sum(color_space.rgb_to_lab(rgb))
        backward = tf.reduce_sum(color_space.lab_to_rgb(lab))
    assert np.all(np.isfinite(tape.gradient(forward, rgb).numpy()))
    assert np.all(np.isfinite(tape.gradient(backward, lab).numpy()))
