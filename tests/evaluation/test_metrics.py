"""Tests of the segmentation and colorization metrics against brute-force NumPy and hand-computed values."""

import colorsys
import json
import math

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.evaluation.colorization_metrics import (
    HUE_CLASSES,
    caption_colour_consistency,
    colour_words,
    colourfulness,
    psnr,
    ssim,
    text_sensitivity,
)
from lbie_tf.evaluation.referit_metrics import (
    PRECISION_THRESHOLDS,
    ReferitScore,
    format_table3,
    intersection_union,
)
from lbie_tf.evaluation.segmentation_metrics import (
    ConfusionMatrix,
    confusion_matrix_batch,
    iou_from_confusion,
    mean_iou,
    pixel_accuracy,
    segmentation_report,
)

C = 7


def brute_force_confusion(labels, predictions, num_classes):
    cm = np.zeros((num_classes, num_classes), np.int64)
    for t, p in zip(labels.ravel(), predictions.ravel()):
        cm[t, p] += 1
    return cm


def brute_force_iou(labels, predictions, num_classes):
    ious = []
    for c in range(num_classes):
        inter = np.sum((labels == c) & (predictions == c))
        union = np.sum((labels == c) | (predictions == c))
        ious.append(inter / union if union else np.nan)
    return np.array(ious)


@pytest.fixture
def label_maps():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, C, size=(3, 12, 12))
    predictions = np.where(rng.random(labels.shape) < 0.6, labels, rng.integers(0, C, size=labels.shape))
    return labels, predictions


def test_accumulator_matches_brute_force(label_maps):
    labels, predictions = label_maps
    cm = ConfusionMatrix(C)
    for i in range(len(labels)):  # batch by batch, TF and NumPy inputs
        cm.update(tf.constant(labels[i]) if i % 2 else labels[i], predictions[i])
    expected = brute_force_confusion(labels, predictions, C)
    np.testing.assert_array_equal(cm.matrix, expected)
    assert cm.matrix.dtype == np.int64
    np.testing.assert_allclose(iou_from_confusion(cm), brute_force_iou(labels, predictions, C))
    assert mean_iou(cm) == pytest.approx(np.nanmean(brute_force_iou(labels, predictions, C)))
    assert pixel_accuracy(cm) == pytest.approx(np.mean(labels == predictions))


def test_merge_adds_accumulators_and_matrices(label_maps):
    labels, predictions = label_maps
    a = ConfusionMatrix(C).update(labels[:1], predictions[:1])
    b = ConfusionMatrix(C).update(labels[1:], predictions[1:])
    whole = ConfusionMatrix(C).update(labels, predictions)
    np.testing.assert_array_equal(a.merge(b).matrix, whole.matrix)
    np.testing.assert_array_equal(ConfusionMatrix(C).merge(whole.matrix).matrix, whole.matrix)
    with pytest.raises(ValueError, match="can only merge"):
        a.merge(ConfusionMatrix(C + 1))
    a.reset()
    assert a.matrix.sum() == 0


def test_perfect_prediction_is_one(label_maps):
    labels, _ = label_maps
    cm = ConfusionMatrix(C).update(labels, labels)
    assert mean_iou(cm) == 1.0
    assert pixel_accuracy(cm) == 1.0
    np.testing.assert_array_equal(iou_from_confusion(cm), np.ones(C))


def test_empty_classes_are_nan_and_left_out_of_the_mean():
    labels = np.array([[0, 0, 1, 1]])
    predictions = np.array([[0, 1, 1, 1]])
    cm = ConfusionMatrix(4).update(labels, predictions)
    iou = iou_from_confusion(cm)
    np.testing.assert_allclose(iou[:2], [1 / 2, 2 / 3])
    assert np.isnan(iou[2:]).all()
    assert mean_iou(cm) == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert math.isnan(mean_iou(ConfusionMatrix(4))) and math.isnan(pixel_accuracy(ConfusionMatrix(4)))


def test_mean_over_present_classes_equals_the_all_class_mean_when_all_occur(label_maps):
    cm = ConfusionMatrix(C).update(*label_maps)
    assert not np.isnan(iou_from_confusion(cm)).any()
    assert mean_iou(cm) == pytest.approx(np.mean(iou_from_confusion(cm)))  # TF 1.2 tf.metrics.mean_iou


def test_ignore_label_skips_void_pixels():
    labels = np.array([[0, 255, 1, 9], [1, 1, 255, 0]], np.uint8)
    predictions = np.array([[0, 2, 1, 0], [1, 0, 2, 0]])
    cm = ConfusionMatrix(3, ignore_label=255).update(labels, predictions)
    keep = labels < 3
    np.testing.assert_array_equal(cm.matrix, brute_force_confusion(labels[keep], predictions[keep], 3))
    with pytest.raises(ValueError, match="set ignore_label"):
        ConfusionMatrix(3).update(labels, predictions)


@pytest.mark.parametrize("labels, predictions, message", [
    (np.zeros((2, 2), int), np.full((2, 2), 3), "predictions must lie in"),
    (np.zeros((2, 2), int), np.full((2, 2), -1), "predictions must lie in"),
    (np.zeros((2, 2), int), np.zeros((2, 3), int), "differ in shape"),
    (np.zeros((2, 2), int), np.zeros((2, 2), np.float32), "integer array"),
])
def test_invalid_inputs(labels, predictions, message):
    with pytest.raises(ValueError, match=message):
        ConfusionMatrix(3).update(labels, predictions)


def test_tf_function_matches_numpy(label_maps):
    labels, predictions = label_maps

    @tf.function
    def batch_cm(labels, predictions):
        return confusion_matrix_batch(labels, predictions, C)

    cm = batch_cm(tf.constant(labels, tf.int32), tf.constant(predictions, tf.int32))
    assert cm.dtype == tf.int64 and cm.shape == (C, C)
    np.testing.assert_array_equal(cm.numpy(), ConfusionMatrix(C).update(labels, predictions).matrix)


def test_tf_function_jit_and_ignore_label():
    labels = tf.constant([[0, 255, 1, 9], [1, 1, 255, 0]], tf.int32)
    predictions = tf.constant([[0, 2, 1, 0], [1, 0, 2, 0]], tf.int32)
    batch_cm = tf.function(lambda l, p: confusion_matrix_batch(l, p, 3, ignore_label=255), jit_compile=True)
    expected = ConfusionMatrix(3, ignore_label=255).update(labels, predictions).matrix
    np.testing.assert_array_equal(batch_cm(labels, predictions).numpy(), expected)


def test_tf_out_of_range_values_fail():
    with pytest.raises(tf.errors.InvalidArgumentError, match="predictions must be < 3"):
        confusion_matrix_batch(tf.constant([0, 1]), tf.constant([0, 3]), 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="labels must lie in"):
        confusion_matrix_batch(tf.constant([0, 5]), tf.constant([0, 1]), 3)


def test_segmentation_report_is_json_with_none_for_nan():
    cm = ConfusionMatrix(3).update(np.array([0, 0, 1]), np.array([0, 1, 1]))
    report = segmentation_report(cm.matrix, ["background", "red", "green"])
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    assert report == {
        "mean_iou": pytest.approx((1 / 2 + 1 / 2) / 2),
        "per_class_iou": {"background": 0.5, "red": 0.5, "green": None},
        "pixel_accuracy": pytest.approx(2 / 3),
        "num_pixels": 3,
    }
    with pytest.raises(ValueError, match="2 class names"):
        segmentation_report(cm, ["a", "b"])


# --- colorization metrics -------------------------------------------------------------------------------------

def _painted(hue_degrees, size=16, saturation=0.8, value=0.9):
    """`[1, size, size, 3]` filled with one HSV colour."""
    rgb = colorsys.hsv_to_rgb(hue_degrees / 360.0, saturation, value)
    return np.tile(np.array(rgb, np.float64), (1, size, size, 1))


def test_psnr_of_known_images():
    target = np.zeros((2, 8, 8, 3))
    predicted = np.stack([np.full((8, 8, 3), 0.1), np.zeros((8, 8, 3))])
    np.testing.assert_allclose(psnr(predicted, target), [20.0, np.inf])  # MSE 0.01 -> 20 dB; identical -> inf
    rng = np.random.default_rng(0)
    a, b = rng.uniform(size=(3, 10, 12, 3)), rng.uniform(size=(3, 10, 12, 3))
    expected = [10 * math.log10(1 / np.mean((x - y) ** 2)) for x, y in zip(a, b)]
    np.testing.assert_allclose(psnr(a, b), expected)


def _brute_force_ssim(x, y):
    """Wang et al. SSIM, one loop iteration per 11x11 window position and channel."""
    offsets = np.arange(11) - 5
    gauss = np.exp(-(offsets ** 2) / (2 * 1.5 ** 2))
    window = np.outer(gauss, gauss) / np.outer(gauss, gauss).sum()
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    values = []
    for channel in range(3):
        for i in range(x.shape[0] - 10):
            for j in range(x.shape[1] - 10):
                px, py = x[i:i + 11, j:j + 11, channel], y[i:i + 11, j:j + 11, channel]
                mx, my = (window * px).sum(), (window * py).sum()
                vx, vy = (window * px ** 2).sum() - mx ** 2, (window * py ** 2).sum() - my ** 2
                cov = (window * px * py).sum() - mx * my
                values.append((2 * mx * my + c1) * (2 * cov + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2)))
    return np.mean(values)


def test_ssim_matches_brute_force():
    rng = np.random.default_rng(1)
    target = rng.uniform(size=(2, 15, 14, 3))
    predicted = np.clip(target + rng.normal(scale=[[[[0.05]]], [[[0.3]]]], size=target.shape), 0, 1)
    values = ssim(predicted, target)
    np.testing.assert_allclose(values, [_brute_force_ssim(p, t) for p, t in zip(predicted, target)], atol=1e-4)
    assert values[0] > values[1]
    np.testing.assert_allclose(ssim(target, target), [1.0, 1.0], atol=1e-6)
    with pytest.raises(ValueError, match="11"):
        ssim(target[:, :8], target[:, :8])


def test_colourfulness_of_synthetic_images():
    grey = np.full((1, 6, 6, 3), 0.4)
    red = np.zeros((1, 6, 6, 3))
    red[..., 0] = 1.0  # rg = 255, yb = 127.5 everywhere: sigma 0, mu = (255, 127.5)
    half = np.zeros((1, 6, 6, 3))
    half[:, :3, :, 0] = 1.0
    half[:, 3:, :, 1] = 1.0  # rg = +-255 (mu 0, sigma 255), yb = 127.5 everywhere
    values = colourfulness(np.concatenate([grey, red, half]))
    np.testing.assert_allclose(values, [0.0, 0.3 * math.hypot(255, 127.5), 255 + 0.3 * 127.5])


@pytest.mark.parametrize("word, hue", [("red", 2.0), ("orange", 30.0), ("yellow", 57.0), ("green", 118.0),
                                       ("blue", 228.0), ("purple", 272.0), ("violet", 280.0), ("pink", 330.0),
                                       ("magenta", 318.0)])
def test_consistency_on_painted_images(word, hue):
    result = caption_colour_consistency(_painted(hue), [f"this flower has {word} petals"])
    assert result["per_image"][0]["matches"] == [True] and result["share"] == 1.0
    other = "blue" if word not in ("blue", "purple", "violet") else "yellow"
    assert caption_colour_consistency(_painted(hue), [f"{other} petals"])["share"] == 0.0


def test_consistency_with_two_colours_and_no_colour_words():
    image = _painted(0.0, size=20)
    image[:, :6] = _painted(58.0, size=20)[:, :6]  # 30% yellow, 70% red
    image[:, 6:8] = _painted(225.0, size=20)[:, 6:8]  # 10% blue: present but not dominant
    result = caption_colour_consistency(np.concatenate([image, image]),
                                        ["red petals, a yellow center and blue stamen", "white petals"])
    assert result["per_image"][0]["matches"] == [True, True, False]
    assert result["per_image"][0]["dominant_hue"] == "red"
    assert result["per_image"][1]["words"] == [] and result["images_without_colour_words"] == 1
    assert (result["num_words"], result["num_matches"]) == (3, 2)


def test_near_grey_image_has_no_dominant_hue():
    nearly_grey = _painted(0.0, saturation=0.1)
    dark = _painted(120.0, value=0.1)
    result = caption_colour_consistency(np.concatenate([nearly_grey, dark]), ["red petals", "green leaves"])
    assert [item["dominant_hue"] for item in result["per_image"]] == [None, None]
    assert [item["matches"] for item in result["per_image"]] == [[False], [False]]
    assert result["images_without_saturated_region"] == 2 and result["share"] == 0.0
    assert math.isnan(caption_colour_consistency(nearly_grey, ["a flower"])["share"])


def test_colour_words_and_table():
    assert colour_words("Red-ish petals, GOLDEN center; white edges") == ["red", "golden"]
    assert set(HUE_CLASSES) == {"red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink"}


def test_text_sensitivity_on_synthetic_pairs():
    red, blue, grey = _painted(0.0), _painted(225.0), np.full((1, 16, 16, 3), 0.5)
    half_red = red.copy()
    half_red[:, 8:] = 0.5
    rgb_a = np.concatenate([red, blue, grey, red])
    rgb_b = np.concatenate([blue, red, grey, half_red])
    result = text_sensitivity(rgb_a, rgb_b, "red", "blue")
    assert list(result["sensitive"]) == [True, False, False, False]  # right way, wrong way, grey, no blue
    np.testing.assert_allclose(result["shift_a"], [1.0, -1.0, 0.0, 0.5])
    assert result["share"] == 0.25
    with pytest.raises(ValueError, match="names no hue"):
        text_sensitivity(red, blue, "white", "blue")
    with pytest.raises(ValueError, match="same hue class"):
        text_sensitivity(red, blue, "purple", "violet")


def test_colorization_metrics_reject_bad_input():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        psnr(np.full((1, 4, 4, 3), 2.0), np.zeros((1, 4, 4, 3)))
    with pytest.raises(ValueError, match="RGB"):
        colourfulness(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        colourfulness(np.full((1, 4, 4, 3), np.nan))
    with pytest.raises(ValueError, match="captions"):
        caption_colour_consistency(np.zeros((2, 4, 4, 3)), ["red"])


# --- ReferIt: overall IoU, precision@k, mean IoU (Hu et al.) ------------------------------------------------



def _brute_force_referit(pairs):
    """Hu et al.'s loop, written out pixel by pixel: cum_I / cum_U and the share of IoU >= t (NaN IoU: miss)."""
    cum_i = cum_u = 0
    hits = {t: 0 for t in PRECISION_THRESHOLDS}
    ious = []
    for prediction, target in pairs:
        i = u = 0
        for p, g in zip(prediction.ravel(), target.ravel()):
            i += int(bool(p) and bool(g))
            u += int(bool(p) or bool(g))
        cum_i += i
        cum_u += u
        iou = i / u if u else float("nan")
        if u:
            ious.append(iou)
        for t in PRECISION_THRESHOLDS:
            hits[t] += int(iou >= t)
    return cum_i / cum_u, {t: hits[t] / len(pairs) for t in PRECISION_THRESHOLDS}, float(np.mean(ious))


def _random_pairs(seed, count=40):
    rng = np.random.default_rng(seed)
    pairs = []
    for index in range(count):
        h, w = rng.integers(3, 12, size=2)
        target = rng.random((h, w)) < rng.uniform(0.1, 0.6)
        if index % 3 == 0:  # a prediction close to the target: IoUs spread over the thresholds
            prediction = target ^ (rng.random((h, w)) < rng.uniform(0.0, 0.3))
        else:
            prediction = rng.random((h, w)) < rng.uniform(0.0, 0.6)
        if index % 7 == 0:
            prediction[:] = False  # empty prediction
        pairs.append((prediction, target))
    pairs.append((np.zeros((4, 5), bool), np.zeros((4, 5), bool)))  # empty union
    pairs.append((np.ones((2, 2), bool), np.ones((2, 2), bool)))  # perfect: IoU 1 >= 0.9
    return pairs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_referit_score_matches_brute_force(seed):
    pairs = _random_pairs(seed)
    score = ReferitScore()
    for prediction, target in pairs:
        score.update(prediction, target)
    report = score.report()
    overall, precision, mean = _brute_force_referit(pairs)
    assert report["overall_iou"] == pytest.approx(overall)
    assert report["mean_iou"] == pytest.approx(mean)
    for t in PRECISION_THRESHOLDS:
        assert report["precision"][f"{t:g}"] == pytest.approx(precision[t])
    assert report["num_expressions"] == len(pairs)
    assert report["num_empty_unions"] == sum(1 for p, t in pairs if not (p | t).any()) >= 1
    assert 0 < report["precision"]["0.9"] <= report["precision"]["0.5"] < 1
    json.dumps(report)


def test_overall_iou_is_pooled_not_averaged():
    score = ReferitScore()
    score.add(90, 100)  # a large object, IoU 0.9
    score.add(0, 10)  # a small one, missed
    report = score.report()
    assert report["overall_iou"] == pytest.approx(90 / 110)
    assert report["mean_iou"] == pytest.approx(0.45)
    assert report["precision"]["0.5"] == 0.5 and report["precision"]["0.9"] == 0.5


def test_referit_score_edge_cases():
    empty = ReferitScore().report()
    assert empty["overall_iou"] is None and empty["mean_iou"] is None and empty["precision"]["0.5"] is None
    only_empty_unions = ReferitScore().add(0, 0).add(0, 0).report()
    assert only_empty_unions["overall_iou"] is None and only_empty_unions["mean_iou"] is None
    assert only_empty_unions["precision"]["0.5"] == 0.0 and only_empty_unions["num_empty_unions"] == 2
    assert intersection_union(np.zeros((3, 3)), np.ones((3, 3))) == (0, 9)  # empty prediction
    with pytest.raises(ValueError, match="differ in shape"):
        intersection_union(np.zeros((3, 3)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="intersection <= union"):
        ReferitScore().add(5, 4)


def test_table3_has_the_paper_rows_and_ours():
    report = ReferitScore().add(60, 100).add(30, 40).report()
    table = format_table3(report, name="ours")
    lines = table.splitlines()
    assert lines[0].startswith("| Model | Precision@0.5 |") and lines[0].endswith("| IoU |")
    assert "| Hu, etc. [9] | 34.02% | 26.71% | 19.32% | 11.63% | 3.92% | 48.03% |" in lines
    assert "| Our model (paper) | 32.53% | 27.90% | 18.76% | 12.37% | 4.37% | 50.09% |" in lines
    assert lines[-1] == "| ours | 100.00% | 100.00% | 50.00% | 0.00% | 0.00% | 64.29% |"
