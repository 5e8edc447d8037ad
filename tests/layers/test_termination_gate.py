"""TerminationGate: a linear map from each region's state to its stop logit; its kernel initialisations."""

import numpy as np
import pytest

from lbie_tf.layers import TerminationGate

STATE = np.random.default_rng(5).normal(size=(2, 3, 3, 4)).astype("float32")


def test_logit_is_the_linear_map_of_the_state():
    gate = TerminationGate(bias_init=-0.5)
    logits = gate(STATE).numpy()
    expected = STATE @ gate.kernel.numpy()[:, 0] - 0.5
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-6)


def test_zero_kernel_starts_every_region_at_the_bias():
    gate = TerminationGate(bias_init=-1.25, kernel_init="zeros")
    np.testing.assert_array_equal(gate(STATE).numpy(), np.full((2, 3, 3), -1.25, np.float32))
    assert TerminationGate.from_config(gate.get_config()).kernel_init == "zeros"


def test_unknown_kernel_init_is_refused():
    with pytest.raises(ValueError, match="kernel_init"):
        TerminationGate(kernel_init="ones")
