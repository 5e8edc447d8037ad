"""SavedModel export of a CoSaL segmenter or colorizer, or a Flowers colorizer, for TF Serving
(`tensorflow_model_server`), and the exported folder loaded back.

    path = export_model(model, "export/lbie")              # -> "export/lbie/<next integer version>"
    path = export_model(model, "export/lbie", tflite=True)  # also <version>/predict_tensors.tflite
    model = load_exported(path)                            # an ExportedSegmenter or ExportedColorizer

The SavedModel has two signatures, `serving_default` (raw requests: `image_bytes` and `text`, string
`[batch]`) and `predict_tensors` (pre-processed tensors); `lbie_tf.serving.signatures` describes each kind's.
Both use only core TF ops, so a stock TF Serving loads it; bad requests fail with an `InvalidArgument` error
whose message says what is wrong. With `tflite=True` the `predict_tensors` signature is also converted to a
TFLite flat buffer with builtin ops only (`lbie_tf.serving.tflite`). A Flowers colorizer's vocabulary is in its
graph (a table) and, for `lbie-edit --saved_model`, in `<version>/assets.extra/vocabulary.json`.

A version folder is written to a temporary sibling and renamed into place; its folders are made mode 0755
and its files 0644 first, so a server running as another user can read it whatever the umask.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import keras
import tensorflow as tf

from lbie_tf.data.flowers_vocabulary import VOCABULARY_FILE, FlowersVocabulary
from lbie_tf.errors import DataError
from lbie_tf.serving.signatures import caption_tokenizer, check_servable, serving_functions
from lbie_tf.serving.tflite import write_tflite
from lbie_tf.training.checkpoints import read_run_file, write_run_file

FOLDER_MODE = 0o755
FILE_MODE = 0o644
EXTRA_FOLDER = "assets.extra"  # files beside the SavedModel that TF Serving leaves alone


def next_version(export_dir: str) -> int:
    """1 + the highest integer-named subfolder of `export_dir` (1 when there is none)."""
    if not os.path.isdir(export_dir):
        return 1
    versions = [int(name) for name in os.listdir(export_dir)
                if name.isdigit() and os.path.isdir(os.path.join(export_dir, name))]
    return max(versions, default=0) + 1


def export_model(model, export_dir: str, version: int | None = None, tflite: bool = False,
                 jit_compile: bool = False) -> str:
    """Write `model` as a TF Serving SavedModel at `<export_dir>/<version>/` and return that path.

    The SavedModel (and with `tflite` its `predict_tensors` as `TFLITE_FILE`) is written to a temporary
    sibling folder, given modes 0755 (folders) and 0644 (files), and renamed into place, so a server watching
    `export_dir` never sees a half-written version and can read it as any user.

    Args:
        model: a built CoSaL `LanguageSegmenter` or `LanguageColorizer`, or a Flowers `LanguageColorizer`
            loaded from its run (`signatures.check_servable`).
        export_dir: TF Serving's `--model_base_path` (created if missing).
        version: positive integer version; default `next_version(export_dir)`.
        tflite: also convert `predict_tensors` to TFLite (builtin ops only).
        jit_compile: compile the model's call inside both signatures with XLA (faster on a CPU at small
            batches; `tensorflow_model_server` then needs `--xla_cpu_compilation_enabled=true`). The `.tflite`
            file is the same either way.

    Returns:
        The version folder `<export_dir>/<version>`.

    Raises:
        DataError: the model cannot be served (`check_servable`) or converted, `version` is not a positive
            integer or already exists, or the folder cannot be written.
    """
    check_servable(model)
    version = next_version(export_dir) if version is None else version
    if not isinstance(version, int) or version < 1:
        raise DataError(f"--version must be a positive integer (TF Serving's version folders), got {version!r}")
    path = os.path.join(export_dir, str(version))
    if os.path.exists(path):
        raise DataError(f"{path} already exists; give another --version or leave it out for the next one")
    os.makedirs(export_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".tmp-{version}-", dir=export_dir)
    try:
        _archive(model, jit_compile).write_out(staging, verbose=False)
        if getattr(model, "vocabulary", None) is not None:
            write_run_file(os.path.join(staging, EXTRA_FOLDER), VOCABULARY_FILE, model.vocabulary.to_dict())
        if tflite:
            write_tflite(model, staging)
        _make_readable(staging)
        os.rename(staging, path)
    except OSError as error:
        raise DataError(f"could not write {path}: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def _make_readable(folder: str) -> None:
    """Modes `FOLDER_MODE` for `folder` and every folder below it, `FILE_MODE` for every file."""
    os.chmod(folder, FOLDER_MODE)
    for root, folders, files in os.walk(folder):
        for name in folders:
            os.chmod(os.path.join(root, name), FOLDER_MODE)
        for name in files:
            os.chmod(os.path.join(root, name), FILE_MODE)


def _archive(model, jit_compile: bool) -> keras.export.ExportArchive:
    """The `ExportArchive` of `model`'s two signatures, with its tokenizer's table tracked. The model itself is
    not tracked: the signatures hold its weights as constants (`frozen_model`), so the SavedModel stores them
    once, and no variable that a signature does not read."""
    tokenizer = caption_tokenizer(model)
    archive = keras.export.ExportArchive()
    archive.track(tokenizer)
    for name, function in serving_functions(model, tokenizer, jit_compile=jit_compile).items():
        archive.add_endpoint(name, function)
    return archive


def load_exported(path: str):
    """The `ExportedSegmenter` or `ExportedColorizer` of a version folder written by `export_model` (the kind
    read from its `predict_tensors` inputs)."""
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise DataError(f"{path} is not a SavedModel version folder (no saved_model.pb); give "
                        f"<export_dir>/<version> as written by lbie-export")
    try:
        predict = tf.saved_model.load(path).signatures["predict_tensors"]
    except (OSError, ValueError, KeyError, tf.errors.OpError) as error:
        raise DataError(f"cannot load the SavedModel {path} (written by lbie-export?): "
                        f"{(str(error).splitlines() or [type(error).__name__])[0]}") from None
    specs = predict.structured_input_signature[1]
    if "gray" not in specs:
        return ExportedSegmenter(predict, specs)
    colorizer = ExportedColorizer(predict, specs)
    extra = os.path.join(path, EXTRA_FOLDER)
    stored = read_run_file(extra, VOCABULARY_FILE)
    if stored is not None:
        colorizer.vocabulary = FlowersVocabulary.from_dict(stored, os.path.join(extra, VOCABULARY_FILE))
    return colorizer


class ExportedSegmenter:
    """An exported segmenter (`load_exported`), called like a `LanguageSegmenter` through its `predict_tensors`
    signature (TensorFlow only; no Keras classes are rebuilt).

    Args:
        predict: the loaded `predict_tensors` concrete function.
        specs: its input `TensorSpec`s by name.

    Call arguments:
        inputs: dict with `image` `[batch, S, S, 3]` (pixel values 0..255) and `tokens` int `[batch, 9, 3]`.

    Returns:
        dict with `logits` `[batch, S, S, C]`, `stop_step` `[batch, m, n]`, `attention`
        `[batch, T, M, N, sentences]`.
    """

    def __init__(self, predict, specs: dict):
        self._predict = predict
        self.image_size = int(specs["image"].shape[1])
        self.caption_shape = tuple(int(d) for d in specs["tokens"].shape[1:])

    def check_inputs(self, inputs: dict) -> None:
        """Raise `DataError` (one line) when the inputs' shapes do not fit the exported signature."""
        image, tokens = inputs["image"], inputs["tokens"]
        if tuple(image.shape[1:]) != (self.image_size, self.image_size, 3):
            raise DataError(f"image has shape {list(image.shape)}; this model needs "
                            f"[batch, {self.image_size}, {self.image_size}, 3]")
        if tuple(tokens.shape[1:]) != self.caption_shape:
            raise DataError(f"caption tokens have shape {list(tokens.shape)}; this model needs "
                            f"[batch, {self.caption_shape[0]}, {self.caption_shape[1]}]")

    def __call__(self, inputs: dict) -> dict:
        outputs = self._predict(image=tf.cast(inputs["image"], tf.float32),
                                tokens=tf.cast(inputs["tokens"], tf.int32))
        return {key: outputs[key] for key in ("logits", "stop_step", "attention")}


class ExportedColorizer:
    """An exported colorizer (`load_exported`), called like a `LanguageColorizer` through its `predict_tensors`
    signature.

    Args:
        predict: the loaded `predict_tensors` concrete function.
        specs: its input `TensorSpec`s by name.

    Call arguments:
        inputs: dict with `gray` `[batch, S, S, 1]` (L/50 − 1) and `tokens` int `[batch, words]` (CoSaL: 27).

    Returns:
        dict with `ab` `[batch, S, S, 2]` and `attention` `[batch, T, S/4, S/4, words]`.

    Attributes:
        vocabulary: a Flowers colorizer's `FlowersVocabulary` (from `assets.extra/vocabulary.json`), else None.
    """

    def __init__(self, predict, specs: dict):
        self._predict = predict
        self.image_size = int(specs["gray"].shape[1])
        self.vocabulary = None

    def __call__(self, inputs: dict) -> dict:
        outputs = self._predict(gray=tf.cast(inputs["gray"], tf.float32), tokens=tf.cast(inputs["tokens"], tf.int32))
        return {key: outputs[key] for key in ("ab", "attention")}
