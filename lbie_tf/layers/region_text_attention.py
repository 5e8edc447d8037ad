"""Region-to-word attention: every image region reads the language feature map (paper §3, "Attention")."""

from __future__ import annotations

import math

import keras
from keras import ops

from lbie_tf.configs.choices import ATTENTION_SCORES


def _masked_softmax(scores, mask):
    """Softmax over the last axis; masked positions get exactly 0 (a fully masked row gives all zeros)."""
    if mask is None:
        return ops.softmax(scores, axis=-1)
    # Large negative logit (dtype aware, so float16 does not overflow) before the softmax, then an exact
    # zero after it.
    neg = -3.0e4 if keras.backend.standardize_dtype(scores.dtype) == "float16" else -1.0e9
    scores = ops.where(mask, scores, ops.cast(neg, scores.dtype))
    weights = ops.softmax(scores, axis=-1)
    return weights * ops.cast(mask, weights.dtype)


@keras.saving.register_keras_serializable(package="lbie")
class RegionTextAttention(keras.layers.Layer):
    """Attention of every image region over the words (or sentences) of the expression.

    For each region state `s` (one position of the `M×N` state map) and each text feature `u_j`, a score
    `e_j` is computed and the attended text vector is `û = Σ_j β_j u_j`. Three scores are available; they
    are the places where the paper and the released code disagree (docs/discrepancies.md, rows 8 and C18):

    - `"bilinear"` (paper, default): `e_j = sᵀ W u_j`, `β = softmax_j(e)`. With `units=None`, `W` is a full
      `D×K` matrix; with `units=r`, `W = A Bᵀ` is factorised with rank `r`, i.e. `e_j = (sA)·(u_j B)` (the
      paper's "the attention model has 16 units").
    - `"scaled_dot"` (released CoSaL code, net.py:126-137): `w_j = Dense_D(u_j)` (with bias),
      `e_j = ⟨s, w_j⟩ / √D`, and the raw scores are used as weights, **without softmax** (so they do not
      sum to 1). Masked positions are zeroed.
    - `"additive"` (released Flowers code, colornet.py:107-121): `e_j = wᵀ tanh(A s + B u_j + b)`,
      `β = softmax_j(e)`; `units` is the attention dimension (`att_dim`) and is required.

    With the softmax variants, each region's weights sum to 1 over the unmasked positions (a row whose
    positions are all masked gets all-zero weights).

    Args:
        units: int or None. Rank of the factorised bilinear matrix (None = full `D×K` matrix), or the hidden
            size of the additive score (required there). Ignored by `"scaled_dot"`.
        score: one of `"bilinear"`, `"scaled_dot"`, `"additive"`.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        state: float tensor `[batch, M, N, D]`, the region states `S_t`.
        text: float tensor `[batch, L, K]`, the language feature map `U`.
        text_mask: optional bool tensor `[batch, L]`, True for real words, False for padding.

    Returns:
        A tuple `(attended, weights)`: `attended` `[batch, M, N, K]` is `Û_t`, `weights` `[batch, M, N, L]`
        holds `β` (or the raw scores for `"scaled_dot"`).

    Reference:
        Chen et al., CVPR 2018, §3 "Attention": `β_ij ∝ exp(s_iᵀ W u_j)`, `û_i = Σ_j β_ij u_j`.
    """

    def __init__(self, units=None, score="bilinear", **kwargs):
        super().__init__(**kwargs)
        if score not in ATTENTION_SCORES:
            raise ValueError(f"`score` must be one of {ATTENTION_SCORES}, got {score!r}.")
        if score == "additive" and units is None:
            raise ValueError("`score='additive'` needs `units` (the attention dimension).")
        if units is not None and int(units) < 1:
            raise ValueError(f"`units` must be a positive integer or None, got {units!r}.")
        self.units = None if units is None else int(units)
        self.score = score

    def build(self, state_shape, text_shape, text_mask_shape=None):
        state_dim, text_dim = int(state_shape[-1]), int(text_shape[-1])
        self.state_dim, self.text_dim = state_dim, text_dim
        glorot = keras.initializers.GlorotUniform
        if self.score == "bilinear":
            if self.units is None:
                self.kernel = self.add_weight(name="kernel", shape=(state_dim, text_dim), initializer=glorot())
            else:
                self.state_kernel = self.add_weight(name="state_kernel", shape=(state_dim, self.units),
                                                    initializer=glorot())
                self.text_kernel = self.add_weight(name="text_kernel", shape=(text_dim, self.units),
                                                   initializer=glorot())
        elif self.score == "scaled_dot":
            self.text_kernel = self.add_weight(name="text_kernel", shape=(text_dim, state_dim),
                                               initializer=glorot())
            self.text_bias = self.add_weight(name="text_bias", shape=(state_dim,), initializer="zeros")
        else:  # additive
            self.state_kernel = self.add_weight(name="state_kernel", shape=(state_dim, self.units),
                                                initializer=glorot())
            self.state_bias = self.add_weight(name="state_bias", shape=(self.units,), initializer="zeros")
            self.text_kernel = self.add_weight(name="text_kernel", shape=(text_dim, self.units),
                                               initializer=glorot())
            self.score_kernel = self.add_weight(name="score_kernel", shape=(self.units, 1),
                                                initializer=glorot())
        self.built = True

    def call(self, state, text, text_mask=None):
        mask = None
        if text_mask is not None:
            mask = ops.cast(text_mask, "bool")[:, None, None, :]  # [B, 1, 1, L]
        if self.score == "bilinear":
            if self.units is None:
                keys = ops.einsum("blk,dk->bld", text, self.kernel)  # W u_j, [B, L, D]
                scores = ops.einsum("bmnd,bld->bmnl", state, keys)
            else:
                queries = ops.einsum("bmnd,dr->bmnr", state, self.state_kernel)
                keys = ops.einsum("blk,kr->blr", text, self.text_kernel)
                scores = ops.einsum("bmnr,blr->bmnl", queries, keys)
            weights = _masked_softmax(scores, mask)
        elif self.score == "scaled_dot":
            keys = ops.einsum("blk,kd->bld", text, self.text_kernel) + self.text_bias
            scores = ops.einsum("bmnd,bld->bmnl", state, keys) / math.sqrt(self.state_dim)
            weights = scores if mask is None else scores * ops.cast(mask, scores.dtype)
        else:  # additive
            queries = ops.einsum("bmnd,da->bmna", state, self.state_kernel) + self.state_bias
            keys = ops.einsum("blk,ka->bla", text, self.text_kernel)
            hidden = ops.tanh(queries[:, :, :, None, :] + keys[:, None, None, :, :])  # [B, M, N, L, A]
            scores = ops.squeeze(ops.matmul(hidden, self.score_kernel), axis=-1)
            weights = _masked_softmax(scores, mask)
        attended = ops.einsum("bmnl,blk->bmnk", weights, text)
        return attended, weights

    def compute_output_shape(self, state_shape, text_shape, text_mask_shape=None):
        prefix = tuple(state_shape[:-1])
        return prefix + (text_shape[-1],), prefix + (text_shape[1],)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "score": self.score})
        return config
