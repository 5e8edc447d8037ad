"""CoSaL image encoders: sketch `[batch, 48, 48, 3]` → region features `[batch, M, N, D]`.

Two architectures (docs/discrepancies.md, row 6):
- `paper`: paper §4.1, six 3×3 stride-1 convs with 4, 4, 8, 8, 16, 16 channels, ReLU after each, 2×2
  max-pooling after every two → `[batch, H/8, W/8, 16]` (6×6 regions at 48×48).
- `released`: CoSaL/net.py `build_encoder_colornet`, ten 3×3 convs (16,16,32,32,64,64,64,128,128,128), the
  last of each block with stride 2 followed by BatchNorm → `[batch, H/16, W/16, 128]` (3×3 regions, one per
  cell).
Both take raw pixel values in [0, 255] and rescale them to x/255 − 0.5 (CoSaL/main.py:120).
"""

from __future__ import annotations

import keras

from lbie_tf.layers.inference_statistics_batch_normalization import (
    InferenceStatisticsBatchNormalization,
)


def cosal_paper_image_encoder(width: int = 1, context_layers: int = 0, context_dilation: int = 2,
                              context_units: int = 64, name: str = "image_encoder") -> keras.Sequential:
    """The paper's six-layer CoSaL encoder: `[batch, H, W, 3]` → `[batch, H/8, W/8, 16 · width]`.

    `width` multiplies every layer's channels (1 = the paper's 4, 4, 8, 8, 16, 16).
    `context_layers` (ours) appends that many 3×3 convs (`context_units` channels, ReLU) with dilation
    `context_dilation` at the region resolution; the output then has `context_units` channels. The six convs
    see 36 pixels around a region, less than the 3 × 16 pixels that span a CoSaL cell and its neighbours; at
    dilation 2 (one cell = 2 regions) each added conv reads exactly one region of each neighbouring cell, so
    one layer lets every region see the shapes that the relational sentences ("the shape above the circle")
    name. Its output must name the shape of the region's own cell and of each neighbour by direction
    (9 + 4 × 9 cases), hence more channels than 16.
    """
    layers = [keras.layers.Rescaling(1.0 / 255.0, offset=-0.5, name="rescale")]
    for block, channels in enumerate((4 * width, 8 * width, 16 * width), start=1):
        for index in (1, 2):
            layers.append(keras.layers.Conv2D(channels, 3, padding="same", activation="relu",
                                              name=f"conv{block}_{index}"))
        layers.append(keras.layers.MaxPooling2D(2, name=f"pool{block}"))
    for index in range(1, context_layers + 1):
        layers.append(keras.layers.Conv2D(context_units, 3, padding="same", dilation_rate=context_dilation,
                                          activation="relu", name=f"context{index}"))
    return keras.Sequential(layers, name=name)


def cosal_released_image_encoder(batch_norm_momentum: float = 0.999, batch_norm_inference: str = "moving",
                                 name: str = "image_encoder") -> keras.Sequential:
    """The released code's ten-layer CoSaL encoder: `[batch, H, W, 3]` → `[batch, H/16, W/16, 128]`.

    Weights are initialised TruncatedNormal(0, 0.02) as in net.py:41-52; BatchNorm uses the contrib
    defaults (momentum 0.999, epsilon 1e-3) and is synchronised across replicas; `batch_norm_inference` picks
    its statistics at inference (`lbie_tf.layers.inference_statistics_batch_normalization`).
    """
    blocks = ((16, 2), (32, 2), (64, 3), (128, 3))
    layers = [keras.layers.Rescaling(1.0 / 255.0, offset=-0.5, name="rescale")]
    for block, (channels, depth) in enumerate(blocks, start=1):
        for index in range(1, depth + 1):
            last = index == depth
            layers.append(keras.layers.Conv2D(
                channels, 3, strides=2 if last else 1, padding="same", activation=None if last else "relu",
                kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02), name=f"conv{block}_{index}"))
        layers.append(InferenceStatisticsBatchNormalization(
            batch_norm_inference, momentum=batch_norm_momentum, epsilon=1e-3, synchronized=True, name=f"bn{block}"))
        layers.append(keras.layers.ReLU(name=f"relu{block}"))
    return keras.Sequential(layers, name=name)
