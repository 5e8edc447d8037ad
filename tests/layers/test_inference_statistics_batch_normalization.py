"""InferenceStatisticsBatchNormalization: each inference choice against numpy, training as Keras' BatchNorm."""

import keras
import numpy as np
import pytest

from lbie_tf.layers import InferenceStatisticsBatchNormalization
from tests.layers.layer_test_helper import run_layer_test

RNG = np.random.default_rng(3)
INPUTS = (RNG.normal(size=(4, 3, 5, 6)) * 2.0 + 1.5).astype("float32")
EPSILON = 1e-3


def _layer(statistics: str):
    """A built layer with non-trivial gamma, beta and moving statistics."""
    layer = InferenceStatisticsBatchNormalization(statistics, epsilon=EPSILON, momentum=0.5)
    layer.build(INPUTS.shape)
    layer.gamma.assign(RNG.uniform(0.5, 2.0, size=6).astype("float32"))
    layer.beta.assign(RNG.normal(size=6).astype("float32"))
    layer.moving_mean.assign(RNG.normal(size=6).astype("float32"))
    layer.moving_variance.assign(RNG.uniform(0.5, 3.0, size=6).astype("float32"))
    return layer


def _normalise(x, mean, variance, layer):
    return (x - mean) / np.sqrt(variance + EPSILON) * layer.gamma.numpy() + layer.beta.numpy()


@pytest.mark.parametrize("statistics", ["moving", "batch", "initial"])
def test_inference_uses_the_named_statistics_and_leaves_the_moving_averages_alone(statistics):
    layer = _layer(statistics)
    moving = (layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy())
    expected = {
        "moving": _normalise(INPUTS, *moving, layer),
        "batch": _normalise(INPUTS, INPUTS.mean(axis=(0, 1, 2)), INPUTS.var(axis=(0, 1, 2)), layer),
        "initial": _normalise(INPUTS, 0.0, 1.0, layer),
    }[statistics]
    np.testing.assert_allclose(np.asarray(layer(INPUTS, training=False)), expected, atol=1e-4, rtol=1e-4)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), moving[0])
    np.testing.assert_array_equal(layer.moving_variance.numpy(), moving[1])


@pytest.mark.parametrize("statistics", ["batch", "initial"])
def test_training_is_keras_batch_norm(statistics):
    layer, plain = _layer(statistics), keras.layers.BatchNormalization(epsilon=EPSILON, momentum=0.5)
    plain.build(INPUTS.shape)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(layer(INPUTS, training=True)), np.asarray(plain(INPUTS, training=True)),
                               atol=1e-5)
    for ours, theirs in zip(layer.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)  # the moving averages moved the same way


def test_unknown_statistics_is_refused():
    with pytest.raises(ValueError, match="is not one of moving, batch, initial"):
        InferenceStatisticsBatchNormalization("running")


def test_layer_contract(tmp_path):
    layer, _ = run_layer_test(InferenceStatisticsBatchNormalization, {"inference_statistics": "initial"},
                              (INPUTS,), expected_output_shape=INPUTS.shape, expected_num_trainable_weights=2,
                              jit_compile=True, tmp_path=tmp_path)
    assert layer.get_config()["inference_statistics"] == "initial"
