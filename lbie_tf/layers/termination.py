"""Termination gates and the stop-step distribution (paper §3, "Termination gates" and "Loss and training").

Every image region `i` has a termination gate `f_t = σ(gate logit of s_t)`; the region stops at step `t`
with probability

    β_t = f_t · ∏_{k<t} (1 − f_k)                                     (paper §3)

Tensors here put the step axis at position 1: `gate_logits` / `log_beta` are `[batch, T, ...]` where `...`
is the region layout (`M, N` for the fusion map, `H, W` for the released code's per-pixel gates). The
functions give the training signals the paper and the released code use:

- `gumbel_softmax`: the paper's relaxation `z_t = softmax((log β_t + ε_t)/λ)` (optionally straight-through),
  with `GumbelTemperatureSchedule` for the annealed `λ`.
- `sample_stop_steps` + `reinforce_surrogate`: the REINFORCE estimator the paper describes (and rejects for
  its variance).
- `marginal_nll`: the released code's exact marginal `−log Σ_t β_t p_t(y)` (CoSaL/model.py:57-96).
- `first_stop` (Algorithm 1, deterministic) and `most_likely_stop` (released code) for inference.

Noise is always an argument (`uniform_noise`, values in (0, 1)) so the caller controls randomness across
replicas; nothing here draws random numbers. Half-precision inputs (mixed-precision layer outputs) are
computed and returned in float32.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

_FINAL_STEP = ("force", "drop")
_NOISE_EPS = 1e-6


def _as_float(x):
    """To a float tensor; half precision (mixed-precision layer outputs) is computed in float32."""
    x = tf.convert_to_tensor(x)
    if x.dtype in (tf.float16, tf.bfloat16) or not x.dtype.is_floating:
        x = tf.cast(x, tf.float32)
    return x


@keras.saving.register_keras_serializable(package="lbie")
class TerminationGate(keras.layers.Layer):
    """A linear map from each region's state to its termination-gate logit.

    Args:
        bias_init: float, initial bias of the logit (0: f = 0.5 at the start; negative values favour
            continuing: with T steps and `bias_init = b`, every step's f starts near σ(b)).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        state: float tensor `[batch, M, N, D]` (any rank works: the map acts on the last axis).

    Returns:
        Gate logits `[batch, M, N]`; the gate probability is `f = sigmoid(logits)`.

    Reference:
        Chen et al., CVPR 2018, §3 "Termination gates" (`τ_i^t ∼ p(·|f_tg(s_i^t; θ_tg))`) and §4.1 "the
        termination gate uses a linear map on top of the hidden state of each GRU cell".
    """

    def __init__(self, bias_init=0.0, **kwargs):
        super().__init__(**kwargs)
        self.bias_init = float(bias_init)

    def build(self, state_shape):
        self.kernel = self.add_weight(name="kernel", shape=(int(state_shape[-1]), 1),
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(1,),
                                    initializer=keras.initializers.Constant(self.bias_init))
        self.built = True

    def get_config(self):
        return {**super().get_config(), "bias_init": self.bias_init}

    def call(self, state):
        return ops.squeeze(ops.matmul(state, self.kernel) + self.bias, axis=-1)

    def compute_output_shape(self, state_shape):
        return tuple(state_shape[:-1])


def _step_axis_concat(first, last):
    return tf.concat([first, last], axis=1)


def stop_log_probs(gate_logits, final_step="force"):
    """Log of the stop-step distribution, `log β_t = log f_t + Σ_{k<t} log(1 − f_k)`.

    Computed in log space with `log σ(x)` and `log(1 − σ(x)) = log σ(−x)` (stable for large logits).

    Args:
        gate_logits: float tensor `[batch, T, ...]`, gate logits of every step (`f_t = σ(logit_t)`).
        final_step: `"force"` (paper, Algorithm 1: a region that never stopped keeps the last output, so
            `β_T = ∏_{k<T}(1 − f_k)` and `Σ_t β_t = 1`; with `T = 1`, `β_1 = 1`) or `"drop"` (released code:
            `β_T = f_T ∏_{k<T}(1 − f_k)`, the never-stopped mass `∏_t (1 − f_t)` is dropped).

    Returns:
        `log β`, float tensor `[batch, T, ...]`.
    """
    if final_step not in _FINAL_STEP:
        raise ValueError(f"`final_step` must be one of {_FINAL_STEP}, got {final_step!r}.")
    gate_logits = _as_float(gate_logits)
    log_stop = tf.math.log_sigmoid(gate_logits)
    log_continue = tf.math.log_sigmoid(-gate_logits)
    log_survive = tf.math.cumsum(log_continue, axis=1, exclusive=True)  # Σ_{k<t} log(1 − f_k)
    log_beta = log_stop + log_survive
    if final_step == "force":
        log_beta = _step_axis_concat(log_beta[:, :-1], log_survive[:, -1:])
    return log_beta


def _gumbel(uniform_noise, dtype):
    u = tf.clip_by_value(tf.cast(uniform_noise, dtype), _NOISE_EPS, 1.0 - _NOISE_EPS)
    return -tf.math.log(-tf.math.log(u))


def _one_hot_steps(index, num_steps, dtype):
    return tf.one_hot(index, num_steps, axis=1, dtype=dtype)


def gumbel_softmax(log_beta, temperature, uniform_noise, hard=False):
    """Gumbel-softmax relaxation of the stop step: `z_t = softmax_t((log β_t + ε_t) / λ)`.

    `ε_t = −log(−log u_t)` with `u` clipped to `[1e-6, 1 − 1e-6]`. The relaxation is over axis 1 (steps).

    Args:
        log_beta: float tensor `[batch, T, ...]` from `stop_log_probs`.
        temperature: scalar (float or tensor) `λ > 0`, e.g. from `GumbelTemperatureSchedule`.
        uniform_noise: tensor `[batch, T, ...]` of Uniform(0, 1) samples (generated by the caller, e.g.
            `tf.random.stateless_uniform` keyed by step and replica).
        hard: if True, straight-through: the forward value is the one-hot `argmax_t z_t`, the gradient is
            that of the soft `z`.

    Returns:
        `z`, float tensor `[batch, T, ...]`, summing to 1 over axis 1.

    Reference:
        Chen et al., CVPR 2018, §3 "Loss and training" (Gumbel-softmax, Jang et al. 2017).
    """
    log_beta = _as_float(log_beta)
    temperature = tf.cast(temperature, log_beta.dtype)
    soft = tf.nn.softmax((log_beta + _gumbel(uniform_noise, log_beta.dtype)) / temperature, axis=1)
    if not hard:
        return soft
    hard_sample = _one_hot_steps(tf.argmax(soft, axis=1, output_type=tf.int32), tf.shape(soft)[1], soft.dtype)
    return tf.stop_gradient(hard_sample - soft) + soft


def sample_stop_steps(log_beta, uniform_noise):
    """Draw the stop step of every region from `Cat(β_1..β_T)` (Gumbel-max trick), as a one-hot.

    Args:
        log_beta: float tensor `[batch, T, ...]`.
        uniform_noise: tensor `[batch, T, ...]` of Uniform(0, 1) samples.

    Returns:
        One-hot float tensor `[batch, T, ...]` (no gradient), the sample `ζ` used by REINFORCE.
    """
    log_beta = _as_float(log_beta)
    perturbed = tf.stop_gradient(log_beta) + _gumbel(uniform_noise, log_beta.dtype)
    index = tf.argmax(perturbed, axis=1, output_type=tf.int32)
    return tf.stop_gradient(_one_hot_steps(index, tf.shape(log_beta)[1], log_beta.dtype))


def reinforce_surrogate(log_beta, one_hot_sample, loss_per_region, baseline=0.0):
    """Score-function (REINFORCE) surrogate: `stop_gradient(loss − baseline) · log p(ζ)` per region.

    `log p(ζ_i) = Σ_t ζ_i^t log β_i^t`. Adding the (reduced) surrogate to the loss of the sampled output
    gives the paper's estimator `∇L ≈ (l(ζ) − b) ∇ log p(ζ) + ∇ l(ζ)`: the surrogate's gradient is
    `(loss − baseline) · ∇ log p(ζ)` because `loss` and `baseline` are `stop_gradient`-ed. Its *value* is
    not a loss; log the task loss, not this. Since `log p(ζ) = Σ_i log p(ζ_i)` over independent regions,
    a per-image loss broadcast to every region gives the paper's whole-map estimator after summing over
    regions.

    Args:
        log_beta: float tensor `[batch, T, ...]`.
        one_hot_sample: `[batch, T, ...]`, e.g. from `sample_stop_steps`.
        loss_per_region: float tensor `[batch, ...]`, or a prefix of it such as a per-example `[batch]`
            (broadcast left-aligned, i.e. over the trailing region axes), the loss of the sampled output.
        baseline: float or tensor, scalar or shaped like `loss_per_region` (also left-aligned; variance
            reduction, 0 = plain REINFORCE).

    Returns:
        Float tensor `[batch, ...]`; reduce it (sum over regions, average over the batch) and add it to the
        task loss.

    Reference:
        Chen et al., CVPR 2018, §3 "Loss and training" (REINFORCE-type update, Williams 1992).
    """
    log_beta = _as_float(log_beta)
    log_prob = tf.reduce_sum(tf.cast(one_hot_sample, log_beta.dtype) * log_beta, axis=1)

    def left_aligned(x):  # [batch] → [batch, 1, ..., 1]: a per-example value applies to all its regions
        x = tf.cast(x, log_beta.dtype)
        while x.shape.rank < log_prob.shape.rank:
            x = x[..., None]
        return x

    advantage = tf.stop_gradient(left_aligned(loss_per_region) - left_aligned(baseline))
    return advantage * log_prob


def _first_true(condition):
    """One-hot (int32) of the first True along axis 1; assumes at least one True per row."""
    as_int = tf.cast(condition, tf.int32)
    first = tf.logical_and(condition, tf.equal(tf.math.cumsum(as_int, axis=1), 1))
    return tf.cast(first, tf.int32)


def _index_and_one_hot(first, dtype):
    steps = tf.range(tf.shape(first)[1], dtype=tf.int32)
    steps = tf.reshape(steps, tf.concat([[1, -1], tf.ones([tf.rank(first) - 2], tf.int32)], axis=0))
    index = tf.reduce_sum(first * steps, axis=1)
    return index, tf.cast(first, dtype)


def first_stop(gate_logits, threshold=0.5):
    """Deterministic Algorithm 1: each region stops at the first step whose gate fires.

    Args:
        gate_logits: float tensor `[batch, T, ...]`.
        threshold: a region stops at the first `t` with `f_t = σ(logit_t) ≥ threshold`; at step `T` if none.

    Returns:
        `(index, one_hot)`: int32 `[batch, ...]` (0-based step) and float `[batch, T, ...]`.

    Reference:
        Chen et al., CVPR 2018, Algorithm 1 (with the sampled `τ` replaced by `f_t ≥ threshold`).
    """
    gate_logits = _as_float(gate_logits)
    fired = tf.sigmoid(gate_logits) >= tf.cast(threshold, gate_logits.dtype)
    fired = _step_axis_concat(fired[:, :-1], tf.ones_like(fired[:, -1:]))
    return _index_and_one_hot(_first_true(fired), gate_logits.dtype)


def most_likely_stop(log_beta):
    """The released code's inference: each region keeps the step with the largest `β_t` (first on ties).

    Args:
        log_beta: float tensor `[batch, T, ...]`.

    Returns:
        `(index, one_hot)`: int32 `[batch, ...]` and float `[batch, T, ...]`.
    """
    log_beta = _as_float(log_beta)
    is_max = log_beta >= tf.reduce_max(log_beta, axis=1, keepdims=True)
    return _index_and_one_hot(_first_true(is_max), log_beta.dtype)


def marginal_nll(log_beta, step_log_likelihood):
    """Exact negative log marginal likelihood over the stop step: `−log Σ_t β_t p_t(y)`.

    Args:
        log_beta: float tensor `[batch, T, ...]`.
        step_log_likelihood: float tensor `[batch, T, ...]`, `log p_t(y)` of the target under step `t`'s
            output (e.g. minus the per-pixel cross-entropy of step `t`).

    Returns:
        Float tensor `[batch, ...]` (`−logsumexp_t(log β_t + log p_t(y))`).

    Reference:
        Released code, CoSaL/model.py:57-96 (original_code.md §1.2, §3 row 11).
    """
    log_beta = _as_float(log_beta)
    return -tf.reduce_logsumexp(log_beta + tf.cast(step_log_likelihood, log_beta.dtype), axis=1)


@keras.saving.register_keras_serializable(package="lbie")
class GumbelTemperatureSchedule:
    """Annealed Gumbel-softmax temperature `λ(step) = max(minimum, initial · exp(−decay_rate · step))`.

    Args:
        initial: float, temperature at step 0.
        minimum: float, the floor.
        decay_rate: float, exponential decay per training step.

    Call arguments:
        step: int or tensor, the training step.

    Returns:
        Scalar float32 tensor `λ`.

    Reference:
        Chen et al., CVPR 2018, §3 ("λ is a temperature annealed via a fixed schedule"); the schedule form
        of Jang et al., ICLR 2017.
    """

    def __init__(self, initial=1.0, minimum=0.5, decay_rate=1e-4):
        self.initial = float(initial)
        self.minimum = float(minimum)
        self.decay_rate = float(decay_rate)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        value = self.initial * tf.exp(-self.decay_rate * step)
        return tf.maximum(tf.constant(self.minimum, tf.float32), value)

    def get_config(self):
        return {"initial": self.initial, "minimum": self.minimum, "decay_rate": self.decay_rate}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
