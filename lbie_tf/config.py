"""Plain, frozen configuration records for models and training (filled from absl flags by the entry points).

Library code receives these dataclasses and never reads absl `FLAGS`, so it can be used from notebooks and
tests. Every field where the paper and the released code disagree names both in its comment; the presets in
`configs/*.cfg` set whole families of fields at once.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lbie_tf.errors import ConfigError

BATCH_NORM_INFERENCE = ("moving", "batch", "initial")  # statistics of segmentation BatchNorm at inference


@dataclasses.dataclass(frozen=True)
class SegmenterConfig:
    """Architecture of a language-based segmentation model (the framework of paper §3, Figure 4).

    Attributes:
        image_encoder: "cosal_paper" (paper §4.1: 6 convs 4,4,8,8,16,16, max-pool after every two → 6×6×16),
            "cosal_released" (CoSaL/net.py: 10 convs + BN, stride-2 downsampling → 3×3×128) or "vgg16"
            (paper §4.2, ReferIt: keras.applications VGG-16 without its top, up to `vgg_blocks`).
        vgg_blocks: VGG-16 blocks kept by the "vgg16" encoder (5 = up to pool5, stride 32, 512 channels;
            fewer blocks make the small encoders of the tests, stride 2^blocks).
        image_size: input height = width in pixels.
        num_classes: output classes (CoSaL: 7 colour classes, 0 = background); 1 = binary segmentation with
            one logit per pixel and a sigmoid (ReferIt: object vs rest).
        text_encoder: "sentences" (CoSaL: tokens [batch, sentences, words], per-sentence LSTM + sentence-level
            LSTM, attention over sentences) or "words" (ReferIt: tokens [batch, words], left-padded with id 0,
            word embedding + one LSTM over the words, attention over words, padding masked).
        vocab_size: number of word ids.
        word_embedding_dim: word embedding width; 0 = one-hot words (the released code).
        sentence_units: units of the per-sentence LSTM, shared across sentences (paper 16, code 128); with
            text_encoder "words", the units of the LSTM over the words (paper ReferIt 1,024).
        sentence_bidirectional: paper: bidirectional; code: unidirectional.
        paragraph_units: units of the sentence-level LSTM over sentence vectors (paper 16, code 128); unused
            by text_encoder "words".
        paragraph_lstm: the sentence-level LSTM (paper and code) or none (ours): the fusion then attends over
            the sentence vectors themselves, which CoSaL's order-free sentences allow.
        unit_forget_bias: LSTM forget-gate bias initialised to 1 (Keras default; the paper does not say) or 0
            (the released code's forget_bias 0.0).
        steps: maximum number of fusion steps T (paper 1..4 for CoSaL).
        attention: False (`--attention=false`) = the paper's T=1 baseline: every region gets the last LSTM vector.
        attention_score: "bilinear" (paper, softmax of sᵀWu), "scaled_dot" (CoSaL code, no softmax),
            "additive" (Flowers code).
        attention_units: rank of the attention map W (paper 16).
        fusion_units: C-GRU state width (paper 16, code 128).
        fusion_kernel_size: C-GRU kernel (paper: convolutional, 3 here; code: 1, per position).
        reset_gate_on: "state" (paper, r ⊙ S) or "text" (CoSaL code, r ⊙ Û).
        output_projection: paper's S_{t+1} = W7 ⊗ h (True) or the code's S_{t+1} = h (False).
        gate_bias_init: initial bias of the z/r gates (paper 0, CoSaL code 0.5).
        gate_source: "state" (paper: linear map on each region's C-GRU state) or "decoder" (code: channel 0
            of the decoder output, one gate per output pixel).
        termination_bias_init: initial bias of the state gate's logit (paper: not said; 0 gives f = 0.5 at
            every step, so half of every region stops at step 1; negative values favour continuing, e.g. −2:
            f ≈ 0.12, a region reaches the last step with probability ≈ 0.68 at T = 4).
        final_step: "force" (paper Algorithm 1: a region that never stopped keeps its last output) or
            "drop" (code: the never-stopped probability mass is dropped).
        inference_stop: how a region picks its output at inference: "first_gate" (Algorithm 1 with each gate
            thresholded at 0.5, the first stop wins) or "most_likely" (released code: argmax_t β_t).
        decoder: "paper" (1×1 convs 16, C + one bilinear-initialised transposed conv k16 s8) or
            "released" (CoSaL/net.py: 4 × [deconv 4/2 + 3×3 convs + BN]).
        classifier_units: width of the paper decoder's first 1×1 conv (16).
        image_skip: refine the decoder's full-resolution logits with the input image (ours, not in the paper
            or the code): two 3×3 convs on [logits, image] whose output is added to the logits, so that
            shape boundaries come from the pixels rather than from the 8× upsampled region features.
        encoder_width: channel multiplier of the paper encoder (1 = the paper's 4, 4, 8, 8, 16, 16; the
            region features then have 16 · encoder_width channels). Not used by the released encoder.
        encoder_context_layers: extra 3×3 convs after the paper encoder, at the region resolution (ours; 0 =
            the paper), so that every region's feature sees the neighbouring cells named by relational
            sentences.
        encoder_context_dilation: dilation of those convs (2 = one CoSaL cell, which spans 2 regions).
        encoder_context_units: channels of those convs (the region features then have this many).
        batch_norm_momentum: momentum of the released-code BatchNorm layers (contrib default 0.999).
        batch_norm_inference: statistics of those BatchNorm layers at inference: "moving" (moving averages,
            the usual practice), "batch" (the predicted batch's own) or "initial" (mean 0, variance 1: the
            released CoSaL code, whose moving averages are never updated nor saved). Paper: not stated.
    """

    image_encoder: str = "cosal_paper"
    vgg_blocks: int = 5
    image_size: int = 48
    num_classes: int = 7
    text_encoder: str = "sentences"
    vocab_size: int = 20
    word_embedding_dim: int = 16
    sentence_units: int = 16
    sentence_bidirectional: bool = True
    paragraph_units: int = 16
    paragraph_lstm: bool = True
    unit_forget_bias: bool = True
    steps: int = 4
    attention: bool = True
    attention_score: str = "bilinear"
    attention_units: int = 16
    fusion_units: int = 16
    fusion_kernel_size: int = 3
    reset_gate_on: str = "state"
    output_projection: bool = True
    gate_bias_init: float = 0.0
    gate_source: str = "state"
    termination_bias_init: float = 0.0
    final_step: str = "force"
    inference_stop: str = "first_gate"
    decoder: str = "paper"
    classifier_units: int = 16
    image_skip: bool = False
    encoder_width: int = 1
    encoder_context_layers: int = 0
    encoder_context_dilation: int = 2
    encoder_context_units: int = 64
    batch_norm_momentum: float = 0.999
    batch_norm_inference: str = "moving"

    def __post_init__(self):
        _check_choice("image_encoder", self.image_encoder, ("cosal_paper", "cosal_released", "vgg16"))
        _check_choice("text_encoder", self.text_encoder, ("sentences", "words"))
        _check_choice("attention_score", self.attention_score, ("bilinear", "scaled_dot", "additive"))
        _check_choice("reset_gate_on", self.reset_gate_on, ("state", "text"))
        _check_choice("gate_source", self.gate_source, ("state", "decoder"))
        _check_choice("final_step", self.final_step, ("force", "drop"))
        _check_choice("inference_stop", self.inference_stop, ("first_gate", "most_likely"))
        _check_choice("decoder", self.decoder, ("paper", "released"))
        _check_choice("batch_norm_inference", self.batch_norm_inference, BATCH_NORM_INFERENCE)
        for name in ("image_size", "num_classes", "vocab_size", "sentence_units", "paragraph_units", "steps",
                     "attention_units", "fusion_units", "fusion_kernel_size", "classifier_units", "encoder_width",
                     "encoder_context_dilation", "encoder_context_units"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if self.encoder_context_layers < 0:
            raise ConfigError(f"--encoder_context_layers must be >= 0, got {self.encoder_context_layers}")
        if self.image_encoder == "vgg16":
            if not 1 <= self.vgg_blocks <= 5:
                raise ConfigError(f"--vgg_blocks must be in 1..5, got {self.vgg_blocks}")
            if self.image_size % self.encoder_stride:
                raise ConfigError(f"--image_size must be a multiple of {self.encoder_stride} (the stride of "
                                  f"{self.vgg_blocks} VGG-16 blocks), got {self.image_size}")
        elif self.image_size % 24:
            raise ConfigError(f"--image_size must be a multiple of 24 (three cells, stride-8 encoder), "
                              f"got {self.image_size}")
        if self.text_encoder == "words" and self.word_embedding_dim < 1:
            raise ConfigError("--text_encoder=words needs a word embedding: set --word_embedding_dim >= 1")
        if not self.attention and self.steps != 1:
            raise ConfigError("--attention=false is the paper's T=1 baseline: set --steps=1")

    @property
    def encoder_stride(self) -> int:
        """Input pixels per region side of the image encoder's feature map."""
        return {"cosal_paper": 8, "cosal_released": 16}.get(self.image_encoder, 2 ** self.vgg_blocks)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    """How a model is trained and evaluated (shared by every task).

    Attributes:
        termination_training: "gumbel" (paper: Gumbel-softmax over the stop step, annealed temperature),
            "marginal" (released code: exact log-sum-exp over the stop step), "reinforce" (the paper's
            rejected score-function baseline).
        gumbel_temperature_initial / gumbel_temperature_min / gumbel_temperature_decay: the fixed annealing
            schedule λ(step) = max(min, initial · exp(−decay · step)).
        gumbel_hard: straight-through one-hot samples in the forward pass.
        foreground_weight: cross-entropy weight of non-background pixels (paper 1, released code 10).
        stop_prior_weight: weight of `losses.stop_prior_kl`, the KL of each region's stop-step distribution to
            the uniform one, added to the loss (ours; 0 = off, as in the paper and the released code).
        learning_rate, adam_beta_1: Adam (released code: 1e-3, 0.5).
        learning_rate_schedule: "constant" or "cosine" (decays from `learning_rate` to 0 at `train_steps`).
        weight_decay: L2 regularisation λ: the loss gains λ/2 · Σ‖W‖² over every kernel and embedding
            (paper §4.2, ReferIt: "L2-normalization is applied to the parameters"; the value is not given;
            Hu et al. use 5e-4). 0 = none (CoSaL).
        mixed_precision: compute in float16 with float32 variables and dynamic loss scaling (GPUs).
        batch_size: global batch size, split over replicas.
        train_steps: optimizer steps in total (resumed runs continue up to it).
        checkpoint_every, summary_every, image_summary_every: in steps.
        eval_every: steps between learning-curve points (0: none): every `eval_every` steps the model is
            evaluated on the first `curve_eval_size` test images and a row (step, images seen, training
            seconds, metrics) is appended to `curve.jsonl` in the model directory.
        curve_eval_size: test images per learning-curve point.
        train_seconds: wall-clock training budget in seconds, summed over resumed runs (0: no limit).
            Training stops after the first step that reaches it, checkpoints and evaluates. Evaluation time
            is not counted.
        seed: seeds model initialisation and the Gumbel / REINFORCE noise.
        jit_compile: "auto" (XLA on one device, off under MirroredStrategy), "on", "off".
        strategy: "auto", "default", "one_device", "mirrored".
    """

    termination_training: str = "gumbel"
    gumbel_temperature_initial: float = 1.0
    gumbel_temperature_min: float = 0.5
    gumbel_temperature_decay: float = 3e-4
    gumbel_hard: bool = False
    foreground_weight: float = 1.0
    stop_prior_weight: float = 0.0
    learning_rate: float = 1e-3
    adam_beta_1: float = 0.9
    learning_rate_schedule: str = "constant"
    weight_decay: float = 0.0
    mixed_precision: bool = False
    batch_size: int = 64
    train_steps: int = 2000
    checkpoint_every: int = 500
    summary_every: int = 50
    image_summary_every: int = 500
    eval_every: int = 0
    curve_eval_size: int = 2000
    train_seconds: float = 0.0
    seed: int = 0
    jit_compile: str = "auto"
    strategy: str = "auto"

    def __post_init__(self):
        _check_choice("termination_training", self.termination_training, ("gumbel", "marginal", "reinforce"))
        _check_choice("jit_compile", self.jit_compile, ("auto", "on", "off"))
        _check_choice("learning_rate_schedule", self.learning_rate_schedule, ("constant", "cosine"))
        for name in ("batch_size", "train_steps", "checkpoint_every", "summary_every", "image_summary_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name} must be at least 1, got {getattr(self, name)}")
        for name in ("eval_every", "train_seconds", "stop_prior_weight"):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name} must not be negative, got {getattr(self, name)}")
        if self.curve_eval_size < 1:
            raise ConfigError(f"--curve_eval_size must be at least 1, got {self.curve_eval_size}")
        if not self.learning_rate > 0:
            raise ConfigError(f"--learning_rate must be positive, got {self.learning_rate}")
        if self.weight_decay < 0:
            raise ConfigError(f"--weight_decay must be non-negative, got {self.weight_decay}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def field_defaults(config_class) -> dict[str, Any]:
    """`{field: default}` of a config dataclass: what a config written before a field existed meant by it."""
    return {field.name: field.default for field in dataclasses.fields(config_class)}


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"--{name}={value!r} is not one of {', '.join(choices)}")


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
        _check_choice("generator_attention_score", self.attention_score, ("bilinear", "additive"))
        _check_choice("generator_initializer", self.initializer, ("released", "he"))
        _check_choice("generator_batch_norm_inference", self.batch_norm_inference, ("moving", "batch"))
        if self.vocab_size < 0:
            raise ConfigError(f"--generator_vocab_size must be >= 0 (0 = from the data), got {self.vocab_size}")
        for name in ("filters", "word_embedding_dim", "text_units", "steps", "attention_units", "fusion_units",
                     "fusion_kernel_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--generator_{name} must be at least 1, got {getattr(self, name)}")

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
        _check_choice("discriminator_text", self.text, ("shared", "own", "none"))
        for name in ("filters", "merger_units"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--discriminator_{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.leaky_relu_slope < 1.0:
            raise ConfigError(f"--discriminator_leaky_relu_slope must be in [0, 1), got {self.leaky_relu_slope}")

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
        _check_choice("pixel_loss", self.pixel_loss, ("l1", "l2"))
        _check_choice("gan_generator_loss", self.gan_generator_loss, ("non_saturating", "minimax"))
        if self.gan_weight < 0 or self.l1_weight < 0 or self.gan_weight + self.l1_weight == 0:
            raise ConfigError(f"--gan_weight and --l1_weight must be >= 0 and not both 0, got "
                              f"{self.gan_weight}, {self.l1_weight}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
