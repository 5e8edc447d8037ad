"""The colorizer's side of `lbie-edit` and of the exported colorization `serving_default`, in TF ops: an image
and a CoSaL caption → the generator's inputs, and its ab → the colourised image at the input's own size.

    pixels = image_preprocessing.model_input(image, 48)   # uint8 [H, W, 3] -> float32 [48, 48, 3], 0..255
    gray = gray_input(pixels)                             # -> [48, 48, 1], L/50 − 1: what the generator sees
    rgb = colourise(image, ab)                            # + ab [48, 48, 2] -> uint8 [H, W, 3]
    edited = colourise_requests(image_bytes, ab, sizes)   # the same per request, padded to the batch's largest

The input may be grey or in colour: only its lightness is read (CIE L*, `lbie_tf.data.color_space`), as in
training, where the generator sees the L of the picture. The output keeps the input's own L at its full size
and takes a and b from the generator, resized from the model's square to the image's size (bilinear, no
antialiasing: an upsampling); Lab → sRGB clips out-of-gamut colours, then rounds to 0..255. `lbie-edit` and
the serving graph call these same functions, so they give the same pixels; both turn the caption's CoSaL
tokens into the generator's word ids with `tasks.cosal_colorization.caption_ids`, as training does.
"""

from __future__ import annotations

import tensorflow as tf

from lbie_tf.data import color_space
from lbie_tf.serving.image_preprocessing import decode_image
from lbie_tf.serving.limits import MAX_PIXELS


def gray_input(pixels) -> tf.Tensor:
    """RGB pixels → the generator's lightness input.

    Args:
        pixels: float `[..., H, W, 3]`, values 0..255 (sRGB).

    Returns:
        float32 `[..., H, W, 1]`: L/50 − 1 (`color_space.normalize_lab`).
    """
    lab = color_space.rgb_to_lab(tf.cast(pixels, tf.float32) / 255.0)
    return color_space.normalize_lab(lab)[..., :1]


def colourise(image, ab) -> tf.Tensor:
    """An image with the colours the generator predicted, at the image's own size.

    Args:
        image: uint8 `[H, W, 3]` (grey or colour; only its lightness is kept).
        ab: float `[S, S, 2]`, the generator's normalised (a/110, b/110) at the model's size.

    Returns:
        uint8 `[H, W, 3]` sRGB.
    """
    lightness = gray_input(image)
    ab = tf.image.resize(tf.cast(ab, tf.float32), tf.shape(image)[:2], method="bilinear")
    rgb = color_space.lab_to_rgb(color_space.denormalize_lab(tf.concat([lightness, ab], axis=-1)))
    return tf.cast(tf.round(tf.clip_by_value(rgb * 255.0, 0.0, 255.0)), tf.uint8)


def colourise_requests(image_bytes: tf.Tensor, ab: tf.Tensor, image_sizes: tf.Tensor,
                       max_pixels: int = MAX_PIXELS) -> tf.Tensor:
    """`colourise` for each image of a serving request (decoded again, as `prepare_images` decoded it).

    Args:
        image_bytes: string `[batch]`, the request's encoded images (already checked by `prepare_images`).
        ab: float `[batch, S, S, 2]`.
        image_sizes: int32 `[batch, 2]`, (height, width) of each image.
        max_pixels: the pixel limit of `decode_image`.

    Returns:
        uint8 `[batch, max height, max width, 3]`; image b fills `[:height_b, :width_b]`, the rest is black.
    """
    largest = tf.reduce_max(image_sizes, axis=0)

    def one(request):
        data, ab_one = request
        rgb = colourise(decode_image(data, 1, max_pixels), ab_one)
        padding = largest - tf.shape(rgb)[:2]
        return tf.pad(rgb, [[0, padding[0]], [0, padding[1]], [0, 0]])

    return tf.map_fn(one, (image_bytes, ab), fn_output_signature=tf.TensorSpec([None, None, 3], tf.uint8))
