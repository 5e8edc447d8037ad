"""The pictures `lbie-edit` writes: the class colours over the input, and the `--explain` figures: a segmenter's
(input, result, stop step of each region, and per fusion step the sentence each region attends to) and a
colorizer's (input, the lightness it sees, result, and the same attention panels over its caption's words)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lbie_tf.data import cosal_vocabulary
from lbie_tf.visualization.figures import (
    colorize_labels,
    save_example_figure,
    stop_step_image,
)

OVERLAY_ALPHA = 0.6  # weight of the class colour where the overlay is painted


FIGURE_PANEL_SIZE = 192  # side of each square panel of the --explain figure, in pixels


# Colour of each sentence index in the --explain attention panels (Tableau 10 without its grey).
SENTENCE_COLORS = np.array([
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207),
], np.uint8)


_KEY_ROW = 20  # pixels per sentence in the key panel


_FRAME = 160  # grey level of the frame drawn around the input and result panels


def overlay(image: np.ndarray, labels: np.ndarray, palette: np.ndarray, alpha: float = OVERLAY_ALPHA):
    """Blends class colours over an image where the class is not 0 (background).

    Args:
        image: uint8 `[H, W, 3]`.
        labels: int `[H, W]`.
        palette: uint8 `[C, 3]`.
        alpha: weight of the class colour.

    Returns:
        uint8 `[H, W, 3]`.
    """
    blended = np.array(image, np.uint8)
    mask = labels > 0
    colours = palette[labels[mask]].astype(np.float32)
    blended[mask] = np.rint((1 - alpha) * blended[mask] + alpha * colours).astype(np.uint8)
    return blended


def enlarge(image: np.ndarray, size: int) -> np.ndarray:
    """uint8 `[h, w, 3]` (or a mask `[h, w]`) → `[size, size, 3]` (`[size, size]`), nearest-neighbour (blocks
    stay blocks)."""
    return np.asarray(Image.fromarray(image).resize((size, size), Image.NEAREST))


def _framed(image: np.ndarray) -> np.ndarray:
    """A copy of uint8 `[h, w, 3]` with a 1-pixel grey border, so that white panels show on the white figure."""
    framed = np.array(image)
    framed[[0, -1], :] = framed[:, [0, -1]] = _FRAME
    return framed


def sentence_labels(sentences: list[str]) -> list[str]:
    """How the attention views name each sentence: "k. sentence" (k from 1)."""
    return [f"{k + 1}. {sentence}" for k, sentence in enumerate(sentences)]


def sentence_key(sentences: list[str]) -> np.ndarray:
    """A key panel: one row per sentence, its `SENTENCE_COLORS` swatch and "k. sentence"; uint8 `[h, w, 3]`."""
    font = ImageFont.load_default()
    labels = sentence_labels(sentences)
    width = 30 + int(max(font.getlength(label) for label in labels))
    key = Image.new("RGB", (width, _KEY_ROW * len(labels)), (255, 255, 255))
    draw = ImageDraw.Draw(key)
    for k, label in enumerate(labels):
        top = k * _KEY_ROW + 4
        draw.rectangle([2, top, 13, top + 11], fill=tuple(int(v) for v in SENTENCE_COLORS[k]))
        draw.text((20, top), label, fill=(0, 0, 0), font=font)
    return np.asarray(key)


def explain_figure(path: str, result: dict, sentences: list[str]) -> str:
    """Writes the --explain PNG for one `segment` result; returns `path`."""
    size = FIGURE_PANEL_SIZE
    attention = result["attention"]  # [T, M, N, sentences]
    steps = attention.shape[0]
    panels = [("input (model size)", _framed(enlarge(result["model_input"], size))),
              ("result", _framed(enlarge(colorize_labels(result["labels"], cosal_vocabulary.RGB_PALETTE), size))),
              ("stop step", stop_step_image(result["stop_step"], steps, size))]
    if np.any(attention):
        panels += attention_panels(attention, sentences, size)
        lines = ["step panels: each region in the colour of the sentence it attends to most (key: sentences)"]
    else:
        lines = ["this model has no attention (--attention=false): no per-step attention panels"]
    lines.append("stop step: the fusion step at which each region stops (colours as in the step legend)")
    return save_example_figure(path, panels, lines, scale=1, legend_steps=steps)


def attention_panels(sentence_attention: np.ndarray, sentences: list[str], size: int) -> list:
    """`(title, image)` panels: per fusion step each region in the `SENTENCE_COLORS` colour of the sentence it
    attends to most, then the key of those colours.

    Args:
        sentence_attention: float `[T, M, N, sentences]`.
        sentences: the caption's sentences.
        size: the side of each step panel, in pixels.
    """
    attended = np.argmax(sentence_attention, axis=-1)  # [T, M, N]
    return [(f"step {t + 1}: attended", enlarge(SENTENCE_COLORS[attended[t]], size))
            for t in range(len(attended))] + [("sentences", sentence_key(sentences))]


TOP_WORDS = 5  # words listed per fusion step under the colorizer's --explain figure


def colorization_explain_figure(path: str, result: dict, sentences: list[str]) -> str:
    """Writes the --explain PNG for one `colorize` result; returns `path`.

    The colorizer attends over the caption's words (9 sentences × 3 tokens, one sequence): the step panels
    colour each region by the sentence whose words it attends to most (attention summed over each sentence's
    words), and a line per step lists the words with the highest attention averaged over the regions.
    """
    size = FIGURE_PANEL_SIZE
    attention = result["attention"]  # [T, M, N, words]
    steps, words = attention.shape[0], attention.shape[-1]
    per_sentence = attention.reshape(attention.shape[:-1] + (len(sentences), words // len(sentences))).sum(-1)
    panels = [("input (model size)", _framed(enlarge(result["model_input"], size))),
              ("lightness (model input)", _framed(enlarge(result["gray"], size))),
              ("result", _framed(enlarge(result["result"], size)))] + attention_panels(per_sentence, sentences, size)
    tokens = result["words"]
    lines = ["step panels: each region in the colour of the sentence it attends to most (key: sentences)"]
    for t in range(steps):
        mean = attention[t].mean(axis=(0, 1))
        top = np.argsort(-mean, kind="stable")[:TOP_WORDS]
        lines.append(f"step {t + 1}, most attended words (mean over regions): "
                     + ", ".join(f"{k + 1}:{tokens[k]} {mean[k]:.2f}" for k in top))
    return save_example_figure(path, panels, lines, scale=1)
