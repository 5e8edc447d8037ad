"""BilinearUpsampling: FCN-style bilinear-initialised transposed convolution (paper §4.1)."""

import keras
import numpy as np
import tensorflow as tf

from lbie_tf.layers import BilinearUpsampling
from tests.layers.layer_test_helper import run_layer_test

RNG = np.random.default_rng(4)


def test_layer_contract(tmp_path):
    x = RNG.normal(size=(2, 6, 6, 3)).astype("float32")
    run_layer_test(BilinearUpsampling, {"filters": 3}, (x,), expected_output_shape=(2, 48, 48, 3),
                   expected_num_trainable_weights=2, build_shapes={"input_shape": x.shape}, jit_compile=True,
                   tmp_path=tmp_path)


def test_constant_input_stays_constant_in_the_interior():
    y = BilinearUpsampling(2)(np.full((1, 6, 6, 2), 3.5, "float32")).numpy()
    assert y.shape == (1, 48, 48, 2)
    np.testing.assert_allclose(y[:, 4:44, 4:44], 3.5, atol=1e-5)


def test_initial_kernel_is_per_channel_bilinear():
    layer = BilinearUpsampling(3)
    layer.build((None, 6, 6, 3))
    kernel = layer.kernel.numpy()  # [16, 16, out, in]
    one_d = 1.0 - np.abs(np.arange(16) - 7.5) / 8.0  # 1/16, 3/16, ..., 15/16, 15/16, ..., 1/16
    for c in range(3):
        np.testing.assert_allclose(kernel[:, :, c, c], np.outer(one_d, one_d), atol=1e-7)
    off_diagonal = kernel.copy()
    for c in range(3):
        off_diagonal[:, :, c, c] = 0
    assert not off_diagonal.any()
    np.testing.assert_array_equal(layer.bias.numpy(), 0.0)


def test_matches_bilinear_resize_in_the_interior():
    x = RNG.normal(size=(1, 6, 6, 2)).astype("float32")
    y = BilinearUpsampling(2)(x).numpy()
    resized = tf.image.resize(x, (48, 48), method="bilinear").numpy()  # half-pixel centres
    np.testing.assert_allclose(y[:, 4:44, 4:44], resized[:, 4:44, 4:44], atol=1e-5)


def test_config_round_trip_and_frozen_variant():
    layer = BilinearUpsampling(4, kernel_size=4, strides=2, trainable=False, name="up")
    config = layer.get_config()
    assert config["filters"] == 4 and config["trainable"] is False and "kernel_initializer" not in config
    clone = BilinearUpsampling.from_config(config)
    assert clone.get_config() == config
    x = RNG.normal(size=(1, 5, 5, 4)).astype("float32")
    assert clone(x).shape == (1, 10, 10, 4)
    assert clone.trainable_weights == [] and len(clone.non_trainable_weights) == 2
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(restored, BilinearUpsampling) and restored.get_config() == config


def test_sub_pixel_computation_equals_the_transposed_convolution():
    """The fast path (3×3 conv + depth_to_space) must give exactly the transposed convolution's output and
    gradients, for a trained (non-bilinear, cross-channel) kernel and odd map sizes."""
    import tensorflow as tf

    layer = BilinearUpsampling(5, kernel_size=16, strides=8)
    x = tf.random.stateless_normal((2, 5, 7, 3), seed=(1, 2))
    layer.build(x.shape)
    layer.kernel.assign(tf.random.stateless_normal(layer.kernel.shape, seed=(3, 4)))
    layer.bias.assign(tf.random.stateless_normal(layer.bias.shape, seed=(5, 6)))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        fast = layer(x)
        reference = keras.layers.Conv2DTranspose.call(layer, x)
    assert fast.shape == (2, 40, 56, 5)
    np.testing.assert_allclose(fast, reference, atol=1e-4)
    for target in (x, layer.kernel):
        np.testing.assert_allclose(tf.convert_to_tensor(tape.gradient(fast, target)),
                                   tf.convert_to_tensor(tape.gradient(reference, target)), atol=1e-3)
