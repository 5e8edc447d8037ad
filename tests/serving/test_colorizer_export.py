"""SavedModel export of a CoSaL colorizer: both signatures reload in a fresh process and match the Keras model,
requests are answered at each image's size, bad requests fail with readable InvalidArgument errors, colorizers
the graph cannot serve are refused, and `lbie-export` exports a colorization run."""

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from lbie_tf.configs import ColorizerConfig
from lbie_tf.data import color_space, cosal
from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.errors import DataError
from lbie_tf.models.colorizer import build_colorizer
from lbie_tf.serving import colorization_pixels, export, image_preprocessing
from lbie_tf.serving.loading import load_model
from lbie_tf.tasks import cosal_colorization
from lbie_tf.training.checkpoints import AtomicCheckpointManager, write_run_config
from tests.serving.fresh_process import ENV, reloaded_outputs
from tests.serving.image_fixtures import encoded, header_only_png

SMALL = ColorizerConfig(filters=8, vocab_size=cosal_colorization.VOCAB_SIZE, word_embedding_dim=16, text_units=16,
                        attention_units=16, fusion_units=32, steps=2, batch_norm=False, initializer="he")

# Runs in a fresh interpreter: reloads the SavedModel with TF only and saves both signatures' outputs.
RELOAD_SCRIPT = """
import sys, numpy as np, tensorflow as tf
path, inputs, out = sys.argv[1:]
x = np.load(inputs)
loaded = tf.saved_model.load(path)
tensors = loaded.signatures["predict_tensors"](gray=tf.constant(x["gray"]), tokens=tf.constant(x["ids"]))
serving = loaded.signatures["serving_default"](image_bytes=tf.constant(x["png"]), text=tf.constant(x["text"]))
np.savez(out, **{"tensors_" + k: v.numpy() for k, v in tensors.items()},
         **{"serving_" + k: v.numpy() for k, v in serving.items()})
"""


@pytest.fixture(scope="module")
def model():
    tf.keras.utils.set_random_seed(3)
    return build_colorizer(SMALL)


@pytest.fixture(scope="module")
def example():
    """Two CoSaL test examples: colour sketches uint8 `[2, 48, 48, 3]`, their PNG bytes and caption text, the
    generator's inputs `gray` `[2, 48, 48, 1]` and word ids `[2, 27]`."""
    data = cosal.generate(tf.constant([0, 1], tf.int64), cosal.CosalConfig(), "test")
    sketch, tokens = data["sketch"].numpy(), data["tokens"].numpy()
    return {"sketch": sketch, "png": np.array([tf.io.encode_png(image).numpy() for image in sketch]),
            "text": np.array([". ".join(vocab.decode_caption(caption)).encode() for caption in tokens]),
            "gray": colorization_pixels.gray_input(sketch.astype(np.float32)).numpy(),
            "ids": cosal_colorization.caption_ids(tokens).numpy()}


@pytest.fixture(scope="module")
def export_path(model, tmp_path_factory):
    return export.export_model(model, str(tmp_path_factory.mktemp("colorizer_serving")))


@pytest.fixture(scope="module")
def jit_export_path(model, tmp_path_factory):
    return export.export_model(model, str(tmp_path_factory.mktemp("colorizer_xla")), jit_compile=True)


@pytest.fixture(scope="module")
def serve(export_path):
    return tf.saved_model.load(export_path).signatures["serving_default"]


@pytest.mark.parametrize("exported", ["export_path", "jit_export_path"])
def test_reloaded_in_fresh_process_matches_keras(model, example, exported, request, tmp_path):
    """Both signatures, the model's call as TensorFlow ops or compiled by XLA (`jit_compile=True`)."""
    export_path = request.getfixturevalue(exported)
    out = reloaded_outputs(RELOAD_SCRIPT, export_path, example, tmp_path)
    expected = model({"gray": example["gray"], "tokens": example["ids"]}, training=False)
    np.testing.assert_allclose(out["tensors_ab"], expected["ab"], atol=1e-5)
    np.testing.assert_allclose(out["tensors_attention"], expected["attention"], atol=1e-5)
    assert out["tensors_attention"].shape == (2, 2, 12, 12, 27)
    # serving_default = decode + the same preprocessing + the Keras model + colourise, on the PNG bytes
    assert out["serving_edited_image"].dtype == np.uint8 and out["serving_edited_image"].shape == (2, 48, 48, 3)
    np.testing.assert_array_equal(out["serving_image_size"], [[48, 48], [48, 48]])
    for b in range(2):
        wanted = colorization_pixels.colourise(example["sketch"][b], expected["ab"][b]).numpy()
        difference = np.abs(out["serving_edited_image"][b].astype(int) - wanted)
        assert difference.max() <= 1 and np.mean(difference == 0) > 0.99  # rounding of float32 round-off
    assert np.std(expected["ab"]) > 1e-3  # the model's colours vary: agreement is not trivial


def test_colourise_keeps_the_inputs_lightness_and_takes_the_predicted_colours(example):
    """No colour (ab = 0) gives the grey input back; an in-gamut colour keeps the input's L and has that ab."""
    grey = np.asarray(Image.fromarray(example["sketch"][0]).convert("L"))
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    unchanged = colorization_pixels.colourise(rgb, np.zeros((48, 48, 2), np.float32)).numpy()
    assert np.abs(unchanged.astype(int) - rgb).max() <= 1
    mid_grey = np.full((30, 20, 3), 128, np.uint8)  # L* 53.6: (a, b) = (22, -11) is inside the sRGB gamut
    tinted = colorization_pixels.colourise(mid_grey, np.full((48, 48, 2), [0.2, -0.1], np.float32)).numpy()
    assert tinted.shape == (30, 20, 3)
    lab = color_space.normalize_lab(color_space.rgb_to_lab(tinted / 255.0)).numpy()
    expected_l = colorization_pixels.gray_input(mid_grey).numpy()[..., 0]
    np.testing.assert_allclose(lab[..., 0], expected_l, atol=0.01)  # 0.5 L* units: the uint8 rounding
    np.testing.assert_allclose(lab[..., 1:], np.broadcast_to([0.2, -0.1], (30, 20, 2)), atol=0.01)


def test_serving_answers_at_each_images_size(serve, model, example):
    """A batch of a 96 x 48 PNG and a 48 x 48 BMP: colourised at 96 x 48 and 48 x 48 (padded with black)."""
    sketch = example["sketch"][0]
    tall = np.repeat(sketch, 2, axis=0)
    images = [tf.io.encode_png(tall).numpy(), encoded(Image.fromarray(sketch), "BMP")]
    outputs = serve(image_bytes=tf.constant(images), text=tf.constant(example["text"][:1].repeat(2)))
    np.testing.assert_array_equal(outputs["image_size"], [[96, 48], [48, 48]])
    assert outputs["edited_image"].shape == (2, 96, 48, 3)
    assert np.all(outputs["edited_image"][1, 48:] == 0)
    inputs, _ = image_preprocessing.prepare_images(tf.constant(images[:1]), 48)
    ab = model({"gray": colorization_pixels.gray_input(inputs), "tokens": example["ids"][:1]})["ab"][0]
    wanted = colorization_pixels.colourise(tall, ab).numpy()
    assert np.abs(outputs["edited_image"][0].numpy().astype(int) - wanted).max() <= 1


def test_bad_requests_raise_invalid_argument(serve, example):
    text = tf.constant(example["text"][:1])
    for image_bytes, message in ((b"not an image", "not a PNG, JPEG, GIF or BMP image"),
                                 (b"", "the image is empty"),
                                 (example["png"][0][:40], "Invalid PNG"),
                                 (header_only_png(100_000, 100_000), "megapixels")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            serve(image_bytes=tf.constant([image_bytes]), text=text)
    png = tf.constant(example["png"][:1])
    for caption, message in ((b"circle is r\xe9d. " * 9, "not valid UTF-8"),
                             (b"circle is purple. " * 9, "unknown word.*purple"),
                             (b"circle is red. " * 8, r"9 sentences.*\[8\]"),
                             (b" ", "caption text is empty")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            serve(image_bytes=png, text=tf.constant([caption]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="one caption per image"):
        serve(image_bytes=tf.constant(example["png"]), text=text)
    with pytest.raises(tf.errors.InvalidArgumentError, match="the request holds no images"):
        serve(image_bytes=tf.constant([], tf.string), text=tf.constant([], tf.string))


def test_colorizers_the_graph_cannot_serve_are_refused(tmp_path):
    baseline = build_colorizer(dataclasses.replace(SMALL, use_text=False))
    flowers = build_colorizer(dataclasses.replace(SMALL, vocab_size=500))
    for unservable, reason in ((baseline, "it is the text-free baseline"),
                               (flowers, "its vocabulary has 500 word ids")):
        with pytest.raises(DataError, match=f"this model cannot be served or edited with: {reason}"):
            export.export_model(unservable, str(tmp_path))
    assert os.listdir(tmp_path) == []


def _colorization_run(folder, generator) -> str:
    write_run_config(str(folder), {"generator": generator.config.to_dict()})
    AtomicCheckpointManager(tf.train.Checkpoint(generator=generator), str(folder)).save(1)
    return str(folder)


def test_run_kind_is_read_from_model_config(model, tmp_path):
    loaded = load_model(model_dir=_colorization_run(tmp_path / "run", model))
    inputs = {"gray": np.zeros((1, 48, 48, 1), np.float32), "tokens": np.full((1, 27), 2, np.int32)}
    np.testing.assert_allclose(loaded(inputs)["ab"], model(inputs)["ab"], atol=1e-6)


def test_cli_exports_a_colorization_run(model, tmp_path):
    run_dir = _colorization_run(tmp_path / "run", model)
    command = [sys.executable, "-m", "lbie_tf.cli.export", f"--export_dir={tmp_path / 'serving'}"]
    result = subprocess.run(command + [f"--model_dir={run_dir}"], env=ENV, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    path = result.stdout.strip().splitlines()[-1]
    assert path == str(tmp_path / "serving" / "1")
    signature = tf.saved_model.load(path).signatures["predict_tensors"]
    assert set(signature.structured_input_signature[1]) == {"gray", "tokens"}
