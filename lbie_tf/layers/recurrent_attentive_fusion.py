"""Recurrent attentive fusion (paper §3, Algorithm 1): attention → C-GRU → termination gate, T times."""

from __future__ import annotations

import keras
from keras import ops

from lbie_tf.configs.choices import GATE_SOURCES
from lbie_tf.layers.composite_layer import CompositeLayer
from lbie_tf.layers.conv_gru_cell import ConvGRUCell
from lbie_tf.layers.region_text_attention import RegionTextAttention
from lbie_tf.layers.termination_gate import TerminationGate


@keras.saving.register_keras_serializable(package="lbie")
class RecurrentAttentiveFusion(CompositeLayer):
    """The fusion network: every region reads the text `steps` times and may stop after any step.

    `S_0 = V` (projected by a 1×1 convolution to `units` channels when `D != units`); then, for
    `t = 1..steps` (an unrolled Python loop, the same sub-layers at every step):

        Û_t = Attention(S_{t−1}, U)            (RegionTextAttention)
        (Ô_t, S_t) = C-GRU(S_{t−1}, Û_t)       (ConvGRUCell)
        gate logit_t = TerminationGate(S_t)   (when gate_source == "state")

    The layer returns every step's output; choosing each region's step (Gumbel-softmax weights, a sampled
    one-hot, or the first-stop one-hot from `lbie_tf.layers.termination_gate`) is done with `select_steps`.

    With `use_attention=False` this is the paper's no-attention baseline (Table 2, "T = 1, Attention No":
    "concatenating features extracted from the convolutional network with the last vector from LSTM"):
    `Û_t` is `text_summary` broadcast to every region, and `text_features` is not used.

    Args:
        steps: int `T`, the maximum number of fusion steps (paper: 1–4 CoSaL, 3 ReferIt, 1 Flowers).
        units: int, state / GRU channels (paper: 16 CoSaL, 1024 ReferIt, 128 Flowers).
        attention_units: int or None, `RegionTextAttention` units (rank of the bilinear matrix, or the
            additive attention size).
        attention_score: `"bilinear"` (paper), `"scaled_dot"` (released CoSaL) or `"additive"` (released
            Flowers); see `RegionTextAttention`.
        use_attention: bool; False = no-attention baseline (needs `text_summary`).
        kernel_size: int, C-GRU convolution size (1 = the released code's per-position gates).
        reset_gate_on: `"state"` (paper) or `"text"` (released CoSaL); see `ConvGRUCell`.
        output_projection: bool, C-GRU `W7` (paper) or none (released code).
        output_projection_init: `"glorot"` or `"identity"`, the initial `W7` (see `ConvGRUCell`).
        gate_bias_init: float, initial bias of the C-GRU `z`/`r` gates.
        gate_source: `"state"` (paper: a linear gate on each region's state) or `"decoder"` (released CoSaL
            code: gates come from the decoder's channel 0, so this layer has no gate and returns none).
        termination_bias_init: float, initial bias of the termination gate (`TerminationGate`).
        termination_kernel_init: `"glorot"` or `"zeros"`, the initial termination-gate kernel.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        image_features: float tensor `[batch, M, N, D]`, the image feature map `V`.
        text_features: float tensor `[batch, L, K]`, the language feature map `U` (may be None when
            `use_attention=False`).
        text_mask: optional bool tensor `[batch, L]`, True for real words.
        text_summary: optional float tensor `[batch, K]`, e.g. the last LSTM state; required when
            `use_attention=False`.

    Returns:
        A dict:
        - `"step_outputs"`: `[batch, T, M, N, units]`, the step outputs `Ô_1..Ô_T` (= `h_t`).
        - `"gate_logits"`: `[batch, T, M, N]`, the termination-gate logits of `S_1..S_T` (only when
          `gate_source == "state"`).
        - `"attention"`: `[batch, T, M, N, L]`, the attention weights of each step (only when
          `use_attention`).

    Reference:
        Chen et al., CVPR 2018, §3 "Recurrent attentive fusion module" and Algorithm 1.
    """

    def __init__(self, steps=1, units=16, attention_units=16, attention_score="bilinear", use_attention=True,
                 kernel_size=3, reset_gate_on="state", output_projection=True, gate_bias_init=0.0,
                 gate_source="state", termination_bias_init=0.0, output_projection_init="glorot",
                 termination_kernel_init="glorot", **kwargs):
        super().__init__(**kwargs)
        if int(steps) < 1:
            raise ValueError(f"`steps` must be >= 1, got {steps!r}.")
        if gate_source not in GATE_SOURCES:
            raise ValueError(f"`gate_source` must be one of {GATE_SOURCES}, got {gate_source!r}.")
        self.steps = int(steps)
        self.units = int(units)
        self.attention_units = None if attention_units is None else int(attention_units)
        self.attention_score = attention_score
        self.use_attention = bool(use_attention)
        self.kernel_size = int(kernel_size)
        self.reset_gate_on = reset_gate_on
        self.output_projection = bool(output_projection)
        self.gate_bias_init = float(gate_bias_init)
        self.gate_source = gate_source
        self.termination_bias_init = float(termination_bias_init)
        self.output_projection_init = output_projection_init
        self.termination_kernel_init = termination_kernel_init

        policy = self.dtype_policy
        self.input_projection = None  # created in build() when D != units
        self.attention = None
        if self.use_attention:
            self.attention = RegionTextAttention(units=self.attention_units, score=self.attention_score,
                                                 dtype=policy, name="attention")
        self.cell = ConvGRUCell(self.units, kernel_size=self.kernel_size, reset_gate_on=self.reset_gate_on,
                                output_projection=self.output_projection, gate_bias_init=self.gate_bias_init,
                                output_projection_init=output_projection_init, dtype=policy, name="conv_gru")
        self.gate = (TerminationGate(self.termination_bias_init, kernel_init=termination_kernel_init, dtype=policy,
                                     name="termination_gate")
                     if gate_source == "state" else None)

    def build(self, image_features_shape, text_features_shape=None, text_mask_shape=None,
              text_summary_shape=None):
        image_dim = int(image_features_shape[-1])
        state_shape = tuple(image_features_shape[:-1]) + (self.units,)
        if image_dim != self.units:
            self.input_projection = keras.layers.Conv2D(self.units, 1, dtype=self.dtype_policy,
                                                        name="input_projection")
            self.input_projection.build(tuple(image_features_shape))
        if self.use_attention:
            if text_features_shape is None:
                raise ValueError("`text_features` is required when `use_attention=True`.")
            text_dim = int(text_features_shape[-1])
            self.attention.build(state_shape, tuple(text_features_shape), text_mask_shape)
        else:
            if text_summary_shape is None:
                raise ValueError("`text_summary` is required when `use_attention=False`.")
            text_dim = int(text_summary_shape[-1])
        self.cell.build(state_shape, tuple(image_features_shape[:-1]) + (text_dim,))
        if self.gate is not None:
            self.gate.build(state_shape)
        self.built = True

    def call(self, image_features, text_features=None, text_mask=None, text_summary=None):
        state = image_features
        if self.input_projection is not None:
            state = self.input_projection(state)
        constant_text = None
        if not self.use_attention:
            if text_summary is None:
                raise ValueError("`text_summary` is required when `use_attention=False`.")
            # The same text vector at every region: [B, 1, 1, K] broadcast against [B, M, N, 1].
            summary = ops.cast(text_summary, state.dtype)[:, None, None, :]
            constant_text = summary + ops.zeros_like(state[..., :1])
        outputs, gate_logits, attention = [], [], []
        for _ in range(self.steps):
            if self.use_attention:
                attended, weights = self.attention(state, text_features, text_mask=text_mask)
                attention.append(weights)
            else:
                attended = constant_text
            output, state = self.cell(state, attended)
            outputs.append(output)
            if self.gate is not None:
                gate_logits.append(self.gate(state))
        result = {"step_outputs": ops.stack(outputs, axis=1)}
        if self.gate is not None:
            result["gate_logits"] = ops.stack(gate_logits, axis=1)
        if self.use_attention:
            result["attention"] = ops.stack(attention, axis=1)
        return result

    def compute_output_shape(self, image_features_shape, text_features_shape=None, text_mask_shape=None,
                             text_summary_shape=None):
        batch, height, width = tuple(image_features_shape[:3])
        shapes = {"step_outputs": (batch, self.steps, height, width, self.units)}
        if self.gate is not None:
            shapes["gate_logits"] = (batch, self.steps, height, width)
        if self.use_attention:
            shapes["attention"] = (batch, self.steps, height, width, text_features_shape[1])
        return shapes

    def get_config(self):
        config = super().get_config()
        config.update({
            "steps": self.steps,
            "units": self.units,
            "attention_units": self.attention_units,
            "attention_score": self.attention_score,
            "use_attention": self.use_attention,
            "kernel_size": self.kernel_size,
            "reset_gate_on": self.reset_gate_on,
            "output_projection": self.output_projection,
            "gate_bias_init": self.gate_bias_init,
            "gate_source": self.gate_source,
            "termination_bias_init": self.termination_bias_init,
            "output_projection_init": self.output_projection_init,
            "termination_kernel_init": self.termination_kernel_init,
        })
        return config


