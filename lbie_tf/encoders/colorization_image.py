"""The colorization image encoder: lightness `[batch, H, W, 1]` → feature map V `[batch, H/4, W/4, 4·ngf]`.

Released colornet.py:221-276 (docs/released_code.md, "Colorization model"): 16 convolutions 3×3, in blocks
(ngf, ngf↓2), (2ngf, 2ngf↓2), 3 × 4ngf, 3 × 4ngf dilated 2, 3 × 4ngf dilated 2, 3 × 4ngf; ReLU after every
convolution but the last, BatchNorm *after* the ReLU at the end of the first five blocks (↓2 = stride 2).
The paper calls it "a 15-layer convolutional network similar to Zhang et al."; it does not say which layer of
the released 16 it would drop, so the released layout is the one built.
"""

from __future__ import annotations

import keras

# (name, channels as a multiple of ngf, stride, dilation, activation, batch norm after it)
_LAYERS = (
    ("conv1_1", 1, 1, 1, True, False), ("conv1_2", 1, 2, 1, True, True),
    ("conv2_1", 2, 1, 1, True, False), ("conv2_2", 2, 2, 1, True, True),
    ("conv4_1", 4, 1, 1, True, False), ("conv4_2", 4, 1, 1, True, False), ("conv4_3", 4, 1, 1, True, True),
    ("conv5_1", 4, 1, 2, True, False), ("conv5_2", 4, 1, 2, True, False), ("conv5_3", 4, 1, 2, True, True),
    ("conv6_1", 4, 1, 2, True, False), ("conv6_2", 4, 1, 2, True, False), ("conv6_3", 4, 1, 2, True, True),
    ("conv7_1", 4, 1, 1, True, False), ("conv7_2", 4, 1, 1, True, False), ("conv7_3", 4, 1, 1, False, False),
)
ENCODER_STRIDE = 4


def colorization_batch_norm(name: str, momentum: float = 0.9) -> keras.layers.BatchNormalization:
    """The released colornet BatchNorm (contrib decay `momentum`, epsilon 1e-5), synchronised over replicas."""
    return keras.layers.BatchNormalization(momentum=momentum, epsilon=1e-5, synchronized=True, name=name)


def colorization_kernel_initializer(kind: str = "released", truncated: bool = True):
    """Convolution kernel initialiser: "released" = N(0, 0.02) (truncated for convolutions, plain for
    transposed convolutions, as colornet.py) or "he" = He normal (unit-scale activations)."""
    if kind == "he":
        return keras.initializers.HeNormal()
    return (keras.initializers.TruncatedNormal if truncated else keras.initializers.RandomNormal)(stddev=0.02)


def colorization_image_encoder(filters: int = 32, batch_norm_momentum: float = 0.9, initializer: str = "released",
                               batch_norm: bool = True, name: str = "image_encoder") -> keras.Sequential:
    """The 16-convolution colorization encoder: `[batch, H, W, 1]` (L/50 − 1) → `[batch, H/4, W/4, 4·filters]`.

    Args:
        filters: ngf (released shipped model: 32).
        batch_norm_momentum: BatchNorm moving-average momentum (released: 0.9).
        initializer: "released" or "he" (see `colorization_kernel_initializer`).
        batch_norm: False leaves out the five BatchNorm layers.
    """
    layers = []
    for label, multiple, stride, dilation, relu, normalised in _LAYERS:
        layers.append(keras.layers.Conv2D(multiple * filters, 3, strides=stride, dilation_rate=dilation,
                                          padding="same", activation="relu" if relu else None,
                                          kernel_initializer=colorization_kernel_initializer(initializer),
                                          name=label))
        if normalised and batch_norm:
            layers.append(colorization_batch_norm(f"bn_{label}", batch_norm_momentum))
    return keras.Sequential(layers, name=name)
