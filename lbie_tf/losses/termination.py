"""Losses on the termination gates' stop-step distribution `β` (`lbie_tf.ops.stop_distribution`).

- `marginal_nll`: the released code's exact marginal `−log Σ_t β_t p_t(y)` (docs/released_code.md, "CoSaL
  model").
- `reinforce_surrogate`: the REINFORCE estimator the paper describes (and rejects for its variance).
- `stop_prior_kl`: the KL of `β` to the uniform distribution (ours, `--stop_prior_weight`), and
  `expected_stop_step` for summaries.
"""

from __future__ import annotations

import tensorflow as tf

from lbie_tf.ops.stop_distribution import as_float


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
    log_beta = as_float(log_beta)
    log_prob = tf.reduce_sum(tf.cast(one_hot_sample, log_beta.dtype) * log_beta, axis=1)

    def left_aligned(x):  # [batch] → [batch, 1, ..., 1]: a per-example value applies to all its regions
        x = tf.cast(x, log_beta.dtype)
        while x.shape.rank < log_prob.shape.rank:
            x = x[..., None]
        return x

    advantage = tf.stop_gradient(left_aligned(loss_per_region) - left_aligned(baseline))
    return advantage * log_prob


def marginal_nll(log_beta, step_log_likelihood):
    """Exact negative log marginal likelihood over the stop step: `−log Σ_t β_t p_t(y)`.

    Args:
        log_beta: float tensor `[batch, T, ...]`.
        step_log_likelihood: float tensor `[batch, T, ...]`, `log p_t(y)` of the target under step `t`'s
            output (e.g. minus the per-pixel cross-entropy of step `t`).

    Returns:
        Float tensor `[batch, ...]` (`−logsumexp_t(log β_t + log p_t(y))`).

    Reference:
        Released code, CoSaL/model.py:57-96 (docs/released_code.md, "CoSaL losses and evaluation").
    """
    log_beta = as_float(log_beta)
    return -tf.reduce_logsumexp(log_beta + tf.cast(step_log_likelihood, log_beta.dtype), axis=1)


def expected_stop_step(log_stop_probs):
    """Mean over regions of E[t] under β (1-based steps): `[batch, T, m, n]` → `[batch]`."""
    steps = tf.cast(tf.range(1, log_stop_probs.shape[1] + 1), tf.float32)[None, :, None, None]
    return tf.reduce_mean(tf.reduce_sum(tf.exp(log_stop_probs) * steps, axis=1), axis=[1, 2])


def stop_prior_kl(log_stop_probs):
    """KL(β ‖ uniform over the T steps) per region, averaged over regions: `[batch, T, m, n]` → `[batch]`.

    `Σ_t β_t (log β_t + log T)`: 0 when every step is equally likely, log T when one step has all the mass.
    A penalty on it keeps the stop distribution from collapsing onto one step (PonderNet's KL to a prior,
    here uniform); with `final_step="drop"` β sums to less than 1 and the value is only a penalty, not a KL.
    """
    log_beta = tf.cast(log_stop_probs, tf.float32)
    steps = tf.cast(tf.shape(log_beta)[1], tf.float32)
    per_region = tf.reduce_sum(tf.exp(log_beta) * (log_beta + tf.math.log(steps)), axis=1)
    return tf.reduce_mean(per_region, axis=[1, 2])
