"""Colorization metrics: float RGB in [0, 1], `[batch, height, width, 3]`, one value per image.

PSNR, SSIM, colourfulness, plus the caption-colour checks that stand in for the paper's human "consistency"
rating (`caption_colour_consistency`, `text_sensitivity`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf

# Hue classes (HSV hue in degrees) and the caption words that name them. A saturated pixel belongs to the class
# whose hue is nearest on the colour circle. Achromatic words (white, black, grey, brown, ...) name no hue and
# are not checked.


# Hue classes (HSV hue in degrees) and the caption words that name them. A saturated pixel belongs to the class
# whose hue is nearest on the colour circle. Achromatic words (white, black, grey, brown, ...) name no hue and
# are not checked.
HUE_CLASSES = {"red": 0.0, "orange": 30.0, "yellow": 58.0, "green": 120.0, "cyan": 185.0, "blue": 225.0,
               "purple": 275.0, "pink": 325.0}


COLOUR_WORDS = {
    **{name: name for name in HUE_CLASSES},
    "crimson": "red", "scarlet": "red", "maroon": "red", "burgundy": "red",
    "gold": "yellow", "golden": "yellow",
    "lime": "green",
    "teal": "cyan", "turquoise": "cyan",
    "navy": "blue",
    "violet": "purple", "lavender": "purple", "lilac": "purple", "mauve": "purple", "indigo": "purple",
    "magenta": "pink", "fuchsia": "pink", "rose": "pink",
}


SATURATION_THRESHOLD = 0.3  # HSV saturation from which a pixel has a hue worth reading


VALUE_THRESHOLD = 0.25  # HSV value below which a pixel is too dark to have a reliable hue


def psnr(predicted: Any, target: Any) -> np.ndarray:
    """Peak signal-to-noise ratio in dB, float64 `[batch]`: 10·log10(1 / MSE) over all pixels and channels
    (peak 1); +inf for identical images."""
    predicted, target = _rgb_pair(predicted, target)
    mse = np.mean((predicted - target) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(1.0 / mse)


def ssim(predicted: Any, target: Any) -> np.ndarray:
    """Structural similarity (Wang et al. 2004), float64 `[batch]`: 11×11 Gaussian window with σ = 1.5,
    K1 = 0.01, K2 = 0.03, peak 1, averaged over the window positions inside the image and over the three
    channels (`tf.image.ssim`). Images must be at least 11 pixels high and wide."""
    predicted, target = _rgb_pair(predicted, target)
    if min(predicted.shape[1:3]) < 11:
        raise ValueError(f"SSIM needs images of at least 11 × 11 pixels, got {predicted.shape[1:3]}")
    return tf.image.ssim(tf.constant(predicted), tf.constant(target), max_val=1.0).numpy().astype(np.float64)


def colourfulness(rgb: Any) -> np.ndarray:
    """Hasler and Süsstrunk's (2003) colourfulness, float64 `[batch]`, on the 0..255 scale of their paper:
    with rg = R − G and yb = (R + G)/2 − B per pixel, M = sqrt(σ_rg² + σ_yb²) + 0.3 · sqrt(μ_rg² + μ_yb²).
    0 for a grey image; about 33 is "moderately" and 59 "quite" colourful in their scale."""
    rgb = _rgb_batch(rgb, "rgb") * 255.0
    rg = rgb[..., 0] - rgb[..., 1]
    yb = 0.5 * (rgb[..., 0] + rgb[..., 1]) - rgb[..., 2]
    spread = np.sqrt(rg.std(axis=(1, 2)) ** 2 + yb.std(axis=(1, 2)) ** 2)
    offset = np.sqrt(rg.mean(axis=(1, 2)) ** 2 + yb.mean(axis=(1, 2)) ** 2)
    return spread + 0.3 * offset


def hue_class_shares(rgb: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per image, the share of its pixels that are saturated and nearest to each hue class.

    Returns:
        (shares float64 `[batch, len(HUE_CLASSES)]` as fractions of all pixels, in `HUE_CLASSES` order;
         saturated fraction float64 `[batch]` = the shares' row sums).
    """
    hsv = tf.image.rgb_to_hsv(tf.constant(_rgb_batch(rgb, "rgb"), tf.float32)).numpy().astype(np.float64)
    saturated = (hsv[..., 1] >= SATURATION_THRESHOLD) & (hsv[..., 2] >= VALUE_THRESHOLD)
    centres = np.array(list(HUE_CLASSES.values()))
    distance = np.abs(hsv[..., 0, None] * 360.0 - centres)
    nearest = np.argmin(np.minimum(distance, 360.0 - distance), axis=-1)
    one_hot = (nearest[..., None] == np.arange(len(centres))) & saturated[..., None]
    shares = one_hot.mean(axis=(1, 2))
    return shares, shares.sum(axis=-1)


def colour_words(caption: str) -> list[str]:
    """The colour words of a caption that name a hue class, in order ("Red-ish petals, golden center" ->
    ["red", "golden"])."""
    return [word for word in re.findall(r"[a-z]+", caption.lower()) if word in COLOUR_WORDS]


def caption_colour_consistency(rgb: Any, captions: Sequence[str], min_share: float = 0.25,
                               min_saturated_fraction: float = 0.01) -> dict[str, Any]:
    """Whether each colour word of a caption is a dominant hue of the image (the automatic cousin of the
    paper's "consistency with the caption" rating).

    A word matches when its hue class holds at least `min_share` of the image's saturated pixels (so an image
    has at most 1 / min_share dominant hues, and a flower with red petals and a small yellow centre matches
    "red" but not "yellow"). An image with fewer than `min_saturated_fraction` saturated pixels (near grey)
    has no dominant hue: each of its colour words counts as a mismatch. Captions without colour words add
    nothing.

    Args:
        rgb: float RGB in [0, 1], `[batch, height, width, 3]`.
        captions: one caption per image.
        min_share, min_saturated_fraction: the thresholds above.

    Returns:
        {"per_image": [{"words": [...], "matches": [bool, ...], "dominant_hue": class name or None,
                        "saturated_fraction": float}, ...],
         "num_words": int, "num_matches": int, "share": num_matches / num_words (NaN without colour words),
         "images_without_colour_words": int, "images_without_saturated_region": int}
    """
    shares, saturated = hue_class_shares(rgb)
    if len(captions) != len(shares):
        raise ValueError(f"{len(captions)} captions for {len(shares)} images")
    names = list(HUE_CLASSES)
    per_image = []
    for caption, image_shares, fraction in zip(captions, shares, saturated):
        has_hue = fraction >= min_saturated_fraction
        words = colour_words(caption)
        relative = image_shares / fraction if has_hue else np.zeros_like(image_shares)
        per_image.append({
            "words": words,
            "matches": [bool(relative[names.index(COLOUR_WORDS[w])] >= min_share) for w in words],
            "dominant_hue": names[int(np.argmax(image_shares))] if has_hue else None,
            "saturated_fraction": float(fraction),
        })
    num_words = sum(len(item["words"]) for item in per_image)
    num_matches = sum(sum(item["matches"]) for item in per_image)
    return {
        "per_image": per_image,
        "num_words": num_words,
        "num_matches": num_matches,
        "share": num_matches / num_words if num_words else math.nan,
        "images_without_colour_words": sum(not item["words"] for item in per_image),
        "images_without_saturated_region": sum(item["dominant_hue"] is None for item in per_image),
    }


def text_sensitivity(rgb_a: Any, rgb_b: Any, colour_a: str, colour_b: str) -> dict[str, Any]:
    """Whether outputs for the same grey input under two captions differ in the direction the captions name.

    Image i of `rgb_a` was produced with a caption naming `colour_a`, image i of `rgb_b` with one naming
    `colour_b` (two different hue classes). The pair is sensitive when `rgb_a` holds more pixels of hue
    `colour_a` than `rgb_b` does, and `rgb_b` more of hue `colour_b` than `rgb_a` does (shares of all pixels,
    saturated ones only: a grey pair is never sensitive).

    Returns:
        {"sensitive": bool `[batch]`, "share": fraction of sensitive pairs,
         "shift_a": float64 `[batch]` share of colour_a in rgb_a minus in rgb_b, "shift_b": the same for
         colour_b in rgb_b minus in rgb_a}
    """
    classes = []
    for colour in (colour_a, colour_b):
        if colour.lower() not in COLOUR_WORDS:
            raise ValueError(f"{colour!r} names no hue; use one of {', '.join(sorted(COLOUR_WORDS))}")
        classes.append(list(HUE_CLASSES).index(COLOUR_WORDS[colour.lower()]))
    if classes[0] == classes[1]:
        raise ValueError(f"{colour_a!r} and {colour_b!r} name the same hue class")
    shares_a, _ = hue_class_shares(rgb_a)
    shares_b, _ = hue_class_shares(rgb_b)
    if shares_a.shape != shares_b.shape:
        raise ValueError(f"rgb_a and rgb_b hold {len(shares_a)} and {len(shares_b)} images")
    shift_a = shares_a[:, classes[0]] - shares_b[:, classes[0]]
    shift_b = shares_b[:, classes[1]] - shares_a[:, classes[1]]
    sensitive = (shift_a > 0) & (shift_b > 0)
    return {"sensitive": sensitive, "share": float(sensitive.mean()) if sensitive.size else math.nan,
            "shift_a": shift_a, "shift_b": shift_b}


def _rgb_batch(rgb: Any, name: str) -> np.ndarray:
    """float64 `[batch, height, width, 3]` in [0, 1], or a ValueError saying what is wrong."""
    rgb = np.asarray(rgb, np.float64)
    if rgb.ndim != 4 or rgb.shape[-1] != 3:
        raise ValueError(f"{name} must be RGB [batch, height, width, 3], got shape {rgb.shape}")
    if not np.isfinite(rgb).all():
        raise ValueError(f"{name} has NaN or infinite values")
    if rgb.size and (rgb.min() < 0.0 or rgb.max() > 1.0):
        raise ValueError(f"{name} must lie in [0, 1], got [{rgb.min():.3g}, {rgb.max():.3g}]")
    return rgb


def _rgb_pair(predicted: Any, target: Any) -> tuple[np.ndarray, np.ndarray]:
    predicted, target = _rgb_batch(predicted, "predicted"), _rgb_batch(target, "target")
    if predicted.shape != target.shape:
        raise ValueError(f"predicted {predicted.shape} and target {target.shape} differ in shape")
    return predicted, target
