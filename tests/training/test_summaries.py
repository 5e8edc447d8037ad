"""Tests of the TensorBoard writer, read back with TensorBoard's event accumulator."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lbie_tf.training.summaries import SummaryWriter


def read_events(logdir):
    events = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    events.Reload()
    return events


def test_scalars_images_and_text_read_back(tmp_path):
    writer = SummaryWriter(str(tmp_path), max_images=2)
    writer.scalars(1, {"loss/total": 0.5, "lr": np.float32(1e-3)})
    writer.scalars(2, {"loss/total": tf.constant(0.25)})
    red = np.zeros((3, 4, 5, 3), np.uint8)
    red[..., 0] = 255
    writer.images(2, {"samples/prediction": red, "samples/gray": np.full((1, 4, 5, 1), 0.5, np.float32)})
    writer.text(2, "samples/caption", ["a red circle", "a blue square"])
    writer.flush()

    events = read_events(tmp_path)
    tags = set(events.Tags()["tensors"])
    assert {"loss/total", "lr", "samples/prediction", "samples/gray", "samples/caption"} <= tags

    loss = events.Tensors("loss/total")
    assert [e.step for e in loss] == [1, 2]
    assert [float(tf.make_ndarray(e.tensor_proto)) for e in loss] == [0.5, 0.25]
    assert float(tf.make_ndarray(events.Tensors("lr")[0].tensor_proto)) == pytest.approx(1e-3)

    # An image summary is [width, height, png_1, png_2, ...], at most max_images PNGs.
    image = tf.make_ndarray(events.Tensors("samples/prediction")[0].tensor_proto)
    assert image[:2].tolist() == [b"5", b"4"] and len(image) == 2 + 2
    decoded = np.asarray(Image.open(io.BytesIO(image[2])))
    np.testing.assert_array_equal(decoded, red[0])

    caption = tf.make_ndarray(events.Tensors("samples/caption")[0].tensor_proto)
    assert caption.tolist() == [b"a red circle", b"a blue square"]
    writer.close()


def test_images_must_be_a_batch(tmp_path):
    writer = SummaryWriter(str(tmp_path))
    with pytest.raises(ValueError, match="must be \\[k, height, width, channels\\]"):
        writer.images(0, {"samples/x": np.zeros((4, 5, 3), np.uint8)})
    writer.close()
