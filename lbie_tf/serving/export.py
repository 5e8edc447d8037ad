"""SavedModel export of a CoSaL `LanguageSegmenter` for TF Serving (`tensorflow_model_server`).

    path = export_segmenter(model, "export/lbie")        # -> "export/lbie/<next integer version>"

The SavedModel has two signatures; both use only core TF ops, so a stock TF Serving loads it:

- `serving_default`: raw requests. Inputs `image_bytes` string `[batch]` (encoded PNG / JPEG / GIF / BMP of
  any size up to `limits.MAX_PIXELS`, decoded and resized by `image_preprocessing`, the code `lbie-edit` runs)
  and `text` string `[batch]` (the caption as UTF-8, read by the rules of `captions`: sentences of vocabulary
  tokens separated by ".", ";" or new lines, case and a few spelling variants forgiven). Outputs, at each
  input image's own size: `class_map` int32 `[batch, H, W]` (the predicted colour class of every pixel),
  `edited_image` uint8 `[batch, H, W, 3]` (those classes drawn in `RGB_PALETTE`), `image_size` int32
  `[batch, 2]` (height, width of each input; images of one batch smaller than the largest are padded with
  class -1, colour black), and `stop_step` int32 `[batch, m, n]` (0-based). Bad requests fail with an
  `InvalidArgument` error whose message says what is wrong.
- `predict_tensors`: pre-processed tensors. Inputs `image` float32 `[batch, S, S, 3]` (pixel values 0..255)
  and `tokens` int32 `[batch, sentences, words]`; outputs `logits` `[batch, S, S, classes]`, `class_map`,
  `stop_step` and `attention` float32 `[batch, T, m, n, sentences]`.

A version folder is written to a temporary sibling and renamed into place; its folders are made mode 0755
and its files 0644 first, so a server running as another user can read it whatever the umask.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import keras
import tensorflow as tf

from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.errors import DataError
from lbie_tf.serving.caption_tokenizer import CaptionTokenizer
from lbie_tf.serving.graph_checks import in_order
from lbie_tf.serving.image_preprocessing import colour_class_maps, prepare_images, resize_class_maps

FOLDER_MODE = 0o755
FILE_MODE = 0o644


def check_servable(model) -> None:
    """Raise a one-line `DataError` unless `model` is a segmenter the CoSaL serving graph and `lbie-edit` can
    run: token captions of the CoSaL vocabulary (the in-graph tokenizer's) and the 7 CoSaL colour classes (the
    palette of `edited_image`)."""
    config = model.config
    problems = []
    if getattr(config, "text_encoder", None) != "sentences":
        problems.append(f"it reads {getattr(config, 'text_encoder', 'no')} text, not CoSaL sentences of tokens")
    elif config.vocab_size != vocab.VOCAB_SIZE:
        problems.append(f"its vocabulary has {config.vocab_size} words, not the {vocab.VOCAB_SIZE} CoSaL tokens")
    if getattr(config, "num_classes", None) != vocab.NUM_CLASSES:
        problems.append(f"it predicts {getattr(config, 'num_classes', '?')} classes, not the "
                        f"{vocab.NUM_CLASSES} CoSaL colour classes")
    if problems:
        raise DataError(f"this model cannot be served or edited with: {'; '.join(problems)} (lbie-edit and "
                        f"lbie-export serve CoSaL segmenters; evaluate ReferIt models with lbie-evaluate-referit)")


def _serving_functions(model, tokenizer: CaptionTokenizer) -> dict:
    """`{"serving_default": tf.function, "predict_tensors": tf.function}` for `model`."""
    size = model.config.image_size

    def predict(image, tokens) -> dict:
        outputs = model({"image": image, "tokens": tokens}, training=False)
        return {"logits": outputs["logits"],
                "class_map": tf.argmax(outputs["logits"], axis=-1, output_type=tf.int32),
                "stop_step": tf.cast(outputs["stop_step"], tf.int32),
                "attention": outputs["attention"]}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes"),
                                  tf.TensorSpec([None], tf.string, name="text")])
    def serving_default(image_bytes, text):
        with tf.control_dependencies(in_order([
            (tf.size(image_bytes) == tf.size(text),
             ["image_bytes and text need one caption per image; got", tf.size(image_bytes), "images and",
              tf.size(text), "captions"]),
        ])):
            images, image_sizes = prepare_images(image_bytes, size)
        outputs = predict(images, tokenizer(text))
        class_map = resize_class_maps(outputs["class_map"], image_sizes)
        return {"edited_image": colour_class_maps(class_map, vocab.RGB_PALETTE), "class_map": class_map,
                "image_size": image_sizes, "stop_step": outputs["stop_step"]}

    @tf.function(input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32, name="image"),
                                  tf.TensorSpec([None, model.sentences, model.words], tf.int32, name="tokens")])
    def predict_tensors(image, tokens):
        return predict(image, tokens)

    return {"serving_default": serving_default, "predict_tensors": predict_tensors}


def next_version(export_dir: str) -> int:
    """1 + the highest integer-named subfolder of `export_dir` (1 when there is none)."""
    if not os.path.isdir(export_dir):
        return 1
    versions = [int(name) for name in os.listdir(export_dir)
                if name.isdigit() and os.path.isdir(os.path.join(export_dir, name))]
    return max(versions, default=0) + 1


def export_segmenter(model, export_dir: str, version: int | None = None) -> str:
    """Write `model` as a TF Serving SavedModel at `<export_dir>/<version>/` and return that path.

    The SavedModel is written to a temporary sibling folder, given modes 0755 (folders) and 0644 (files),
    and renamed into place, so a server watching `export_dir` never sees a half-written version and can read
    it as any user.

    Args:
        model: a built `LanguageSegmenter` with the CoSaL vocabulary.
        export_dir: TF Serving's `--model_base_path` (created if missing).
        version: positive integer version; default `next_version(export_dir)`.

    Returns:
        The version folder `<export_dir>/<version>`.

    Raises:
        DataError: the model cannot be served (`check_servable`), `version` is not a positive integer or
            already exists, or the folder cannot be written.
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
        _archive(model).write_out(staging, verbose=False)
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


def _archive(model) -> keras.export.ExportArchive:
    """The `ExportArchive` of `model` with its tokenizer's table tracked and both signatures added."""
    tokenizer = CaptionTokenizer(model.sentences, model.words)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.track(tokenizer)
    for name, function in _serving_functions(model, tokenizer).items():
        archive.add_endpoint(name, function)
    return archive


class ExportedSegmenter:
    """A SavedModel written by `export_segmenter`, called like a `LanguageSegmenter` through its
    `predict_tensors` signature (TensorFlow only; no Keras classes are rebuilt).

    Args:
        path: a version folder `<export_dir>/<version>/`.

    Call arguments:
        inputs: dict with `image` `[batch, S, S, 3]` (pixel values 0..255) and `tokens` int `[batch, 9, 3]`.

    Returns:
        dict with `logits` `[batch, S, S, C]`, `stop_step` `[batch, m, n]`, `attention`
        `[batch, T, M, N, sentences]`.
    """

    def __init__(self, path: str):
        if not os.path.isfile(os.path.join(path, "saved_model.pb")):
            raise DataError(f"{path} is not a SavedModel version folder (no saved_model.pb); give "
                            f"<export_dir>/<version> as written by lbie-export")
        self.path = path
        try:
            self._predict = tf.saved_model.load(path).signatures["predict_tensors"]
        except (OSError, ValueError, KeyError, tf.errors.OpError) as error:
            raise DataError(f"cannot load the SavedModel {path} (written by lbie-export?): "
                            f"{(str(error).splitlines() or [type(error).__name__])[0]}") from None
        specs = self._predict.structured_input_signature[1]
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
