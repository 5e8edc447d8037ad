"""ConvGRUCell against a hand-written numpy version of the paper's C-GRU equations (and the released form)."""

import numpy as np
import pytest

from lbie_tf.layers import ConvGRUCell
from tests.layers.layer_test_helper import run_layer_test

B, M, N, F, K = 2, 4, 5, 6, 3
RNG = np.random.default_rng(1)
STATE = RNG.normal(size=(B, M, N, F)).astype("float32")
ATTENDED = RNG.normal(size=(B, M, N, K)).astype("float32")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _conv_same(x, kernel, bias=None):
    """Plain "same" convolution (stride 1, odd kernel): x [B,H,W,C], kernel [k,k,C,O]."""
    k = kernel.shape[0]
    p = k // 2
    padded = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    out = np.zeros(x.shape[:3] + (kernel.shape[-1],), dtype=np.float64)
    for i in range(k):
        for j in range(k):
            out += np.einsum("bhwc,co->bhwo", padded[:, i:i + x.shape[1], j:j + x.shape[2]], kernel[i, j])
    return out if bias is None else out + bias


def _reference(cell, s, u):
    """The paper's equations with W1..W6 as separate convolutions cut out of the fused kernels."""
    gk, gb = cell.gates.kernel.numpy(), cell.gates.bias.numpy()
    ck, cb = cell.candidate.kernel.numpy(), cell.candidate.bias.numpy()
    w1, w2 = gk[:, :, :F, :F], gk[:, :, F:, :F]           # z from S, Û
    w3, w4 = gk[:, :, :F, F:], gk[:, :, F:, F:]           # r from S, Û
    w5, w6 = ck[:, :, :F], ck[:, :, F:]                   # candidate from (r⊙)S, (r⊙)Û
    z = _sigmoid(_conv_same(s, w1) + _conv_same(u, w2) + gb[:F])
    r = _sigmoid(_conv_same(s, w3) + _conv_same(u, w4) + gb[F:])
    if cell.reset_gate_on == "state":
        c = np.maximum(_conv_same(r * s, w5) + _conv_same(u, w6) + cb, 0.0)
    else:
        c = np.maximum(_conv_same(s, w5) + _conv_same(r * u, w6) + cb, 0.0)
    h = (1 - z) * s + z * c
    nxt = _conv_same(h, cell.projection.kernel.numpy()) if cell.output_projection else h
    return h, nxt


@pytest.mark.parametrize("kwargs,num_weights", [
    ({"kernel_size": 3}, 5),
    ({"kernel_size": 1, "reset_gate_on": "text", "output_projection": False, "gate_bias_init": 0.5}, 4),
])
def test_layer_contract(kwargs, num_weights, tmp_path):
    run_layer_test(
        ConvGRUCell, {"filters": F, **kwargs}, (STATE, ATTENDED),
        expected_output_shape=((B, M, N, F), (B, M, N, F)), expected_num_trainable_weights=num_weights,
        build_shapes={"state_shape": STATE.shape, "attended_shape": ATTENDED.shape}, jit_compile=True,
        tmp_path=tmp_path)


@pytest.mark.parametrize("kernel_size", [1, 3])
@pytest.mark.parametrize("reset_gate_on", ["state", "text"])
@pytest.mark.parametrize("output_projection", [True, False])
def test_matches_numpy_equations(kernel_size, reset_gate_on, output_projection):
    cell = ConvGRUCell(F, kernel_size=kernel_size, reset_gate_on=reset_gate_on,
                       output_projection=output_projection, gate_bias_init=0.3)
    cell.build(STATE.shape, ATTENDED.shape)
    # Non-zero biases so that every term of the equations is exercised.
    cell.gates.bias.assign(RNG.normal(size=cell.gates.bias.shape).astype("float32"))
    cell.candidate.bias.assign(RNG.normal(size=cell.candidate.bias.shape).astype("float32"))
    output, next_state = cell(STATE, ATTENDED)
    expected_h, expected_next = _reference(cell, STATE.astype(np.float64), ATTENDED.astype(np.float64))
    np.testing.assert_allclose(output, expected_h, atol=2e-5)
    np.testing.assert_allclose(next_state, expected_next, atol=2e-5)


def test_reset_gate_width_follows_target():
    on_state, on_text = ConvGRUCell(F), ConvGRUCell(F, reset_gate_on="text")
    on_state.build(STATE.shape, ATTENDED.shape)
    on_text.build(STATE.shape, ATTENDED.shape)
    assert on_state.gates.kernel.shape == (3, 3, F + K, 2 * F)
    assert on_text.gates.kernel.shape == (3, 3, F + K, F + K)


def test_gate_bias_init_and_released_update_form():
    cell = ConvGRUCell(F, kernel_size=1, output_projection=False, gate_bias_init=1.0)
    output, next_state = cell(STATE, ATTENDED)
    np.testing.assert_allclose(cell.gates.bias.numpy(), 1.0)
    np.testing.assert_allclose(cell.candidate.bias.numpy(), 0.0)
    np.testing.assert_array_equal(output, next_state)  # no W7: S_{t+1} = h


def test_invalid_arguments():
    with pytest.raises(ValueError):
        ConvGRUCell(F, reset_gate_on="words")
    with pytest.raises(ValueError):
        ConvGRUCell(F + 1)(STATE, ATTENDED)


def test_identity_output_projection_passes_the_output_through():
    cell = ConvGRUCell(F, kernel_size=3, output_projection_init="identity")
    output, next_state = cell(STATE, ATTENDED)
    np.testing.assert_array_equal(next_state.numpy(), output.numpy())  # W7 ⊗ h = h exactly
    kernel = cell.projection.kernel.numpy()
    np.testing.assert_array_equal(kernel[1, 1], np.eye(F))
    assert np.count_nonzero(kernel) == F  # only the centre tap's diagonal
    assert ConvGRUCell.from_config(cell.get_config()).output_projection_init == "identity"


def test_glorot_output_projection_is_not_the_identity():
    cell = ConvGRUCell(F, kernel_size=3)
    output, next_state = cell(STATE, ATTENDED)
    assert np.abs(next_state.numpy() - output.numpy()).max() > 1e-3


def test_identity_initializer_needs_an_odd_kernel():
    from lbie_tf.layers import CentreIdentityInitializer

    with pytest.raises(ValueError, match="odd"):
        CentreIdentityInitializer()((2, 2, F, F))
    with pytest.raises(ValueError, match="output_projection_init"):
        ConvGRUCell(F, output_projection_init="orthogonal")
