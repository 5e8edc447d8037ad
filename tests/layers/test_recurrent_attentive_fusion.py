"""RecurrentAttentiveFusion (Algorithm 1) and select_steps."""

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.layers import RecurrentAttentiveFusion
from lbie_tf.ops.stop_distribution import first_stop, select_steps
from tests.layers.layer_test_helper import run_layer_test

B, M, N, D, L, K = 2, 3, 3, 5, 4, 6
RNG = np.random.default_rng(3)
IMAGE = RNG.normal(size=(B, M, N, D)).astype("float32")
TEXT = RNG.normal(size=(B, L, K)).astype("float32")
MASK = np.array([[True, True, False, False], [True] * L])
SUMMARY = RNG.normal(size=(B, K)).astype("float32")

PAPER = {"steps": 2, "units": 8, "attention_units": 4, "termination_bias_init": -1.5}
RELEASED = {"steps": 3, "units": D, "attention_units": None, "attention_score": "scaled_dot", "kernel_size": 1,
            "reset_gate_on": "text", "output_projection": False, "gate_bias_init": 0.5,
            "gate_source": "decoder"}


def test_paper_configuration_contract(tmp_path):
    # projection 2 + attention 2 + C-GRU (gates 2, candidate 2, W7 1) + gate 2 = 11
    layer, outputs = run_layer_test(
        RecurrentAttentiveFusion, PAPER, (IMAGE, TEXT), {"text_mask": MASK},
        expected_output_shape={"step_outputs": (B, 2, M, N, 8), "gate_logits": (B, 2, M, N),
                               "attention": (B, 2, M, N, L)},
        expected_num_trainable_weights=11,
        build_shapes={"image_features_shape": IMAGE.shape, "text_features_shape": TEXT.shape,
                      "text_mask_shape": MASK.shape},
        jit_compile=True, tmp_path=tmp_path)
    attention = outputs["attention"].numpy()
    np.testing.assert_allclose(attention.sum(-1), 1.0, atol=1e-5)
    assert (attention[0, ..., 2:] == 0).all()
    fresh = RecurrentAttentiveFusion(**PAPER)
    fresh(IMAGE, TEXT, text_mask=MASK)
    np.testing.assert_allclose(fresh.gate.bias.numpy(), [-1.5])


def test_released_configuration_contract(tmp_path):
    # no projection (D == units), scaled-dot attention 2, C-GRU 1×1 without W7 (gates 2, candidate 2), no gate
    run_layer_test(
        RecurrentAttentiveFusion, RELEASED, (IMAGE, TEXT), {"text_mask": MASK},
        expected_output_shape={"step_outputs": (B, 3, M, N, D), "attention": (B, 3, M, N, L)},
        expected_num_trainable_weights=6, jit_compile=True, tmp_path=tmp_path)


def test_no_attention_configuration_contract(tmp_path):
    run_layer_test(
        RecurrentAttentiveFusion, {"steps": 1, "units": 8, "use_attention": False}, (IMAGE, None),
        {"text_summary": SUMMARY},
        expected_output_shape={"step_outputs": (B, 1, M, N, 8), "gate_logits": (B, 1, M, N)},
        expected_num_trainable_weights=9, tmp_path=tmp_path)


def test_no_attention_ignores_text_features():
    layer = RecurrentAttentiveFusion(steps=2, units=8, use_attention=False)
    base = layer(IMAGE, TEXT, text_summary=SUMMARY)["step_outputs"].numpy()
    other_text = layer(IMAGE, TEXT + 10.0, text_summary=SUMMARY)["step_outputs"].numpy()
    no_text = layer(IMAGE, None, text_summary=SUMMARY)["step_outputs"].numpy()
    other_summary = layer(IMAGE, TEXT, text_summary=SUMMARY + 1.0)["step_outputs"].numpy()
    np.testing.assert_array_equal(base, other_text)
    np.testing.assert_array_equal(base, no_text)
    assert not np.allclose(base, other_summary)
    with pytest.raises(ValueError):
        RecurrentAttentiveFusion(steps=1, use_attention=False)(IMAGE, TEXT)


def test_more_steps_share_parameters_and_extend_one_step():
    one = RecurrentAttentiveFusion(steps=1, units=8)
    four = RecurrentAttentiveFusion(steps=4, units=8)
    out_one = one(IMAGE, TEXT, text_mask=MASK)
    four(IMAGE, TEXT, text_mask=MASK)
    assert len(one.trainable_weights) == len(four.trainable_weights)
    four.set_weights(one.get_weights())
    out_four = four(IMAGE, TEXT, text_mask=MASK)
    assert out_four["step_outputs"].shape == (B, 4, M, N, 8)
    for key in ("step_outputs", "gate_logits", "attention"):
        np.testing.assert_allclose(out_four[key][:, :1], out_one[key], atol=1e-6)
    # Later steps differ: the state moved on.
    assert not np.allclose(out_four["step_outputs"][:, 1], out_four["step_outputs"][:, 0])


def test_select_steps():
    outputs = tf.constant(RNG.normal(size=(B, 3, M, N, 4)).astype("float32"))
    index = RNG.integers(0, 3, size=(B, M, N))
    one_hot = tf.one_hot(index, 3, axis=1)
    selected = select_steps(outputs, one_hot).numpy()
    expected = np.take_along_axis(outputs.numpy(), index[:, None, :, :, None], axis=1)[:, 0]
    np.testing.assert_allclose(selected, expected)
    weights = RNG.uniform(size=(B, 3, M, N)).astype("float32")
    np.testing.assert_allclose(select_steps(outputs, weights),
                               np.einsum("btmnc,btmn->bmnc", outputs.numpy(), weights), atol=1e-5)


def test_algorithm_1_inference_end_to_end():
    layer = RecurrentAttentiveFusion(steps=3, units=8)
    result = layer(IMAGE, TEXT, text_mask=MASK)
    index, one_hot = first_stop(result["gate_logits"])
    fused = select_steps(result["step_outputs"], one_hot).numpy()
    expected = np.take_along_axis(result["step_outputs"].numpy(), index.numpy()[:, None, :, :, None], 1)[:, 0]
    np.testing.assert_allclose(fused, expected)


def test_under_mirrored_strategy():
    """Per-replica outputs and gradients equal a single-device run on the same examples."""
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"],
                                              cross_device_ops=tf.distribute.ReductionToOneDevice())
    with strategy.scope():
        layer = RecurrentAttentiveFusion(steps=2, units=8)
        layer(IMAGE[:1], TEXT[:1], text_mask=MASK[:1])
    reference = RecurrentAttentiveFusion(steps=2, units=8)
    reference(IMAGE[:1], TEXT[:1], text_mask=MASK[:1])
    reference.set_weights(layer.get_weights())

    def loss_and_grads(image, text, mask, model):
        with tf.GradientTape() as tape:
            out = model(image, text, text_mask=mask)
            loss = tf.reduce_sum(tf.square(out["step_outputs"])) + tf.reduce_sum(out["gate_logits"])
        return out["step_outputs"], tape.gradient(loss, model.trainable_weights)

    per_replica = strategy.experimental_distribute_values_from_function(
        lambda ctx: tuple(x[ctx.replica_id_in_sync_group:ctx.replica_id_in_sync_group + 1]
                          for x in (IMAGE, TEXT, MASK)))
    results = tf.function(lambda args: strategy.run(lambda i, t, m: loss_and_grads(i, t, m, layer),
                                                    args=args))(per_replica)
    for replica in range(2):
        outputs = strategy.experimental_local_results(results[0])[replica]
        grads = [strategy.experimental_local_results(g)[replica] for g in results[1]]
        expected_out, expected_grads = loss_and_grads(IMAGE[replica:replica + 1], TEXT[replica:replica + 1],
                                                      MASK[replica:replica + 1], reference)
        np.testing.assert_allclose(outputs, expected_out, atol=1e-5)
        for g, e in zip(grads, expected_grads):
            np.testing.assert_allclose(g, e, atol=1e-4)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        RecurrentAttentiveFusion(steps=0)
    with pytest.raises(ValueError):
        RecurrentAttentiveFusion(gate_source="decoder_channel")


def test_mixed_precision_policy():
    layer = RecurrentAttentiveFusion(steps=2, units=8, dtype="mixed_bfloat16")
    result = layer(IMAGE, TEXT, text_mask=MASK)
    assert all(value.dtype == tf.bfloat16 for value in result.values())
    assert all(weight.dtype == "float32" for weight in layer.weights)
    np.testing.assert_allclose(tf.cast(result["attention"], tf.float32).numpy().sum(-1), 1.0, atol=2e-2)
