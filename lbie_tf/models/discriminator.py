"""The text-aware PatchGAN discriminator of the colorization GAN (paper §4.3; released model2.py:31-70).

    concat(gray, ab) [b, H, W, 3] ─▶ conv ndf ↓2 ─▶ conv 2ndf ↓2 + BN ─▶ conv 4ndf ↓2 + BN ─▶ conv 8ndf + BN
        ─▶ (text) conv merger_units ─▶ attention + gated fusion with the caption ─▶ conv 1 = patch logits

Every convolution is 4×4 after a one-pixel zero pad, no bias, N(0, 0.02) (pix2pix style); LeakyReLU 0.2
after each of the first four; BatchNorm with epsilon 1e-5 and scale initialised N(1, 0.02). A 256×256 input
gives 29×29 patch logits (30×30 without text). The text path is the released merger with its own attention and
gate parameters; the text features are the generator's BiLSTM output (`text="shared"`, released code) or
the discriminator's own embedding + BiLSTM (`text="own"`, paper).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from lbie_tf.configs import ColorizerConfig, DiscriminatorConfig
from lbie_tf.models.colorizer import colorization_fusion, colorization_text_encoder


def _patch_conv(channels: int, stride: int, label: str) -> keras.Sequential:
    return keras.Sequential([
        keras.layers.ZeroPadding2D(1, name=f"{label}_pad"),
        keras.layers.Conv2D(channels, 4, strides=stride, padding="valid", use_bias=False,
                            kernel_initializer=keras.initializers.RandomNormal(stddev=0.02), name=f"{label}_conv"),
    ], name=label)


def _patch_body(config: DiscriminatorConfig) -> keras.Sequential:
    """The four downsampling blocks: `[b, H, W, 3]` → `[b, H/8 − 1, W/8 − 1, 8·ndf]`."""
    layers = []
    for index, (multiple, stride) in enumerate(((1, 2), (2, 2), (4, 2), (8, 1)), start=1):
        layers.append(_patch_conv(multiple * config.filters, stride, f"layer_{index}"))
        if index > 1:
            layers.append(keras.layers.BatchNormalization(
                momentum=0.9, epsilon=1e-5, synchronized=True, name=f"layer_{index}_bn",
                gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02)))
        layers.append(keras.layers.LeakyReLU(config.leaky_relu_slope, name=f"layer_{index}_lrelu"))
    return keras.Sequential(layers, name="body")


@keras.saving.register_keras_serializable(package="lbie")
class TextPatchDiscriminator(keras.Model):
    """Real/fake logits per image patch, conditioned on the grayscale input and (optionally) the caption.

    Args:
        config: a `DiscriminatorConfig` (or its dict).
        generator_config: the generator's `ColorizerConfig` (or its dict): the text merger uses its attention
            and fusion options, and `text="own"` builds an embedding + BiLSTM of the generator's sizes.

    Call arguments:
        inputs: dict with `gray` `[batch, H, W, 1]`, `ab` `[batch, H, W, 2]` and, for `text="shared"`,
            `text_features` `[batch, words, K]` + `text_mask` bool `[batch, words]` (from the generator), or,
            for `text="own"`, `tokens` int `[batch, words]`.
        training: BatchNorm mode.

    Returns:
        Patch logits `[batch, P, P]` (D = sigmoid of them).
    """

    def __init__(self, config, generator_config, **kwargs):
        super().__init__(**kwargs)
        self.config = config if isinstance(config, DiscriminatorConfig) else DiscriminatorConfig(**config)
        self.generator_config = (generator_config if isinstance(generator_config, ColorizerConfig)
                                 else ColorizerConfig(**generator_config))
        cfg, gen = self.config, self.generator_config
        self.body = _patch_body(cfg)
        self.text_conv = self.merger = self.text_encoder = None
        if cfg.text != "none":
            self.text_conv = _patch_conv(cfg.merger_units, 1, "text_conv")
            self.merger = colorization_fusion(
                ColorizerConfig(**{**gen.to_dict(), "steps": 1, "fusion_units": cfg.merger_units}), name="merger")
        if cfg.text == "own":
            self.text_encoder = colorization_text_encoder(gen)
        self.patch_logits = _patch_conv(1, 1, "patch_logits")

    def dummy_inputs(self, batch: int = 1, size: int = 32, words: int = 4) -> dict:
        """Zero inputs of the right kind, used to build the model."""
        inputs = {"gray": np.zeros((batch, size, size, 1), np.float32),
                  "ab": np.zeros((batch, size, size, 2), np.float32)}
        if self.config.text == "shared":
            inputs["text_features"] = np.zeros((batch, words, 2 * self.generator_config.text_units), np.float32)
            inputs["text_mask"] = np.ones((batch, words), bool)
        elif self.config.text == "own":
            inputs["tokens"] = np.ones((batch, words), np.int32)
        return inputs

    def call(self, inputs, training=False):
        x = ops.concatenate([ops.cast(inputs["gray"], "float32"), ops.cast(inputs["ab"], "float32")], axis=-1)
        x = self.body(x, training=training)
        if self.merger is not None:
            x = self.text_conv(x)
            if self.text_encoder is not None:
                text, _ = self.text_encoder(inputs["tokens"])
                mask = self.text_encoder.text_mask(inputs["tokens"])
            else:
                text, mask = inputs["text_features"], inputs["text_mask"]
            x = self.merger(x, text, text_mask=mask)["step_outputs"][:, 0]
        return ops.squeeze(self.patch_logits(x), axis=-1)

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_dict(),
                "generator_config": self.generator_config.to_dict()}


def build_discriminator(config: DiscriminatorConfig, generator_config: ColorizerConfig) -> TextPatchDiscriminator:
    """Create a `TextPatchDiscriminator` and build its variables with one call on zero inputs."""
    model = TextPatchDiscriminator(config, generator_config, name="discriminator")
    model(model.dummy_inputs())
    return model
