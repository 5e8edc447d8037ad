"""One colorization request of the page → the colourised picture, for a CoSaL colorizer (a `LanguageColorizer`
trained by `train_colorization.py --flagfile=configs/cosal_colorization.cfg`).

The path is the training data's: the image squashed to the model's square input by
`lbie_tf.serving.image_preprocessing.model_input`, its lightness L (`lbie_tf.data.color_space`) is the network's
input, the caption is read by `lbie_tf.serving.captions.encode_text` and laid out as the colorization task lays
it out (`lbie_tf.tasks.cosal_colorization`: 27 words, ids shifted by `TOKEN_OFFSET`), and the predicted ab
with the input's L give the RGB result (`lbie_tf.tasks.colorization.lab_to_rgb_uint8`)."""

from __future__ import annotations

import keras
import numpy as np

from lbie_tf.data import color_space
from lbie_tf.serving.captions import encode_text
from lbie_tf.serving.image_preprocessing import model_input
from lbie_tf.tasks.colorization import lab_to_rgb_uint8
from lbie_tf.tasks.cosal_colorization import TOKEN_OFFSET


def colorize_request(generator, image: np.ndarray, caption: str, size: int) -> np.ndarray:
    """Colourises one image by one caption.

    Args:
        generator: a CoSaL `LanguageColorizer` (`lbie_tf.serving.loading.load_colorizer`).
        image: uint8 `[H, W, 3]` (`page_inputs`); only its lightness is used.
        caption: the caption text; an unknown word or a wrong length is a one-line `DataError`.
        size: the model's square input side (a multiple of 4; CoSaL: 48).

    Returns:
        uint8 `[size, size, 3]`: the input's lightness with the predicted colours.
    """
    _, tokens = encode_text(caption)
    pixels = model_input(image, size) / 255.0
    gray = color_space.normalize_lab(color_space.rgb_to_lab(pixels))[..., :1]
    words = np.reshape(np.asarray(tokens, np.int32), [1, -1]) + TOKEN_OFFSET
    ab = generator({"gray": gray[None], "tokens": words}, training=False)["ab"]
    return lab_to_rgb_uint8(gray[None], keras.ops.convert_to_numpy(ab))[0]
