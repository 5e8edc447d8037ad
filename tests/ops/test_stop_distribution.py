"""Termination gates: stop-step distribution, Gumbel-softmax, REINFORCE, exact marginal, inference rules."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.layers import TerminationGate
from lbie_tf.losses.termination import marginal_nll, reinforce_surrogate
from lbie_tf.ops.stop_distribution import (
    first_stop,
    gumbel_softmax,
    most_likely_stop,
    sample_stop_steps,
    stop_log_probs,
)
from lbie_tf.training.schedules import GumbelTemperatureSchedule
from tests.layers.layer_test_helper import run_layer_test

RNG = np.random.default_rng(2)
LOGITS = RNG.normal(scale=2.0, size=(2, 4, 3, 3)).astype("float32")  # [B, T, M, N]


def _brute_force_beta(logits, final_step):
    f = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    T = logits.shape[1]
    beta = np.zeros_like(f)
    for t in range(T):
        survive = np.prod(1.0 - f[:, :t], axis=1)
        beta[:, t] = survive if (final_step == "force" and t == T - 1) else f[:, t] * survive
    return beta


def test_gate_layer_contract(tmp_path):
    state = RNG.normal(size=(2, 3, 3, 5)).astype("float32")
    run_layer_test(TerminationGate, {}, (state,), expected_output_shape=(2, 3, 3),
                   expected_num_trainable_weights=2, build_shapes={"state_shape": state.shape},
                   jit_compile=True, tmp_path=tmp_path)
    run_layer_test(TerminationGate, {"bias_init": -2.0}, (state,), expected_output_shape=(2, 3, 3),
                   expected_num_trainable_weights=2, build_shapes={"state_shape": state.shape},
                   jit_compile=False, tmp_path=tmp_path)


def test_bias_init_sets_the_initial_stop_distribution():
    gate = TerminationGate(bias_init=-2.0)
    state = np.zeros((1, 4, 2, 2, 3), np.float32)  # [batch, T = 4, M, N, D]: logits are the bias alone
    logits = gate(state).numpy()
    np.testing.assert_allclose(logits, -2.0)
    beta = np.exp(stop_log_probs(logits, "force").numpy())[0, :, 0, 0]
    f = 1.0 / (1.0 + np.exp(2.0))
    np.testing.assert_allclose(beta, [f, f * (1 - f), f * (1 - f) ** 2, (1 - f) ** 3], rtol=1e-5)
    assert beta[-1] > 0.65  # most regions reach the last step at the start of training


@pytest.mark.parametrize("final_step", ["force", "drop"])
def test_stop_distribution_matches_product_formula(final_step):
    beta = np.exp(stop_log_probs(LOGITS, final_step).numpy())
    np.testing.assert_allclose(beta, _brute_force_beta(LOGITS, final_step), atol=1e-6)
    f = 1.0 / (1.0 + np.exp(-LOGITS.astype(np.float64)))
    expected_total = 1.0 if final_step == "force" else 1.0 - np.prod(1.0 - f, axis=1)
    np.testing.assert_allclose(beta.sum(axis=1), expected_total, atol=1e-5)


def test_single_step_force_is_certain():
    np.testing.assert_allclose(stop_log_probs(LOGITS[:, :1], "force").numpy(), 0.0)


def test_stop_log_probs_stable_for_extreme_logits():
    logits = np.array([[[80.0], [-80.0], [80.0]], [[-80.0], [-80.0], [-80.0]]], dtype="float32")
    log_beta = stop_log_probs(logits, "force").numpy()
    assert np.isfinite(log_beta).all()
    np.testing.assert_allclose(np.exp(log_beta).sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.exp(log_beta[1, -1]), 1.0)  # never fired: forced at T


def test_gumbel_softmax_tends_to_one_hot_at_low_temperature():
    log_beta = stop_log_probs(LOGITS)
    noise = RNG.uniform(size=LOGITS.shape).astype("float32")
    soft = gumbel_softmax(log_beta, 1.0, noise).numpy()
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, atol=1e-5)
    cold = gumbel_softmax(log_beta, 1e-3, noise).numpy()
    assert cold.max(axis=1).min() > 0.99
    assert cold.max(axis=1).mean() > soft.max(axis=1).mean()


def test_hard_gumbel_is_one_hot_with_soft_gradient():
    log_beta = tf.constant(stop_log_probs(LOGITS))
    noise = RNG.uniform(size=LOGITS.shape).astype("float32")
    weights = tf.constant(RNG.normal(size=LOGITS.shape).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(log_beta)
        hard = gumbel_softmax(log_beta, 0.5, noise, hard=True)
        soft = gumbel_softmax(log_beta, 0.5, noise, hard=False)
        hard_loss, soft_loss = tf.reduce_sum(hard * weights), tf.reduce_sum(soft * weights)
    hard = hard.numpy()
    assert set(np.unique(hard)) <= {0.0, 1.0}
    np.testing.assert_array_equal(hard.sum(axis=1), 1.0)
    np.testing.assert_array_equal(hard.argmax(axis=1), soft.numpy().argmax(axis=1))
    np.testing.assert_allclose(tape.gradient(hard_loss, log_beta), tape.gradient(soft_loss, log_beta), atol=1e-6)


def test_empirical_frequencies_match_beta():
    draws = 20000
    logits = np.broadcast_to(LOGITS[:1, :, 0, :2], (draws, 4, 2))  # [draws, T, regions]
    log_beta = stop_log_probs(logits)
    beta = np.exp(log_beta.numpy()[0])
    noise = tf.random.stateless_uniform((draws, 4, 2), seed=(1, 2))
    hard_mean = gumbel_softmax(log_beta, 0.7, noise, hard=True).numpy().mean(axis=0)
    np.testing.assert_allclose(hard_mean, beta, atol=0.02)
    noise = tf.random.stateless_uniform((draws, 4, 2), seed=(3, 4))
    sample_mean = sample_stop_steps(log_beta, noise).numpy().mean(axis=0)
    np.testing.assert_allclose(sample_mean, beta, atol=0.02)


def test_marginal_nll_matches_enumeration():
    step_ll = np.log(RNG.uniform(0.05, 1.0, size=LOGITS.shape)).astype("float32")
    for final_step in ("force", "drop"):
        beta = _brute_force_beta(LOGITS, final_step)
        expected = -np.log((beta * np.exp(step_ll.astype(np.float64))).sum(axis=1))
        actual = marginal_nll(stop_log_probs(LOGITS, final_step), step_ll).numpy()
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


def test_marginal_nll_on_a_tiny_case_by_hand():
    # One region, T = 2, f = (0.5, 0.5) → β = (0.5, 0.5) with "force"; p = (0.2, 0.6) → −log(0.4).
    log_beta = stop_log_probs(np.zeros((1, 2), "float32"), "force")
    actual = marginal_nll(log_beta, np.log(np.array([[0.2, 0.6]], "float32"))).numpy()
    np.testing.assert_allclose(actual, [-np.log(0.4)], rtol=1e-6)


def test_reinforce_surrogate_gradient_is_advantage_times_score():
    logits = tf.constant(LOGITS)
    sample = sample_stop_steps(stop_log_probs(logits), RNG.uniform(size=LOGITS.shape).astype("float32"))
    loss = tf.constant(RNG.uniform(size=(2, 3, 3)).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([logits, loss])
        log_beta = stop_log_probs(logits)
        surrogate = reinforce_surrogate(log_beta, sample, loss, baseline=0.25)
        total = tf.reduce_sum(surrogate)
        log_p = tf.reduce_sum(sample * log_beta, axis=1)
        weighted = tf.reduce_sum(tf.stop_gradient(loss - 0.25) * log_p)
    assert surrogate.shape == (2, 3, 3)
    np.testing.assert_allclose(tape.gradient(total, logits), tape.gradient(weighted, logits), atol=1e-6)
    assert tape.gradient(total, loss) is None  # the loss is stop-gradient'ed


def test_first_stop_follows_algorithm_1():
    # f >= 0.5 ⇔ logit >= 0. Region 0 fires at t=1 (and again at t=3), region 1 never fires (→ last step).
    logits = np.array([[[-1.0, -2.0], [0.5, -1.0], [-3.0, -0.5], [2.0, -4.0]]], "float32")  # [1, T=4, 2]
    index, one_hot = first_stop(logits)
    np.testing.assert_array_equal(index, [[1, 3]])
    np.testing.assert_array_equal(one_hot.numpy()[0].T, [[0, 1, 0, 0], [0, 0, 0, 1]])
    index, _ = first_stop(logits, threshold=0.1)  # logit(0.1) ≈ −2.2: region 1 fires at t=0
    np.testing.assert_array_equal(index, [[0, 0]])
    assert index.dtype == tf.int32


def test_most_likely_stop_takes_first_argmax():
    log_beta = np.log(np.array([[[0.2, 0.4], [0.5, 0.2], [0.3, 0.4]]], "float32"))  # [1, T=3, 2], tie in 1
    index, one_hot = most_likely_stop(log_beta)
    np.testing.assert_array_equal(index, [[1, 0]])
    np.testing.assert_array_equal(one_hot.numpy()[0].T, [[0, 1, 0], [1, 0, 0]])


@pytest.mark.parametrize("mode", ["gumbel", "gumbel_hard", "marginal", "reinforce"])
def test_gradients_reach_the_gate_kernel(mode):
    gate = TerminationGate()
    states = tf.constant(RNG.normal(size=(2, 3, 2, 2, 4)).astype("float32"))  # [B, T, M, N, D]
    step_loss = tf.constant(RNG.uniform(size=(2, 3, 2, 2)).astype("float32"))  # per-step loss
    noise = tf.constant(RNG.uniform(size=(2, 3, 2, 2)).astype("float32"))
    with tf.GradientTape() as tape:
        log_beta = stop_log_probs(gate(states))
        if mode.startswith("gumbel"):
            z = gumbel_softmax(log_beta, 0.5, noise, hard=mode == "gumbel_hard")
            loss = tf.reduce_sum(z * step_loss)
        elif mode == "marginal":
            loss = tf.reduce_sum(marginal_nll(log_beta, -step_loss))
        else:
            sample = sample_stop_steps(log_beta, noise)
            sampled_loss = tf.reduce_sum(sample * step_loss, axis=1)
            loss = tf.reduce_sum(reinforce_surrogate(log_beta, sample, sampled_loss, 0.5))
    grads = tape.gradient(loss, gate.trainable_weights)
    assert all(g is not None for g in grads)
    assert np.abs(grads[0].numpy()).sum() > 0


def test_functions_under_xla():
    noise = RNG.uniform(size=LOGITS.shape).astype("float32")
    step_ll = -RNG.uniform(size=LOGITS.shape).astype("float32")

    def everything(logits):
        log_beta = stop_log_probs(logits)
        return (log_beta, gumbel_softmax(log_beta, 0.5, noise, hard=True), sample_stop_steps(log_beta, noise),
                marginal_nll(log_beta, step_ll), first_stop(logits), most_likely_stop(log_beta))

    eager = keras.tree.flatten(everything(tf.constant(LOGITS)))
    compiled = keras.tree.flatten(tf.function(everything, jit_compile=True)(tf.constant(LOGITS)))
    for e, c in zip(eager, compiled):
        np.testing.assert_allclose(np.asarray(c), np.asarray(e), atol=1e-5)


def test_temperature_schedule():
    schedule = GumbelTemperatureSchedule(initial=1.0, minimum=0.5, decay_rate=1e-3)
    values = [float(schedule(step)) for step in (0, 100, 500, 10_000)]
    assert values[0] == pytest.approx(1.0)
    assert values[1] == pytest.approx(np.exp(-0.1), rel=1e-6)
    assert values == sorted(values, reverse=True) and values[-1] == pytest.approx(0.5)
    assert schedule(tf.constant(7, tf.int64)).dtype == tf.float32
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(restored, GumbelTemperatureSchedule)
    assert restored.get_config() == schedule.get_config()
    assert GumbelTemperatureSchedule.from_config(schedule.get_config()).get_config() == schedule.get_config()


def test_invalid_final_step():
    with pytest.raises(ValueError):
        stop_log_probs(LOGITS, "keep")


def test_brute_force_helper_sanity():
    # The enumeration over all stop patterns of one region agrees with the product formula.
    logits = LOGITS[:1, :, :1, :1]
    f = 1.0 / (1.0 + np.exp(-logits[0, :, 0, 0].astype(np.float64)))
    probs = np.zeros(4)
    for taus in itertools.product([0, 1], repeat=4):
        p = np.prod([f[t] if taus[t] else 1 - f[t] for t in range(4)])
        first = taus.index(1) if 1 in taus else 3  # never fired → forced at the last step
        probs[first] += p
    np.testing.assert_allclose(_brute_force_beta(logits, "force")[0, :, 0, 0], probs, atol=1e-12)


def test_half_precision_inputs_are_computed_in_float32():
    logits = tf.cast(tf.constant(LOGITS), tf.bfloat16)
    log_beta = stop_log_probs(logits)
    assert log_beta.dtype == tf.float32
    np.testing.assert_allclose(np.exp(log_beta.numpy()).sum(axis=1), 1.0, atol=1e-5)
    assert marginal_nll(tf.cast(log_beta, tf.float16), tf.zeros_like(log_beta)).dtype == tf.float32


def test_reinforce_per_example_loss_broadcasts_over_regions():
    log_beta = stop_log_probs(LOGITS)  # [B=2, T, 3, 3]
    sample = sample_stop_steps(log_beta, RNG.uniform(size=LOGITS.shape).astype("float32"))
    per_example = tf.constant([1.0, 3.0])
    surrogate = reinforce_surrogate(log_beta, sample, per_example, baseline=tf.reduce_mean(per_example))
    log_p = tf.reduce_sum(sample * log_beta, axis=1).numpy()
    assert surrogate.shape == (2, 3, 3)
    np.testing.assert_allclose(surrogate, np.array([-1.0, 1.0])[:, None, None] * log_p, atol=1e-6)
