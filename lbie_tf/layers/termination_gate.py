"""The termination gate: a linear map from each region's state to its stop logit (paper §3, "Termination gates").

The stop-step distribution these logits define, and its relaxations, live in `lbie_tf.ops.stop_distribution`.
"""

from __future__ import annotations

import keras
from keras import ops

from lbie_tf.configs.choices import TERMINATION_KERNEL_INITS


@keras.saving.register_keras_serializable(package="lbie")
class TerminationGate(keras.layers.Layer):
    """A linear map from each region's state to its termination-gate logit.

    Args:
        bias_init: float, initial bias of the logit (0: f = 0.5 at the start; negative values favour
            continuing: with T steps and `bias_init = b`, every step's f starts near σ(b)).
        kernel_init: `"glorot"` (Glorot-uniform, Keras' default; the paper does not say) or `"zeros"`: every
            region's logit then starts at `bias_init` whatever its state, so the gates start from the same
            stop distribution everywhere and learn from there.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        state: float tensor `[batch, M, N, D]` (any rank works: the map acts on the last axis).

    Returns:
        Gate logits `[batch, M, N]`; the gate probability is `f = sigmoid(logits)`.

    Reference:
        Chen et al., CVPR 2018, §3 "Termination gates" (`τ_i^t ∼ p(·|f_tg(s_i^t; θ_tg))`) and §4.1 "the
        termination gate uses a linear map on top of the hidden state of each GRU cell".
    """

    def __init__(self, bias_init=0.0, kernel_init="glorot", **kwargs):
        super().__init__(**kwargs)
        if kernel_init not in TERMINATION_KERNEL_INITS:
            raise ValueError(f"`kernel_init` must be one of {TERMINATION_KERNEL_INITS}, got {kernel_init!r}.")
        self.bias_init = float(bias_init)
        self.kernel_init = kernel_init

    def build(self, state_shape):
        self.kernel = self.add_weight(name="kernel", shape=(int(state_shape[-1]), 1),
                                      initializer="glorot_uniform" if self.kernel_init == "glorot" else "zeros")
        self.bias = self.add_weight(name="bias", shape=(1,),
                                    initializer=keras.initializers.Constant(self.bias_init))
        self.built = True

    def get_config(self):
        return {**super().get_config(), "bias_init": self.bias_init, "kernel_init": self.kernel_init}

    def call(self, state):
        return ops.squeeze(ops.matmul(state, self.kernel) + self.bias, axis=-1)

    def compute_output_shape(self, state_shape):
        return tuple(state_shape[:-1])
