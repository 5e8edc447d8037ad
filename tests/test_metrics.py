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
