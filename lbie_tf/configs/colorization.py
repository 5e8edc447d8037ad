"""The colorization GAN's configs: generator (`ColorizerConfig`), discriminator and losses (paper §4.3)."""

from __future__ import annotations

import dataclasses
from typing import Any

from lbie_tf.configs import choices
from lbie_tf.configs.validation import check_choice, check_minimum
from lbie_tf.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class ColorizerConfig:
    """Architecture of the language-based colorization generator (paper §4.3, released colornet.py).

    Flags carry the prefix `generator_` (e.g. `--generator_filters=32`). The generator is fully
    convolutional: the image size comes from the data.

    Attributes:
        filters: base width ngf of the colorization encoder; its blocks have ngf, 2·ngf and 4·ngf channels and
            the feature map V has 4·ngf (released code: 32 in the shipped model; the paper's 128 GRU units
            = 4·32).
        use_text: False = the text-free image-to-image baseline (encoder → decoder, no text path, no fusion).
        vocab_size: number of word ids (id 0 = padding, 1 = unknown); 0 = the size of the data set's vocabulary.
        word_embedding_dim: word vector width (released code: 300, GoogleNews word2vec).
        word_embedding_trainable: train the word embedding (default; the paper does not say). `--word_vectors`
            loads a local word2vec / GloVe text file into it and freezes it, as the released code did.
        text_units: BiLSTM units per direction; U has 2·text_units channels (paper: "biLSTM 512 units";
            released code: 2·ngf = 64, frozen, restored from a pretrained model that was not released).
        text_trainable: train the BiLSTM (default) or keep it frozen (released code; only meaningful with
            pretrained weights).
        unit_forget_bias: LSTM forget-gate bias initialised to 1 (Keras default) or 0 (released forget_bias 0).
        steps: fusion steps T (paper and code: 1 for Flowers); with T > 1 the last step's output is decoded.
        attention_score: "bilinear" (paper §3, softmax of sᵀWu) or "additive" (released colornet.py:107-121).
        attention_units: attention size (paper and code: 128).
        fusion_units: fusion state width; the decoder reads this many channels (paper 128; code 4·ngf).
        fusion_kernel_size: gate convolution size (paper: convolutional GRU, 3; code: per-position Linear, 1).
        output_projection: the paper's S_{t+1} = W7 ⊗ h (True) or the code's S_{t+1} = h (False).
        gate_bias_init: initial bias of the update/reset gates (paper 0; released code 1.0).
        initializer: convolution kernels of the encoder and decoder: "released" (N(0, 0.02), colornet.py; the
            paper does not say) or "he" (He normal: activations of unit scale, which keeps Adam at learning rates
            ≥ 1e-3 from driving the small released activations' ReLUs dead).
        batch_norm: BatchNorm in the encoder and decoder (True: paper's Zhang-style network and released code).
            False drops every generator BatchNorm layer (our CoSaL preset: with it the generator stays at chance
            colour accuracy there, even when the input's lightness encodes the colour; without it the caption
            is used within 32,000 images, measured: docs/colorization.md).
        batch_norm_momentum: BatchNorm moving-average momentum (released code: decay 0.9; epsilon is 1e-5).
        batch_norm_inference: "moving" (moving averages at inference, the usual practice; the paper does not
            say) or "batch" (released code: is_training=True everywhere, per-batch statistics at inference).
    """

    filters: int = 32
    use_text: bool = True
    vocab_size: int = 5000
    word_embedding_dim: int = 300
    word_embedding_trainable: bool = True
    text_units: int = 512
    text_trainable: bool = True
    unit_forget_bias: bool = True
    steps: int = 1
    attention_score: str = "bilinear"
    attention_units: int = 128
    fusion_units: int = 128
    fusion_kernel_size: int = 3
    output_projection: bool = True
    gate_bias_init: float = 0.0
    initializer: str = "released"
    batch_norm: bool = True
    batch_norm_momentum: float = 0.9
    batch_norm_inference: str = "moving"

    def __post_init__(self):
        for name, allowed in (("attention_score", choices.COLORIZER_ATTENTION_SCORES),
                              ("initializer", choices.COLORIZER_INITIALIZERS),
                              ("batch_norm_inference", choices.COLORIZER_BATCH_NORM_INFERENCE)):
            check_choice(self, name, allowed)
        if self.vocab_size < 0:
            raise ConfigError(f"ColorizerConfig.vocab_size must be >= 0 (0 = from the data), got {self.vocab_size}")
        check_minimum(self, ("filters", "word_embedding_dim", "text_units", "steps", "attention_units", "fusion_units",
                             "fusion_kernel_size"))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class DiscriminatorConfig:
    """The text-aware PatchGAN discriminator (paper §4.3; released model2.py:31-70). Flags: `discriminator_*`.

    Attributes:
        filters: ndf; the four convolutions have ndf, 2·ndf, 4·ndf, 8·ndf channels (released: 64, so 64, 128,
            256, 512; the paper lists 256, 128, 64, 32, 31, which are the spatial sizes).
        text: "shared" (released code: the merger reads the generator's BiLSTM output U, gradient stopped),
            "own" (paper: the discriminator has its own embedding + BiLSTM) or "none" (a text-free PatchGAN,
            used with the text-free baseline).
        leaky_relu_slope: activation slope for negative inputs (released code 0.2; the paper says ReLU, 0).
        merger_units: channels of the conv before the text merger and of the merger (released: 2·ndf = 128).
    """

    filters: int = 64
    text: str = "shared"
    leaky_relu_slope: float = 0.2
    merger_units: int = 128

    def __post_init__(self):
        check_choice(self, "text", choices.DISCRIMINATOR_TEXT)
        check_minimum(self, ("filters", "merger_units"))
        if not 0.0 <= self.leaky_relu_slope < 1.0:
            raise ConfigError(f"DiscriminatorConfig.leaky_relu_slope must be in [0, 1), got {self.leaky_relu_slope}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class GanConfig:
    """The colorization losses (paper §4.3 eq. for L_G, L_D; released model2.py:93-104).

    Generator loss = gan_weight · GAN term + l1_weight · mean |ab_target − ab_predicted| (ab scaled by 1/110;
    squared with `pixel_loss="l2"`);
    discriminator loss = −log D(real) − log(1 − D(fake)), averaged over patches. Both optimisers are Adam with
    the shared `--learning_rate` and `--adam_beta_1` (released: 2e-4, 0.5; the shipped model 1e-4).

    Attributes:
        gan_weight: weight of the generator's adversarial term (released code 1; paper 1).
        l1_weight: weight of the pixel term (paper γ = 0.01; released code 100).
        pixel_loss: the pixel term: "l1" (paper and released code: mean |Y − E|) or "l2" (mean (Y − E)²; our
            CoSaL preset: with L1 the per-pixel median, the background's ab = 0, wins early and the
            generator's ReLUs die before the caption is used, measured).
        gan_generator_loss: "non_saturating" (released code: −log D(fake)) or "minimax" (the paper's printed
            log(1 − D(fake)), minimised).
    """

    gan_weight: float = 1.0
    l1_weight: float = 0.01
    pixel_loss: str = "l1"
    gan_generator_loss: str = "non_saturating"

    def __post_init__(self):
        check_choice(self, "pixel_loss", choices.PIXEL_LOSSES)
        check_choice(self, "gan_generator_loss", choices.GAN_GENERATOR_LOSSES)
        if self.gan_weight < 0 or self.l1_weight < 0 or self.gan_weight + self.l1_weight == 0:
            raise ConfigError(f"GanConfig.gan_weight and GanConfig.l1_weight must be >= 0 and not both 0, got "
                              f"{self.gan_weight}, {self.l1_weight}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
