"""The `predict_tensors` signature of an exported SavedModel as a TFLite flat buffer, for mobile users.

    write_tflite("export/lbie/3")     # -> export/lbie/3/predict_tensors.tflite
    interpreter = tf.lite.Interpreter(model_path="export/lbie/3/predict_tensors.tflite")

Only TFLite's builtin ops are allowed (`OpsSet.TFLITE_BUILTINS`: no Flex / select-TF ops, so the stock TFLite
runtime runs it). The flat buffer has the signature's inputs and outputs under their names (`interpreter.
get_signature_runner("predict_tensors")`); its batch dimension is dynamic (`resize_tensor_input`), 1 by
default. `serving_default` is not converted: it decodes image bytes and tokenizes text with ops TFLite's
builtins do not have (a mobile app decodes and tokenizes itself, then calls `predict_tensors`).
"""

from __future__ import annotations

import os

import tensorflow as tf

from lbie_tf.errors import DataError

TFLITE_FILE = "predict_tensors.tflite"
SIGNATURE = "predict_tensors"


def convert_predict_tensors(saved_model_dir: str) -> bytes:
    """The TFLite flat buffer of `saved_model_dir`'s `predict_tensors` signature, builtin ops only.

    Raises:
        DataError: the signature needs an op TFLite has no builtin for (the message names the converter's
            first complaint).
    """
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=[SIGNATURE])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    try:
        return converter.convert()
    except Exception as error:  # noqa: BLE001 (the converter raises ConverterError, ValueError or others)
        first = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
        raise DataError(f"{SIGNATURE} does not convert to TFLite with builtin ops only: {first[:300]}") from None


def write_tflite(saved_model_dir: str) -> str:
    """Write `convert_predict_tensors(saved_model_dir)` to `<saved_model_dir>/TFLITE_FILE`; returns its path."""
    path = os.path.join(saved_model_dir, TFLITE_FILE)
    flat_buffer = convert_predict_tensors(saved_model_dir)
    with open(path, "wb") as f:
        f.write(flat_buffer)
    return path
