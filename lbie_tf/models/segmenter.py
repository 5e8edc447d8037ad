"""The language-based segmentation model: image encoder → text encoder → recurrent attentive fusion → decoder.

`LanguageSegmenter(config)` is one Keras model for every segmentation preset (`SegmenterConfig` names the
paper-vs-code choices). Inputs are a dict `{"image": [batch, H, W, 3] pixels in [0, 255],
"tokens": int [batch, sentences, words]}` (CoSaL captions, `text_encoder="sentences"`) or
`{"image": ..., "tokens": int [batch, words]}` (ReferIt expressions, `text_encoder="words"`). With
`num_classes=1` the model is a binary segmenter: one logit per pixel, object where it is ≥ 0.

- `model(inputs)` is inference as in Algorithm 1: every region keeps the fused output of its first stop and
  the decoder runs once; it returns the logits, each region's stop step, the stop distribution and the
  per-step attention.
- `model.train_outputs(...)` is the training forward pass for one termination-training mode (Gumbel-softmax,
  exact marginal, REINFORCE); `lbie_tf.losses.segmentation.segmentation_loss` turns it into per-example losses.
- `model.step_logits(inputs)` decodes every step (per-step predictions for TensorBoard and figures).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from lbie_tf.configs import SegmenterConfig
from lbie_tf.decoders.segmentation import (
    image_refinement,
    paper_segmentation_decoder,
    released_segmentation_decoder,
)
from lbie_tf.encoders.cosal_image import (
    cosal_paper_image_encoder,
    cosal_released_image_encoder,
)
from lbie_tf.encoders.sentence_text import SentenceHierarchyEncoder
from lbie_tf.encoders.vgg16 import vgg16_image_encoder
from lbie_tf.encoders.word_text import WordSequenceEncoder
from lbie_tf.errors import DataError
from lbie_tf.layers.recurrent_attentive_fusion import RecurrentAttentiveFusion
from lbie_tf.ops import stop_distribution
from lbie_tf.ops.stop_distribution import select_steps


@keras.saving.register_keras_serializable(package="lbie")
class LanguageSegmenter(keras.Model):
    """Language-based segmentation (paper §3, Figure 4) for one `SegmenterConfig`.

    Args:
        config: a `SegmenterConfig` or its `to_dict()`.
        sentences, words: caption shape `[sentences, words]` the model is built for (CoSaL: 9 × 3); a
            word-level model (`text_encoder="words"`) takes `[words]` tokens and ignores `sentences`.

    Call arguments:
        inputs: dict with `image` `[batch, H, W, 3]` (pixel values 0..255, any numeric dtype) and `tokens`
            int `[batch, sentences, words]` (or `[batch, words]` for a word-level model).
        training: whether BatchNorm layers (released preset) use and track batch statistics (otherwise
            they use the statistics that `config.batch_norm_inference` names).

    Returns (from `call`): dict with
        `logits` `[batch, H, W, num_classes]`,
        `stop_step` int32 `[batch, m, n]` (0-based; regions are encoder cells, or pixels when the gate
            comes from the decoder),
        `stop_probabilities` `[batch, T, m, n]` (β),
        `attention` `[batch, T, M, N, items]` over the sentences (or words of a word-level model); zeros
            when `attention` is off.
    """

    def __init__(self, config, sentences: int = 9, words: int = 3, **kwargs):
        super().__init__(**kwargs)
        self.config = config if isinstance(config, SegmenterConfig) else SegmenterConfig(**config)
        self.sentences = sentences
        self.words = words
        cfg = self.config
        if cfg.image_encoder == "cosal_paper":
            self.image_encoder = cosal_paper_image_encoder(
                cfg.encoder_width, cfg.encoder_context_layers, cfg.encoder_context_dilation,
                cfg.encoder_context_units)
        elif cfg.image_encoder == "cosal_released":
            self.image_encoder = cosal_released_image_encoder(cfg.batch_norm_momentum, cfg.batch_norm_inference)
        else:
            self.image_encoder = vgg16_image_encoder(cfg.image_size, cfg.vgg_blocks)
        if cfg.text_encoder == "sentences":
            self.text_encoder = SentenceHierarchyEncoder(
                cfg.vocab_size, embedding_dim=cfg.word_embedding_dim, sentence_units=cfg.sentence_units,
                bidirectional=cfg.sentence_bidirectional, paragraph_units=cfg.paragraph_units,
                unit_forget_bias=cfg.unit_forget_bias, paragraph_lstm=cfg.paragraph_lstm, name="text_encoder")
        else:
            self.text_encoder = WordSequenceEncoder(
                cfg.vocab_size, embedding_dim=cfg.word_embedding_dim, units=cfg.sentence_units,
                bidirectional=cfg.sentence_bidirectional, unit_forget_bias=cfg.unit_forget_bias,
                name="text_encoder")
        self.fusion = RecurrentAttentiveFusion(
            steps=cfg.steps, units=cfg.fusion_units, attention_units=cfg.attention_units,
            attention_score=cfg.attention_score, use_attention=cfg.attention,
            kernel_size=cfg.fusion_kernel_size, reset_gate_on=cfg.reset_gate_on,
            output_projection=cfg.output_projection, gate_bias_init=cfg.gate_bias_init,
            gate_source=cfg.gate_source, termination_bias_init=cfg.termination_bias_init,
            output_projection_init=cfg.output_projection_init, termination_kernel_init=cfg.termination_kernel_init,
            name="fusion")
        outputs = cfg.num_classes + (1 if cfg.gate_source == "decoder" else 0)
        stride = cfg.encoder_stride
        if cfg.decoder == "paper":
            self.decoder = paper_segmentation_decoder(outputs, stride, cfg.classifier_units)
        else:
            self.decoder = released_segmentation_decoder(outputs, int(np.log2(stride)), cfg.fusion_units,
                                                         cfg.batch_norm_momentum, cfg.batch_norm_inference)
        self.refinement = image_refinement(outputs, cfg.classifier_units) if cfg.image_skip else None

    # ----------------------------------------------------------------------------------------------
    @property
    def image_size(self) -> int:
        """Input height = width in pixels."""
        return self.config.image_size

    @property
    def regions(self) -> int:
        """Regions per side of the fused map (M = N)."""
        return self.config.image_size // self.config.encoder_stride

    @property
    def token_shape(self) -> tuple:
        """Shape of one example's tokens: `(sentences, words)`, or `(words,)` for a word-level model."""
        return (self.words,) if self.config.text_encoder == "words" else (self.sentences, self.words)

    def dummy_inputs(self, batch: int = 1) -> dict:
        """Zero inputs of the right shapes, used to build the model."""
        size = self.config.image_size
        return {"image": np.zeros((batch, size, size, 3), np.float32),
                "tokens": np.zeros((batch,) + self.token_shape, np.int32)}

    def check_inputs(self, inputs: dict) -> None:
        """Raise `DataError` (one line) when concrete inputs do not fit this model."""
        check_segmenter_inputs(inputs, self.config, self.token_shape)

    # ----------------------------------------------------------------------------------------------
    def encode_image(self, image, training=False):
        """`[batch, H, W, 3]` pixels → region features V `[batch, M, N, D]`."""
        return self.image_encoder(ops.cast(image, "float32"), training=training)

    def fuse_features(self, features, tokens) -> dict:
        """Text encoder + fusion on image features: dict `step_outputs` `[b,T,M,N,D]`, `attention` and
        (state gates) `gate_logits` `[b,T,M,N]`."""
        text, summary = self.text_encoder(tokens)
        mask = self.text_encoder.text_mask(tokens) if self.config.text_encoder == "words" else None
        return self.fusion(features, text, text_mask=mask, text_summary=summary)

    def fuse(self, inputs: dict, training=False) -> dict:
        """Encoders + fusion, as `fuse_features` but from the raw inputs."""
        return self.fuse_features(self.encode_image(inputs["image"], training=training), inputs["tokens"])

    @property
    def head_variables(self) -> list:
        """Trainable variables of everything after the image encoder (text encoder, fusion, decoder)."""
        encoder = {id(v) for v in self.image_encoder.trainable_variables}
        return [v for v in self.trainable_variables if id(v) not in encoder]

    @property
    def gate_variables(self) -> list:
        """Trainable variables of the termination gate (none when the gate comes from the decoder)."""
        return list(self.fusion.gate.trainable_variables) if self.fusion.gate is not None else []

    def decode(self, fused, image=None, training=False):
        """`[batch, M, N, D]` → `[batch, H, W, outputs]`; `image` `[batch, H, W, 3]` (pixels) is needed
        with `image_skip`."""
        logits = self.decoder(fused, training=training)
        if self.refinement is None:
            return logits
        if image is None:
            raise ValueError("a model with image_skip decodes with the input image: pass image=")
        pixels = ops.cast(image, logits.dtype) / 255.0 - 0.5
        return logits + self.refinement(ops.concatenate([logits, pixels], axis=-1), training=training)

    def decode_steps(self, step_outputs, image=None, training=False):
        """`[batch, T, M, N, D]` → `[batch, T, H, W, outputs]` (all steps through the decoder at once)."""
        steps, m, n, d = step_outputs.shape[1:]
        if image is not None:
            image = ops.reshape(ops.repeat(image[:, None], steps, axis=1), (-1,) + tuple(image.shape[1:]))
        decoded = self.decode(ops.reshape(step_outputs, (-1, m, n, d)), image, training=training)
        return ops.reshape(decoded, (-1, steps) + tuple(decoded.shape[1:]))

    def _stop(self, gate_logits):
        """Inference stop per region: `(index [b, m, n], one_hot [b, T, m, n], β [b, T, m, n])`."""
        log_beta = stop_distribution.stop_log_probs(gate_logits, final_step=self.config.final_step)
        if self.config.inference_stop == "first_gate":
            index, one_hot = stop_distribution.first_stop(gate_logits)
        else:
            index, one_hot = stop_distribution.most_likely_stop(log_beta)
        return index, one_hot, ops.exp(log_beta)

    def call(self, inputs, training=False):
        fused = self.fuse(inputs, training=training)
        if self.config.gate_source == "state":
            index, one_hot, beta = self._stop(fused["gate_logits"])
            logits = self.decode(select_steps(fused["step_outputs"], one_hot), inputs["image"], training=training)
        else:
            decoded = self.decode_steps(fused["step_outputs"], inputs["image"], training=training)
            index, one_hot, beta = self._stop(decoded[..., 0])
            logits = ops.sum(one_hot[..., None] * decoded[..., 1:], axis=1)
        return {"logits": logits, "stop_step": index, "stop_probabilities": beta,
                "attention": self._attention(fused, inputs)}

    def _attention(self, fused: dict, inputs: dict):
        """Per-step attention `[batch, T, M, N, items]`; zeros for the no-attention baseline."""
        if "attention" in fused:
            return fused["attention"]
        outputs = fused["step_outputs"]
        return ops.zeros(tuple(ops.shape(outputs)[:4]) + (self.token_shape[0],), dtype=outputs.dtype)

    def step_logits(self, inputs, training=False):
        """Class logits of every step, `[batch, T, H, W, num_classes]` (per-step predictions)."""
        decoded = self.decode_steps(self.fuse(inputs, training=training)["step_outputs"], inputs["image"],
                                    training=training)
        return decoded[..., 1:] if self.config.gate_source == "decoder" else decoded

    def train_outputs(self, inputs, mode: str, temperature=None, uniform_noise=None, hard: bool = False,
                      training=True) -> dict:
        """Training forward pass for one termination-training mode (see `train_outputs_from_features`)."""
        features = self.encode_image(inputs["image"], training=training)
        return self.train_outputs_from_features(features, inputs["tokens"], mode, temperature, uniform_noise,
                                                hard, training, image=inputs["image"])

    def train_outputs_from_features(self, features, tokens, mode: str, temperature=None, uniform_noise=None,
                                    hard: bool = False, training=True, image=None) -> dict:
        """Training forward pass for one termination-training mode, from the image features on.

        Args:
            features: image features `[batch, M, N, D]` from `encode_image`.
            tokens: int `[batch, sentences, words]`.
            mode: "gumbel" | "reinforce" (one decode of the selected/relaxed steps) or "marginal" (every
                step decoded).
            temperature: scalar λ of the Gumbel-softmax (mode "gumbel").
            uniform_noise: `[batch, T, M, N]` in (0, 1), the per-region randomness of "gumbel" and
                "reinforce" (made by the caller so that it does not depend on how a batch is split).
            hard: straight-through Gumbel samples.
            image: the input pixels `[batch, H, W, 3]`, needed with `image_skip`.

        Returns:
            dict with `log_stop_probs` (log β at region resolution, `[batch, T, m, n]`) and either `logits`
            `[batch, H, W, C]` (gumbel, reinforce; reinforce adds `stop_sample` one-hot `[batch, T, M, N]`)
            or `step_logits` `[batch, T, H, W, C]` (marginal).
        """
        fused = self.fuse_features(features, tokens)
        if self.config.gate_source == "decoder":
            if mode != "marginal":
                raise ValueError("gate_source='decoder' (the released code) supports only "
                                 "TrainingConfig.termination_training=marginal")
            decoded = self.decode_steps(fused["step_outputs"], image, training=training)
            log_beta = stop_distribution.stop_log_probs(decoded[..., 0], final_step=self.config.final_step)
            return {"log_stop_probs": log_beta, "step_logits": decoded[..., 1:]}
        log_beta = stop_distribution.stop_log_probs(fused["gate_logits"], final_step=self.config.final_step)
        if mode == "marginal":
            return {"log_stop_probs": log_beta,
                    "step_logits": self.decode_steps(fused["step_outputs"], image, training=training)}
        if mode == "gumbel":
            weights = stop_distribution.gumbel_softmax(log_beta, temperature, uniform_noise, hard=hard)
            return {"log_stop_probs": log_beta,
                    "logits": self.decode(select_steps(fused["step_outputs"], weights), image, training=training)}
        if mode == "reinforce":
            sample = stop_distribution.sample_stop_steps(log_beta, uniform_noise)
            return {"log_stop_probs": log_beta, "stop_sample": sample,
                    "logits": self.decode(select_steps(fused["step_outputs"], sample), image, training=training)}
        raise ValueError(f"unknown termination training mode {mode!r}")

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict(), "sentences": self.sentences,
                "words": self.words}


def build_segmenter(config: SegmenterConfig, sentences: int = 9, words: int = 3) -> LanguageSegmenter:
    """Create a `LanguageSegmenter` and build its variables with one call on zero inputs."""
    model = LanguageSegmenter(config, sentences=sentences, words=words, name="language_segmenter")
    model(model.dummy_inputs())
    return model


def check_segmenter_inputs(inputs: dict, config: SegmenterConfig, token_shape: tuple) -> None:
    """Validate concrete (numpy / eager) inputs; raise `DataError` with a one-line message."""
    for key in ("image", "tokens"):
        if key not in inputs:
            raise DataError(f"inputs lack '{key}': expected keys 'image' and 'tokens'")
    image, tokens = np.asarray(inputs["image"]), np.asarray(inputs["tokens"])
    size = config.image_size
    if image.ndim != 4 or image.shape[1:3] != (size, size) or image.shape[3] != 3:
        raise DataError(f"image has shape {list(image.shape)}; this model needs [batch, {size}, {size}, 3] "
                        f"RGB pixel values (resize the image and convert it to RGB)")
    if not np.issubdtype(image.dtype, np.number) or not np.all(np.isfinite(image)):
        raise DataError("image holds non-numeric or non-finite values; give pixel values in [0, 255]")
    if tokens.shape[1:] != tuple(token_shape):
        what = (f"{token_shape[0]} sentences of {token_shape[1]} words" if len(token_shape) == 2
                else f"{token_shape[0]} words")
        raise DataError(f"caption tokens have shape {list(tokens.shape)}; this model needs "
                        f"[batch, {', '.join(map(str, token_shape))}] ({what})")
    if not np.issubdtype(tokens.dtype, np.integer):
        raise DataError(f"caption tokens must be integer word ids, got dtype {tokens.dtype}")
    if tokens.shape[0] != image.shape[0]:
        raise DataError(f"{image.shape[0]} images but {tokens.shape[0]} captions")
    bad = tokens[(tokens < 0) | (tokens >= config.vocab_size)]
    if bad.size:
        raise DataError(f"caption holds unknown word id {int(bad.flat[0])}; ids must lie in "
                        f"[0, {config.vocab_size}) (encode text with lbie_tf.data.cosal_vocabulary)")
