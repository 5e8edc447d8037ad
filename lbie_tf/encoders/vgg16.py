"""VGG-16 image encoder (paper §4.2, ReferIt): pixels `[batch, S, S, 3]` → region features `[batch, S/32, S/32, 512]`.

The architecture is `keras.applications.VGG16` without its top (13 convs in 5 blocks, each block ending in a
2×2 max-pool), optionally cut after `blocks` blocks (stride 2^blocks) for small test models. In front of it
sits the Caffe-style VGG preprocessing that the ImageNet weights expect (RGB → BGR, ImageNet channel mean
subtracted), so the encoder takes raw pixel values in [0, 255] like every lbie model. Zero padding pixels
thus become −mean, as in Hu et al.'s pad-then-subtract preprocessing.

Weights: random initialisation by default; `load_vgg16_weights(encoder, path)` copies a local
keras.applications "notop" weight file (`vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5`, or a Keras 3
`.weights.h5` saved from `keras.applications.VGG16(include_top=False)`) into it; `path="imagenet"` lets Keras
download the ImageNet weights (only when the user asks for it).
"""

from __future__ import annotations

import os

import keras
import numpy as np

from lbie_tf.errors import DataError

# ImageNet channel means in BGR order (keras.applications.vgg16.preprocess_input, mode "caffe").
VGG_MEAN_BGR = (103.939, 116.779, 123.68)
VGG16_CHANNELS = (64, 128, 256, 512, 512)


@keras.saving.register_keras_serializable(package="lbie")
class VggPreprocessing(keras.layers.Layer):
    """Caffe-style VGG input: `[batch, H, W, 3]` RGB pixels in [0, 255] → BGR minus the ImageNet mean."""

    def call(self, image):
        image = keras.ops.cast(image, self.compute_dtype)
        return keras.ops.flip(image, axis=-1) - keras.ops.convert_to_tensor(VGG_MEAN_BGR, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


def vgg16_image_encoder(image_size: int, blocks: int = 5, name: str = "image_encoder") -> keras.Sequential:
    """VGG-16 (random weights) up to the max-pool of block `blocks`: `[b, S, S, 3]` → `[b, S/2^k, S/2^k, C_k]`.

    Args:
        image_size: S, the input height = width.
        blocks: k in 1..5; C_k = 64, 128, 256, 512, 512.
    """
    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(image_size, image_size, 3))
    body = keras.Model(vgg.inputs, vgg.get_layer(f"block{blocks}_pool").output, name="vgg16")
    return keras.Sequential([keras.Input((image_size, image_size, 3)), VggPreprocessing(name="vgg_preprocessing"),
                             body], name=name)


def load_vgg16_weights(encoder: keras.Sequential, path: str) -> int:
    """Copy VGG-16 weights into an encoder made by `vgg16_image_encoder`, layer by layer (by name).

    Args:
        encoder: the encoder (any image size, any number of blocks).
        path: a local keras.applications VGG-16 notop weight file (`.h5` or `.weights.h5`), or "imagenet"
            to let Keras download the ImageNet weights.

    Returns:
        The number of layers whose weights were loaded.

    Raises:
        DataError: the file is missing or holds no VGG-16 weights.
    """
    if path != "imagenet" and not os.path.isfile(path):
        raise DataError(f"--vgg_weights={path} does not exist; give a keras.applications VGG-16 notop weight "
                        f"file (vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5), 'imagenet' to download "
                        f"it, or nothing for random initialisation")
    try:
        reference = keras.applications.VGG16(include_top=False, weights=path, input_shape=(32, 32, 3))
    except (ValueError, OSError, KeyError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DataError(f"--vgg_weights={path} holds no keras.applications VGG-16 notop weights "
                        f"({first_line})") from None
    body = encoder.get_layer("vgg16")
    loaded = 0
    for layer in body.layers:
        if layer.weights:
            layer.set_weights([np.asarray(w) for w in reference.get_layer(layer.name).get_weights()])
            loaded += 1
    return loaded
