"""Convolutional GRU that infuses the attended text map into the region states (paper §3, "C-GRUs")."""

from __future__ import annotations

import keras
from keras import ops

from lbie_tf.configs.choices import OUTPUT_PROJECTION_INITS, RESET_GATE_TARGETS
from lbie_tf.layers.centre_identity_initializer import CentreIdentityInitializer
from lbie_tf.layers.composite_layer import CompositeLayer


@keras.saving.register_keras_serializable(package="lbie")
class ConvGRUCell(CompositeLayer):
    """One C-GRU step: update the state map `S` with the attended text map `Û`.

    Paper equations (⊗ = convolution, ⊙ = element-wise product):

        z = σ(W1⊗S + W2⊗Û + b1)
        r = σ(W3⊗S + W4⊗Û + b2)
        c = ReLU(W5⊗(r⊙S) + W6⊗Û + b)
        h = (1 − z)⊙S + z⊙c                     (the step output Ô_t)
        S_{t+1} = W7⊗h

    `W1..W4` are one fused convolution over `concat[S, Û]` producing the `z` and `r` channels, and `W5, W6`
    one convolution over `concat[r⊙S, Û]`; this is the same function as separate convolutions, only
    faster. Options reproduce the released code's "basic" merger (docs/discrepancies.md, rows 9 and C18b), whose
    `o = u⊙v + (1−u)⊙c` is this update with `u = 1 − z`:

    - `kernel_size=1`: every convolution is a per-position fully connected map (the released code).
    - `reset_gate_on="text"`: `r` gates the text instead, `c = ReLU(W5⊗S + W6⊗(r⊙Û) + b)` (released CoSaL
      code; `r` then has `K` channels). `"state"` is the paper (and the released Flowers code).
    - `output_projection=False`: no `W7`, `S_{t+1} = h` (released code).
    - `gate_bias_init`: initial value of `b1, b2` (paper 0; released 0.5 CoSaL, 1.0 Flowers).
    - `output_projection_init`: `W7` starts random (`"glorot"`, Keras' default; the paper does not say) or as
      the identity (`"identity"`, `CentreIdentityInitializer`: `S_{t+1} = h` at the start, as without `W7`).

    Args:
        filters: int, state channels `D` (the paper's "GRU units").
        kernel_size: int, size of every convolution (padding "same").
        reset_gate_on: `"state"` (paper) or `"text"` (released CoSaL code).
        output_projection: bool, apply `W7` (no bias) to produce the next state.
        gate_bias_init: float, initial bias of the `z` and `r` gates.
        output_projection_init: `"glorot"` or `"identity"`, the initial `W7`.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        state: float tensor `[batch, M, N, filters]`, `S_t`.
        attended: float tensor `[batch, M, N, K]`, `Û_t`.

    Returns:
        A tuple `(output, next_state)`, each `[batch, M, N, filters]`: `output = h = Ô_t` and
        `next_state = S_{t+1}` (equal to `h` when `output_projection=False`).

    Reference:
        Chen et al., CVPR 2018, §3 "C-GRUs" (equations for z, r, c, Ô_t = h, S_{t+1} = W7 ⊗ h).
    """

    def __init__(self, filters, kernel_size=3, reset_gate_on="state", output_projection=True,
                 gate_bias_init=0.0, output_projection_init="glorot", **kwargs):
        super().__init__(**kwargs)
        if reset_gate_on not in RESET_GATE_TARGETS:
            raise ValueError(f"`reset_gate_on` must be one of {RESET_GATE_TARGETS}, got {reset_gate_on!r}.")
        if output_projection_init not in OUTPUT_PROJECTION_INITS:
            raise ValueError(f"`output_projection_init` must be one of {OUTPUT_PROJECTION_INITS}, got "
                             f"{output_projection_init!r}.")
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.reset_gate_on = reset_gate_on
        self.output_projection = bool(output_projection)
        self.gate_bias_init = float(gate_bias_init)
        self.output_projection_init = output_projection_init
        # The `z`/`r` channel split depends on the text width K (for reset_gate_on="text"), so the
        # fused gate convolution is created in build().
        self.gates = None
        self.candidate = keras.layers.Conv2D(self.filters, self.kernel_size, padding="same",
                                             dtype=self.dtype_policy, name="candidate")
        self.projection = None
        if self.output_projection:
            initializer = ("glorot_uniform" if output_projection_init == "glorot" else CentreIdentityInitializer())
            self.projection = keras.layers.Conv2D(self.filters, self.kernel_size, padding="same",
                                                  use_bias=False, kernel_initializer=initializer,
                                                  dtype=self.dtype_policy, name="projection")

    def build(self, state_shape, attended_shape):
        state_dim, text_dim = int(state_shape[-1]), int(attended_shape[-1])
        if state_dim != self.filters:
            raise ValueError(f"`state` must have {self.filters} channels (filters), got {state_dim}.")
        self.reset_channels = self.filters if self.reset_gate_on == "state" else text_dim
        self.gates = keras.layers.Conv2D(
            self.filters + self.reset_channels, self.kernel_size, padding="same",
            bias_initializer=keras.initializers.Constant(self.gate_bias_init), dtype=self.dtype_policy,
            name="gates")
        joint_shape = tuple(state_shape[:-1]) + (state_dim + text_dim,)
        self.gates.build(joint_shape)
        self.candidate.build(joint_shape)
        if self.projection is not None:
            self.projection.build(tuple(state_shape))
        self.built = True

    def call(self, state, attended):
        gates = ops.sigmoid(self.gates(ops.concatenate([state, attended], axis=-1)))
        update, reset = gates[..., : self.filters], gates[..., self.filters:]
        if self.reset_gate_on == "state":
            candidate_in = ops.concatenate([reset * state, attended], axis=-1)
        else:
            candidate_in = ops.concatenate([state, reset * attended], axis=-1)
        candidate = ops.relu(self.candidate(candidate_in))
        output = (1.0 - update) * state + update * candidate
        next_state = self.projection(output) if self.projection is not None else output
        return output, next_state

    def compute_output_shape(self, state_shape, attended_shape):
        shape = tuple(state_shape[:-1]) + (self.filters,)
        return shape, shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "reset_gate_on": self.reset_gate_on,
            "output_projection": self.output_projection,
            "gate_bias_init": self.gate_bias_init,
            "output_projection_init": self.output_projection_init,
        })
        return config
