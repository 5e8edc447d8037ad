"""SavedModel export of a CoSaL `LanguageSegmenter` for TF Serving (`tensorflow_model_server`).

    path = export_segmenter(model, "export/lbie")        # -> "export/lbie/<next integer version>"

The SavedModel has two signatures; both use only core TF ops, so a stock TF Serving loads it:

- `serving_default`: raw requests. Inputs `image_bytes` string `[batch]` (encoded PNG / JPEG / BMP / GIF, any
  size, resized to the model's `[S, S]`) and `text` string `[batch]` (the caption as UTF-8: sentences of
  vocabulary tokens separated by ".", ";" or newlines, case-insensitive). The vocabulary lookup is part of
  the graph. Outputs `edited_image` uint8 `[batch, S, S, 3]` (the predicted colour classes drawn in
  `RGB_PALETTE`), `class_map` int32 `[batch, S, S]`, `stop_step` int32 `[batch, m, n]` (0-based).
  Bad requests fail with an `InvalidArgument` error whose message says what is wrong.
- `predict_tensors`: pre-processed tensors. Inputs `image` float32 `[batch, S, S, 3]` (pixel values 0..255)
  and `tokens` int32 `[batch, sentences, words]`; outputs `logits` `[batch, S, S, classes]`, `class_map`,
  `stop_step` and `attention` float32 `[batch, T, m, n, sentences]`.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import keras
import tensorflow as tf

from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.errors import DataError

SENTENCE_SEPARATORS = r"[.;\n]"


class CaptionTokenizer(tf.Module):
    """Caption text → CoSaL token ids inside the graph (regex, string split and a static hash table).

    Multi-word tokens ("half fat ellipse") are joined into single words first, longest first, which matches
    `cosal_vocabulary.encode_sentence`'s greedy longest match for this vocabulary.

    Args:
        sentences, words: the caption shape the model takes (CoSaL: 9 sentences of 3 tokens).
    """

    def __init__(self, sentences: int = vocab.SENTENCES_PER_CAPTION, words: int = vocab.TOKENS_PER_SENTENCE):
        super().__init__(name="caption_tokenizer")
        self.sentences = sentences
        self.words = words
        keys = [token.replace(" ", "_") for token in vocab.VOCABULARY]
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(keys, tf.range(len(keys), dtype=tf.int64)), default_value=-1)

    def __call__(self, text: tf.Tensor) -> tf.Tensor:
        """string `[batch]` → int32 `[batch, sentences, words]`; failed checks raise `InvalidArgumentError`."""
        words = _split_words(text)  # ragged [batch, (sentences), (words)]
        ids = self.table.lookup(words.flat_values)
        with tf.control_dependencies(_in_order(self._checks(text, words, ids))):
            ids = tf.cast(words.with_flat_values(ids).to_tensor(), tf.int32)
        return tf.ensure_shape(ids, [None, self.sentences, self.words])

    def _checks(self, text: tf.Tensor, words: tf.RaggedTensor, ids: tf.Tensor) -> list:
        """`(condition, message data)` pairs for `tf.debugging.Assert`, in the order they are reported."""
        unknown = tf.unique(tf.boolean_mask(words.flat_values, ids < 0)).y
        sentences = tf.strings.reduce_join(words, axis=-1, separator=" ").flat_values
        wrong_length = tf.boolean_mask(sentences, words.values.row_lengths() != self.words)
        return [
            (tf.reduce_all(tf.strings.length(tf.strings.strip(text)) > 0),
             [f"caption text is empty; give {self.sentences} sentences of {self.words} CoSaL tokens"]),
            (tf.size(unknown) == 0,
             ["unknown word(s) in the caption:", unknown,
              f"the CoSaL vocabulary is: {', '.join(vocab.VOCABULARY)}"]),
            (tf.reduce_all(words.row_lengths() == self.sentences),
             [f"a caption has {self.sentences} sentences separated by '.', ';' or newlines; sentences per caption:",
              words.row_lengths()]),
            (tf.size(wrong_length) == 0,
             [f"every sentence has exactly {self.words} CoSaL tokens; these do not:", wrong_length]),
        ]


def _in_order(checks: list) -> list:
    """`tf.debugging.Assert` ops for `(condition, data)` pairs, each run only after the previous one passed, so
    the first failing check is the one reported; returns `[last op]` for `tf.control_dependencies`."""
    asserts = []
    for condition, data in checks:
        with tf.control_dependencies(asserts[-1:]):
            asserts.append(tf.debugging.Assert(condition, data))
    return asserts[-1:]


def _split_words(text: tf.Tensor) -> tf.RaggedTensor:
    """string `[batch]` → ragged string `[batch, (sentences), (words)]`, lower case, empty sentences dropped,
    each multi-word vocabulary token one word with "_" between its parts."""
    sentences = tf.strings.split(tf.strings.regex_replace(tf.strings.lower(text, encoding="utf-8"),
                                                          SENTENCE_SEPARATORS, "."), sep=".")
    sentences = tf.strings.strip(tf.strings.regex_replace(sentences, r"[^\pL\pN]+", " "))
    for token in sorted(vocab.VOCABULARY, key=len, reverse=True):
        if " " in token:
            sentences = tf.strings.regex_replace(sentences, rf"\b{token}\b", token.replace(" ", "_"))
    sentences = tf.ragged.boolean_mask(sentences, tf.strings.length(sentences) > 0)
    return tf.strings.split(sentences)


def decode_images(image_bytes: tf.Tensor, size: int) -> tf.Tensor:
    """Encoded images string `[batch]` → float32 `[batch, size, size, 3]`, RGB values rounded to 0..255.

    Bilinear resize; grey-scale and RGBA images become RGB; an animated GIF gives its first frame.
    """
    def decode(data):
        image = tf.io.decode_image(data, channels=3, expand_animations=False)
        image = tf.image.resize(tf.cast(image, tf.float32), [size, size], method="bilinear")
        return tf.clip_by_value(tf.round(image), 0.0, 255.0)

    return tf.map_fn(decode, image_bytes, fn_output_signature=tf.TensorSpec([size, size, 3], tf.float32))


def _serving_functions(model, tokenizer: CaptionTokenizer) -> dict:
    """`{"serving_default": tf.function, "predict_tensors": tf.function}` for `model`."""
    size = model.config.image_size
    palette = tf.constant(vocab.RGB_PALETTE)

    def predict(image, tokens) -> dict:
        outputs = model({"image": image, "tokens": tokens}, training=False)
        return {"logits": outputs["logits"],
                "class_map": tf.argmax(outputs["logits"], axis=-1, output_type=tf.int32),
                "stop_step": tf.cast(outputs["stop_step"], tf.int32),
                "attention": outputs["attention"]}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes"),
                                  tf.TensorSpec([None], tf.string, name="text")])
    def serving_default(image_bytes, text):
        check = tf.debugging.Assert(tf.size(image_bytes) == tf.size(text),
                                    ["image_bytes and text need one caption per image; got",
                                     tf.size(image_bytes), "images and", tf.size(text), "captions"])
        with tf.control_dependencies([check]):
            outputs = predict(decode_images(image_bytes, size), tokenizer(text))
        return {"edited_image": tf.gather(palette, outputs["class_map"]),
                "class_map": outputs["class_map"], "stop_step": outputs["stop_step"]}

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

    The SavedModel is written to a temporary sibling folder and renamed into place, so a server watching
    `export_dir` never sees a half-written version.

    Args:
        model: a built `LanguageSegmenter` with the CoSaL vocabulary.
        export_dir: TF Serving's `--model_base_path` (created if missing).
        version: positive integer version; default `next_version(export_dir)`.

    Raises:
        DataError: `version` is not a positive integer or already exists, or the folder cannot be written.
    """
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
        os.rename(staging, path)
    except OSError as error:
        raise DataError(f"could not write {path}: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


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
        self._predict = tf.saved_model.load(path).signatures["predict_tensors"]
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
