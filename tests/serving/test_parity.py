"""`lbie-edit` and the exported `serving_default` signature give identical class maps, because both run
`image_preprocessing`: the real command line (in-process, the shipped model) against the SavedModel reloaded in
a fresh process, on the inputs where two separate preprocessings drifted apart — an RGBA sketch with a
transparent background, a palette PNG, 16-bit grey, a large RGB photo-sized image and 1-pixel-wide images.
The same for the shipped colorizer: the command line's colourised PNG and the served `edited_image` agree."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from lbie_tf import pretrained
from lbie_tf.cli import edit
from lbie_tf.data import cosal
from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.serving.export import export_model
from lbie_tf.serving.loading import load_model

pytestmark = pytest.mark.skipif(not pretrained.available(), reason="no pretrained model shipped")

# Runs in a fresh interpreter: one serving_default request per image, as TF Serving would get them.
SERVE_SCRIPT = """
import sys, numpy as np, tensorflow as tf
path, caption, out, *images = sys.argv[1:]
serve = tf.saved_model.load(path).signatures["serving_default"]
results = {}
for image in images:
    with open(image, "rb") as f:
        outputs = serve(image_bytes=tf.constant([f.read()]), text=tf.constant([caption]))
    height, width = outputs["image_size"].numpy()[0]
    key = "class_map" if "class_map" in outputs else "edited_image"
    results[image] = outputs[key].numpy()[0, :height, :width]
np.savez(out, *[results[image] for image in images])
"""


def _inputs(sketch: np.ndarray) -> dict:
    """name → Pillow image, every one a version of the CoSaL test sketch uint8 `[48, 48, 3]`."""
    background = np.all(sketch == 255, axis=-1)
    rgba = np.concatenate([np.where(background[..., None], 0, sketch), np.where(background, 0, 255)[..., None]],
                          axis=-1).astype(np.uint8)  # transparent black where the sketch is white
    grey = Image.fromarray(sketch).convert("L")
    large = Image.fromarray(sketch).resize((500, 500), Image.NEAREST)
    return {"rgba_transparent": Image.fromarray(rgba),
            "palette": Image.fromarray(sketch).convert("P", palette=Image.Palette.ADAPTIVE, colors=8),
            "grey_16_bit": Image.fromarray(np.asarray(grey, np.uint16) * 257),
            "large_rgb": large,
            "one_pixel_wide": large.resize((1, 211), Image.BILINEAR),
            "one_pixel_high": large.resize((157, 1), Image.BILINEAR)}


def _cli_and_served(folder, pretrained_name: str, num_direct: int) -> tuple:
    """`(cli, served, paths, tokens)` of one shipped model: name → the PNG `lbie-edit` wrote (RGB `[H, W, 3]`)
    and the served SavedModel's output (`class_map` or `edited_image`), name → input file, and the caption's
    token ids."""
    data = cosal.generate(tf.constant([3], tf.int64), cosal.CosalConfig(num_direct=num_direct), "test")
    caption = ". ".join(vocab.decode_caption(data["tokens"][0].numpy()))
    paths = {}
    for name, image in _inputs(data["sketch"][0].numpy()).items():
        paths[name] = str(folder / f"{name}.png")
        image.save(paths[name])
    exported = export_model(load_model(pretrained=pretrained_name), str(folder / "export"))
    served_file = folder / "served.npz"
    server = subprocess.Popen([sys.executable, "-c", SERVE_SCRIPT, exported, caption, str(served_file),
                               *paths.values()], env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    (folder / "pairs.txt").write_text("".join(f"{name}.png:{caption}\n" for name in paths))
    (folder / "out").mkdir()
    assert edit.main(["lbie-edit", f"--pretrained={pretrained_name}", f"--text_file={folder / 'pairs.txt'}",
                      f"--out={folder / 'out'}"]) == 0
    _, errors = server.communicate(timeout=300)
    assert server.returncode == 0, errors.decode()[-2000:]
    served = dict(zip(paths, np.load(served_file).values()))
    cli = {name: np.asarray(Image.open(folder / "out" / f"{name}_line{line}.png").convert("RGB"))
           for line, name in enumerate(paths, start=1)}
    return cli, served, paths, data["tokens"][0].numpy()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """`_cli_and_served` of the shipped segmenter, the command line's PNGs read back as class maps."""
    cli, served, paths, tokens = _cli_and_served(tmp_path_factory.mktemp("parity"), pretrained.DEFAULT_SEGMENTER,
                                                 cosal.CosalConfig().num_direct)
    palette = {tuple(colour): index for index, colour in enumerate(vocab.RGB_PALETTE)}
    classes = {name: np.vectorize(lambda r, g, b: palette[(r, g, b)])(*np.moveaxis(colours, -1, 0))
               for name, colours in cli.items()}
    return classes, served, paths, tokens


@pytest.fixture(scope="module")
def colorization_results(tmp_path_factory):
    """`_cli_and_served` of the shipped colorizer (captions of direct sentences, as it was trained)."""
    return _cli_and_served(tmp_path_factory.mktemp("colorization_parity"), pretrained.DEFAULT_COLORIZER, 9)


@pytest.mark.parametrize("name", ["rgba_transparent", "palette", "grey_16_bit", "large_rgb", "one_pixel_wide",
                                  "one_pixel_high"])
def test_command_line_and_served_colorizer_give_the_same_image(colorization_results, name):
    cli, served, _, _ = colorization_results
    assert cli[name].shape == served[name].shape and served[name].dtype == np.uint8
    difference = np.abs(cli[name].astype(int) - served[name])
    assert difference.max() <= 1 and np.mean(difference == 0) > 0.99  # eager vs graph float32 round-off only
    spread = np.std(served["large_rgb"].astype(float), axis=-1)  # 0 for a grey pixel
    assert spread.max() > 20  # the shapes come out in colour: agreement is not trivial


@pytest.mark.parametrize("name", ["rgba_transparent", "palette", "grey_16_bit", "large_rgb", "one_pixel_wide",
                                  "one_pixel_high"])
def test_command_line_and_served_model_give_identical_class_maps(results, name):
    cli, served, _, _ = results
    assert cli[name].shape == served[name].shape
    np.testing.assert_array_equal(cli[name], served[name])
    assert len(np.unique(served["large_rgb"])) > 2  # the model colours shapes: agreement is not trivial


def test_a_separate_preprocessing_would_not_agree(results):
    """What `serving_default` did before it shared `image_preprocessing` (alpha dropped, so the transparent
    background is black; no antialiasing) disagrees with the command line on most pixels: the RGBA case above
    can fail."""
    cli, _, paths, tokens = results
    with open(paths["rgba_transparent"], "rb") as f:
        dropped_alpha = tf.io.decode_image(f.read(), channels=3)
    model = pretrained.load_pretrained_segmenter()[0]
    logits = model({"image": tf.image.resize(tf.cast(dropped_alpha, tf.float32), [48, 48])[None],
                    "tokens": tokens[None]})["logits"]
    assert np.mean(np.argmax(logits, axis=-1)[0] != cli["rgba_transparent"]) > 0.3
