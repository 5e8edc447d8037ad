"""Figures of model outputs with Pillow: label maps in colour, per-region stop steps, side-by-side panels,
and the paper's Figure 5 (which sentence the regions attend to at each fusion step).

Every image here is uint8 `[height, width, 3]` RGB; figures are PNG files on a white background.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Colour of each stop step t = 0, 1, ... (Okabe-Ito colour-blind-safe palette, then two greys).
STOP_STEP_COLORS = np.array([
    (230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66), (0, 114, 178),
    (213, 94, 0), (204, 121, 167), (0, 0, 0), (120, 120, 120), (200, 200, 200),
], np.uint8)

MARGIN = 8  # pixels around the figure
GAP = 8  # pixels between panels, and between blocks (titles, panels, legend, caption)
_SWATCH = 10  # side of a legend colour square
# The paper's Figure 5 colours the sentences attended at fusion steps 1, 2, 3 red, yellow, green (the yellow
# darkened to stay readable on white); later steps continue with blue and purple.
ATTENDED_STEP_COLORS = ((214, 39, 40), (200, 150, 0), (44, 160, 44), (31, 119, 180), (148, 103, 189))
DIRECT_COLOR = (214, 39, 40)  # regions attending to a direct sentence ("shape is colour")
RELATIONAL_COLOR = (31, 119, 180)  # regions attending to a relational sentence
_WHITE = (255, 255, 255)
_BLACK = (0, 0, 0)


def colorize_labels(labels: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Paints a class map.

    Args:
        labels: int `[H, W]` with values in [0, C).
        palette: uint8 `[C, 3]`, the RGB colour of each class.

    Returns:
        uint8 `[H, W, 3]`.
    """
    labels, palette = np.asarray(labels), np.asarray(palette, np.uint8)
    if labels.size and (labels.min() < 0 or labels.max() >= len(palette)):
        raise ValueError(f"labels must lie in [0, {len(palette)}) for a {len(palette)}-colour palette, "
                         f"got [{labels.min()}, {labels.max()}]")
    return palette[labels]


def stop_step_image(stop_steps: np.ndarray, num_steps: int, size: int) -> np.ndarray:
    """Paints each region's stop step in the colour `STOP_STEP_COLORS[step]`, enlarged to `size` × `size`.

    Args:
        stop_steps: int `[h, w]`, the 0-based fusion step at which each region stopped.
        num_steps: the model's maximum number of steps T (at most `len(STOP_STEP_COLORS)`).
        size: output side in pixels; regions become blocks (nearest-neighbour upscaling).

    Returns:
        uint8 `[size, size, 3]`.
    """
    if not 1 <= num_steps <= len(STOP_STEP_COLORS):
        raise ValueError(f"num_steps must be in [1, {len(STOP_STEP_COLORS)}], got {num_steps}")
    small = colorize_labels(stop_steps, STOP_STEP_COLORS[:num_steps])
    return np.asarray(Image.fromarray(small).resize((size, size), Image.NEAREST))


def save_example_figure(path: str, panels: Sequence[tuple[str, np.ndarray]], caption_lines: Sequence[str],
                        scale: int = 4, legend_steps: int | None = None,
                        caption_colors: Sequence[tuple[int, int, int]] | None = None) -> str:
    """Writes a PNG with the panels side by side, their titles above and the caption lines below.

    Args:
        path: output PNG path (parent directories are created).
        panels: (title, uint8 image `[H, W, 3]`, `[H, W, 1]` or `[H, W]`) pairs, drawn left to right,
            top-aligned, each enlarged `scale` times with nearest-neighbour sampling.
        caption_lines: text lines under the panels (e.g. the input sentences).
        scale: integer enlargement factor of the panels.
        legend_steps: if given, a row "step 1 … step T" of `STOP_STEP_COLORS` swatches is drawn under the
            panels, to read `stop_step_image` panels.
        caption_colors: RGB text colour of each caption line (default: all black).

    Returns:
        `path`.
    """
    if caption_colors is not None and len(caption_colors) != len(caption_lines):
        raise ValueError(f"{len(caption_colors)} caption colours for {len(caption_lines)} caption lines")
    font = ImageFont.load_default()
    images = [Image.fromarray(_to_rgb(image)) for _, image in panels]
    images = [im.resize((im.width * scale, im.height * scale), Image.NEAREST) for im in images]
    titles = [title for title, _ in panels]
    legend = [f"step {t + 1}" for t in range(legend_steps or 0)]
    layout = figure_layout([im.size for im in images], titles, caption_lines, legend, font)

    figure = Image.new("RGB", layout.size, _WHITE)
    draw = ImageDraw.Draw(figure)
    for image, title, (x, y) in zip(images, titles, layout.panel_origins):
        draw.text((x, MARGIN), title, fill=_BLACK, font=font)
        figure.paste(image, (x, y))
    x = MARGIN
    for t, label in enumerate(legend):
        y = layout.legend_top
        color = tuple(int(v) for v in STOP_STEP_COLORS[t])
        draw.rectangle([x, y, x + _SWATCH - 1, y + _SWATCH - 1], fill=color)
        draw.text((x + _SWATCH + 3, y), label, fill=_BLACK, font=font)
        x += _SWATCH + 3 + _text_width(label, font) + GAP
    for i, line in enumerate(caption_lines):
        color = tuple(caption_colors[i]) if caption_colors is not None else _BLACK
        draw.text((MARGIN, layout.caption_top + i * layout.line_height), line, fill=color, font=font)

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.save(path, format="PNG")
    return path


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(Image.fromarray(_to_rgb(image)).resize((size, size), Image.NEAREST))


@dataclasses.dataclass(frozen=True)
class FigureLayout:
    """Pixel positions in a figure made by `save_example_figure`.

    Attributes:
        size: (width, height) of the figure.
        panel_origins: (x, y) of each panel's top-left corner; its title starts at (x, MARGIN).
        legend_top: y of the stop-step legend row.
        caption_top: y of the first caption line.
        line_height: height of one text line.
    """

    size: tuple[int, int]
    panel_origins: list[tuple[int, int]]
    legend_top: int
    caption_top: int
    line_height: int


def figure_layout(panel_sizes: Sequence[tuple[int, int]], titles: Sequence[str],
                  caption_lines: Sequence[str], legend_labels: Sequence[str] = (),
                  font: ImageFont.ImageFont | None = None) -> FigureLayout:
    """Where `save_example_figure` puts things, from the (already enlarged) panel sizes (width, height).

    Each panel's column is as wide as the panel or its title, whichever is wider; the figure is as wide as
    the columns, the legend or the longest caption line, whichever is widest, plus `MARGIN` on both sides.
    """
    font = font or ImageFont.load_default()
    line_height = _line_height(font)
    panels_top = MARGIN + (line_height + GAP // 2 if any(titles) else 0)
    origins, x = [], MARGIN
    for (w, _), title in zip(panel_sizes, titles):
        origins.append((x, panels_top))
        x += max(w, _text_width(title, font)) + GAP
    widths = [x - GAP + MARGIN]
    widths += [2 * MARGIN + _text_width(line, font) for line in caption_lines]
    widths.append(2 * MARGIN + sum(_SWATCH + 3 + _text_width(s, font) + GAP for s in legend_labels))
    bottom = panels_top + max((h for _, h in panel_sizes), default=0)
    legend_top = bottom + GAP
    if legend_labels:
        bottom = legend_top + max(line_height, _SWATCH)
    caption_top = bottom + GAP
    height = caption_top + len(caption_lines) * line_height + MARGIN if caption_lines else bottom + MARGIN
    return FigureLayout((max(widths), height), origins, legend_top, caption_top, line_height)


def _to_rgb(image: np.ndarray) -> np.ndarray:
    """uint8 `[H, W]`, `[H, W, 1]` or `[H, W, 3]` → uint8 `[H, W, 3]`."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"panel images must be uint8, got {image.dtype}")
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3):
        raise ValueError(f"panel images must be [H, W], [H, W, 1] or [H, W, 3], got {image.shape}")
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image


def _text_width(text: str, font: ImageFont.ImageFont) -> int:
    return int(np.ceil(font.getlength(text))) if text else 0


def _line_height(font: ImageFont.ImageFont) -> int:
    """Height of one text line: the tallest glyph box (ascender to descender) plus 2 pixels of leading."""
    return int(font.getbbox("Ag|y")[3]) + 2
