"""Segmentation decoders: fused region features `[batch, M, N, D]` → per-pixel logits `[batch, H, W, C]`.

- `paper` (paper §4.1): two 1×1 convs (16 then C channels) as a region classifier, then one transposed conv
  of kernel 2f, stride f (f = H/M; k16 s8 for CoSaL) initialised to bilinear interpolation.
- `released` (CoSaL/net.py `build_decoder_colornet`): BN + ReLU on the fused map, then per doubling a 4×4
  stride-2 transposed conv and 3×3 convs, BatchNorm at the end of each stage, and a final 3×3 conv.

Either can be followed by `image_refinement` (`--image_skip`, ours): a residual correction of the logits
computed at full resolution from the logits and the input image.
"""

from __future__ import annotations

import keras

from lbie_tf.layers.bilinear_upsampling import BilinearUpsampling
from lbie_tf.layers.inference_statistics_batch_normalization import (
    InferenceStatisticsBatchNormalization,
)


def paper_segmentation_decoder(num_outputs: int, upsampling_factor: int, classifier_units: int = 16,
                               name: str = "decoder") -> keras.Sequential:
    """1×1 classifier convs and one bilinear-initialised transposed conv: `[b, M, N, D]` → `[b, fM, fN, C]`."""
    return keras.Sequential([
        keras.layers.Conv2D(classifier_units, 1, activation="relu", name="classifier_1"),
        keras.layers.Conv2D(num_outputs, 1, name="classifier_2"),
        BilinearUpsampling(num_outputs, kernel_size=2 * upsampling_factor, strides=upsampling_factor,
                           name="bilinear_upsampling"),
    ], name=name)


def image_refinement(num_outputs: int, units: int = 16, name: str = "image_refinement") -> keras.Sequential:
    """Two 3×3 convs: `[b, H, W, C + 3]` (logits and the image scaled to [-0.5, 0.5]) → `[b, H, W, C]`, a
    correction added to the logits. The last conv starts at zero, so training starts from the plain decoder."""
    return keras.Sequential([
        keras.layers.Conv2D(units, 3, padding="same", activation="relu", name="refine_1"),
        keras.layers.Conv2D(num_outputs, 3, padding="same", kernel_initializer="zeros", name="refine_2"),
    ], name=name)


def released_segmentation_decoder(num_outputs: int, num_doublings: int, input_channels: int = 128,
                                  batch_norm_momentum: float = 0.999, batch_norm_inference: str = "moving",
                                  name: str = "decoder") -> keras.Sequential:
    """The released code's 4-stage decoder: `[b, M, N, D]` → `[b, 2^k M, 2^k N, C]` (k = num_doublings).

    Stage widths halve from `input_channels` (128, 64, 32, 16 for CoSaL); the first two stages have two 3×3
    convs after the transposed conv, the others one, as in net.py:342-395. `batch_norm_inference` picks the
    BatchNorm statistics at inference (`lbie_tf.layers.inference_statistics_batch_normalization`).
    """
    init = keras.initializers.TruncatedNormal(stddev=0.02)

    def batch_norm(label):
        return InferenceStatisticsBatchNormalization(batch_norm_inference, momentum=batch_norm_momentum,
                                                     epsilon=1e-3, synchronized=True, name=f"bn_{label}")

    layers = [batch_norm("input"), keras.layers.ReLU(name="relu_input")]
    channels = input_channels
    for stage in range(1, num_doublings + 1):
        layers.append(keras.layers.Conv2DTranspose(
            channels, 4, strides=2, padding="same", activation="relu",
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.02), name=f"deconv{stage}"))
        convs = 2 if stage <= 2 else 1
        for index in range(1, convs + 1):
            last = index == convs
            layers.append(keras.layers.Conv2D(channels, 3, padding="same", activation=None if last else "relu",
                                              kernel_initializer=init, name=f"conv{stage}_{index}"))
        layers += [batch_norm(str(stage)), keras.layers.ReLU(name=f"relu{stage}")]
        channels = max(channels // 2, 16)
    layers.append(keras.layers.Conv2D(num_outputs, 3, padding="same", kernel_initializer=init, name="logits"))
    return keras.Sequential(layers, name=name)
