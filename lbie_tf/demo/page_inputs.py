"""What the page hands over → uint8 RGB pixels: an uploaded file goes through `lbie-edit`'s image-file checks
(`lbie_tf.serving.image_files.read_image_file`), a sketch drawn on the 3 × 3-cell canvas is its strokes
composited onto white (the cell grid is the canvas background, a guide that is not part of the image)."""

from __future__ import annotations

import os

import numpy as np

from lbie_tf.data import cosal
from lbie_tf.errors import DataError
from lbie_tf.serving.image_files import read_image_file

SKETCH_CELL_PIXELS = 96  # side of one of the canvas's 3 × 3 cells, in screen pixels
SKETCH_SIDE = cosal.GRID * SKETCH_CELL_PIXELS
_GRID_GREY = 200  # grey level of the cell lines on the canvas background


def uploaded_image(path: str) -> np.ndarray:
    """The pixels of an uploaded file, as `lbie-edit --image` reads them.

    Args:
        path: where the web server stored the upload (its base name is the user's file name).

    Returns:
        uint8 `[H, W, 3]`. Raises a one-line `DataError` naming the file by its base name (the server's
        upload folder means nothing to the user).
    """
    try:
        return read_image_file(path)
    except DataError as error:
        raise DataError(str(error).replace(path, os.path.basename(path))) from None


def sketch_background() -> np.ndarray:
    """The canvas background: white with the 3 × 3 cell lines in light grey, uint8 RGBA `[side, side, 4]`."""
    background = np.full((SKETCH_SIDE, SKETCH_SIDE, 4), 255, np.uint8)
    for line in range(1, cosal.GRID):
        position = line * SKETCH_CELL_PIXELS
        background[position - 1:position + 1, :, :3] = _GRID_GREY
        background[:, position - 1:position + 1, :3] = _GRID_GREY
    return background


def sketch_image(editor_value: dict | None) -> np.ndarray:
    """The strokes of a sketch (Gradio `ImageEditor` value: `layers` of uint8 RGBA) over white.

    Args:
        editor_value: `{"background": ..., "layers": [uint8 [h, w, 4], ...], "composite": ...}` or None.

    Returns:
        uint8 `[h, w, 3]`. Raises a one-line `DataError` when nothing was drawn.
    """
    layers = [layer for layer in (editor_value or {}).get("layers") or [] if layer is not None]
    if not layers or not any(np.any(layer[..., 3]) for layer in layers):
        raise DataError("nothing to edit: draw shapes on the canvas, upload an image or pick an example")
    image = np.full(layers[0].shape[:2] + (3,), 255.0)
    for layer in layers:
        alpha = layer[..., 3:].astype(np.float64) / 255.0
        image = (1.0 - alpha) * image + alpha * layer[..., :3]
    return np.rint(image).astype(np.uint8)
