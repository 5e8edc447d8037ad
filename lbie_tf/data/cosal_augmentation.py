"""Label-preserving augmentation of CoSaL training sketches (`CosalConfig.augment`; ours, not in the paper).

People draw sketches in other programs: strokes are thicker or thinner, edges are anti-aliased, shapes sit a
little off the cell centre and have other sizes, files are JPEG-compressed. The exact generator draws none of
that, so a model trained on it alone meets inputs it has never seen. Per training example (a pure function of
its seed and id, like the rest of the stream, so resumed runs see the same images):

1. `move_shapes`: each cell's filled shape is scaled by a factor in `SCALE_RANGE` about the cell centre and
   shifted by up to `SHIFT_FRACTION` of the cell per axis, resampled bilinearly: a coverage in [0, 1] per
   pixel with soft (anti-aliased) edges. The label map is taken from the moved shape (coverage >= 0.5), so the
   labels follow the pixels.
2. `draw_sketch`: the ink is the coverage, grown or shrunk by one pixel (a 3x3 max or min pool) with the
   probabilities `STROKE_PROBABILITIES` (stroke width), scaled by an ink level in `INK_RANGE` (grey pencil
   to black); then, with probability `JPEG_PROBABILITY`, JPEG-compressed at a quality in `JPEG_QUALITY_RANGE`.

A Gaussian blur of the ink (standard deviation up to 1.2 pixels) was tried as well and removed: it did not
bring the second renderer's IoU closer (measured with `experiments/cosal_best.py` on a model trained with it at
commit 400dce0: 0.876-0.885 at 4-8 direct, against 0.889-0.895 without it).
"""

from __future__ import annotations

import tensorflow as tf

from lbie_tf.ops import random_hash

SCALE_RANGE = (0.85, 1.1)
SHIFT_FRACTION = 0.06
STROKE_PROBABILITIES = (0.2, 0.6, 0.2)  # thinner by a pixel, unchanged, thicker by a pixel
INK_RANGE = (0.7, 1.0)
JPEG_PROBABILITY = 0.5
JPEG_QUALITY_RANGE = (30, 95)
# Random streams of the augmentation, apart from the generator's split streams (0 = train, 1 = test).
_MOVE_STREAM = 16
_SKETCH_STREAM = 17
_MOVE_DRAWS = 3  # scale, shift x, shift y per cell
_SKETCH_DRAWS = 4  # stroke, ink, JPEG yes/no, JPEG quality


def _between(uniform: tf.Tensor, bounds: tuple[float, float]) -> tf.Tensor:
    low, high = bounds
    return low + (high - low) * uniform


def move_shapes(masks: tf.Tensor, example_ids: tf.Tensor, seed: int) -> tf.Tensor:
    """Scales and shifts each cell's shape, resampled bilinearly.

    Args:
        masks: bool `[batch, 9, cell, cell]`, the exact filled shapes in cell-local pixels.
        example_ids: int64 `[batch]`.
        seed: the data seed.

    Returns:
        float32 `[batch, 9, cell, cell]` coverage in [0, 1].
    """
    cell_size = masks.shape[-1]
    uniforms = random_hash.uniform(seed, _MOVE_STREAM, example_ids, masks.shape[1] * _MOVE_DRAWS)
    uniforms = tf.reshape(uniforms, [-1, _MOVE_DRAWS])  # one row per cell
    scale = _between(uniforms[:, 0], SCALE_RANGE)
    shift = _between(uniforms[:, 1:], (-SHIFT_FRACTION, SHIFT_FRACTION)) * cell_size  # [cells, (x, y)]
    centre = (cell_size - 1) / 2.0
    # Output pixel p reads the input at (p - centre) / scale + centre - shift (ImageProjectiveTransformV3's
    # row [a0, a1, a2, b0, b1, b2, c0, c1]: x_in = a0 x + a1 y + a2, y_in = b0 x + b1 y + b2).
    inverse = 1.0 / scale
    zeros = tf.zeros_like(scale)
    transforms = tf.stack([inverse, zeros, centre - centre * inverse - shift[:, 0],
                           zeros, inverse, centre - centre * inverse - shift[:, 1], zeros, zeros], axis=1)
    images = tf.reshape(tf.cast(masks, tf.float32), [-1, cell_size, cell_size, 1])
    moved = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=[cell_size, cell_size], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="CONSTANT")
    return tf.reshape(moved, tf.shape(masks))


def draw_sketch(coverage: tf.Tensor, example_ids: tf.Tensor, seed: int) -> tf.Tensor:
    """The sketch a person might hand in for the given shape coverage.

    Args:
        coverage: float32 `[batch, S, S]` in [0, 1] (1 = inside a shape).
        example_ids: int64 `[batch]`.
        seed: the data seed.

    Returns:
        uint8 `[batch, S, S, 3]`, dark shapes on white.
    """
    uniforms = random_hash.uniform(seed, _SKETCH_STREAM, example_ids, _SKETCH_DRAWS)
    ink = coverage[..., tf.newaxis]
    thinner = -tf.nn.max_pool2d(-ink, 3, 1, "SAME")
    thicker = tf.nn.max_pool2d(ink, 3, 1, "SAME")
    cumulative = tf.cumsum(tf.constant(STROKE_PROBABILITIES, tf.float32))
    stroke = tf.reduce_sum(tf.cast(uniforms[:, :1] >= cumulative[:-1], tf.int32), axis=1)  # 0, 1 or 2
    ink = tf.gather(tf.stack([thinner, ink, thicker], axis=1), stroke, batch_dims=1)
    ink = ink * _between(uniforms[:, 1], INK_RANGE)[:, tf.newaxis, tf.newaxis, tf.newaxis]
    sketch = tf.cast(tf.round(255.0 * (1.0 - ink)), tf.uint8)  # [batch, S, S, 1]
    quality = tf.cast(tf.floor(_between(uniforms[:, 3], (JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1))),
                      tf.int32)
    compressed = tf.map_fn(lambda args: tf.image.adjust_jpeg_quality(args[0], args[1]), (sketch, quality),
                           fn_output_signature=tf.uint8)
    use_jpeg = (uniforms[:, 2] < JPEG_PROBABILITY)[:, tf.newaxis, tf.newaxis, tf.newaxis]
    return tf.tile(tf.where(use_jpeg, compressed, sketch), [1, 1, 1, 3])
