"""Letterboxing (Hu et al.'s resize_and_pad) and its inverse (resize_and_crop) against NumPy references."""

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.data.letterbox import letterbox, letterbox_geometry, unletterbox


def _numpy_geometry(h, w, size):
    scale = min(size / h, size / w)
    rh, rw = int(np.round(h * scale)), int(np.round(w * scale))
    return rh, rw, int(np.floor((size - rh) / 2)), int(np.floor((size - rw) / 2))


@pytest.mark.parametrize("h, w", [(360, 480), (480, 360), (512, 512), (37, 101), (1, 9), (700, 300)])
def test_geometry_matches_numpy(h, w):
    assert tuple(int(v) for v in letterbox_geometry(h, w, 512)) == _numpy_geometry(h, w, 512)


def test_letterbox_pads_with_zeros_and_keeps_the_aspect():
    image = np.full((30, 60, 3), 200, np.uint8)
    boxed = letterbox(image, 64).numpy()
    assert boxed.shape == (64, 64, 3)
    rh, rw, top, left = _numpy_geometry(30, 60, 64)
    assert (rh, rw, top, left) == (32, 64, 16, 0)
    np.testing.assert_allclose(boxed[top:top + rh], 200.0)
    assert not boxed[:top].any() and not boxed[top + rh:].any()


@pytest.mark.parametrize("h, w", [(30, 60), (50, 30), (64, 64), (23, 41)])
def test_unletterbox_undoes_letterbox_for_a_block_mask(h, w):
    mask = np.zeros((h, w), np.float32)
    mask[h // 4: 3 * h // 4, w // 3: 2 * w // 3] = 1
    boxed = letterbox(mask[..., None], 64).numpy()[..., 0] > 0
    back = unletterbox(boxed.astype(np.float32), h, w).numpy() > 0
    assert back.shape == (h, w)
    # "> 0" after each bilinear resize (Hu et al.) keeps every object pixel and adds at most a 2-pixel rim.
    assert back[mask > 0].all()
    grown = np.zeros_like(mask)
    grown[max(h // 4 - 2, 0): 3 * h // 4 + 2, max(w // 3 - 2, 0): 2 * w // 3 + 2] = 1
    assert not back[grown == 0].any()


def test_unletterbox_in_a_tf_function_with_dynamic_sizes():
    fn = tf.function(unletterbox, input_signature=[tf.TensorSpec([16, 16, 1], tf.float32),
                                                   tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32)])
    assert fn(tf.ones([16, 16, 1]), tf.constant(9), tf.constant(21)).shape == (9, 21, 1)
