"""The dataset builders' image reader (ReferIt, Oxford-102 Flowers): image files into RGB pixel arrays, with Pillow.

`lbie-edit` and the serving graph do not use it: they share the TF decoding of
`lbie_tf.serving.image_preprocessing` (PNG, JPEG, GIF and BMP). `read_image(path)` returns uint8
`[height, width, 3]` RGB for any file Pillow can decode (PNG, JPEG, BMP, GIF — its first frame —, TIFF, WebP,
...) and any of its pixel modes:

| mode | becomes |
|---|---|
| RGB | itself |
| RGBA, LA, PA, RGBa, P or L with a transparent colour | composited on a white background |
| P (palette), 1 (bilevel), L (grey), CMYK, YCbCr | RGB through Pillow's `convert("RGB")` |
| I;16, I;16B, I;16L, I (16-bit grey) | values 0..65535 scaled to 0..255 (÷257, rounded; outside clipped) |
| F (floating-point grey) | values in [0, 1] scaled by 255; otherwise read as 0..255 and clipped |

JPEG files with an EXIF orientation tag are turned upright first (`ImageOps.exif_transpose`).

Every failure a user can fix is a `DataError` with a one-line message naming the file: a missing file, a
0-byte file, a file that is not an image, a truncated or corrupt image (the whole image is decoded, so a
truncated PNG or JPEG is refused, not half-grey), and an image with more than `limits.MAX_PIXELS` pixels
(refused from its header, before its pixels are decoded).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from lbie_tf.errors import DataError
from lbie_tf.serving.limits import MAX_PIXELS

_BACKGROUND = (255, 255, 255, 255)  # transparent pixels are shown on white
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError)  # what Pillow raises on a broken stream


def read_image(path: str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Reads an image file as RGB pixels.

    Args:
        path: an image file Pillow can read (the format is found from the contents, not the name).
        max_pixels: refuse images with more pixels than this (width × height), checked from the header.

    Returns:
        uint8 `[height, width, 3]`.

    Raises:
        DataError: the file is missing, empty, not an image, truncated or corrupt, or too large.
    """
    _check_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError:
        raise DataError(_too_large_message(path, None, max_pixels)) from None
    except UnidentifiedImageError:
        raise DataError(f"{path} is not an image file Pillow can read (e.g. PNG, JPEG, BMP, GIF)") from None
    except OSError as error:
        raise DataError(f"cannot read {path}: {error.strerror or error}") from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise DataError(_too_large_message(path, (width, height), max_pixels))
        try:
            image.load()
            image = ImageOps.exif_transpose(image)
        except _DECODE_ERRORS as error:
            raise DataError(f"{path} is truncated or corrupt ({_first_line(error)})") from None
        return to_rgb(image)


def to_rgb(image: Image.Image) -> np.ndarray:
    """A decoded Pillow image of any mode as uint8 `[height, width, 3]` RGB (see the module docstring)."""
    if image.mode in _SIXTEEN_BIT_MODES:
        grey = np.asarray(image, dtype=np.float64) / 257.0
        return _grey_to_rgb(grey)
    if image.mode == "F":
        grey = np.nan_to_num(np.asarray(image, dtype=np.float64))
        return _grey_to_rgb(grey * 255.0 if grey.size and 0.0 <= grey.min() and grey.max() <= 1.0 else grey)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, _BACKGROUND), rgba)
    try:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except ValueError as error:
        raise DataError(f"cannot convert an image of mode {image.mode} to RGB ({error})") from None


def _check_file(path: str) -> None:
    if not os.path.exists(path):
        raise DataError(f"image file not found: {path}")
    if not os.path.isfile(path):
        raise DataError(f"{path} is not a file")
    if os.path.getsize(path) == 0:
        raise DataError(f"{path} is empty (0 bytes)")


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    """float `[H, W]` on the 0..255 scale → uint8 `[H, W, 3]` (rounded, clipped)."""
    grey = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)


def _too_large_message(path: str, size: tuple[int, int] | None, max_pixels: int) -> str:
    shown = f" ({size[0]} × {size[1]} = {size[0] * size[1] / 1e6:.1f} megapixels)" if size else ""
    return (f"{path} is too large{shown}; the limit is {max_pixels / 1e6:g} megapixels: "
            f"shrink the image first")


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]
