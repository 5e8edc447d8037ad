"""`export_model(..., tflite=True)`: the `predict_tensors` signature of a segmenter and of a colorizer converts
with TFLite builtin ops only (batch 1), and `tf.lite.Interpreter` gives the Keras model's outputs to 1e-4; a
signature that does not convert is refused with one line naming the ops."""

import os

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.configs import ColorizerConfig, SegmenterConfig
from lbie_tf.data import cosal
from lbie_tf.errors import DataError
from lbie_tf.models.colorizer import build_colorizer
from lbie_tf.models.segmenter import build_segmenter
from lbie_tf.serving import export, tflite
from lbie_tf.serving.colorization_pixels import gray_input
from lbie_tf.tasks import cosal_colorization

pytestmark = pytest.mark.slow  # two conversions: about 30 s on a 2-core CPU


def _run(path: str, **inputs) -> dict:
    """The outputs of the exported flat buffer's `predict_tensors` signature for `inputs`."""
    interpreter = tf.lite.Interpreter(model_path=os.path.join(path, tflite.TFLITE_FILE))
    return interpreter.get_signature_runner(tflite.SIGNATURE)(**inputs)


@pytest.fixture(scope="module")
def example():
    data = cosal.generate(tf.constant([0], tf.int64), cosal.CosalConfig(), "test")
    return {"image": data["sketch"].numpy().astype(np.float32), "tokens": data["tokens"].numpy()}


def test_segmenter_interpreter_matches_keras(example, tmp_path):
    tf.keras.utils.set_random_seed(1)
    model = build_segmenter(SegmenterConfig(steps=2))
    path = export.export_model(model, str(tmp_path), tflite=True)
    outputs = _run(path, image=example["image"], tokens=example["tokens"])
    expected = model({"image": example["image"], "tokens": example["tokens"]}, training=False)
    np.testing.assert_allclose(outputs["logits"], expected["logits"], atol=1e-4)
    np.testing.assert_allclose(outputs["attention"], expected["attention"], atol=1e-4)
    np.testing.assert_array_equal(outputs["stop_step"], expected["stop_step"])
    assert np.mean(outputs["class_map"] == np.argmax(expected["logits"], axis=-1)) > 0.999  # ties aside


def test_colorizer_interpreter_matches_keras(example, tmp_path):
    tf.keras.utils.set_random_seed(2)
    model = build_colorizer(ColorizerConfig(filters=8, vocab_size=cosal_colorization.VOCAB_SIZE,
                                            word_embedding_dim=16, text_units=16, attention_units=16,
                                            fusion_units=32, steps=2, batch_norm=False, initializer="he"))
    path = export.export_model(model, str(tmp_path), tflite=True)
    gray = gray_input(example["image"]).numpy()
    ids = cosal_colorization.caption_ids(example["tokens"]).numpy()
    outputs = _run(path, gray=gray, tokens=ids)
    expected = model({"gray": gray, "tokens": ids}, training=False)
    np.testing.assert_allclose(outputs["ab"], expected["ab"], atol=1e-4)
    np.testing.assert_allclose(outputs["attention"], expected["attention"], atol=1e-4)
    assert np.std(expected["ab"]) > 1e-3


def test_a_signature_that_does_not_convert_is_refused_in_one_line(tmp_path, monkeypatch):
    class NotBuiltin:
        target_spec = tf.lite.TargetSpec()

        def convert(self):
            raise RuntimeError("<unknown>:0: error: loc(...): 'tf.StringSplit' op is neither a custom op nor a "
                               "flex op\nerror: failed to legalize operation 'tf.StringSplit'\nmore detail")

    monkeypatch.setattr(tf.lite.TFLiteConverter, "from_saved_model", lambda *args, **kwargs: NotBuiltin())
    with pytest.raises(DataError, match=r"^predict_tensors does not convert to TFLite with builtin ops only: "
                                        r"no builtin for tf\.StringSplit$"):
        export.export_model(build_segmenter(SegmenterConfig(steps=1)), str(tmp_path), tflite=True)
    assert os.listdir(tmp_path) == []
