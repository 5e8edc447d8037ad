"""A plain line chart as a PNG, drawn with PIL (no plotting library is a dependency)."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

# Series colours, in order (step 1, 2, 3, 4, ...).
SERIES_COLOURS = ((214, 39, 40), (255, 170, 0), (44, 160, 44), (31, 119, 180), (148, 103, 189), (140, 86, 75))
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 56, 120, 28, 36


def line_chart(x: Sequence[float], series: dict[str, Sequence[float]], title: str, y_label: str = "",
               size: tuple[int, int] = (640, 320), y_range: tuple[float, float] | None = None,
               marks: Sequence[float] = ()) -> Image.Image:
    """One chart: every series of `series` (name → values at `x`) as a coloured polyline with its name in
    the legend; `marks` are x values drawn as dashed vertical lines (e.g. the end of a warm-up).

    Args:
        x: the common x values (increasing).
        series: name → y values (same length as `x`), drawn in `SERIES_COLOURS` order.
        title: drawn above the plot.
        y_label: drawn at the top of the y axis.
        size: `(width, height)` in pixels.
        y_range: `(low, high)` of the y axis; None = the data's range.
        marks: x positions of dashed vertical lines.

    Returns:
        An RGB `PIL.Image`.
    """
    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    values = [v for ys in series.values() for v in ys]
    low, high = y_range if y_range is not None else (min(values), max(values))
    if high <= low:
        high = low + 1.0
    x_low, x_high = min(x), max(x)
    x_span = (x_high - x_low) or 1.0
    left, top = _MARGIN_LEFT, _MARGIN_TOP
    right, bottom = width - _MARGIN_RIGHT, height - _MARGIN_BOTTOM

    def point(xv, yv):
        return (left + (xv - x_low) / x_span * (right - left), bottom - (yv - low) / (high - low) * (bottom - top))

    for i in range(5):  # horizontal grid and y ticks
        yv = low + (high - low) * i / 4
        _, py = point(x_low, yv)
        draw.line([(left, py), (right, py)], fill=(225, 225, 225))
        draw.text((4, py - 6), f"{yv:.3g}", fill="black", font=font)
    for i in range(5):  # x ticks
        xv = x_low + x_span * i / 4
        px, _ = point(xv, low)
        draw.text((px - 10, bottom + 6), f"{xv:.0f}", fill="black", font=font)
    for mark in marks:
        px, _ = point(mark, low)
        for y0 in range(top, bottom, 8):
            draw.line([(px, y0), (px, min(y0 + 4, bottom))], fill=(120, 120, 120))
    draw.rectangle([left, top, right, bottom], outline="black")
    for index, (name, ys) in enumerate(series.items()):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        draw.line([point(xv, yv) for xv, yv in zip(x, ys)], fill=colour, width=2)
        legend_y = top + 14 * index
        draw.line([(right + 8, legend_y + 6), (right + 24, legend_y + 6)], fill=colour, width=3)
        draw.text((right + 28, legend_y), name, fill="black", font=font)
    draw.text((left, 8), title, fill="black", font=font)
    if y_label:
        draw.text((right + 8, bottom - 12), y_label, fill=(90, 90, 90), font=font)
    draw.text((right + 8, bottom + 6), "training step", fill=(90, 90, 90), font=font)
    return image


def stack_vertically(images: Sequence[Image.Image]) -> Image.Image:
    """The images one below the other, on white, as wide as the widest."""
    width = max(im.width for im in images)
    out = Image.new("RGB", (width, sum(im.height for im in images)), "white")
    y = 0
    for im in images:
        out.paste(im, (0, y))
        y += im.height
    return out
