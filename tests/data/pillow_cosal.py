"""A second CoSaL renderer, written with Pillow and independent of `lbie_tf.data.cosal`.

It draws what a person might draw in another program: the same 3x3 task (each of the 9 shapes once, 6
colours, a caption of direct and relational sentences) but with its own geometry (shape proportions, sizes
and offsets drawn here, not the generator's slot ranges), its own anti-aliasing (4x supersampling and a
Lanczos downscale) and at another resolution than the model's (`SIZE` pixels, resized by the product's own
preprocessing). Only the vocabulary (words and class ids) is shared. Used by the shipped model's tests and
by `experiments/cosal_best.py` to measure how well a model trained on the generator transfers.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from lbie_tf.data import cosal_vocabulary as vocab

SIZE = 150  # rendered image side (the model reads 48)
_SUPERSAMPLE = 4
_GRID = 3
# Semi-axes of the round shapes as fractions of the shape's extent (x, y).
_ROUND_AXES = {"fat ellipse": (0.5, 0.25), "half fat ellipse": (0.5, 0.25), "thin ellipse": (0.22, 0.5),
               "half thin ellipse": (0.22, 0.5), "circle": (0.5, 0.5)}
_RELATIONS = {"below": (1, 0), "above": (-1, 0), "right": (0, 1), "left": (0, -1)}  # target = reference + d


def _shape_outline(name: str, rng: np.random.Generator, box: tuple[float, float, float]):
    """`(kind, geometry)` of one shape in a cell whose top-left is (x0, y0) and side is `c` (pixels)."""
    x0, y0, c = box
    cx, cy = x0 + c * rng.uniform(0.42, 0.58), y0 + c * rng.uniform(0.42, 0.58)
    size = c * rng.uniform(0.55, 0.75)  # the shape's overall extent
    if name in _ROUND_AXES:
        ax, ay = (size * fraction for fraction in _ROUND_AXES[name])
        if name.startswith("half"):
            return "pieslice", ((cx - ax, cy - ay, cx + ax, cy + ay), 0, 180)  # the lower half
        return "ellipse", (cx - ax, cy - ay, cx + ax, cy + ay)
    half = size / 2
    if name == "rectangle":
        w, h = half * rng.uniform(0.7, 1.0), half * rng.uniform(0.7, 1.0)
        return "polygon", [(cx - w, cy - h), (cx + w, cy - h), (cx + w, cy + h), (cx - w, cy + h)]
    if name == "triangle":  # apex up
        return "polygon", [(cx, cy - half), (cx + half, cy + half * 0.8), (cx - half, cy + half * 0.8)]
    if name == "reverse triangle":  # apex down
        return "polygon", [(cx - half, cy - half * 0.8), (cx + half, cy - half * 0.8), (cx, cy + half)]
    if name == "diamond":
        return "polygon", [(cx, cy - half), (cx + half * 0.8, cy), (cx, cy + half), (cx - half * 0.8, cy)]
    raise ValueError(f"unknown shape {name!r}")


def _draw(draw: ImageDraw.ImageDraw, kind: str, geometry, fill: int) -> None:
    if kind == "pieslice":
        box, start, end = geometry
        draw.pieslice(box, start, end, fill=fill)
    elif kind == "ellipse":
        draw.ellipse(geometry, fill=fill)
    else:
        draw.polygon(geometry, fill=fill)


def _caption(rng: np.random.Generator, shapes: list[str], colours: list[int], num_direct: int) -> list[str]:
    """Direct sentences for `num_direct` random cells, then relational ones, each from a described cell to an
    undescribed neighbour, until every cell is described."""
    order = rng.permutation(9)
    known = set(order[:num_direct].tolist())
    sentences = [f"{shapes[cell]} is {vocab.COLOUR_NAMES[colours[cell]]}" for cell in order[:num_direct]]
    while len(known) < 9:
        candidates = []
        for reference in sorted(known):
            row, col = divmod(reference, _GRID)
            for relation, (d_row, d_col) in _RELATIONS.items():
                r, c = row + d_row, col + d_col
                if 0 <= r < _GRID and 0 <= c < _GRID and r * _GRID + c not in known:
                    candidates.append((r * _GRID + c, relation, reference))
        target, relation, reference = candidates[rng.integers(len(candidates))]
        sentences.append(f"{vocab.COLOUR_NAMES[colours[target]]} {relation} {shapes[reference]}")
        known.add(target)
    return sentences


def render(rng: np.random.Generator, num_direct: int, label_size: int = 48, size: int = SIZE):
    """One sketch, its labels and its caption.

    Args:
        rng: the random generator (seeded by the caller).
        num_direct: direct sentences in the caption (1..9).
        label_size: side of the returned label map (the model's image size).
        size: side of the drawn sketch.

    Returns:
        `(sketch, labels, sentences)`: uint8 `[size, size, 3]` dark shapes on white, uint8
        `[label_size, label_size]` class ids (0 background, 1 + colour index), and 9 sentences.
    """
    shapes = [vocab.SHAPE_NAMES[i] for i in rng.permutation(vocab.NUM_SHAPES)]
    colours = rng.integers(vocab.NUM_COLOURS, size=9).tolist()
    big = size * _SUPERSAMPLE
    cell = big / _GRID
    ink = Image.new("L", (big, big), 255)
    inside = Image.new("L", (big, big), 0)
    ink_draw, inside_draw = ImageDraw.Draw(ink), ImageDraw.Draw(inside)
    darkness = int(rng.integers(0, 60))
    for index, name in enumerate(shapes):
        row, col = divmod(index, _GRID)
        kind, geometry = _shape_outline(name, rng, (col * cell, row * cell, cell))
        _draw(ink_draw, kind, geometry, darkness)
        _draw(inside_draw, kind, geometry, 255)
    sketch = np.asarray(ink.resize((size, size), Image.LANCZOS))
    # A label pixel belongs to its cell's shape when the shape covers at least half of its area.
    covered = np.asarray(inside.resize((label_size, label_size), Image.BOX)) >= 128
    cell_of = np.arange(label_size) * _GRID // label_size
    cell_colour = np.asarray(colours, np.uint8).reshape(_GRID, _GRID)[cell_of[:, None], cell_of[None, :]]
    labels = np.where(covered, cell_colour + 1, 0).astype(np.uint8)
    return np.repeat(sketch[..., None], 3, axis=-1), labels, _caption(rng, shapes, colours, num_direct)
