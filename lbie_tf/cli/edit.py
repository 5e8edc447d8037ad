"""`lbie-edit`: segment an image by a CoSaL caption with a trained language-based segmenter.

    lbie-edit --image=sketch.png --text="circle is red. triangle is blue; ..." --out=result.png
    lbie-edit --text_file=pairs.txt --out=results/ --explain
    lbie-edit --model_dir=runs/cosal_t4 --image=sketch.png --text="..." --out=result.png
    lbie-edit --saved_model=export/lbie/1 --image=sketch.png --text="..." --out=result.png
    python -m lbie_tf.cli.edit ...                        # the same

Inputs:
- `--image`: any image file `lbie_tf.images.read_image` reads (PNG, JPEG, BMP, GIF, any size up to
  `lbie_tf.images.MAX_PIXELS`); it is squashed to the model's square input (48 × 48 for CoSaL) and the result
  is mapped back to the image's own size.
- `--text`: the caption, 9 sentences separated by ".", ";" or new lines, each of 3 vocabulary tokens
  (`shape is colour` or `colour relation shape`). The CoSaL vocabulary is closed (20 tokens, no unknown-word
  id): a word outside it is an error that names the word and lists the vocabulary.
- `--text_file`: many edits, one `image_path:caption` per line (as the released code's generate_image.py
  read them). The line is split at its last ":" (so the caption may not hold one); a relative image path is
  read from the text file's folder; blank lines and lines starting with "#" are skipped.

Outputs (PNG), for `--out=result.png` (one edit) or, with `--text_file`, for
`<out folder>/<image stem>_line<N>.png` (N: the line of the text file):
- `result.png`: the predicted class map in the CoSaL colours (`RGB_PALETTE`; white = background), at the
  input image's size (nearest-neighbour).
- `result_overlay.png`: the class colours blended over the input image where the class is not background.
- `result_explain.png` (with `--explain`): the input and result as the model sees them, the stop step of each
  region, and per fusion step the sentence each region attends to most (a colour per sentence, keyed in the
  "sentences" panel).

Edits run in order; the model is loaded once, after the first image is read. The first error stops the run
(outputs already written stay). Exit status 0 on success; a mistake a user can fix (a flag, a missing or broken image, an unknown word, a
caption of the wrong length, a bad `--text_file` line) prints one line `error: ...` on stderr and exits with 2.

The flags live in their own `FlagValues` (not absl's global `FLAGS`), so this module can be imported next to
the other entry points, which define `--model_dir` too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import flags  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

from lbie_tf.cli import exit_status  # noqa: E402
from lbie_tf.data import cosal_vocabulary  # noqa: E402
from lbie_tf.errors import ConfigError, DataError, LbieError  # noqa: E402
from lbie_tf.images import read_image, resize_labels, resize_to  # noqa: E402
from lbie_tf.visualize import colorize_labels, save_example_figure, stop_step_image  # noqa: E402

FLAGS = flags.FlagValues()
flags.DEFINE_string("model_dir", None, "A train_segmentation.py --model_dir to use (its latest checkpoint); "
                    "default: the pretrained model shipped with the package.", flag_values=FLAGS)
flags.DEFINE_string("saved_model", None, "Instead of --model_dir: a SavedModel version folder written by "
                    "lbie-export (<export_dir>/<version>).", flag_values=FLAGS)
flags.DEFINE_string("image", None, "The image to edit (with --text).", flag_values=FLAGS)
flags.DEFINE_string("text", None, "The caption: 9 sentences separated by '.', ';' or new lines.",
                    flag_values=FLAGS)
flags.DEFINE_string("text_file", None, "Many edits: one 'image_path:caption' per line (relative paths are "
                    "read from the file's folder; blank lines and '#' comments are skipped).", flag_values=FLAGS)
flags.DEFINE_string("out", None, "Output .png for --image/--text, or output folder for --text_file.",
                    flag_values=FLAGS)
flags.DEFINE_bool("explain", False, "Also write <out stem>_explain.png: per-step attention and stop steps.",
                  flag_values=FLAGS)
flags.DEFINE_bool("help", False, "Show this help and exit.", short_name="h", flag_values=FLAGS)

OVERLAY_ALPHA = 0.6  # weight of the class colour where the overlay is painted
FIGURE_PANEL_SIZE = 192  # side of each square panel of the --explain figure, in pixels
# Colour of each sentence index in the --explain attention panels (Tableau 10 without its grey).
SENTENCE_COLORS = np.array([
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207),
], np.uint8)
_KEY_ROW = 20  # pixels per sentence in the key panel
_FRAME = 160  # grey level of the frame drawn around the input and result panels


@dataclasses.dataclass(frozen=True)
class Edit:
    """One image + caption to segment, and where its outputs go.

    Attributes:
        image_path: the input image file.
        sentences: the caption's sentences (CoSaL: 9).
        tokens: int32 `[sentences, words]`, the encoded caption.
        out_path: the class-map PNG; the overlay and explanation are written beside it.
        where: where the pair came from, prefixed to its error messages ("" for --image/--text).
    """

    image_path: str
    sentences: list[str]
    tokens: np.ndarray
    out_path: str
    where: str = ""

    def sibling(self, suffix: str) -> str:
        """`out_path` with `suffix` before its extension, e.g. `result_overlay.png`."""
        return f"{os.path.splitext(self.out_path)[0]}{suffix}.png"


def split_caption(text: str) -> list[str]:
    """The sentences of a caption: split at ".", ";" and new lines, stripped, empty pieces dropped."""
    return [piece.strip() for piece in re.split(r"[.;\n]+", text) if piece.strip()]


def encode_text(text: str) -> tuple[list[str], np.ndarray]:
    """Sentences and token ids (int32 `[9, 3]`) of a CoSaL caption; `DataError` names what is wrong."""
    sentences = split_caption(text)
    if not sentences:
        raise DataError(f"the caption is empty; give {cosal_vocabulary.SENTENCES_PER_CAPTION} sentences "
                        f"separated by '.', ';' or new lines")
    tokens = cosal_vocabulary.encode_caption(sentences)  # unknown words first: the most telling error
    if len(sentences) != cosal_vocabulary.SENTENCES_PER_CAPTION:
        raise DataError(f"the caption has {len(sentences)} sentence(s); CoSaL captions have exactly "
                        f"{cosal_vocabulary.SENTENCES_PER_CAPTION}, separated by '.', ';' or new lines")
    return sentences, tokens


@contextlib.contextmanager
def _located(where: str):
    """Prefixes `where` to the message of a user error raised inside the block."""
    try:
        yield
    except LbieError as error:
        if not where:
            raise
        raise DataError(f"{where}: {error}") from None


def edits_from_text_file(path: str, out_dir: str) -> list[Edit]:
    """The edits listed in a text file of `image_path:caption` lines (see the module docstring)."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise DataError(f"--text_file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"cannot read --text_file {path}: {error}") from None
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
            sentences, tokens = encode_text(caption)
        image_path = os.path.join(folder, image.strip())
        stem = os.path.splitext(os.path.basename(image_path))[0]
        edits.append(Edit(image_path, sentences, tokens, os.path.join(out_dir, f"{stem}_line{number}.png"), where))
    if not edits:
        raise DataError(f"--text_file {path} holds no 'image_path:caption' lines")
    return edits


def edits_from_flags() -> list[Edit]:
    """The edits the flags ask for; `ConfigError` / `DataError` for missing or conflicting flags."""
    if not FLAGS.out:
        raise ConfigError("--out is required: the output .png (with --image/--text) or folder (--text_file)")
    single = FLAGS.image is not None or FLAGS.text is not None
    if FLAGS.text_file and single:
        raise ConfigError("give either --image and --text (one edit) or --text_file (many), not both")
    if FLAGS.text_file:
        return edits_from_text_file(FLAGS.text_file, FLAGS.out)
    if not single:
        raise ConfigError("give --image and --text (one edit), or --text_file (many); see --help")
    if not FLAGS.image:
        raise ConfigError("--image is required with --text: the image file to edit")
    if FLAGS.text is None:
        raise ConfigError("--text is required with --image: 9 sentences separated by '.', ';' or new lines")
    if not FLAGS.out.lower().endswith(".png"):
        raise ConfigError(f"--out={FLAGS.out} must name a .png file (the class map is written losslessly)")
    sentences, tokens = encode_text(FLAGS.text)
    return [Edit(FLAGS.image, sentences, tokens, FLAGS.out)]


def load_model(model_dir: str | None, saved_model: str | None = None):
    """The `LanguageSegmenter` of a training run's `model_dir`, an exported SavedModel (called the same way),
    or the shipped pretrained model when neither is given."""
    if model_dir and saved_model:
        raise ConfigError("give --model_dir or --saved_model, not both")
    if saved_model:
        from lbie_tf.export import ExportedSegmenter
        return ExportedSegmenter(saved_model)
    if model_dir:
        from lbie_tf.training import segmentation_task
        return segmentation_task.load_trained_segmenter(model_dir)[0]
    from lbie_tf import pretrained
    return pretrained.load_pretrained_segmenter()[0]


def segment(model, image: np.ndarray, tokens: np.ndarray) -> dict:
    """Runs the segmenter on one image of any size.

    Args:
        model: a `LanguageSegmenter` or an `ExportedSegmenter`.
        image: uint8 `[H, W, 3]`.
        tokens: int32 `[sentences, words]`.

    Returns:
        dict of numpy arrays: `model_input` uint8 `[S, S, 3]` (the image resized to the model's size S),
        `labels` uint8 `[S, S]` (predicted classes), `stop_step` int `[m, n]` (0-based),
        `attention` `[T, M, N, sentences]`.
    """
    import keras

    model_input = resize_to(image, model.image_size)
    inputs = {"image": model_input[None].astype(np.float32), "tokens": np.asarray(tokens, np.int32)[None]}
    model.check_inputs(inputs)
    outputs = {key: keras.ops.convert_to_numpy(value)[0] for key, value in model(inputs).items()}
    return {"model_input": model_input, "labels": np.argmax(outputs["logits"], axis=-1).astype(np.uint8),
            "stop_step": outputs["stop_step"], "attention": outputs["attention"]}


def overlay(image: np.ndarray, labels: np.ndarray, palette: np.ndarray, alpha: float = OVERLAY_ALPHA):
    """Blends class colours over an image where the class is not 0 (background).

    Args:
        image: uint8 `[H, W, 3]`.
        labels: int `[H, W]`.
        palette: uint8 `[C, 3]`.
        alpha: weight of the class colour.

    Returns:
        uint8 `[H, W, 3]`.
    """
    blended = np.array(image, np.uint8)
    mask = labels > 0
    colours = palette[labels[mask]].astype(np.float32)
    blended[mask] = np.rint((1 - alpha) * blended[mask] + alpha * colours).astype(np.uint8)
    return blended


def _enlarge(image: np.ndarray, size: int) -> np.ndarray:
    """uint8 `[h, w, 3]` → `[size, size, 3]`, nearest-neighbour (blocks stay blocks)."""
    return np.asarray(Image.fromarray(image).resize((size, size), Image.NEAREST))


def _framed(image: np.ndarray) -> np.ndarray:
    """A copy of uint8 `[h, w, 3]` with a 1-pixel grey border, so that white panels show on the white figure."""
    framed = np.array(image)
    framed[[0, -1], :] = framed[:, [0, -1]] = _FRAME
    return framed


def sentence_key(sentences: list[str]) -> np.ndarray:
    """A key panel: one row per sentence, its `SENTENCE_COLORS` swatch and "k. sentence"; uint8 `[h, w, 3]`."""
    font = ImageFont.load_default()
    labels = [f"{k + 1}. {sentence}" for k, sentence in enumerate(sentences)]
    width = 30 + int(max(font.getlength(label) for label in labels))
    key = Image.new("RGB", (width, _KEY_ROW * len(labels)), (255, 255, 255))
    draw = ImageDraw.Draw(key)
    for k, label in enumerate(labels):
        top = k * _KEY_ROW + 4
        draw.rectangle([2, top, 13, top + 11], fill=tuple(int(v) for v in SENTENCE_COLORS[k]))
        draw.text((20, top), label, fill=(0, 0, 0), font=font)
    return np.asarray(key)


def explain_figure(path: str, result: dict, sentences: list[str]) -> str:
    """Writes the --explain PNG for one `segment` result; returns `path`."""
    size = FIGURE_PANEL_SIZE
    attention = result["attention"]  # [T, M, N, sentences]
    steps = attention.shape[0]
    panels = [("input (model size)", _framed(_enlarge(result["model_input"], size))),
              ("result", _framed(_enlarge(colorize_labels(result["labels"], cosal_vocabulary.RGB_PALETTE), size))),
              ("stop step", stop_step_image(result["stop_step"], steps, size))]
    if np.any(attention):
        attended = np.argmax(attention, axis=-1)  # [T, M, N]
        panels += [(f"step {t + 1}: attended", _enlarge(SENTENCE_COLORS[attended[t]], size)) for t in range(steps)]
        panels.append(("sentences", sentence_key(sentences)))
        lines = ["step panels: each region in the colour of the sentence it attends to most (key: sentences)"]
    else:
        lines = ["this model has no attention (--attention=false): no per-step attention panels"]
    lines.append("stop step: the fusion step at which each region stops (colours as in the step legend)")
    return save_example_figure(path, panels, lines, scale=1, legend_steps=steps)


def _write_png(path: str, image: np.ndarray) -> str:
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        Image.fromarray(image).save(path, format="PNG")
    except OSError as error:
        raise DataError(f"cannot write {path}: {error.strerror or error}") from None
    return path


def write_outputs(model, edit: Edit, image: np.ndarray, explain: bool) -> list[str]:
    """Segments one edit's image (uint8 `[H, W, 3]`) and writes its outputs; returns the paths written."""
    result = segment(model, image, edit.tokens)
    labels = resize_labels(result["labels"], image.shape[0], image.shape[1])
    palette = cosal_vocabulary.RGB_PALETTE
    written = [_write_png(edit.out_path, colorize_labels(labels, palette)),
               _write_png(edit.sibling("_overlay"), overlay(image, labels, palette))]
    if explain:  # the folder exists and is writable: the class map was just written there
        written.append(explain_figure(edit.sibling("_explain"), result, edit.sentences))
    return written


def _main(argv: list[str]) -> None:
    FLAGS.unparse_flags()
    extra = FLAGS(argv)[1:]
    if FLAGS.help:
        print(__doc__ + "\nFlags:\n" + FLAGS.get_help())
        return
    if extra:
        raise ConfigError(f"unexpected arguments {extra}; give the caption with --text=\"...\"")
    edits = edits_from_flags()
    model = None
    for edit in edits:
        with _located(edit.where):
            image = read_image(edit.image_path)
        if model is None:  # after the first image is read: a bad image fails fast, before TensorFlow starts
            model = load_model(FLAGS.model_dir, FLAGS.saved_model)
        with _located(edit.where):
            written = write_outputs(model, edit, image, FLAGS.explain)
        print(f"{edit.image_path}: wrote {', '.join(written)}")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit status (0, or 2 after one `error: ...` line on stderr).

    Args:
        argv: the command line, program name first (default: `sys.argv`).
    """
    return exit_status(_main, sys.argv if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
