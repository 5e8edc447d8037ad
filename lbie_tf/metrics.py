"""Segmentation metrics pooled over a whole evaluation set through a confusion matrix, and colorization metrics.

A confusion matrix is int64 `[num_classes, num_classes]`: rows are the true class, columns the predicted
class, entry (i, j) counts pixels of class i predicted as j. Accumulate it batch by batch (in NumPy with
`ConfusionMatrix`, or inside a `tf.function` with `confusion_matrix_batch`) and derive IoU and accuracy
from the pooled counts at the end, as the released code's `tf.metrics.mean_iou` does.

Colorization metrics (end of the file) take float RGB in [0, 1], `[batch, height, width, 3]`, and give one
value per image: PSNR, SSIM, colourfulness, plus the caption-colour checks that stand in for the paper's human
"consistency" rating (`caption_colour_consistency`, `text_sensitivity`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf


class ConfusionMatrix:
    """Accumulates a `[num_classes, num_classes]` int64 confusion matrix over batches.

    Args:
        num_classes: number of classes C (CoSaL: 7 colour classes, 0 = background).
        ignore_label: if given, pixels whose label equals it or lies outside [0, C) are skipped (e.g. 255
            for "void"); if None, such labels are an error.
    """

    def __init__(self, num_classes: int, ignore_label: int | None = None):
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        self.num_classes = num_classes
        self.ignore_label = ignore_label
        self.matrix = np.zeros((num_classes, num_classes), np.int64)

    def update(self, labels: Any, predictions: Any) -> ConfusionMatrix:
        """Adds one batch and returns self.

        Args:
            labels: true classes, int array (NumPy or TF) of any shape, e.g. `[batch, height, width]`.
            predictions: predicted classes, int array of the same shape, each in [0, C).

        Raises:
            ValueError: shapes differ, non-integer arrays, predictions outside [0, C), or labels outside
                [0, C) without an `ignore_label`.
        """
        labels, predictions = _as_int_array(labels, "labels"), _as_int_array(predictions, "predictions")
        if labels.shape != predictions.shape:
            raise ValueError(f"labels {labels.shape} and predictions {predictions.shape} differ in shape")
        c = self.num_classes
        if predictions.size and (predictions.min() < 0 or predictions.max() >= c):
            raise ValueError(f"predictions must lie in [0, {c}), got values in "
                             f"[{predictions.min()}, {predictions.max()}]")
        in_range = (labels >= 0) & (labels < c)
        if self.ignore_label is None:
            if not in_range.all():
                raise ValueError(f"labels must lie in [0, {c}) (or set ignore_label), got values in "
                                 f"[{labels.min()}, {labels.max()}]")
            keep = in_range
        else:
            keep = in_range & (labels != self.ignore_label)
        index = labels[keep].astype(np.int64) * c + predictions[keep]
        self.matrix += np.bincount(index, minlength=c * c).reshape(c, c)
        return self

    def merge(self, other: ConfusionMatrix | Any) -> ConfusionMatrix:
        """Adds the counts of another accumulator or of an int `[C, C]` matrix (e.g. the NumPy value of
        `confusion_matrix_batch`) and returns self."""
        counts = np.asarray(other)
        if counts.shape != self.matrix.shape or not np.issubdtype(counts.dtype, np.integer):
            raise ValueError(f"can only merge integer {self.matrix.shape} counts, "
                             f"got {counts.dtype} {counts.shape}")
        self.matrix += counts
        return self

    def reset(self) -> None:
        """Sets all counts to zero."""
        self.matrix[...] = 0

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return self.matrix if dtype is None else self.matrix.astype(dtype)


def confusion_matrix_batch(labels: tf.Tensor, predictions: tf.Tensor, num_classes: int,
                           ignore_label: int | None = None) -> tf.Tensor:
    """The confusion matrix of one batch, as TF ops (usable inside `tf.function`, fixed output shape).

    Args:
        labels: int tensor of any shape, e.g. `[batch, height, width]`.
        predictions: int tensor of the same shape with values in [0, num_classes) (checked with
            `tf.debugging` assertions, which XLA skips).
        num_classes: C.
        ignore_label: as in `ConfusionMatrix`; if None, every label must lie in [0, C).

    Returns:
        int64 `[C, C]`, rows = true class, columns = predicted class.
    """
    c = num_classes
    labels = tf.cast(tf.reshape(labels, [-1]), tf.int32)
    predictions = tf.cast(tf.reshape(predictions, [-1]), tf.int32)
    checks = [tf.debugging.assert_non_negative(predictions, message="predictions must be >= 0"),
              tf.debugging.assert_less(predictions, c, message=f"predictions must be < {c}")]
    keep = (labels >= 0) & (labels < c)
    if ignore_label is None:
        checks.append(tf.debugging.Assert(tf.reduce_all(keep), [f"labels must lie in [0, {c})"]))
    else:
        keep &= tf.not_equal(labels, ignore_label)
    with tf.control_dependencies(checks):
        # One-hot rows (all-zero for skipped labels) and a [C, N] x [N, C] product: shape-static and fast
        # under XLA, where bincount needs a compile-time output size.
        truth = tf.one_hot(tf.where(keep, labels, -1), c, dtype=tf.float32)
        predicted = tf.one_hot(predictions, c, dtype=tf.float32)
    counts = tf.matmul(truth, predicted, transpose_a=True)
    return tf.cast(tf.round(counts), tf.int64)


def iou_from_confusion(cm: Any) -> np.ndarray:
    """Per-class intersection over union, float64 `[C]`: TP / (TP + FP + FN); NaN where the union is 0."""
    cm = np.asarray(cm, np.float64)
    tp = np.diag(cm)
    union = cm.sum(axis=0) + cm.sum(axis=1) - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, tp / union, np.nan)


def mean_iou(cm: Any) -> float:
    """Mean of the per-class IoU over the classes that occur (in the labels or the predictions).

    Classes with an empty union are left out (as Keras `MeanIoU` does). The released code's TF 1.2
    `tf.metrics.mean_iou` averaged over all C classes, counting an absent class as 0: the two agree whenever
    every class occurs, as all 7 CoSaL colour classes do over a test set. NaN for an empty matrix.
    """
    iou = iou_from_confusion(cm)
    present = iou[~np.isnan(iou)]
    return float(present.mean()) if present.size else math.nan


def pixel_accuracy(cm: Any) -> float:
    """Fraction of pixels whose predicted class is the true class; NaN for an empty matrix."""
    cm = np.asarray(cm)
    total = cm.sum()
    return float(np.trace(cm) / total) if total else math.nan


def segmentation_report(cm: Any, class_names: Sequence[str]) -> dict[str, Any]:
    """A JSON-serialisable summary of a pooled confusion matrix (NaN written as None).

    Returns:
        {"mean_iou": float, "per_class_iou": {name: float | None}, "pixel_accuracy": float,
         "num_pixels": int}
    """
    cm = np.asarray(cm)
    if len(class_names) != cm.shape[0]:
        raise ValueError(f"{len(class_names)} class names for a {cm.shape[0]}-class confusion matrix")
    iou = iou_from_confusion(cm)
    return {
        "mean_iou": _finite_or_none(mean_iou(cm)),
        "per_class_iou": {name: _finite_or_none(v) for name, v in zip(class_names, iou)},
        "pixel_accuracy": _finite_or_none(pixel_accuracy(cm)),
        "num_pixels": int(cm.sum()),
    }


def _as_int_array(x: Any, name: str) -> np.ndarray:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array, got {x.dtype}")
    return x


def _finite_or_none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


# --- Colorization metrics: float RGB in [0, 1], [batch, height, width, 3] ------------------------------------

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


# --- ReferIt: overall IoU and precision@threshold (Hu et al., text_objseg exp_test_referit_seg.py) ------------

PRECISION_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)

# Paper Table 3 (ReferIt test): precision@0.5..0.9 and overall IoU, in %.
PAPER_TABLE3 = (
    ("SCRC bbox [10]", (9.73, 4.43, 1.51, 0.27, 0.03), 21.72),
    ("GroundeR bbox [5]", (11.08, 6.20, 2.74, 0.78, 0.20), 20.50),
    ("Hu, etc. [9]", (34.02, 26.71, 19.32, 11.63, 3.92), 48.03),
    ("Our model (paper)", (32.53, 27.90, 18.76, 12.37, 4.37), 50.09),
)


def intersection_union(prediction: Any, target: Any) -> tuple[int, int]:
    """`(I, U)` pixel counts of two same-shaped masks (any dtype; non-zero = inside), as Hu et al.'s
    `compute_mask_IU`: I = Σ(p ∧ t), U = Σ(p ∨ t)."""
    prediction, target = np.asarray(prediction), np.asarray(target)
    if prediction.shape != target.shape:
        raise ValueError(f"prediction {prediction.shape} and target {target.shape} differ in shape")
    prediction, target = prediction.astype(bool), target.astype(bool)
    return int(np.sum(prediction & target)), int(np.sum(prediction | target))


class ReferitScore:
    """Accumulates per-expression intersections and unions; reports Hu et al.'s ReferIt metrics.

    - overall IoU = Σ_e I_e / Σ_e U_e over all expressions e (cumulative: large objects weigh more);
    - precision@t = (number of expressions with I_e / U_e ≥ t) / (number of expressions);
    - mean IoU = the average of I_e / U_e (a separate number, not in the paper).
    An expression with U_e = 0 (empty prediction and empty ground truth; the dataset builder skips empty
    masks, so only possible on other data) has no IoU: as in Hu et al. (NaN ≥ t is false) it counts as a miss
    in every precision and adds nothing to the overall IoU; it is left out of the mean IoU and counted.
    """

    def __init__(self, thresholds=PRECISION_THRESHOLDS):
        self.thresholds = tuple(thresholds)
        self.intersections: list[int] = []
        self.unions: list[int] = []

    def add(self, intersection: int, union: int) -> ReferitScore:
        if not 0 <= intersection <= union:
            raise ValueError(f"need 0 <= intersection <= union, got I={intersection}, U={union}")
        self.intersections.append(int(intersection))
        self.unions.append(int(union))
        return self

    def update(self, prediction: Any, target: Any) -> ReferitScore:
        """Adds one expression's prediction and ground-truth masks (same shape, original resolution)."""
        return self.add(*intersection_union(prediction, target))

    def report(self) -> dict[str, Any]:
        """{"overall_iou", "mean_iou", "precision": {"0.5": ..}, "num_expressions", "num_empty_unions",
        "cumulative_intersection", "cumulative_union"} (fractions in [0, 1]; None where undefined)."""
        intersections = np.asarray(self.intersections, np.int64)
        unions = np.asarray(self.unions, np.int64)
        count = len(unions)
        defined = unions > 0
        iou = np.where(defined, intersections / np.maximum(unions, 1), np.nan)
        total_union = int(unions.sum())
        return {
            "overall_iou": float(intersections.sum() / total_union) if total_union else None,
            "mean_iou": float(iou[defined].mean()) if defined.any() else None,
            "precision": {f"{t:g}": (float(np.sum(defined & (iou >= t)) / count) if count else None)
                          for t in self.thresholds},
            "num_expressions": count,
            "num_empty_unions": int(count - defined.sum()),
            "cumulative_intersection": int(intersections.sum()),
            "cumulative_union": total_union,
        }


def format_table3(report: dict[str, Any], name: str = "lbie-tf (this run)") -> str:
    """A Markdown table laid out as the paper's Table 3 (values in %), the paper's rows first and this run's
    row (from `ReferitScore.report()`) last."""
    def percent(value):
        return "–" if value is None else f"{100 * value:.2f}%"

    header = "| Model | " + " | ".join(f"Precision@{t:g}" for t in PRECISION_THRESHOLDS) + " | IoU |"
    lines = [header, "|" + "---|" * (len(PRECISION_THRESHOLDS) + 2)]
    for row_name, precisions, iou in PAPER_TABLE3:
        lines.append(f"| {row_name} | " + " | ".join(f"{p:.2f}%" for p in precisions) + f" | {iou:.2f}% |")
    ours = [percent(report["precision"].get(f"{t:g}")) for t in PRECISION_THRESHOLDS]
    lines.append(f"| {name} | " + " | ".join(ours) + f" | {percent(report['overall_iou'])} |")
    return "\n".join(lines)
