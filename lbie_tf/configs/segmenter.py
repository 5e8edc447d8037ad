"""`SegmenterConfig`: the architecture of a language-based segmentation model."""

from __future__ import annotations

import dataclasses
from typing import Any

from lbie_tf.configs import choices
from lbie_tf.configs.validation import check_choice, check_minimum, check_not_negative
from lbie_tf.errors import ConfigError


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
        attention: False = the paper's T=1 baseline: every region gets the last LSTM vector.
        attention_score: "bilinear" (paper, softmax of sᵀWu), "scaled_dot" (CoSaL code, no softmax),
            "additive" (Flowers code).
        attention_units: rank of the attention map W (paper 16).
        fusion_units: C-GRU state width (paper 16, code 128).
        fusion_kernel_size: C-GRU kernel (paper: convolutional, 3 here; code: 1, per position).
        reset_gate_on: "state" (paper, r ⊙ S) or "text" (CoSaL code, r ⊙ Û).
        output_projection: paper's S_{t+1} = W7 ⊗ h (True) or the code's S_{t+1} = h (False).
        output_projection_init: initial W7 (paper: not said): "glorot" (Keras' default) or "identity" (the
            centre tap is the identity, so S_{t+1} = h at the start, as in the code without W7). With "glorot"
            every later step's state, and so its output, passes through a random mix of the encoder features
            while step 1's output holds them directly (docs/results/termination_dynamics.md).
        gate_bias_init: initial bias of the z/r gates (paper 0, CoSaL code 0.5).
        gate_source: "state" (paper: linear map on each region's C-GRU state) or "decoder" (code: channel 0
            of the decoder output, one gate per output pixel).
        termination_bias_init: initial bias of the state gate's logit (paper: not said; 0 gives f = 0.5 at
            every step, so half of every region stops at step 1; negative values favour continuing, e.g. −2:
            f ≈ 0.12, a region reaches the last step with probability ≈ 0.68 at T = 4).
        termination_kernel_init: initial kernel of the state gate (paper: not said): "glorot" (Keras'
            default) or "zeros" (every region starts with the logit termination_bias_init).
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
    output_projection_init: str = "glorot"
    gate_bias_init: float = 0.0
    gate_source: str = "state"
    termination_bias_init: float = 0.0
    termination_kernel_init: str = "glorot"
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
        for name, allowed in (("image_encoder", choices.IMAGE_ENCODERS), ("text_encoder", choices.TEXT_ENCODERS),
                              ("attention_score", choices.ATTENTION_SCORES),
                              ("reset_gate_on", choices.RESET_GATE_TARGETS), ("gate_source", choices.GATE_SOURCES),
                              ("final_step", choices.FINAL_STEP), ("inference_stop", choices.INFERENCE_STOP),
                              ("decoder", choices.SEGMENTATION_DECODERS),
                              ("output_projection_init", choices.OUTPUT_PROJECTION_INITS),
                              ("termination_kernel_init", choices.TERMINATION_KERNEL_INITS),
                              ("batch_norm_inference", choices.BATCH_NORM_INFERENCE)):
            check_choice(self, name, allowed)
        check_minimum(self, ("image_size", "num_classes", "vocab_size", "sentence_units", "paragraph_units", "steps",
                             "attention_units", "fusion_units", "fusion_kernel_size", "classifier_units",
                             "encoder_width", "encoder_context_dilation", "encoder_context_units"))
        check_not_negative(self, ("encoder_context_layers",))
        if self.image_encoder == "vgg16":
            if not 1 <= self.vgg_blocks <= 5:
                raise ConfigError(f"SegmenterConfig.vgg_blocks must be in 1..5, got {self.vgg_blocks}")
            if self.image_size % self.encoder_stride:
                raise ConfigError(f"SegmenterConfig.image_size must be a multiple of {self.encoder_stride} (the "
                                  f"stride of {self.vgg_blocks} VGG-16 blocks), got {self.image_size}")
        elif self.image_size % 24:
            raise ConfigError(f"SegmenterConfig.image_size must be a multiple of 24 (three cells, stride-8 "
                              f"encoder), got {self.image_size}")
        if self.text_encoder == "words" and self.word_embedding_dim < 1:
            raise ConfigError("SegmenterConfig.text_encoder='words' needs a word embedding: set "
                              "SegmenterConfig.word_embedding_dim >= 1")
        if not self.attention and self.steps != 1:
            raise ConfigError("SegmenterConfig.attention=False is the paper's T=1 baseline: set "
                              "SegmenterConfig.steps=1")

    @property
    def encoder_stride(self) -> int:
        """Input pixels per region side of the image encoder's feature map."""
        return {"cosal_paper": 8, "cosal_released": 16}.get(self.image_encoder, 2 ** self.vgg_blocks)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
