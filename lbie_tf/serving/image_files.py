"""Reading an image file for `lbie-edit`: the file's bytes go through the same TF decoding as a serving request
(`image_preprocessing.decode_image`).

    image = read_image_file("sketch.png")      # uint8 [H, W, 3], upright

Before decoding, the file is checked (it exists, is a regular file — not a directory or a FIFO, which could
block — and is not empty) and Pillow reads only its header: the format (PNG, JPEG, GIF or BMP; a TIFF or WebP
file is refused by name), the size against `limits.MAX_PIXELS` and the EXIF orientation, which is applied (the
serving graph reads no EXIF: its clients turn images upright themselves). Every failure is a one-line
`DataError` naming the file.
"""

from __future__ import annotations

import functools
import io
import os
import stat
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from lbie_tf.errors import DataError
from lbie_tf.serving.limits import FORMATS, MAX_PIXELS

EXIF_ORIENTATION = 0x0112
_PILLOW_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "GIF": "GIF", "BMP": "BMP", "DIB": "BMP"}
_HEADER_ERRORS = (OSError, SyntaxError, ValueError, EOFError)  # what Pillow raises on a broken header


def read_image_file(path: str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The RGB pixels of an image file, decoded as the serving graph decodes a request.

    Args:
        path: a PNG, JPEG, GIF or BMP file (the format is found from the contents, not the name).
        max_pixels: refuse images with more pixels than this (width × height), checked from the header.

    Returns:
        uint8 `[height, width, 3]`, turned upright by the file's EXIF orientation.

    Raises:
        DataError: the file is missing, not a regular file, empty, not a PNG / JPEG / GIF / BMP image, too
            large, truncated or corrupt.
    """
    data = read_file_bytes(path, "image file")
    orientation = _check_header(path, data, max_pixels)
    import tensorflow as tf  # only now: a missing or broken file fails fast, before TensorFlow starts

    from lbie_tf.serving.graph_checks import error_line

    try:
        return _decoder(max_pixels)(tf.constant(data), tf.constant(orientation, tf.int32)).numpy()
    except tf.errors.InvalidArgumentError as error:
        raise DataError(f"{path}: {error_line(error)}") from None


def read_file_bytes(path: str, what: str) -> bytes:
    """The bytes of a regular file.

    Args:
        path: the file.
        what: how messages name it, e.g. "image file" or "--text_file".

    Raises:
        DataError: the path is missing, a directory, a FIFO, socket or device (refused before it is opened, so
            reading cannot block), unreadable or empty.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DataError(f"{what} not found: {path}") from None
    except OSError as error:
        raise DataError(f"cannot read {what} {path}: {error.strerror or error}") from None
    if stat.S_ISDIR(mode):
        raise DataError(f"{what} {path} is a directory")
    if not stat.S_ISREG(mode):
        raise DataError(f"{what} {path} is not a regular file (a FIFO, socket or device)")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        raise DataError(f"cannot read {what} {path}: {error.strerror or error}") from None
    if not data:
        raise DataError(f"{what} {path} is empty (0 bytes)")
    return data


def _check_header(path: str, data: bytes, max_pixels: int) -> int:
    """Format and size from the header (Pillow, no pixels decoded); returns the EXIF orientation (1..8)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise DataError(f"{path} is too large; the limit is {max_pixels / 1e6:g} megapixels: shrink the image "
                        f"first") from None
    except UnidentifiedImageError:
        raise DataError(f"{path} is not a PNG, JPEG, GIF or BMP image (or its header is truncated)") from None
    except _HEADER_ERRORS as error:
        raise DataError(f"{path} is truncated or corrupt ({_first_line(error)})") from None
    with image:
        if _PILLOW_FORMATS.get(image.format) not in FORMATS:
            raise DataError(f"{path} is a {image.format} image; lbie-edit and the serving graph read PNG, JPEG, "
                            f"GIF and BMP: convert it to PNG")
        width, height = image.size
        if width * height > max_pixels:
            raise DataError(f"{path} is too large ({width} x {height} = {width * height / 1e6:.1f} megapixels); "
                            f"the limit is {max_pixels / 1e6:g} megapixels: shrink the image first")
        return _orientation(image)


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation tag of an opened image, 1 when it has none (or its EXIF block is unreadable)."""
    try:
        orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    except _HEADER_ERRORS:
        return 1
    return orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1


@functools.cache
def _decoder(max_pixels: int):
    """`decode_image` as a graph function (as in the serving graph), traced once per process."""
    import tensorflow as tf

    from lbie_tf.serving.image_preprocessing import decode_image

    return tf.function(functools.partial(decode_image, max_pixels=max_pixels),
                       input_signature=[tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int32)])


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]
