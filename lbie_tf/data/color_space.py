"""sRGB <-> CIE L*a*b* (D65) in TensorFlow, with the released LBIE code's constants and normalisation.

Conversion chain (utils.py; docs/released_code.md, "Colour space"): sRGB in [0, 1] -> linear RGB (sRGB gamma: threshold
0.04045, slope 12.92, exponent 2.4) -> XYZ (sRGB primaries) -> divide by the D65 white (0.950456, 1.0,
1.088754) -> CIELAB with epsilon 6/29. The inverse clips linear RGB to [0, 1] before the gamma, as the
released code does. The network sees `normalize_lab`: L/50 - 1, a/110, b/110 (each about in [-1, 1]).

All functions take and return float32 tensors `[..., 3]` (any leading shape, e.g. `[batch, height, width, 3]`).
Gradients are finite everywhere (the branches of every `tf.where` are evaluated on clamped inputs).
"""

from __future__ import annotations

import tensorflow as tf

D65_WHITE = (0.950456, 1.0, 1.088754)
_EPSILON = 6.0 / 29.0
# Row-vector convention: xyz = rgb_linear @ _RGB_TO_XYZ.
_RGB_TO_XYZ = (
    (0.412453, 0.212671, 0.019334),
    (0.357580, 0.715160, 0.119193),
    (0.180423, 0.072169, 0.950227),
)
_XYZ_TO_RGB = (
    (3.2404542, -0.9692660, 0.0556434),
    (-1.5371385, 1.8760108, -0.2040259),
    (-0.4985314, 0.0415560, 1.0572252),
)
_L_SCALE, _AB_SCALE = 50.0, 110.0


def _apply_matrix(pixels: tf.Tensor, matrix: tuple) -> tf.Tensor:
    """`pixels [..., 3] @ matrix [3, 3]`."""
    return tf.einsum("...i,ij->...j", pixels, tf.constant(matrix, tf.float32))


def _srgb_to_linear(srgb: tf.Tensor) -> tf.Tensor:
    linear_part = srgb / 12.92
    power_part = tf.pow((tf.maximum(srgb, 0.04045) + 0.055) / 1.055, 2.4)
    return tf.where(srgb <= 0.04045, linear_part, power_part)


def _linear_to_srgb(linear: tf.Tensor) -> tf.Tensor:
    linear = tf.clip_by_value(linear, 0.0, 1.0)
    linear_part = linear * 12.92
    power_part = tf.pow(tf.maximum(linear, 0.0031308), 1.0 / 2.4) * 1.055 - 0.055
    return tf.where(linear <= 0.0031308, linear_part, power_part)


def _lab_f(t: tf.Tensor) -> tf.Tensor:
    """CIELAB companding f(t): cube root above epsilon**3, linear below."""
    linear_part = t / (3.0 * _EPSILON**2) + 4.0 / 29.0
    cube_root_part = tf.pow(tf.maximum(t, _EPSILON**3), 1.0 / 3.0)
    return tf.where(t <= _EPSILON**3, linear_part, cube_root_part)


def _lab_f_inverse(f: tf.Tensor) -> tf.Tensor:
    linear_part = 3.0 * _EPSILON**2 * (f - 4.0 / 29.0)
    return tf.where(f <= _EPSILON, linear_part, f**3)


def rgb_to_lab(rgb: tf.Tensor) -> tf.Tensor:
    """sRGB `[..., 3]` in [0, 1] -> CIE Lab `[..., 3]` (L in [0, 100], a and b roughly in [-110, 110])."""
    rgb = tf.convert_to_tensor(rgb, tf.float32)
    xyz = _apply_matrix(_srgb_to_linear(rgb), _RGB_TO_XYZ) / tf.constant(D65_WHITE, tf.float32)
    fx, fy, fz = tf.unstack(_lab_f(xyz), axis=-1)
    return tf.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1)


def lab_to_rgb(lab: tf.Tensor) -> tf.Tensor:
    """CIE Lab `[..., 3]` -> sRGB `[..., 3]` in [0, 1] (out-of-gamut colours are clipped in linear RGB)."""
    lab = tf.convert_to_tensor(lab, tf.float32)
    lightness, a, b = tf.unstack(lab, axis=-1)
    fy = (lightness + 16.0) / 116.0
    f = tf.stack([fy + a / 500.0, fy, fy - b / 200.0], axis=-1)
    xyz = _lab_f_inverse(f) * tf.constant(D65_WHITE, tf.float32)
    return _linear_to_srgb(_apply_matrix(xyz, _XYZ_TO_RGB))


def normalize_lab(lab: tf.Tensor) -> tf.Tensor:
    """Lab `[..., 3]` -> `[..., 3]` = (L/50 - 1, a/110, b/110), the released code's network scaling."""
    lab = tf.convert_to_tensor(lab, tf.float32)
    return lab / tf.constant([_L_SCALE, _AB_SCALE, _AB_SCALE]) - tf.constant([1.0, 0.0, 0.0])


def denormalize_lab(normalized: tf.Tensor) -> tf.Tensor:
    """Inverse of `normalize_lab`: `[..., 3]` (L/50 - 1, a/110, b/110) -> Lab `[..., 3]`."""
    normalized = tf.convert_to_tensor(normalized, tf.float32)
    return (normalized + tf.constant([1.0, 0.0, 0.0])) * tf.constant([_L_SCALE, _AB_SCALE, _AB_SCALE])
