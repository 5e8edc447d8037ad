"""`lbie-edit` end to end on generated CoSaL sketches (with a small untrained model in place of the pretrained
one), and every mistake a user can make ends with one `error: ...` line on stderr and exit status 2."""

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from lbie_tf import pretrained
from lbie_tf.cli import edit
from lbie_tf.configs import ColorizerConfig, SegmenterConfig
from lbie_tf.data import cosal, cosal_vocabulary
from lbie_tf.models.colorizer import build_colorizer
from lbie_tf.models.segmenter import build_segmenter
from lbie_tf.serving import captions, colorization_pixels
from lbie_tf.tasks import cosal_colorization
from lbie_tf.training.checkpoints import AtomicCheckpointManager, write_run_config
from lbie_tf.visualization import edit_figures
from tests.serving.image_fixtures import encoded, header_only_png

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOOD = "circle is red; " * 9


@pytest.fixture(scope="module")
def model():
    return build_segmenter(SegmenterConfig(steps=2))


@pytest.fixture(autouse=True)
def pretrained_is_small_model(monkeypatch, model):
    monkeypatch.setattr(pretrained, "load_pretrained", lambda *args, **kwargs: (model, {}))


@pytest.fixture(scope="module")
def example():
    """One CoSaL test example: (sketch uint8 [48, 48, 3], caption text of 9 sentences)."""
    batch = next(iter(cosal.test_dataset(cosal.CosalConfig(), 1)))
    sentences = cosal_vocabulary.decode_caption(batch["tokens"][0].numpy())
    return batch["sketch"][0].numpy(), ". ".join(sentences) + "."


def _write(path, pixels):
    Image.fromarray(pixels).save(path)
    return str(path)


def _read(path):
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _edit(*args):
    return edit.main(["lbie-edit", *args])


def test_edit_writes_result_overlay_and_explanation(tmp_path, example):
    sketch, caption = example
    image = _write(tmp_path / "sketch.png", sketch)
    (tmp_path / "out").mkdir()
    out = str(tmp_path / "out" / "result.png")
    assert _edit(f"--image={image}", f"--text={caption}", f"--out={out}", "--explain") == 0
    result, overlay = _read(out), _read(str(tmp_path / "out" / "result_overlay.png"))
    assert result.shape == overlay.shape == sketch.shape
    palette = {tuple(c) for c in cosal_vocabulary.RGB_PALETTE}
    assert {tuple(c) for c in result.reshape(-1, 3)} <= palette
    background = np.all(result == 255, axis=-1)
    np.testing.assert_array_equal(overlay[background], sketch[background])
    figure = _read(str(tmp_path / "out" / "result_explain.png"))
    assert figure.shape[1] > 6 * edit_figures.FIGURE_PANEL_SIZE  # input, result, stop step, 2 steps, sentence key


def test_any_size_and_mode_maps_back_to_the_input_size(tmp_path):
    rgba = np.zeros((70, 100, 4), np.uint8)
    rgba[10:40, 20:60] = (0, 0, 0, 255)
    out = str(tmp_path / "result.png")
    assert _edit(f"--image={_write(tmp_path / 'photo.png', rgba)}", f"--text={GOOD}", f"--out={out}") == 0
    assert _read(out).shape == (70, 100, 3)
    assert _read(str(tmp_path / "result_overlay.png")).shape == (70, 100, 3)


def test_one_pixel_image(tmp_path):
    out = str(tmp_path / "result.png")
    image = _write(tmp_path / "dot.png", np.zeros((1, 1, 3), np.uint8))
    assert _edit(f"--image={image}", f"--text={GOOD}", f"--out={out}") == 0
    assert _read(out).shape == (1, 1, 3)


def test_text_file_with_two_pairs(tmp_path, example, capsys):
    sketch, caption = example
    folder = tmp_path / "inputs"
    (folder / "images").mkdir(parents=True)
    _write(folder / "images" / "a.png", sketch)
    _write(folder / "b.jpg", sketch)
    text_file = folder / "pairs.txt"
    text_file.write_text(f"# image:caption\n\nimages/a.png:{caption}\n  b.jpg : {GOOD}\n")
    out = tmp_path / "results"
    out.mkdir()
    assert _edit(f"--text_file={text_file}", f"--out={out}", "--explain") == 0
    assert sorted(os.listdir(out)) == ["a_line3.png", "a_line3_explain.png", "a_line3_overlay.png",
                                       "b_line4.png", "b_line4_explain.png", "b_line4_overlay.png"]
    assert len(capsys.readouterr().out.strip().splitlines()) == 2


def test_model_dir_is_used(tmp_path, monkeypatch, model):
    from lbie_tf.serving import loading

    asked = []
    monkeypatch.setattr(loading, "load_trained_model", lambda d: asked.append(d) or (model, 1))
    image = _write(tmp_path / "x.png", np.zeros((48, 48, 3), np.uint8))
    assert _edit("--model_dir=runs/t", f"--image={image}", f"--text={GOOD}", f"--out={tmp_path}/r.png") == 0
    assert asked == ["runs/t"]


def test_saved_model_gives_the_keras_result(tmp_path, example, model):
    from lbie_tf.serving.export import export_model

    sketch, caption = example
    image = _write(tmp_path / "sketch.png", sketch)
    exported = export_model(model, str(tmp_path / "export"))
    assert _edit(f"--saved_model={exported}", f"--image={image}", f"--text={caption}",
                 f"--out={tmp_path}/served.png") == 0
    assert _edit(f"--image={image}", f"--text={caption}", f"--out={tmp_path}/keras.png") == 0
    served = np.asarray(Image.open(tmp_path / "served.png"))
    np.testing.assert_array_equal(served, np.asarray(Image.open(tmp_path / "keras.png")))
    assert _edit(f"--saved_model={tmp_path}", f"--image={image}", f"--text={caption}",
                 f"--out={tmp_path}/x.png") == 2
    assert _edit(f"--saved_model={exported}", "--model_dir=runs/x", f"--image={image}", f"--text={caption}",
                 f"--out={tmp_path}/x.png") == 2


@pytest.mark.skipif(not pretrained.available(), reason="no pretrained model shipped yet")
def test_default_model_is_the_shipped_one(tmp_path, monkeypatch, example):
    monkeypatch.undo()  # the real load_pretrained
    sketch, caption = example
    image = _write(tmp_path / "sketch.png", sketch)
    assert _edit(f"--image={image}", f"--text={caption}", f"--out={tmp_path}/r.png") == 0
    assert _read(str(tmp_path / "r.png")).shape == sketch.shape


def test_pretrained_picks_a_shipped_model_by_name(tmp_path, monkeypatch, example, capsys):
    monkeypatch.undo()  # the real load_pretrained_segmenter
    sketch, caption = example
    image = _write(tmp_path / "sketch.png", sketch)
    truth = next(iter(cosal.test_dataset(cosal.CosalConfig(), 1)))["rgb"][0].numpy()
    accuracy = {}
    for name in ("cosal_best", "cosal_paper_t4"):
        assert _edit(f"--image={image}", f"--text={caption}", f"--out={tmp_path}/{name}.png",
                     f"--pretrained={name}") == 0
        accuracy[name] = np.mean(np.all(_read(str(tmp_path / f"{name}.png")) == truth, axis=-1))
    assert accuracy["cosal_best"] > 0.99 and accuracy["cosal_paper_t4"] < accuracy["cosal_best"]
    assert _edit(f"--image={image}", f"--text={caption}", f"--out={tmp_path}/x.png", "--pretrained=nope") == 2
    assert "no pretrained model named 'nope'" in capsys.readouterr().err


def test_animated_gif_is_read_by_its_first_frame(tmp_path):
    frames = [Image.fromarray(np.full((30, 20, 3), value, np.uint8)).convert("P") for value in (0, 255, 0)]
    (tmp_path / "a.gif").write_bytes(encoded(frames[0], "GIF", save_all=True, append_images=frames[1:]))
    (tmp_path / "black.png").write_bytes(encoded(Image.fromarray(np.zeros((30, 20, 3), np.uint8))))
    for name in ("a.gif", "black.png"):
        assert _edit(f"--image={tmp_path / name}", f"--text={GOOD}", f"--out={tmp_path / name}.png") == 0
    np.testing.assert_array_equal(_read(str(tmp_path / "a.gif.png")), _read(str(tmp_path / "black.png.png")))


def test_read_only_output_folder(tmp_path, capsys):
    image = _write(tmp_path / "x.png", np.zeros((8, 8, 3), np.uint8))
    if os.geteuid() == 0:  # root writes through file modes; sysfs refuses new files even to root
        if not os.path.isdir("/sys"):
            pytest.skip("running as root without /sys: no folder this process cannot write to")
        folder = "/sys"
    else:
        folder = tmp_path / "read_only"
        folder.mkdir()
        folder.chmod(0o555)
    assert _edit(f"--image={image}", f"--text={GOOD}", f"--out={folder}/r.png") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and folder.__str__() in lines[0], lines


def test_help(capsys):
    assert _edit("--help") == 0
    out = capsys.readouterr().out
    assert "--text_file" in out and "--flagfile" not in out and out.startswith("`lbie-edit`")


@pytest.fixture(scope="module")
def broken_runs(tmp_path_factory, model):
    """Training runs lbie-edit must refuse: {"corrupt_run": truncated checkpoint, "words_run": a model that
    reads ReferIt word sequences, not CoSaL captions}."""
    root = tmp_path_factory.mktemp("runs")
    words = build_segmenter(dataclasses.replace(model.config, text_encoder="words", word_embedding_dim=8), 1, 5)
    for name, run_model, sentences, words_per_sentence in (("corrupt_run", model, 9, 3), ("words_run", words, 1, 5)):
        write_run_config(str(root / name), {"model": run_model.config.to_dict(), "sentences": sentences,
                                            "words": words_per_sentence})
        AtomicCheckpointManager(tf.train.Checkpoint(model=run_model), str(root / name)).save(1)
    data_file = root / "corrupt_run" / "ckpt-1" / "ckpt.data-00000-of-00001"
    data_file.write_bytes(data_file.read_bytes()[:100])
    return {name: str(root / name) for name in ("corrupt_run", "words_run")}


def _bad_files(folder):
    """Broken inputs written into `folder`; returns {name: path}."""
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    truncated = _write(folder / "truncated.png", noise)
    with open(truncated, "rb") as f:
        data = f.read()
    with open(truncated, "wb") as f:
        f.write(data[: len(data) // 2])
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.png").write_text("circle is red\n")
    (folder / "ok.png").write_bytes(open(_write(folder / "tmp.png", noise), "rb").read())
    (folder / "bomb.png").write_bytes(header_only_png(100_000, 100_000))
    (folder / "scan.tiff").write_bytes(encoded(Image.fromarray(noise), "TIFF"))
    (folder / "bad_line.txt").write_text(f"ok.png:{GOOD}\nno colon here\n")
    (folder / "bad_word.txt").write_text(f"# comment\nok.png:{GOOD.replace('red', 'purple', 1)}\n")
    (folder / "comments.txt").write_text("# nothing\n\n")
    (folder / "latin1.txt").write_bytes(f"ok.png:{GOOD}".replace("red", "r\xe9d", 1).encode("latin-1"))
    os.mkfifo(folder / "fifo")  # opening it for reading would block until a writer comes
    (folder / "images").mkdir()
    return {"truncated": truncated, "empty": str(folder / "empty.png"), "notes": str(folder / "notes.png"),
            "ok": str(folder / "ok.png"), "missing": str(folder / "missing.png"), "bomb": str(folder / "bomb.png"),
            "tiff": str(folder / "scan.tiff"), "bad_line": str(folder / "bad_line.txt"),
            "bad_word": str(folder / "bad_word.txt"), "comments": str(folder / "comments.txt"),
            "latin1": str(folder / "latin1.txt"), "fifo": str(folder / "fifo"), "images": str(folder / "images"),
            "folder": str(folder)}


@pytest.mark.parametrize("args, message", [
    (["--image={missing}", f"--text={GOOD}", "--out={out}"], "image file not found"),
    (["--image={empty}", f"--text={GOOD}", "--out={out}"], "is empty (0 bytes)"),
    (["--image={notes}", f"--text={GOOD}", "--out={out}"], "is not a PNG, JPEG, GIF or BMP image"),
    (["--image={truncated}", f"--text={GOOD}", "--out={out}"], "truncated.png: Invalid PNG data"),
    (["--image={images}", f"--text={GOOD}", "--out={out}"], "images is a directory"),
    (["--image={fifo}", f"--text={GOOD}", "--out={out}"], "is not a regular file (a FIFO, socket or device)"),
    (["--image={bomb}", f"--text={GOOD}", "--out={out}"], "bomb.png is too large; the limit is 40 megapixels"),
    (["--image={tiff}", f"--text={GOOD}", "--out={out}"], "is a TIFF image"),
    (["--image={ok}", "--text=" + GOOD.replace("red", "purple"), "--out={out}"], "unknown word(s) 'purple'"),
    (["--image={ok}", "--text=" + GOOD.replace("red", "r\udce9d", 1), "--out={out}"],
     "the caption is not UTF-8 text"),  # how Python hands over a command-line byte that is not UTF-8
    (["--image={ok}", "--text=" + "circle is red. " * 8, "--out={out}"], "has 8 sentence(s)"),
    (["--image={ok}", "--text=" + GOOD.replace("red", "red blue", 1), "--out={out}"], "exactly 3 tokens"),
    (["--image={ok}", "--text= . ; ", "--out={out}"], "the caption is empty"),
    (["--image={ok}", "--text=", "--out={out}"], "the caption is empty"),
    ([f"--text={GOOD}", "--out={out}"], "--image is required"),
    (["--image={ok}", "--out={out}"], "--text is required"),
    (["--out={out}"], "give --image and --text"),
    (["--image={ok}", f"--text={GOOD}"], "--out is required"),
    (["--image={ok}", f"--text={GOOD}", "--out=result.jpg"], "must name a .png file"),
    (["--image={ok}", f"--text={GOOD}", "--out={folder}/missing/r.png"], "missing does not exist"),
    (["--image={ok}", f"--text={GOOD}", "--out={ok}/r.png"], "ok.png is not a folder"),
    (["--image={ok}", "--text_file={bad_line}", "--out={folder}"], "not both"),
    (["--text_file={bad_line}", "--out={folder}"], "bad_line.txt:2: expected 'image_path:caption'"),
    (["--text_file={bad_word}", "--out={folder}"], "bad_word.txt:2: unknown word(s) 'purple'"),
    (["--text_file={comments}", "--out={folder}"], "holds no 'image_path:caption' lines"),
    (["--text_file={missing}", "--out={folder}"], "--text_file not found"),
    (["--text_file={fifo}", "--out={folder}"], "fifo is not a regular file"),
    (["--text_file={images}", "--out={folder}"], "images is a directory"),
    (["--text_file={latin1}", "--out={folder}"], "latin1.txt is not UTF-8 text (byte 0xe9 at offset"),
    (["--text_file={bad_line}", "--out={folder}/missing"], "the output folder"),
    (["--image={ok}", f"--text={GOOD}", "--out={out}", "--model_dir={missing}"], "holds no trained model"),
    (["--image={ok}", f"--text={GOOD}", "--out={out}", "--model_dir={corrupt_run}"],
     "corrupt_run holds checkpoint files but none can be read"),
    (["--image={ok}", f"--text={GOOD}", "--out={out}", "--model_dir={words_run}"],
     "this model cannot be served or edited with: it reads words text"),
    (["--image={ok}", f"--text={GOOD}", "--out={out}", "--colour=red"], "Unknown command line flag 'colour'"),
    (["--image={ok}", f"--text={GOOD}", "--out={out}", "--explain=maybe"], "--explain"),
    (["--image={ok}", "--out={out}", "circle", "is", "red"], "unexpected arguments"),
])
def test_user_errors_are_one_line_with_status_2(tmp_path, capsys, broken_runs, args, message):
    paths = {**_bad_files(tmp_path), **broken_runs, "out": str(tmp_path / "out.png")}
    assert _edit(*(arg.format(**paths) for arg in args)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert message in lines[0]


@pytest.mark.parametrize("args, message", [
    (["--image={tmp}/x.png", "--text=circle is purple"], "error: unknown word(s) 'purple'"),
    (["--image={tmp}/x.png", f"--text={GOOD}"], "error: image file not found"),  # read before the model
])
def test_module_entry_point_in_a_subprocess(tmp_path, args, message):
    result = subprocess.run(
        [sys.executable, "-m", "lbie_tf.cli.edit", *(arg.format(tmp=tmp_path) for arg in args),
         f"--out={tmp_path}/r.png"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(message)


def test_caption_separators():
    assert captions.split_caption("circle is red.\ntriangle is blue ;; \n\n diamond is grey. ") == [
        "circle is red", "triangle is blue", "diamond is grey"]


def test_explanation_of_a_model_without_attention(tmp_path, monkeypatch):
    plain = build_segmenter(SegmenterConfig(steps=1, attention=False))
    monkeypatch.setattr(pretrained, "load_pretrained", lambda *args, **kwargs: (plain, {}))
    image = _write(tmp_path / "x.png", np.zeros((48, 48, 3), np.uint8))
    assert _edit(f"--image={image}", f"--text={GOOD}", f"--out={tmp_path}/r.png", "--explain") == 0
    figure = _read(str(tmp_path / "r_explain.png"))
    assert figure.shape[1] < 4 * edit_figures.FIGURE_PANEL_SIZE  # input, result and stop step only


# ------------------------------------------------------------------------------------------------------------
# Colorization: a run folder whose model_config.json describes a generator is run as a colorizer.


@pytest.fixture(scope="module")
def colorization_runs(tmp_path_factory):
    """`{"run": a colorization run, "corrupt_run": one with a truncated checkpoint}` of a small generator with
    random weights, and the generator itself."""
    tf.keras.utils.set_random_seed(5)
    generator = build_colorizer(ColorizerConfig(
        filters=8, vocab_size=cosal_colorization.VOCAB_SIZE, word_embedding_dim=16, text_units=16,
        attention_units=16, fusion_units=32, steps=2, batch_norm=False, initializer="he"))
    root = tmp_path_factory.mktemp("colorization_runs")
    for name in ("run", "corrupt_run"):
        write_run_config(str(root / name), {"generator": generator.config.to_dict()})
        AtomicCheckpointManager(tf.train.Checkpoint(generator=generator), str(root / name)).save(1)
    data_file = root / "corrupt_run" / "ckpt-1" / "ckpt.data-00000-of-00001"
    data_file.write_bytes(data_file.read_bytes()[:100])
    return {"run": str(root / "run"), "corrupt_run": str(root / "corrupt_run"), "generator": generator}


def test_colorization_run_writes_the_colourised_image_and_explanation(tmp_path, example, colorization_runs):
    sketch, caption = example
    grey = np.asarray(Image.fromarray(sketch).convert("L").resize((100, 60)))
    image = _write(tmp_path / "grey.png", grey)
    assert _edit(f"--model_dir={colorization_runs['run']}", f"--image={image}", f"--text={caption}",
                 f"--out={tmp_path}/r.png", "--explain") == 0
    assert sorted(os.listdir(tmp_path)) == ["grey.png", "r.png", "r_explain.png"]
    result = _read(str(tmp_path / "r.png"))
    assert result.shape == (60, 100, 3)
    generator = colorization_runs["generator"]
    from lbie_tf.serving.image_preprocessing import model_input

    rgb = np.repeat(grey[..., None], 3, axis=-1)
    tokens = cosal_colorization.caption_ids(cosal_vocabulary.encode_caption(captions.split_caption(caption)))
    ab = generator({"gray": colorization_pixels.gray_input(model_input(rgb, 48))[None], "tokens": tokens[None]})["ab"]
    np.testing.assert_array_equal(result, colorization_pixels.colourise(rgb, ab[0]).numpy())
    assert np.std(result.astype(float), axis=-1).mean() > 1  # colours added to the grey input
    figure = _read(str(tmp_path / "r_explain.png"))
    assert figure.shape[1] > 5 * edit_figures.FIGURE_PANEL_SIZE  # input, lightness, result, 2 steps, key


def test_shipped_colorizer_colours_the_shapes_as_the_caption_says(tmp_path, monkeypatch):
    """The shipped `cosal_colorization` through `--pretrained`: the shapes of a CoSaL test sketch, given as a
    grey image, come out in the caption's colours (nearest palette colour of the predicted ab). The caption has
    9 direct sentences ("shape is colour"), as the preset trains (`--num_direct=9`)."""
    from lbie_tf.data import color_space

    monkeypatch.undo()
    batch = next(iter(cosal_colorization.test_batches(cosal.CosalConfig(num_direct=9, test_size=1), 1)))
    gray = batch["gray"][0].numpy()  # L/50 − 1 of the isoluminant picture: the silhouettes only
    grey_rgb = color_space.lab_to_rgb(color_space.denormalize_lab(np.concatenate([gray, 0 * gray, 0 * gray], -1)))
    image = _write(tmp_path / "grey.png", np.round(grey_rgb.numpy() * 255).astype(np.uint8))
    caption = ". ".join(cosal_vocabulary.decode_caption(batch["sentence_tokens"][0].numpy()))
    assert _edit("--pretrained=cosal_colorization", f"--image={image}", f"--text={caption}",
                 f"--out={tmp_path}/r.png") == 0
    lab = color_space.normalize_lab(color_space.rgb_to_lab(_read(str(tmp_path / "r.png")) / 255.0)).numpy()
    labels = batch["labels"][0].numpy()
    predicted = cosal_colorization.nearest_palette_colour(lab[..., 1:])
    assert np.mean(predicted[labels > 0] == labels[labels > 0] - 1) > 0.8


@pytest.mark.parametrize("args, message", [
    (["--image={empty}"], "is empty (0 bytes)"),
    (["--image={truncated}"], "truncated.png: Invalid PNG data"),
    (["--image={notes}"], "is not a PNG, JPEG, GIF or BMP image"),
    (["--image={images}"], "images is a directory"),
    (["--image={fifo}"], "is not a regular file (a FIFO, socket or device)"),
    (["--image={bomb}"], "bomb.png is too large; the limit is 40 megapixels"),
    (["--image={ok}", "--text=" + GOOD.replace("red", "r\udce9d", 1)], "the caption is not UTF-8 text"),
    (["--image={ok}", "--out={folder}/missing/r.png"], "missing does not exist"),
    (["--image={ok}", "--model_dir={corrupt_run}"], "corrupt_run holds checkpoint files but none can be read"),
    (["--image={ok}", "--model_dir={run}", "--saved_model={run}"], "give one of"),
    (["--image={ok}", "--pretrained=nope"], "no pretrained model named 'nope'"),
])
def test_colorization_user_errors_are_one_line_with_status_2(tmp_path, capsys, monkeypatch, colorization_runs, args,
                                                            message):
    monkeypatch.undo()  # the real shipped models
    paths = {**_bad_files(tmp_path), **colorization_runs, "out": str(tmp_path / "out.png")}
    defaults = {"--model_dir": "--model_dir={run}", "--text": f"--text={GOOD}", "--out": "--out={out}"}
    given = {arg.split("=", 1)[0] for arg in args}
    args = args + [value for flag, value in defaults.items()
                   if flag not in given and not (flag == "--model_dir" and "--pretrained" in given)]
    assert _edit(*(arg.format(**paths) for arg in args)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert message in lines[0]
