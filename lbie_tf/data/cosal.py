"""CoSaL (Colors, Shapes and Language): the synthetic data set, generated on the fly in pure TensorFlow.

A CoSaL image is a 3x3 grid of cells; each of the 9 shape kinds appears exactly once, at a random cell, filled
with one of 6 colours (independent, with repetition). The model input is the colour-free sketch (black shapes on
white), the target is the colour class of every pixel, and the caption is 9 three-token sentences that fix the
colours: `num_direct` direct sentences `[shape, is, colour]` and `9 - num_direct` relational sentences
`[colour, relation, shape]` ("the shape <relation> <shape> is <colour>"). Geometry, palette, vocabulary and
sentence rules follow the released generator (docs/released_code.md, "CoSaL generator"), including, behind
`legacy_captions=True`, its coverage bug.

Everything is vectorised over a batch of example ids and is a pure function of (seed, split, example id): the
random numbers come from `lbie_tf.ops.random_hash.uniform`, so an example is the same whichever batch, worker or
position it is generated in. `train_dataset` is position-addressable (exact resume from any step).

Per example, the random numbers are used as follows (`_DRAW_LAYOUT`): a random permutation places the 9
shapes (argsort of 9 uniforms), 8 geometry numbers per cell give the shape's integer coordinates
`floor(U(lo, hi) * cell_size)`, one number per cell gives its colour, another permutation orders the cells for
the direct sentences, and one number per relational sentence picks it among the valid candidates.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from lbie_tf.configs.cosal import GRID, MIN_CELL_SIZE, NUM_CELLS, CosalConfig  # noqa: F401 (CosalConfig: part of this module's API)
from lbie_tf.data import color_space, cosal_augmentation
from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.data.batch_shard import WHOLE_BATCH, BatchShard
from lbie_tf.ops import random_hash

SPLIT_STREAMS = {"train": 0, "test": 1}
_GEOMETRY_SLOTS = 8
_NUM_RELATIONAL_PICKS = NUM_CELLS - 1
_DRAW_LAYOUT = {  # name -> (offset, size) inside each example's row of uniforms
    "placement": (0, NUM_CELLS),
    "geometry": (NUM_CELLS, NUM_CELLS * _GEOMETRY_SLOTS),
    "colour": (NUM_CELLS * (1 + _GEOMETRY_SLOTS), NUM_CELLS),
    "direct_order": (NUM_CELLS * (2 + _GEOMETRY_SLOTS), NUM_CELLS),
    "relational_pick": (NUM_CELLS * (3 + _GEOMETRY_SLOTS), _NUM_RELATIONAL_PICKS),
}
_NUM_DRAWS = sum(size for _, size in _DRAW_LAYOUT.values())
_NUM_DIRECT_STREAM = 2  # per-example draw from CosalConfig.num_direct_mixture (training only)
_INDEX_SHUFFLE_SALT = 0x0C05A1  # third word of the index_shuffle seed (seed, epoch, salt)

# --- geometry tables (shape ids as in cosal_vocabulary.SHAPE_NAMES) --------------------------------------
# Per shape, 8 coordinate slots (x = column, y = row inside the cell), each drawn as floor(U(lo, hi) * cell).
# Unused slots have lo = hi = 0. Ellipse-like shapes use slots 0, 1 = centre (x, y) and, for the circle,
# slot 2 = radius; polygons use the slots as listed in docs/released_code.md, "CoSaL generator" (x then y per point).
_CENTRE = ((0.45, 0.55), (0.45, 0.55))
_UNUSED = (0.0, 0.0)
_SLOT_RANGES = np.array(
    [
        ((0.1, 0.3), (0.1, 0.3), (0.7, 0.9), (0.7, 0.9)) + (_UNUSED,) * 4,  # rectangle: pt1, pt2
        _CENTRE + (_UNUSED,) * 6,  # half fat ellipse
        _CENTRE + (_UNUSED,) * 6,  # fat ellipse
        ((0.2, 0.4), (0.7, 0.8), (0.7, 0.8), (0.7, 0.8), (0.4, 0.6), (0.2, 0.3)) + (_UNUSED,) * 2,  # triangle
        ((0.2, 0.4), (0.2, 0.3), (0.7, 0.8), (0.2, 0.3), (0.4, 0.6), (0.7, 0.8)) + (_UNUSED,) * 2,  # reverse
        _CENTRE + (_UNUSED,) * 6,  # thin ellipse
        _CENTRE + (_UNUSED,) * 6,  # half thin ellipse
        ((0.2, 0.3), (0.45, 0.55), (0.7, 0.8), (0.45, 0.55), (0.45, 0.55), (0.2, 0.3), (0.45, 0.55), (0.7, 0.8)),
        _CENTRE + ((0.3, 0.4),) + (_UNUSED,) * 5,  # circle: centre, radius
    ],
    dtype=np.float32,
)  # [shape, slot, (lo, hi)]
# Every polygon as 4 vertices, each given by the slots of its (x, y); triangles repeat their last vertex.
# Diamond slots are left, right, top, bottom; its polygon order is left, top, right, bottom.
_POLYGON_VERTEX_SLOTS = np.array(
    [
        ((0, 1), (2, 1), (2, 3), (0, 3)),  # rectangle: box between pt1 and pt2
        ((0, 0),) * 4,
        ((0, 0),) * 4,
        ((0, 1), (2, 3), (4, 5), (4, 5)),  # triangle
        ((0, 1), (2, 3), (4, 5), (4, 5)),  # reverse triangle
        ((0, 0),) * 4,
        ((0, 0),) * 4,
        ((0, 1), (4, 5), (2, 3), (6, 7)),  # diamond
        ((0, 0),) * 4,
    ],
    dtype=np.int32,
)  # [shape, vertex, (x slot, y slot)]
_IS_ELLIPSE = np.array([False, True, True, False, False, True, True, False, True])
_IS_HALF_ELLIPSE = np.array([False, True, False, False, False, False, True, False, False])
_IS_CIRCLE = np.arange(vocab.NUM_SHAPES) == vocab.SHAPE_NAMES.index("circle")


def _ellipse_axes(cell_size: int) -> np.ndarray:
    """Semi-axes (x, y) per shape in pixels, int32 `[shape, 2]`; 0 for non-ellipses (the circle's are drawn)."""
    fat, thin = (cell_size // 3, cell_size // 6), (cell_size // 6, cell_size // 3)
    named = {"half fat ellipse": fat, "fat ellipse": fat, "thin ellipse": thin, "half thin ellipse": thin}
    axes = np.zeros((vocab.NUM_SHAPES, 2), np.int32)
    for name, value in named.items():
        axes[vocab.SHAPE_NAMES.index(name)] = value
    return axes


# --- caption tables --------------------------------------------------------------------------------------
def _neighbour_pairs() -> np.ndarray:
    """The 24 (target cell, reference cell, relation token) triples of the 3x3 grid, int32 `[24, 3]`.

    "target <relation> reference", e.g. relation `below` means the target is the cell just below the
    reference. Order as the released code: cells row-major, then below, right, above, left.
    """
    pairs = []
    for row in range(GRID):
        for col in range(GRID):
            target = row * GRID + col
            for d_row, d_col, relation in ((-1, 0, vocab.BELOW_ID), (0, -1, vocab.RIGHT_ID),
                                           (1, 0, vocab.ABOVE_ID), (0, 1, vocab.LEFT_ID)):
                if 0 <= row + d_row < GRID and 0 <= col + d_col < GRID:
                    pairs.append((target, (row + d_row) * GRID + col + d_col, relation))
    return np.array(pairs, dtype=np.int32)


_PAIRS = _neighbour_pairs()
_PAIR_TARGET, _PAIR_REFERENCE, _PAIR_RELATION = _PAIRS.T


def _draws(uniforms: tf.Tensor, name: str) -> tf.Tensor:
    """The slice of each example's uniforms `[batch, _NUM_DRAWS]` reserved for `name`: `[batch, size]`."""
    offset, size = _DRAW_LAYOUT[name]
    return uniforms[:, offset : offset + size]


def draw_coordinates(uniforms: tf.Tensor, cell_shapes: tf.Tensor, cell_size: int) -> tf.Tensor:
    """Integer shape coordinates `floor(U(lo, hi) * cell_size)` for every cell.

    Args:
        uniforms: float32 `[batch, 9, 8]` in [0, 1).
        cell_shapes: int32 `[batch, 9]`, the shape id drawn in each cell.
        cell_size: cell side in pixels.

    Returns:
        int32 `[batch, 9, 8]` coordinate slots (layout in `_SLOT_RANGES`: x, y per point; ellipse-like shapes
        use slots 0, 1 = centre and, for the circle, slot 2 = radius).
    """
    ranges = tf.gather(tf.constant(_SLOT_RANGES), cell_shapes)  # [batch, 9, 8, 2]
    low, high = ranges[..., 0], ranges[..., 1]
    return tf.cast(tf.floor((low + (high - low) * uniforms) * float(cell_size)), tf.int32)


def _polygon_masks(cell_shapes: tf.Tensor, coordinates: tf.Tensor, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    """Filled convex 4-vertex polygons (inside or on the boundary), bool `[batch, 9, cell, cell]`.

    A pixel is inside when it is on the same side of (or on) every edge, whatever the winding; a repeated
    vertex gives a zero-length edge whose test always passes.
    """
    vertex_slots = tf.gather(tf.constant(_POLYGON_VERTEX_SLOTS), cell_shapes)  # [batch, 9, 4, 2]
    vertices = tf.gather(coordinates, vertex_slots, batch_dims=2)  # [batch, 9, 4, 2]
    edges = tf.roll(vertices, shift=-1, axis=2) - vertices  # [batch, 9, 4, 2]
    vx, vy = (v[..., tf.newaxis, tf.newaxis] for v in tf.unstack(vertices, axis=-1))  # [batch, 9, 4, 1, 1]
    ex, ey = (e[..., tf.newaxis, tf.newaxis] for e in tf.unstack(edges, axis=-1))
    # cross(edge, pixel - vertex) = ex * (y - vy) - ey * (x - vx), for every edge: [batch, 9, 4, cell, cell]
    cross = ex * (y[:, :, tf.newaxis] - vy) - ey * (x[:, :, tf.newaxis] - vx)
    return tf.logical_or(tf.reduce_min(cross, axis=2) >= 0, tf.reduce_max(cross, axis=2) <= 0)


def _ellipse_masks(cell_shapes: tf.Tensor, coordinates: tf.Tensor, x: tf.Tensor, y: tf.Tensor,
                   cell_size: int) -> tf.Tensor:
    """Filled axis-aligned ellipses `((x-cx)/ax)^2 + ((y-cy)/ay)^2 <= 1`, bool `[batch, 9, cell, cell]`.

    Half ellipses keep the lower half `y >= cy` (chord included); the circle has ax = ay = its radius. The
    test is done in exact integer arithmetic: `(x-cx)^2 ay^2 + (y-cy)^2 ax^2 <= ax^2 ay^2`.
    """
    radius = coordinates[..., 2]
    axes = tf.gather(tf.constant(_ellipse_axes(cell_size)), cell_shapes)  # [batch, 9, 2]
    is_circle = tf.gather(tf.constant(_IS_CIRCLE), cell_shapes)
    ax = tf.where(is_circle, radius, axes[..., 0])[..., tf.newaxis, tf.newaxis]
    ay = tf.where(is_circle, radius, axes[..., 1])[..., tf.newaxis, tf.newaxis]
    cx = coordinates[..., 0, tf.newaxis, tf.newaxis]
    cy = coordinates[..., 1, tf.newaxis, tf.newaxis]
    inside = tf.square(x - cx) * tf.square(ay) + tf.square(y - cy) * tf.square(ax) <= tf.square(ax * ay)
    is_half = tf.gather(tf.constant(_IS_HALF_ELLIPSE), cell_shapes)[..., tf.newaxis, tf.newaxis]
    return tf.logical_and(inside, tf.logical_or(y >= cy, tf.logical_not(is_half)))


def rasterize_cells(cell_shapes: tf.Tensor, coordinates: tf.Tensor, cell_size: int) -> tf.Tensor:
    """Filled shape masks in cell-local pixel coordinates (x = column, y = row).

    Args:
        cell_shapes: int32 `[batch, 9]` shape id per cell.
        coordinates: int32 `[batch, 9, 8]` coordinate slots from `draw_coordinates`.
        cell_size: cell side in pixels.

    Returns:
        bool `[batch, 9, cell_size, cell_size]`.
    """
    pixels = tf.range(cell_size, dtype=tf.int32)
    x = tf.reshape(pixels, [1, 1, 1, cell_size])
    y = tf.reshape(pixels, [1, 1, cell_size, 1])
    is_ellipse = tf.gather(tf.constant(_IS_ELLIPSE), cell_shapes)[..., tf.newaxis, tf.newaxis]
    return tf.where(
        is_ellipse,
        _ellipse_masks(cell_shapes, coordinates, x, y, cell_size),
        _polygon_masks(cell_shapes, coordinates, x, y),
    )


def _tile_cells(cells: tf.Tensor) -> tf.Tensor:
    """Row-major 3x3 grid of cells `[batch, 9, cell, cell]` -> image `[batch, 3 * cell, 3 * cell]`."""
    cell_size = cells.shape[-1]
    grid = tf.reshape(cells, [-1, GRID, GRID, cell_size, cell_size])
    return tf.reshape(tf.transpose(grid, [0, 1, 3, 2, 4]), [-1, GRID * cell_size, GRID * cell_size])


def _cells_one_hot(cells: tf.Tensor) -> tf.Tensor:
    """Cell ids `[batch, n]` -> bool `[batch, 9]`, True for every listed cell."""
    return tf.reduce_any(tf.one_hot(cells, NUM_CELLS, on_value=True, off_value=False, dtype=tf.bool), axis=1)


def _pick_relational(known: tf.Tensor, uniform: tf.Tensor) -> tf.Tensor:
    """Picks one neighbour pair per example, uniformly among `reference in known and target not in known`.

    Args:
        known: bool `[batch, 9]`.
        uniform: float32 `[batch]` in [0, 1).

    Returns:
        int32 `[batch]` index into the 24 neighbour pairs (0 if an example has no candidate).
    """
    candidates = tf.logical_and(
        tf.gather(known, _PAIR_REFERENCE, axis=1), tf.logical_not(tf.gather(known, _PAIR_TARGET, axis=1))
    )  # [batch, 24]
    candidates = tf.cast(candidates, tf.int32)
    count = tf.reduce_sum(candidates, axis=1)
    chosen_rank = tf.cast(tf.floor(uniform * tf.cast(count, tf.float32)), tf.int32)  # in [0, count)
    rank = tf.cumsum(candidates, axis=1) - 1
    chosen = tf.logical_and(candidates > 0, tf.equal(rank, chosen_rank[:, tf.newaxis]))
    return tf.argmax(tf.cast(chosen, tf.int32), axis=1, output_type=tf.int32)


def _relational_sentences(known: tf.Tensor, picks: tf.Tensor, num_sentences: int):
    """Grows `num_sentences` relational sentences, each from a known cell to a cell not yet known.

    Args:
        known: bool `[batch, 9]`, the cells sentences may refer to at the start.
        picks: float32 `[batch, >= num_sentences]` uniforms, one per sentence.
        num_sentences: Python int.

    Returns:
        (target cells, reference cells, relation token ids), each int32 `[batch, num_sentences]`, and the
        final known cells, bool `[batch, 9]`.
    """
    pairs = []
    for step in range(num_sentences):
        pair = _pick_relational(known, picks[:, step])
        pairs.append(pair)
        known = tf.logical_or(known, _cells_one_hot(tf.gather(_PAIR_TARGET, pair)[:, tf.newaxis]))
    pairs = tf.stack(pairs, axis=1) if pairs else tf.zeros_like(picks[:, :0], tf.int32)
    columns = (tf.gather(table, pairs) for table in (_PAIR_TARGET, _PAIR_REFERENCE, _PAIR_RELATION))
    return (*columns, known)


def _caption(uniforms: tf.Tensor, cell_shapes: tf.Tensor, cell_colours: tf.Tensor,
             config: CosalConfig) -> dict[str, tf.Tensor]:
    """Builds the 9-sentence caption of every example (see `generate` for the returned keys)."""
    direct_cells = tf.argsort(_draws(uniforms, "direct_order"), axis=1, stable=True)[:, : config.num_direct]
    direct_mask = _cells_one_hot(direct_cells)
    # The released code marks only the first direct cell as known (make_data.py:225).
    known = _cells_one_hot(direct_cells[:, :1]) if config.legacy_captions else direct_mask
    targets, references, relations, known = _relational_sentences(
        known, _draws(uniforms, "relational_pick"), NUM_CELLS - config.num_direct
    )
    target_cells = tf.concat([direct_cells, targets], axis=1)  # [batch, 9]
    reference_cells = tf.concat([direct_cells, references], axis=1)
    relation = tf.concat([tf.fill(tf.shape(direct_cells), vocab.IS_ID), relations], axis=1)
    is_direct = tf.range(NUM_CELLS) < config.num_direct  # [9]
    target_colour = tf.gather(cell_colours, target_cells, batch_dims=1) + vocab.FIRST_COLOUR_ID
    target_shape = tf.gather(cell_shapes, target_cells, batch_dims=1)
    reference_shape = tf.gather(cell_shapes, reference_cells, batch_dims=1)
    tokens = tf.stack(
        [
            tf.where(is_direct, target_shape, target_colour),
            relation,
            tf.where(is_direct, target_colour, reference_shape),
        ],
        axis=-1,
    )
    return {
        "tokens": tokens,
        "sentence_cells": tf.stack([target_cells, reference_cells], axis=-1),
        "determined": tf.logical_or(direct_mask, known),
    }


def _mixed_caption(uniforms: tf.Tensor, cell_shapes: tf.Tensor, cell_colours: tf.Tensor, example_ids: tf.Tensor,
                   config: CosalConfig) -> dict[str, tf.Tensor]:
    """`_caption` with each example's num_direct drawn from `config.num_direct_mixture`."""
    mixture = config.num_direct_mixture
    distinct = sorted(set(mixture))
    pick = tf.cast(tf.floor(random_hash.uniform(config.seed, _NUM_DIRECT_STREAM, example_ids, 1)[:, 0]
                            * len(mixture)), tf.int32)
    variant = tf.gather(tf.constant([distinct.index(n) for n in mixture], tf.int32), pick)  # [batch]
    captions = [_caption(uniforms, cell_shapes, cell_colours, dataclasses.replace(config, num_direct=n))
                for n in distinct]
    batch_index = tf.range(tf.shape(variant)[0])
    return {key: tf.gather_nd(tf.stack([caption[key] for caption in captions]),
                              tf.stack([variant, batch_index], axis=1)) for key in captions[0]}


def _isoluminant_palette() -> tf.Tensor:
    """Normalised (L/50 - 1, a/110, b/110) isoluminant palette, float32 `[num_classes, 3]`."""
    return color_space.normalize_lab(tf.constant(vocab.ISOLUMINANT_LAB))


# Plain TensorFlow ops without Python control flow on tensors: AutoGraph would only re-parse the generator's
# source for every dataset built from it (about 2 s each on CPU; a run builds one per learning-curve point).
@tf.autograph.experimental.do_not_convert
def generate(example_ids: tf.Tensor, config: CosalConfig, split: str) -> dict[str, tf.Tensor]:
    """Generates a batch of CoSaL examples, a pure function of (config.seed, split, example id).

    Args:
        example_ids: int64 `[batch]`.
        config: what to generate.
        split: "train" or "test" (disjoint random streams).

    Returns:
        A dict, with S = config.image_size:
        - `sketch`: uint8 `[batch, S, S, 3]`, black shapes on white (the colour-free model input).
        - `labels`: int32 `[batch, S, S]`, colour class per pixel (0 background, 1..6 = colour index + 1).
        - `rgb`: uint8 `[batch, S, S, 3]`, `RGB_PALETTE[labels]`.
        - `gray`: float32 `[batch, S, S, 1]`, L/50 - 1 of the picture drawn in `ISOLUMINANT_LAB` (the same
          value for every colour, so only the text tells the colours apart).
        - `ab`: float32 `[batch, S, S, 2]`, (a/110, b/110) of that picture.
        - `tokens`: int32 `[batch, 9, 3]`, the caption (`num_direct` direct sentences, then relational ones,
          each referring to an already-known cell).
        - `sentence_cells`: int32 `[batch, 9, 2]`, (target cell, reference cell) per sentence, cells row-major
          0..8; reference == target for direct sentences.
        - `cell_shapes`: int32 `[batch, 9]`, shape id per cell (a permutation of 0..8).
        - `cell_colours`: int32 `[batch, 9]`, colour index 0..5 per cell.
        - `determined`: bool `[batch, 9]`, whether the caption determines each cell's colour.
        - `example_id`: int64 `[batch]`.
    """
    if split not in SPLIT_STREAMS:
        raise ValueError(f"split must be one of {sorted(SPLIT_STREAMS)}, got {split!r}")
    example_ids = tf.convert_to_tensor(example_ids, tf.int64)
    uniforms = random_hash.uniform(config.seed, SPLIT_STREAMS[split], example_ids, _NUM_DRAWS)
    cell_shapes = tf.argsort(_draws(uniforms, "placement"), axis=1, stable=True)  # [batch, 9]
    cell_colours = tf.cast(tf.floor(_draws(uniforms, "colour") * vocab.NUM_COLOURS), tf.int32)
    geometry = tf.reshape(_draws(uniforms, "geometry"), [-1, NUM_CELLS, _GEOMETRY_SLOTS])
    coordinates = draw_coordinates(geometry, cell_shapes, config.cell_size)
    masks = rasterize_cells(cell_shapes, coordinates, config.cell_size)
    augment = config.augment and split == "train"
    if augment:
        coverage = cosal_augmentation.move_shapes(masks, example_ids, config.seed)
        coverage = cosal_augmentation.change_stroke(coverage, example_ids, config.seed)
        ink = cosal_augmentation.apply_tone(coverage, example_ids, config.seed)
        masks = ink >= 0.5
    cell_labels = tf.where(masks, (cell_colours + 1)[..., tf.newaxis, tf.newaxis], 0)
    labels = _tile_cells(cell_labels)  # [batch, S, S]
    if augment:
        sketch = cosal_augmentation.draw_sketch(_tile_cells(ink), example_ids, config.seed)
    else:
        sketch = tf.tile(tf.where(labels > 0, tf.constant(0, tf.uint8), tf.constant(255, tf.uint8))[..., tf.newaxis],
                         [1, 1, 1, 3])
    lab = tf.gather(_isoluminant_palette(), labels)
    if config.num_direct_mixture and split == "train":
        caption = _mixed_caption(uniforms, cell_shapes, cell_colours, example_ids, config)
    else:
        caption = _caption(uniforms, cell_shapes, cell_colours, config)
    return {
        "sketch": sketch,
        "labels": labels,
        "rgb": tf.gather(tf.constant(vocab.RGB_PALETTE), labels),
        "gray": lab[..., :1],
        "ab": lab[..., 1:],
        **caption,
        "cell_shapes": cell_shapes,
        "cell_colours": cell_colours,
        "example_id": example_ids,
    }


def train_example_ids(positions: tf.Tensor, config: CosalConfig) -> tf.Tensor:
    """Example ids of the training stream at global positions `[batch]` (int64) -> int64 `[batch]`.

    With N = config.train_size > 0, position k is epoch k // N, and the epoch visits the N images in the
    order `index_shuffle(k mod N, seed=(config.seed, epoch, salt), max_index=N - 1)`. With N = 0 every
    position is a fresh image: id k.
    """
    positions = tf.convert_to_tensor(positions, tf.int64)
    if config.train_size == 0:
        return positions
    size = tf.constant(config.train_size, tf.int64)
    epoch = positions // size
    seeds = tf.stack(
        [tf.fill(tf.shape(epoch), tf.constant(config.seed, tf.int64)), epoch,
         tf.fill(tf.shape(epoch), tf.constant(_INDEX_SHUFFLE_SALT, tf.int64))],
        axis=-1,
    )  # [batch, 3]: one seed per position, since a batch can straddle two epochs
    # The raw op: the public wrapper only accepts 2-word seeds and mis-pads a per-element seed matrix.
    return tf.raw_ops.RandomIndexShuffle(
        index=positions % size, seed=seeds, max_index=tf.fill(tf.shape(positions), size - 1), rounds=4
    )


def train_dataset(config: CosalConfig, batch_size: int, start_step: int = 0,
                  shard: BatchShard = WHOLE_BATCH) -> tf.data.Dataset:
    """Endless batched training stream, resumable at any step.

    Batch t holds the examples at stream positions [t * batch_size, (t + 1) * batch_size) (see
    `train_example_ids`), so `train_dataset(config, b, start_step=s)` yields exactly what
    `train_dataset(config, b)` yields after skipping s batches. With a `config.curriculum`, batch t's
    captions have the num_direct of the stage that t falls in; after it, with a `config.num_direct_mixture`,
    each example's num_direct is drawn from the mixture. With `config.augment` the training sketches are
    augmented (`lbie_tf.data.cosal_augmentation`). With a `shard`, only that input pipeline's rows of each
    global batch of `batch_size` are generated (`lbie_tf.data.batch_shard`).

    Returns:
        A `tf.data.Dataset` of dicts as returned by `generate`, batch dimension `shard.rows(batch_size)`
        (static; `batch_size` for the whole batch).
    """
    if batch_size < 1 or start_step < 0:
        raise ValueError(f"need batch_size >= 1 and start_step >= 0, got {batch_size}, {start_step}")
    stream = None
    begin = 0
    for num_direct, end in [*config.curriculum, (config.num_direct, None)]:
        first, begin = max(start_step, begin), end
        if end is not None and first >= end:
            continue  # this stage ends before start_step
        # Curriculum stages use their own num_direct; the final stage keeps the mixture, if any.
        stage = dataclasses.replace(config, num_direct=num_direct, curriculum=(),
                                    num_direct_mixture=config.num_direct_mixture if end is None else ())
        batches = _stage_batches(stage, batch_size, first, shard)
        if end is not None:
            batches = batches.take(end - first)
        stream = batches if stream is None else stream.concatenate(batches)
    return stream.prefetch(tf.data.AUTOTUNE)


def _stage_batches(config: CosalConfig, batch_size: int, start_step: int, shard: BatchShard) -> tf.data.Dataset:
    """Endless batches (`shard`'s rows) of `config`'s training stream from `start_step` on (no curriculum)."""

    def generate_batch(positions):
        return generate(train_example_ids(positions, config), config, "train")

    positions = shard.select(tf.data.Dataset.counter(start=start_step * batch_size), batch_size)
    return (
        positions.batch(shard.rows(batch_size), drop_remainder=True)
        .map(generate_batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    )


def test_dataset(config: CosalConfig, batch_size: int) -> tf.data.Dataset:
    """The finite test set: ids 0 .. config.test_size - 1 of the test stream, in order, last batch partial.

    Returns:
        A `tf.data.Dataset` of dicts as returned by `generate`.
    """
    if batch_size < 1:
        raise ValueError(f"need batch_size >= 1, got {batch_size}")
    return (
        tf.data.Dataset.range(config.test_size)
        .batch(batch_size)
        .map(lambda ids: generate(ids, config, "test"), num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        .prefetch(tf.data.AUTOTUNE)
    )
