"""`lbie-edit`: edit an image by a caption with a trained language-based segmenter or colorizer (CoSaL), or a
Flowers colorizer.

    lbie-edit --image=sketch.png --text="circle is red. triangle is blue; ..." --out=result.png
    lbie-edit --text_file=pairs.txt --out=results/ --explain
    lbie-edit --model_dir=runs/cosal_t4 --image=sketch.png --text="..." --out=result.png
    lbie-edit --saved_model=export/lbie/1 --image=sketch.png --text="..." --out=result.png
    lbie-edit --pretrained=cosal_colorization --image=grey.png --text="..." --out=coloured.png
    lbie-edit --model_dir=runs/cosal_colorization --image=grey.png --text="..." --out=coloured.png --explain
    lbie-edit --model_dir=runs/flowers_paper --image=x.jpg --text="this flower has yellow petals" --out=c.png
    python -m lbie_tf.cli.edit ...                        # the same

The model's kind is read from where it comes from: a `--model_dir`'s `model_config.json` (a segmentation run
or a colorization run), a `--pretrained` model's metadata, a `--saved_model`'s signature. Without any of the
three, the shipped segmenter (`lbie_tf.pretrained.DEFAULT_SEGMENTER`) is used.

Inputs:
- `--image`: a PNG, JPEG, GIF (its first frame) or BMP file of any size up to
  `lbie_tf.serving.limits.MAX_PIXELS` (40 megapixels), in any of its modes (grey, palette, 16-bit, with
  alpha: composited onto white); TIFF, WebP and other formats are refused. It is decoded, turned upright by
  its EXIF orientation, squashed to the model's square input (48 × 48 for CoSaL) with an antialiased resize
  and the result is mapped back to the image's own size — by `lbie_tf.serving.image_preprocessing`, the code
  the exported `serving_default` signature runs, so a served request gives the same class map.
- `--text`: the caption, 9 sentences separated by ".", ";" or new lines, each of 3 vocabulary tokens
  (`shape is colour` or `colour relation shape`). Case, punctuation, "gray", "the"/"a" before a shape and
  "colour is" / "is coloured" are forgiven (`lbie_tf.serving.captions`, the serving graph's rules too). The
  CoSaL vocabulary is closed (20 tokens, no unknown-word id): any other word is an error that names it and
  lists the vocabulary. A Flowers colorizer (a run that stored `vocabulary.json`) reads free text instead,
  with its training tokenizer run as the exported graph runs it (`lbie_tf.serving.flowers_tokenizer`): an
  unknown word is `<unk>`; an empty caption or one with no vocabulary word is an error. Its image is resized
  as the Flowers test split resizes (`lbie_tf.serving.colorizer_inputs`). With the shipped models the caption
  is read before any image; with `--model_dir` / `--saved_model`, once the model is loaded.
- `--text_file`: many edits, one `image_path:caption` per line (as the released code's generate_image.py
  read them), UTF-8. The line is split at its last ":" (so the caption may not hold one); a relative image
  path is read from the text file's folder; blank lines and lines starting with "#" are skipped.

Outputs (PNG), for `--out=result.png` (one edit; its folder must exist) or, with `--text_file`, for
`<out folder>/<image stem>_line<N>.png` (N: the line of the text file; the folder must exist). A segmenter
writes:
- `result.png`: the predicted class map in the CoSaL colours (`RGB_PALETTE`; white = background), at the
  input image's size (nearest-neighbour).
- `result_overlay.png`: the class colours blended over the input image where the class is not background.
- `result_explain.png` (with `--explain`): the input and result as the model sees them, the stop step of each
  region, and per fusion step the sentence each region attends to most (a colour per sentence, keyed in the
  "sentences" panel).

A colorizer (a grey or colour input: only its lightness is read) writes:
- `result.png`: the input with the predicted colours, at the input's size (the input's own lightness, the
  predicted a and b resized from the model's 48 × 48: `lbie_tf.serving.colorization_pixels`, which the
  exported colorizer's `serving_default` runs too).
- `result_explain.png` (with `--explain`): the input, the lightness the model sees and the result at the
  model's size, and per fusion step the sentence each region attends to most (the attention over the
  caption's 27 words summed over each sentence's 3; a colour per sentence, keyed in the "sentences" panel).

Edits run in order; the model is loaded once, after the first image is read. The first error stops the run
(outputs already written stay). Exit status 0 on success; a mistake a user can fix (a flag, a missing,
non-regular, empty, truncated, corrupt, unsupported or too large image, a caption that is not UTF-8, has an
unknown word or the wrong length, a bad `--text_file` line, a missing or read-only output folder, a model
directory without a readable checkpoint or with a model lbie-edit cannot run) prints one line `error: ...`
on stderr and exits with 2.

The flags live in their own `FlagValues` (not absl's global `FLAGS`), so this module can be imported next to
the other entry points, which define `--model_dir` too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import flags  # noqa: E402
from PIL import Image  # noqa: E402

from lbie_tf.cli.app import exit_status  # noqa: E402
from lbie_tf.data import cosal_vocabulary  # noqa: E402
from lbie_tf.errors import ConfigError, DataError, LbieError  # noqa: E402
from lbie_tf.serving.captions import encode_text  # noqa: E402
from lbie_tf.serving.image_files import read_file_bytes, read_image_file  # noqa: E402
from lbie_tf.visualization.edit_figures import colorization_explain_figure, explain_figure, overlay  # noqa: E402
from lbie_tf.visualization.figures import colorize_labels  # noqa: E402

FLAGS = flags.FlagValues()
flags.DEFINE_string("model_dir", None, "A train_segmentation.py or train_colorization.py --model_dir to use (its "
                    "latest checkpoint; the kind is read from its model_config.json); default: the pretrained "
                    "segmenter shipped with the package.", flag_values=FLAGS)
flags.DEFINE_string("pretrained", None, "Instead of --model_dir: the name of a model shipped in lbie_tf/pretrained "
                    "(a segmenter: cosal_best, the default, or cosal_paper_t4, the paper's T = 4 preset for "
                    "comparison; or a colorizer: cosal_colorization).",
                    flag_values=FLAGS)
flags.DEFINE_string("saved_model", None, "Instead of --model_dir: a SavedModel version folder written by "
                    "lbie-export (<export_dir>/<version>).", flag_values=FLAGS)
flags.DEFINE_string("image", None, "The image to edit (with --text).", flag_values=FLAGS)
flags.DEFINE_string("text", None, "The caption: for CoSaL models 9 sentences separated by '.', ';' or new lines; "
                    "for a Flowers colorizer free text describing the flower.", flag_values=FLAGS)
flags.DEFINE_string("text_file", None, "Many edits: one 'image_path:caption' per line (relative paths are "
                    "read from the file's folder; blank lines and '#' comments are skipped).", flag_values=FLAGS)
flags.DEFINE_string("out", None, "Output .png for --image/--text, or output folder for --text_file.",
                    flag_values=FLAGS)
flags.DEFINE_bool("explain", False, "Also write <out stem>_explain.png: per-step attention and stop steps.",
                  flag_values=FLAGS)


@dataclasses.dataclass(frozen=True)
class Edit:
    """One image + caption to edit, and where its outputs go.

    Attributes:
        image_path: the input image file.
        caption: the caption as given.
        sentences: the caption's CoSaL sentences (9), read before the model is loaded; None for a model of
            `--model_dir` / `--saved_model`, whose reader (CoSaL or Flowers) reads `caption` once it is
            loaded (`model_caption`).
        tokens: int32 `[sentences, words]`, the encoded CoSaL caption, or None as `sentences`.
        out_path: the class-map PNG; the overlay and explanation are written beside it.
        where: where the pair came from, prefixed to its error messages ("" for --image/--text).
    """

    image_path: str
    caption: str
    sentences: list[str] | None
    tokens: np.ndarray | None
    out_path: str
    where: str = ""

    def sibling(self, suffix: str) -> str:
        """`out_path` with `suffix` before its extension, e.g. `result_overlay.png`."""
        return f"{os.path.splitext(self.out_path)[0]}{suffix}.png"


@contextlib.contextmanager
def _located(where: str):
    """Prefixes `where` to the message of a user error raised inside the block."""
    try:
        yield
    except LbieError as error:
        if not where:
            raise
        raise DataError(f"{where}: {error}") from None


def _encoded(caption: str, now: bool) -> tuple:
    """`(sentences, tokens)` of a CoSaL caption read `now` (`encode_text`), else `(None, None)`: the caption is
    read once the model is loaded, by that model's reader (`model_caption`)."""
    return encode_text(caption) if now else (None, None)


def edits_from_text_file(path: str, out_dir: str, read_now: bool = True) -> list[Edit]:
    """The edits listed in a text file of `image_path:caption` lines (see the module docstring); `read_now`:
    read the captions as CoSaL captions now, before any image or model (the shipped models)."""
    data = read_file_bytes(path, "--text_file")
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise DataError(f"--text_file {path} is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
                        f"{error.start})") from None
    folder = os.path.dirname(os.path.abspath(path))
    edits = []
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path}:{number}"
        with _located(where):
            image, separator, caption = line.rpartition(":")
            if not separator or not image.strip():
                raise DataError(f"expected 'image_path:caption', got {line!r}")
            sentences, tokens = _encoded(caption, read_now)
        image_path = os.path.join(folder, image.strip())
        stem = os.path.splitext(os.path.basename(image_path))[0]
        edits.append(Edit(image_path, caption, sentences, tokens,
                          os.path.join(out_dir, f"{stem}_line{number}.png"), where))
    if not edits:
        raise DataError(f"--text_file {path} holds no 'image_path:caption' lines")
    return edits


def edits_from_flags() -> list[Edit]:
    """The edits the flags ask for; `ConfigError` / `DataError` for missing or conflicting flags."""
    read_now = FLAGS.model_dir is None and FLAGS.saved_model is None  # a shipped model: CoSaL captions
    if not FLAGS.out:
        raise ConfigError("--out is required: the output .png (with --image/--text) or folder (--text_file)")
    single = FLAGS.image is not None or FLAGS.text is not None
    if FLAGS.text_file and single:
        raise ConfigError("give either --image and --text (one edit) or --text_file (many), not both")
    if FLAGS.text_file:
        _check_output_folder(FLAGS.out)
        return edits_from_text_file(FLAGS.text_file, FLAGS.out, read_now)
    if not single:
        raise ConfigError("give --image and --text (one edit), or --text_file (many); see --help")
    if not FLAGS.image:
        raise ConfigError("--image is required with --text: the image file to edit")
    if FLAGS.text is None:
        raise ConfigError("--text is required with --image: the caption (CoSaL: 9 sentences separated by '.', "
                          "';' or new lines)")
    if not FLAGS.out.lower().endswith(".png"):
        raise ConfigError(f"--out={FLAGS.out} must name a .png file (the class map is written losslessly)")
    _check_output_folder(os.path.dirname(FLAGS.out) or ".")
    sentences, tokens = _encoded(FLAGS.text, read_now)
    return [Edit(FLAGS.image, FLAGS.text, sentences, tokens, FLAGS.out)]


def _check_output_folder(folder: str) -> None:
    """`DataError` unless `folder` is an existing folder this process may write to."""
    if not os.path.isdir(folder):
        raise DataError(f"the output folder {folder} does not exist" if not os.path.exists(folder) else
                        f"the output folder {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DataError(f"the output folder {folder} is not writable")


def segment(model, image: np.ndarray, tokens: np.ndarray) -> dict:
    """Runs the segmenter on one image of any size, with the serving graph's preprocessing.

    Args:
        model: a `LanguageSegmenter` or an `ExportedSegmenter`.
        image: uint8 `[H, W, 3]`, as `read_image_file` decodes it.
        tokens: int32 `[sentences, words]`.

    Returns:
        dict of numpy arrays: `model_input` uint8 `[S, S, 3]` (the image resized to the model's size S),
        `labels` uint8 `[S, S]` (predicted classes), `labels_at_image_size` uint8 `[H, W]`, `stop_step` int
        `[m, n]` (0-based), `attention` `[T, M, N, sentences]`.
    """
    import keras

    from lbie_tf.serving.image_preprocessing import model_input, resize_class_maps

    pixels = model_input(image, model.image_size)
    inputs = {"image": pixels[None], "tokens": np.asarray(tokens, np.int32)[None]}
    model.check_inputs(inputs)
    outputs = {key: keras.ops.convert_to_numpy(value)[0] for key, value in model(inputs).items()}
    labels = np.argmax(outputs["logits"], axis=-1).astype(np.int32)
    at_image_size = resize_class_maps(labels[None], [image.shape[:2]])[0]
    return {"model_input": pixels.numpy().astype(np.uint8), "labels": labels.astype(np.uint8),
            "labels_at_image_size": at_image_size.numpy().astype(np.uint8),
            "stop_step": outputs["stop_step"], "attention": outputs["attention"]}


def colorize(model, image: np.ndarray, ids: np.ndarray) -> dict:
    """Runs the colorizer on one image of any size, with the serving graph's pre- and post-processing
    (`colorizer_inputs`).

    Args:
        model: a `LanguageColorizer` or an `ExportedColorizer` (CoSaL or Flowers).
        image: uint8 `[H, W, 3]`, as `read_image_file` decodes it (grey or colour).
        ids: int32 `[words]`, the generator's word ids of the caption (`model_caption`).

    Returns:
        dict of numpy arrays: `model_input` uint8 `[S, S, 3]`, `gray` uint8 `[S, S, 3]` (the lightness the model
        sees, as grey), `result` uint8 `[S, S, 3]` (colourised at the model's size), `result_at_image_size`
        uint8 `[H, W, 3]`, `attention` `[T, S/4, S/4, words]` over the caption's words; and `words`, those
        words (CoSaL: 27 vocabulary tokens).
    """
    import keras

    from lbie_tf.serving.colorization_pixels import colourise, gray_input
    from lbie_tf.serving.colorizer_inputs import colorizer_inputs

    inputs = colorizer_inputs(model)
    pixels = inputs.pixels(image)
    outputs = model({"gray": gray_input(pixels)[None], "tokens": np.asarray(ids, np.int32)[None]})
    ab = keras.ops.convert_to_numpy(outputs["ab"])[0]
    resized = np.round(pixels.numpy()).astype(np.uint8)
    return {"model_input": resized, "gray": colourise(resized, np.zeros_like(ab)).numpy(),
            "result": colourise(resized, ab).numpy(), "result_at_image_size": colourise(image, ab).numpy(),
            "attention": keras.ops.convert_to_numpy(outputs["attention"])[0], "words": inputs.words_of(ids)}


def model_caption(model, edit: Edit) -> tuple[list[str], np.ndarray]:
    """An edit's caption as `model` reads it: its sentences (for `--explain`; a Flowers caption is one) and
    its ids (a segmenter: CoSaL tokens int32 `[9, 3]`; a colorizer: the generator's word ids int32 `[words]`).
    A Flowers colorizer's caption is read by its exported graph's tokenizer (`FlowersCaptionTokenizer`, run
    eagerly); every refusal is a one-line `DataError`."""
    from lbie_tf.serving.colorizer_inputs import FlowersInputs, colorizer_inputs
    from lbie_tf.serving.loading import COLORIZER, model_kind
    from lbie_tf.tasks.cosal_colorization import caption_ids

    colorizer = model_kind(model) == COLORIZER
    inputs = colorizer_inputs(model) if colorizer else None
    if isinstance(inputs, FlowersInputs):
        import tensorflow as tf

        from lbie_tf.serving.graph_checks import error_line

        try:
            ids = inputs.ids(tf.constant([edit.caption.encode("utf-8", "surrogateescape")]))
        except tf.errors.InvalidArgumentError as error:
            raise DataError(error_line(error)) from None
        return [edit.caption], ids.numpy()[0]
    sentences, tokens = (edit.sentences, edit.tokens) if edit.tokens is not None else encode_text(edit.caption)
    return sentences, caption_ids(tokens).numpy() if colorizer else tokens


def _write_png(path: str, image: np.ndarray) -> str:
    try:
        Image.fromarray(image).save(path, format="PNG")
    except OSError as error:
        raise DataError(f"cannot write {path}: {error.strerror or error}") from None
    return path


def write_outputs(model, edit: Edit, image: np.ndarray, explain: bool) -> list[str]:
    """Segments or colourises one edit's image (uint8 `[H, W, 3]`), as `model`'s kind is, and writes its
    outputs; returns the paths written."""
    from lbie_tf.serving.loading import COLORIZER, model_kind

    if model_kind(model) == COLORIZER:
        sentences, ids = model_caption(model, edit)
        result = colorize(model, image, ids)
        written = [_write_png(edit.out_path, result["result_at_image_size"])]
        if explain:
            written.append(colorization_explain_figure(edit.sibling("_explain"), result, sentences))
        return written
    sentences, tokens = model_caption(model, edit)
    result = segment(model, image, tokens)
    labels = result["labels_at_image_size"]
    palette = cosal_vocabulary.RGB_PALETTE
    written = [_write_png(edit.out_path, colorize_labels(labels, palette)),
               _write_png(edit.sibling("_overlay"), overlay(image, labels, palette))]
    if explain:  # the folder exists and is writable: the class map was just written there
        written.append(explain_figure(edit.sibling("_explain"), result, sentences))
    return written


def load_model(model_dir: str | None = None, saved_model: str | None = None, pretrained: str | None = None):
    """The segmenter or colorizer `lbie-edit` (and `lbie-demo`) runs, from at most one source (`--model_dir`,
    `--saved_model`, a shipped model's name; none: the shipped default segmenter); a one-line error for a model
    `lbie-edit` cannot run."""
    from lbie_tf.serving.loading import load_model as load_any_model
    from lbie_tf.serving.signatures import check_servable

    model = load_any_model(model_dir, saved_model, pretrained)
    if not saved_model:  # an lbie-export SavedModel was checked when it was written
        check_servable(model)
    return model


def _main(argv: list[str]) -> None:
    FLAGS.unparse_flags()
    extra = FLAGS(argv)[1:]
    if extra:
        raise ConfigError(f"unexpected arguments {extra}; give the caption with --text=\"...\"")
    edits = edits_from_flags()
    model = None
    for edit in edits:
        with _located(edit.where):
            image = read_image_file(edit.image_path)
        if model is None:  # after the first image is read: a bad image fails before the model is loaded
            model = load_model(FLAGS.model_dir, FLAGS.saved_model, FLAGS.pretrained)
        with _located(edit.where):
            written = write_outputs(model, edit, image, FLAGS.explain)
        print(f"{edit.image_path}: wrote {', '.join(written)}")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit status (0, or 2 after one `error: ...` line on stderr).

    Args:
        argv: the command line, program name first (default: `sys.argv`).
    """
    return exit_status(_main, sys.argv if argv is None else argv, FLAGS)


if __name__ == "__main__":
    sys.exit(main())
