"""One segmentation request of the page → the pictures it shows, by `lbie-edit`'s own path: the caption through
`lbie_tf.serving.captions.encode_text`, the model through `lbie_tf.cli.edit.segment` (the serving graph's
preprocessing), the class map, overlay and `--explain` figure through `lbie_tf.visualization`. So the page's
class map for an input is the one `lbie-edit --image=... --text=...` writes."""

from __future__ import annotations

import dataclasses
import os
import tempfile

import numpy as np
from PIL import Image

from lbie_tf.cli.edit import segment
from lbie_tf.data import cosal_vocabulary
from lbie_tf.serving.captions import encode_text
from lbie_tf.visualization.edit_figures import (
    FIGURE_PANEL_SIZE,
    enlarge,
    explain_figure,
    overlay,
    sentence_labels,
)
from lbie_tf.visualization.figures import colorize_labels, stop_step_image

Annotations = list[tuple[np.ndarray, str]]  # (float mask [S, S] in [0, 1], label) per sentence


@dataclasses.dataclass(frozen=True)
class SegmentationView:
    """What the page shows for one edit.

    Attributes:
        class_map: uint8 `[H, W, 3]`, the predicted classes in the CoSaL colours at the input's size (the
            PNG `lbie-edit` writes).
        overlay: uint8 `[H, W, 3]`, the class colours over the input.
        stop_steps: uint8 `[P, P, 3]`, each region's stop step (P = `FIGURE_PANEL_SIZE`).
        explanation: uint8 `[h, w, 3]`, the `lbie-edit --explain` figure.
        model_input: uint8 `[P, P, 3]`, the input as the model sees it, enlarged.
        attended: per fusion step, the regions attending most to each sentence (empty for a model without
            attention), labelled "k. sentence".
        sentences: the normalised sentences of the caption.
    """

    class_map: np.ndarray
    overlay: np.ndarray
    stop_steps: np.ndarray
    explanation: np.ndarray
    model_input: np.ndarray
    attended: list[Annotations]
    sentences: list[str]


def attended_regions(attention: np.ndarray, sentences: list[str], size: int) -> list[Annotations]:
    """Per fusion step, a mask of the regions attending most to each sentence.

    Args:
        attention: `[T, M, N, sentences]` attention weights (all zero: the model has no attention).
        sentences: the caption's sentences.
        size: side of the masks in pixels (regions become blocks).

    Returns:
        T lists of `(mask float [size, size] in {0, 1}, "k. sentence")`, sentences no region attends to left
        out; an empty list when the model has no attention.
    """
    if not np.any(attention):
        return []
    attended = np.argmax(attention, axis=-1)  # [T, M, N]
    labels = sentence_labels(sentences)
    return [[(enlarge((step == k).astype(np.uint8) * 255, size) / 255.0, labels[k])
             for k in range(len(sentences)) if np.any(step == k)] for step in attended]


def segment_request(model, image: np.ndarray, caption: str) -> SegmentationView:
    """Segments one image by one caption, for the page.

    Args:
        model: a `LanguageSegmenter`, a `GraphSegmenter` (`DemoModels`) or an `ExportedSegmenter`.
        image: uint8 `[H, W, 3]` (`page_inputs`).
        caption: the caption text; an unknown word or a wrong length is a one-line `DataError`.

    Returns:
        The `SegmentationView`.
    """
    sentences, tokens = encode_text(caption)
    result = segment(model, image, tokens)
    labels = result["labels_at_image_size"]
    palette = cosal_vocabulary.RGB_PALETTE
    steps = result["attention"].shape[0]
    with tempfile.TemporaryDirectory(prefix="lbie-demo-") as folder:
        path = explain_figure(os.path.join(folder, "explain.png"), result, sentences)
        with Image.open(path) as figure:
            explanation = np.asarray(figure.convert("RGB"))
    return SegmentationView(
        class_map=colorize_labels(labels, palette), overlay=overlay(image, labels, palette),
        stop_steps=stop_step_image(result["stop_step"], steps, FIGURE_PANEL_SIZE), explanation=explanation,
        model_input=enlarge(result["model_input"], FIGURE_PANEL_SIZE),
        attended=attended_regions(result["attention"], sentences, FIGURE_PANEL_SIZE), sentences=sentences)
