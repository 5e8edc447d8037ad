"""The page's handlers without a web server: they follow `lbie-edit`'s path (same class map, same one-line
errors), read sketches and uploads, colourise with a CoSaL colorizer, and `lbie-demo` refuses bad command
lines with one line and exit status 2."""

import socket

import numpy as np
import pytest
from PIL import Image

from lbie_tf import pretrained
from lbie_tf.cli import demo as demo_cli
from lbie_tf.cli import edit
from lbie_tf.cli.cosal_example import write_example
from lbie_tf.configs import ColorizerConfig, SegmenterConfig
from lbie_tf.data import color_space
from lbie_tf.demo import examples, models, page_inputs
from lbie_tf.demo.colorization import colorize_request
from lbie_tf.demo.segmentation import attended_regions, segment_request
from lbie_tf.errors import DataError
from lbie_tf.models.colorizer import build_colorizer
from lbie_tf.models.segmenter import build_segmenter
from lbie_tf.tasks.cosal_colorization import VOCAB_SIZE

GOOD = "circle is red; " * 9


@pytest.fixture(scope="module")
def model():
    return build_segmenter(SegmenterConfig(steps=2))


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """(image path, caption) of a generated CoSaL test example."""
    folder = str(tmp_path_factory.mktemp("example"))
    (item,) = edit.edits_from_text_file(write_example(folder, 2), folder)
    return item.image_path, ". ".join(item.sentences)


def test_class_map_is_the_one_lbie_edit_writes(model, example, tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained, "load_pretrained", lambda *args, **kwargs: (model, {}))
    image_path, caption = example
    view = segment_request(model, page_inputs.uploaded_image(image_path), caption)
    out = tmp_path / "edit.png"
    assert edit.main(["lbie-edit", f"--image={image_path}", f"--text={caption}", f"--out={out}"]) == 0
    np.testing.assert_array_equal(view.class_map, np.asarray(Image.open(out).convert("RGB")))
    np.testing.assert_array_equal(view.overlay, np.asarray(Image.open(tmp_path / "edit_overlay.png")))
    assert view.explanation.ndim == 3 and len(view.attended) == 2 and len(view.sentences) == 9


def test_the_page_calls_the_segmenter_as_one_graph_with_the_eager_calls_results(model, example, monkeypatch):
    monkeypatch.setattr(pretrained, "load_pretrained", lambda *args, **kwargs: (model, {}))
    served = models.DemoModels().segmenter(models.shipped_segmenters()[0])
    assert isinstance(served, models.GraphSegmenter) and served.model is model
    assert served.image_size == model.image_size  # the model's attributes, through the wrapper
    image = page_inputs.uploaded_image(example[0])
    eager, graph = (segment_request(m, image, example[1]) for m in (model, served))
    np.testing.assert_array_equal(graph.class_map, eager.class_map)
    np.testing.assert_array_equal(graph.stop_steps, eager.stop_steps)
    segment_request(served, image, example[1])
    assert served._call.experimental_get_tracing_count() == 1  # traced once, by the first call


def test_unknown_word_is_the_caption_readers_one_line_error(model, example):
    with pytest.raises(DataError, match=r"unknown word\(s\) 'purple'"):
        segment_request(model, page_inputs.uploaded_image(example[0]), "circle is purple; " * 9)


def test_attended_regions_cover_every_region_once_per_step():
    rng = np.random.default_rng(0)
    attention = rng.random((3, 4, 4, 9))
    steps = attended_regions(attention, [f"s{k}" for k in range(9)], 8)
    assert len(steps) == 3
    for annotations in steps:
        np.testing.assert_array_equal(sum(mask for mask, _ in annotations), np.ones((8, 8)))
    assert attended_regions(np.zeros((2, 4, 4, 9)), ["s"] * 9, 8) == []


def test_upload_that_is_not_an_image_is_named_by_its_file_name(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    with pytest.raises(DataError, match=r"^notes\.txt is not a PNG, JPEG, GIF or BMP image"):
        page_inputs.uploaded_image(str(notes))


def test_sketch_strokes_over_white_and_an_empty_canvas_is_refused():
    side = page_inputs.SKETCH_SIDE
    layer = np.zeros((side, side, 4), np.uint8)
    layer[10:20, 30:40] = (0, 0, 0, 255)
    image = page_inputs.sketch_image({"background": page_inputs.sketch_background(), "layers": [layer]})
    assert image.shape == (side, side, 3)
    assert np.all(image[10:20, 30:40] == 0) and np.all(image[50:60, 50:60] == 255)
    for empty in (None, {"layers": []}, {"layers": [np.zeros((side, side, 4), np.uint8)]}):
        with pytest.raises(DataError, match="nothing to edit"):
            page_inputs.sketch_image(empty)


def test_colorization_keeps_the_input_lightness(tmp_path):
    # No colorizer is shipped on this branch: a CoSaL colorizer with random weights stands in.
    generator = build_colorizer(ColorizerConfig(vocab_size=VOCAB_SIZE, filters=8))
    (path, caption), = examples.colorization_examples(str(tmp_path), count=1)
    grey = page_inputs.uploaded_image(path)
    result = colorize_request(generator, grey, caption, models.COLORIZER_SIZE)
    assert result.shape == (models.COLORIZER_SIZE, models.COLORIZER_SIZE, 3) and result.dtype == np.uint8
    lightness = color_space.rgb_to_lab(result / 255.0)[..., 0].numpy()
    expected = color_space.rgb_to_lab(grey / 255.0)[..., 0].numpy()
    assert np.max(np.abs(lightness - expected)) < 2.0  # L*, after uint8 rounding and gamut clipping


def test_shipped_segmenters_list_the_default_first():
    assert models.shipped_segmenters()[0] == pretrained.DEFAULT_SEGMENTER
    with pytest.raises(DataError, match="no model named"):
        models.DemoModels().segmenter("nonexistent")


@pytest.mark.parametrize("argv, message", [
    (["--model_dir=a", "--saved_model=b"], "not both"),
    (["--port=0"], "--port"),
    (["--colour"], "colour"),
    (["extra"], "unexpected arguments"),
])
def test_bad_command_lines_exit_2_with_one_line(argv, message, capsys):
    assert demo_cli.main(["lbie-demo", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_port_in_use_is_refused_before_loading_a_model(capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        pytest.importorskip("gradio", reason="the port is checked after the demo extra is found")
        assert demo_cli.main(["lbie-demo", f"--port={port}"]) == 2
    assert f"--port={port} is in use" in capsys.readouterr().err


def test_help_exits_0(capsys):
    assert demo_cli.main(["lbie-demo", "--help"]) == 0
    assert "lbie-demo" in capsys.readouterr().out
