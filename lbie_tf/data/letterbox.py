"""Aspect-preserving resize with zero padding to a square, and its inverse (Hu et al.'s `im_processing`).

`letterbox(image, S)` is text_objseg's `resize_and_pad`: scale = min(S/h, S/w), resize (bilinear) to
round(h·scale) × round(w·scale), centre it on an S×S canvas of zeros (top / left padding floor((S − size)/2)).
`unletterbox(map, h, w)` is its `resize_and_crop` back to the original size: scale = max(h/S, w/S), resize the
S×S map to round(S·scale) squared, crop the centre h × w. Both work on tensors inside `tf.data` / `tf.function`
with dynamic sizes; rounding is half-to-even as NumPy's.
"""

from __future__ import annotations

import tensorflow as tf


def letterbox_geometry(height, width, size: int):
    """`(resized_height, resized_width, top, left)` int32 scalars of `letterbox` for an h × w image."""
    h, w = tf.cast(height, tf.float64), tf.cast(width, tf.float64)
    scale = tf.minimum(size / h, size / w)
    resized_h = tf.cast(tf.round(h * scale), tf.int32)
    resized_w = tf.cast(tf.round(w * scale), tf.int32)
    return resized_h, resized_w, (size - resized_h) // 2, (size - resized_w) // 2


def letterbox(image, size: int):
    """`[h, w, C]` (any numeric dtype) → float32 `[size, size, C]`: bilinear resize keeping the aspect ratio,
    centred, zero padding."""
    shape = tf.shape(image)
    resized_h, resized_w, top, left = letterbox_geometry(shape[0], shape[1], size)
    resized = tf.image.resize(tf.cast(image, tf.float32), tf.stack([resized_h, resized_w]), method="bilinear")
    return tf.image.pad_to_bounding_box(resized, top, left, size, size)


def unletterbox(values, height, width):
    """`[S, S]` or `[S, S, C]` map → float32 `[height, width(, C)]` at the original image size: bilinear
    resize by max(h/S, w/S), centre crop (the inverse of `letterbox`)."""
    squeeze = len(values.shape) == 2
    values = tf.cast(values[..., None] if squeeze else values, tf.float32)
    size = tf.cast(tf.shape(values)[0], tf.float64)
    h, w = tf.cast(height, tf.float64), tf.cast(width, tf.float64)
    resized = tf.cast(tf.round(size * tf.maximum(h / size, w / size)), tf.int32)
    values = tf.image.resize(values, tf.stack([resized, resized]), method="bilinear")
    top, left = (resized - tf.cast(height, tf.int32)) // 2, (resized - tf.cast(width, tf.int32)) // 2
    values = values[top:top + tf.cast(height, tf.int32), left:left + tf.cast(width, tf.int32)]
    return values[..., 0] if squeeze else values
