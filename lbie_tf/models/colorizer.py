"""The language-based colorization generator (paper §4.3, Figure 6; released colornet.py `colornet` +
`attention`), and with `use_text=False` the text-free image-to-image baseline built from the same parts.

Inputs are a dict `{"gray": [batch, H, W, 1] (L/50 − 1), "tokens": int [batch, words] (0 = padding)}` with H,
W multiples of 4; the output `ab` `[batch, H, W, 2]` is the predicted (a/110, b/110) in [−1, 1].

    gray ─▶ 16-conv encoder ─▶ V [b, H/4, W/4, 4ngf] ─┐
    tokens ─▶ embedding ─▶ BiLSTM ─▶ U [b, words, 2u] ─┴▶ attention + gated fusion (T steps) ─▶ decoder ─▶ ab

Decoder (colornet.py:278-307): ReLU and BatchNorm on the fused map, then 2 × [4×4 stride-2 transposed conv +
two 3×3 convs, ReLU each, BatchNorm], then a 3×3 conv to 2 channels and tanh.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from lbie_tf.configs import ColorizerConfig
from lbie_tf.encoders.colorization_image import (
    ENCODER_STRIDE,
    colorization_batch_norm,
    colorization_image_encoder,
    colorization_kernel_initializer,
)
from lbie_tf.encoders.word_text import WordSequenceEncoder
from lbie_tf.errors import ConfigError, DataError
from lbie_tf.layers.recurrent_attentive_fusion import RecurrentAttentiveFusion


def colorization_decoder(filters: int = 32, batch_norm_momentum: float = 0.9, initializer: str = "released",
                         batch_norm: bool = True, name: str = "decoder") -> keras.Sequential:
    """The released colornet decoder: `[batch, M, N, D]` → ab `[batch, 4M, 4N, 2]` in [−1, 1]
    (`batch_norm=False` leaves out its three BatchNorm layers)."""
    def conv_init():
        return colorization_kernel_initializer(initializer)

    def normalisation(name):
        return [colorization_batch_norm(name, batch_norm_momentum)] if batch_norm else []
    layers = [keras.layers.ReLU(name="relu_fused"), *normalisation("bn_fused")]
    for stage, channels in ((8, 2 * filters), (9, filters)):
        layers.append(keras.layers.Conv2DTranspose(
            channels, 4, strides=2, padding="same", activation="relu",
            kernel_initializer=colorization_kernel_initializer(initializer, truncated=False),
            name=f"deconv{stage}_1"))
        for index in (2, 3):
            layers.append(keras.layers.Conv2D(channels, 3, padding="same", activation="relu",
                                              kernel_initializer=conv_init(), name=f"conv{stage}_{index}"))
        layers += normalisation(f"bn{stage}")
    layers.append(keras.layers.Conv2D(2, 3, padding="same", activation="tanh", kernel_initializer=conv_init(),
                                      name="conv_ab"))
    return keras.Sequential(layers, name=name)


def colorization_text_encoder(cfg: ColorizerConfig, lstm_trainable: bool = True) -> WordSequenceEncoder:
    """The colorization BiLSTM over right-padded captions (padding masked, N(0, 1) embedding)."""
    return WordSequenceEncoder(
        cfg.vocab_size, embedding_dim=cfg.word_embedding_dim, units=cfg.text_units, bidirectional=True,
        unit_forget_bias=cfg.unit_forget_bias, mask_padding=True, embedding_stddev=1.0,
        embedding_trainable=cfg.word_embedding_trainable, lstm_trainable=lstm_trainable, name="text_encoder")


@keras.saving.register_keras_serializable(package="lbie")
class LanguageColorizer(keras.Model):
    """Grayscale image + caption → ab channels, for one `ColorizerConfig`.

    Args:
        config: a `ColorizerConfig` or its `to_dict()`.

    Call arguments:
        inputs: dict with `gray` float `[batch, H, W, 1]` and (with text) `tokens` int `[batch, words]`.
        training: BatchNorm uses batch statistics (always, when `batch_norm_inference == "batch"`).

    Returns (from `call`): dict with `ab` `[batch, H, W, 2]`; with text also `text_features` U
    `[batch, words, 2·text_units]`, `text_mask` bool `[batch, words]` and `attention`
    `[batch, T, H/4, W/4, words]`.

    Attributes:
        vocabulary: the caption record of the run the model was loaded from (a Flowers run's
            `flowers_vocabulary.FlowersVocabulary`, set by `lbie_tf.serving.loading`), or None (CoSaL, or not
            loaded from a run); what lbie-edit and lbie-export read captions and images with.
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config if isinstance(config, ColorizerConfig) else ColorizerConfig(**config)
        self.vocabulary = None
        cfg = self.config
        self.image_encoder = colorization_image_encoder(cfg.filters, cfg.batch_norm_momentum, cfg.initializer,
                                                        cfg.batch_norm)
        self.text_encoder = None
        self.fusion = None
        if cfg.use_text:
            if cfg.vocab_size == 0:
                raise ConfigError("ColorizerConfig.vocab_size=0 means 'from the data': the data set's vocabulary size "
                                  "must be filled in before the model is built")
            self.text_encoder = colorization_text_encoder(cfg, lstm_trainable=cfg.text_trainable)
            self.fusion = colorization_fusion(cfg, name="fusion")
        self.decoder = colorization_decoder(cfg.filters, cfg.batch_norm_momentum, cfg.initializer, cfg.batch_norm)

    def dummy_inputs(self, batch: int = 1, size: int = 16, words: int = 4) -> dict:
        """Zero inputs used to build the model."""
        return {"gray": np.zeros((batch, size, size, 1), np.float32), "tokens": np.ones((batch, words), np.int32)}

    def call(self, inputs, training=False):
        batch_statistics = bool(training) or self.config.batch_norm_inference == "batch"
        features = self.image_encoder(ops.cast(inputs["gray"], "float32"), training=batch_statistics)
        outputs = {}
        if self.text_encoder is not None:
            text, _ = self.text_encoder(inputs["tokens"])
            mask = self.text_encoder.text_mask(inputs["tokens"])
            fused = self.fusion(features, text, text_mask=mask)
            features = fused["step_outputs"][:, -1]
            outputs.update(text_features=text, text_mask=mask, attention=fused["attention"])
        outputs["ab"] = self.decoder(features, training=batch_statistics)
        return outputs

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict()}


def colorization_fusion(config: ColorizerConfig, name: str) -> RecurrentAttentiveFusion:
    """The attention + gated fusion of the colorization models (the released `build_merger`: per-position
    gates with `fusion_kernel_size=1`, bias 1.0, no W7; the generator's and the discriminator's each have their
    own parameters). No termination gate: Flowers uses T = 1 (docs/discrepancies.md, row C25). W7 (the next
    state's projection) exists only for T > 1: with one step nothing reads the next state."""
    return RecurrentAttentiveFusion(
        steps=config.steps, units=config.fusion_units, attention_units=config.attention_units,
        attention_score=config.attention_score, kernel_size=config.fusion_kernel_size, reset_gate_on="state",
        output_projection=config.output_projection and config.steps > 1, gate_bias_init=config.gate_bias_init,
        gate_source="decoder", name=name)


def build_colorizer(config: ColorizerConfig) -> LanguageColorizer:
    """Create a `LanguageColorizer` and build its variables with one call on zero inputs."""
    model = LanguageColorizer(config, name="colorizer" if config.use_text else "baseline_i2i")
    model(model.dummy_inputs())
    return model


def check_colorizer_inputs(gray, tokens, config: ColorizerConfig) -> None:
    """Validate concrete (numpy / eager) inputs; raise `DataError` with a one-line message."""
    gray = np.asarray(gray)
    if gray.ndim != 4 or gray.shape[-1] != 1 or gray.shape[1] % ENCODER_STRIDE or gray.shape[2] % ENCODER_STRIDE:
        raise DataError(f"gray has shape {list(gray.shape)}; the colorizer needs [batch, H, W, 1] with H and W "
                        f"multiples of {ENCODER_STRIDE}")
    if not np.all(np.isfinite(gray)):
        raise DataError("gray holds non-finite values; give L/50 − 1 in [−1, 1]")
    if config.use_text:
        tokens = np.asarray(tokens)
        if tokens.ndim != 2 or tokens.shape[0] != gray.shape[0]:
            raise DataError(f"tokens have shape {list(tokens.shape)}; need [{gray.shape[0]}, words]")
        bad = tokens[(tokens < 0) | (tokens >= config.vocab_size)]
        if bad.size:
            raise DataError(f"caption holds word id {int(bad.flat[0])} outside [0, {config.vocab_size})")
