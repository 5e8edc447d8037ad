"""Tests of the confusion-matrix segmentation metrics against brute-force NumPy."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.metrics import (ConfusionMatrix, confusion_matrix_batch, iou_from_confusion, mean_iou,
                             pixel_accuracy, segmentation_report)

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


# --- ReferIt: overall IoU, precision@k, mean IoU (Hu et al.) ------------------------------------------------

from lbie_tf.metrics import (PRECISION_THRESHOLDS, ReferitScore, format_table3,  # noqa: E402
                             intersection_union)


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
