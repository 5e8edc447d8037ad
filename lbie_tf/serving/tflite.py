"""The `predict_tensors` signature of a servable model as a TFLite flat buffer, for mobile users.

    write_tflite(model, "export/lbie/3")     # -> export/lbie/3/predict_tensors.tflite
    interpreter = tf.lite.Interpreter(model_path="export/lbie/3/predict_tensors.tflite")

Only TFLite's builtin ops are allowed (`OpsSet.TFLITE_BUILTINS`: no Flex / select-TF ops, so the stock TFLite
runtime runs it). The flat buffer has the signature's inputs and outputs under their names (`interpreter.
get_signature_runner("predict_tensors")`), with the batch dimension fixed at 1 (one image per call, as on a
phone): TFLite lowers the BiLSTMs' tensor lists to builtin ops only when the model is traced with static
shapes, so the signature is traced again at batch 1 (`signatures.serving_functions(..., batch=1)`) into a
temporary SavedModel, which is converted. `serving_default` is
not converted: it decodes image bytes and tokenizes text with ops TFLite's builtins do not have (a mobile app
decodes and tokenizes itself, then calls `predict_tensors`).
"""

from __future__ import annotations

import os
import re
import tempfile

import keras
import tensorflow as tf

from lbie_tf.errors import DataError
from lbie_tf.serving.signatures import caption_tokenizer, serving_functions

TFLITE_FILE = "predict_tensors.tflite"
SIGNATURE = "predict_tensors"


def convert_predict_tensors(model) -> bytes:
    """The TFLite flat buffer of `model`'s `predict_tensors` signature at batch 1, builtin ops only.

    Args:
        model: a servable `LanguageSegmenter` or `LanguageColorizer` (`signatures.check_servable`).

    Raises:
        DataError: the signature needs an op TFLite has no builtin for (the message names the TF ops).
    """
    with tempfile.TemporaryDirectory() as folder:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(SIGNATURE, serving_functions(model, caption_tokenizer(model), batch=1)[SIGNATURE])
        archive.write_out(folder, verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(folder, signature_keys=[SIGNATURE])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        try:
            return converter.convert()
        except Exception as error:  # the converter raises ConverterError, ValueError and others
            raise DataError(f"{SIGNATURE} does not convert to TFLite with builtin ops only: {_reason(error)}") \
                from None


def write_tflite(model, folder: str) -> str:
    """Write `convert_predict_tensors(model)` to `<folder>/TFLITE_FILE`; returns its path."""
    path = os.path.join(folder, TFLITE_FILE)
    flat_buffer = convert_predict_tensors(model)
    with open(path, "wb") as f:
        f.write(flat_buffer)
    return path


def _reason(error: Exception) -> str:
    """The TF ops a conversion error names (`'tf.StringSplit'`), else its first non-empty line."""
    ops = sorted(set(re.findall(r"'(tf\.\w+)'", str(error))))
    if ops:
        return f"no builtin for {', '.join(ops)}"
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)[:300]
