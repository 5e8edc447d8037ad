"""SavedModel export: both signatures reload (in a fresh process and through saved_model_cli) and match the Keras
model, bad requests fail with readable InvalidArgument errors, versions are written atomically and readable by
any user, and models the graph cannot serve are refused."""

import dataclasses
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from lbie_tf.configs import SegmenterConfig
from lbie_tf.data import cosal
from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.errors import DataError
from lbie_tf.models.segmenter import build_segmenter
from lbie_tf.serving import export, image_preprocessing
from lbie_tf.training.checkpoints import AtomicCheckpointManager, write_run_config
from tests.serving.fresh_process import ENV, reloaded_outputs
from tests.serving.image_fixtures import encoded

SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")

# Runs in a fresh interpreter: reloads the SavedModel with TF only and saves both signatures' outputs.
RELOAD_SCRIPT = """
import sys, numpy as np, tensorflow as tf
path, inputs, out = sys.argv[1:]
x = np.load(inputs)
loaded = tf.saved_model.load(path)
tensors = loaded.signatures["predict_tensors"](image=tf.constant(x["image"]), tokens=tf.constant(x["tokens"]))
serving = loaded.signatures["serving_default"](image_bytes=tf.constant(x["png"]), text=tf.constant(x["text"]))
np.savez(out, **{"tensors_" + k: v.numpy() for k, v in tensors.items()},
         **{"serving_" + k: v.numpy() for k, v in serving.items()})
"""


@pytest.fixture(scope="module")
def model():
    return build_segmenter(SegmenterConfig(steps=2))


@pytest.fixture(scope="module")
def example():
    """Two CoSaL test examples: sketches uint8 `[2, 48, 48, 3]`, tokens, PNG bytes and caption text."""
    data = cosal.generate(tf.constant([0, 1], tf.int64), cosal.CosalConfig(), "test")
    sketch, tokens = data["sketch"].numpy(), data["tokens"].numpy()
    return {"image": sketch.astype(np.float32), "tokens": tokens,
            "png": np.array([tf.io.encode_png(image).numpy() for image in sketch]),
            "text": np.array([". ".join(vocab.decode_caption(caption)).encode() for caption in tokens])}


@pytest.fixture(scope="module")
def export_path(model, tmp_path_factory):
    """The model exported into a base folder that already holds version 4 (so this one is version 5), under a
    umask that keeps files private (the export must still be readable by a server running as another user)."""
    base = tmp_path_factory.mktemp("serving")
    (base / "4").mkdir()
    (base / "not_a_version").mkdir()
    umask = os.umask(0o077)
    try:
        return export.export_model(model, str(base))
    finally:
        os.umask(umask)


@pytest.fixture(scope="module")
def loaded(export_path):
    return tf.saved_model.load(export_path)


def test_export_writes_next_version_and_no_staging_folder(export_path):
    base = os.path.dirname(export_path)
    assert os.path.basename(export_path) == "5"
    assert sorted(os.listdir(base)) == ["4", "5", "not_a_version"]
    assert os.path.isfile(os.path.join(export_path, "saved_model.pb"))


def test_reloaded_in_fresh_process_matches_keras(model, example, export_path, tmp_path):
    out = reloaded_outputs(RELOAD_SCRIPT, export_path, example, tmp_path)
    expected = model({"image": example["image"], "tokens": example["tokens"]}, training=False)
    class_map = np.argmax(expected["logits"], axis=-1)
    np.testing.assert_allclose(out["tensors_logits"], expected["logits"], atol=1e-5)
    np.testing.assert_allclose(out["tensors_attention"], expected["attention"], atol=1e-5)
    np.testing.assert_array_equal(out["tensors_class_map"], class_map)
    np.testing.assert_array_equal(out["tensors_stop_step"], expected["stop_step"])
    np.testing.assert_array_equal(out["serving_class_map"], class_map)
    np.testing.assert_array_equal(out["serving_stop_step"], expected["stop_step"])
    assert out["serving_edited_image"].dtype == np.uint8
    np.testing.assert_array_equal(out["serving_edited_image"], vocab.RGB_PALETTE[class_map])


def _must_compile_functions(path: str) -> int:
    """How many functions of the SavedModel at `path` carry XLA's `_XlaMustCompile=True` attribute."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel.FromString(open(os.path.join(path, "saved_model.pb"), "rb").read())
    library = saved.meta_graphs[0].graph_def.library.function
    return sum(function.attr["_XlaMustCompile"].b for function in library)


def test_jit_compiled_export_matches_keras_in_fresh_process(model, example, export_path, tmp_path):
    """`lbie-export --jit_compile`: the model's call is XLA-compiled in the SavedModel, and the reloaded
    signatures still give the Keras model's outputs (1e-5) and class maps."""
    run_dir = tmp_path / "run"
    write_run_config(str(run_dir), {"model": model.config.to_dict(), "sentences": 9, "words": 3})
    AtomicCheckpointManager(tf.train.Checkpoint(model=model), str(run_dir)).save(1)
    result = subprocess.run([sys.executable, "-m", "lbie_tf.cli.export", f"--export_dir={tmp_path / 'serving'}",
                             f"--model_dir={run_dir}", "--jit_compile"], env=ENV, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    path = str(tmp_path / "serving" / "1")
    assert _must_compile_functions(path) > 0 and _must_compile_functions(export_path) == 0
    out = reloaded_outputs(RELOAD_SCRIPT, path, example, tmp_path)
    expected = model({"image": example["image"], "tokens": example["tokens"]}, training=False)
    np.testing.assert_allclose(out["tensors_logits"], expected["logits"], atol=1e-5)
    np.testing.assert_array_equal(out["serving_class_map"], np.argmax(expected["logits"], axis=-1))
    np.testing.assert_array_equal(out["serving_stop_step"], expected["stop_step"])


def test_serving_tokenizes_like_encode_caption(loaded, model, example):
    """Upper case, hyphens, extra spaces and ';' / newline separators give the same tokens."""
    messy = example["text"][0].decode().upper().replace(". ", " ;\n  ").replace("LIGHT GREEN", "light-Green")
    images, _ = image_preprocessing.prepare_images(tf.constant(example["png"][:1]), 48)
    tokens = vocab.encode_caption(example["text"][0].decode().split(". "))[None]
    expected = np.argmax(model({"image": images, "tokens": tokens})["logits"], axis=-1)
    outputs = loaded.signatures["serving_default"](image_bytes=tf.constant(example["png"][:1]),
                                                   text=tf.constant([messy + "."]))
    np.testing.assert_array_equal(outputs["class_map"], expected)


def test_serving_answers_at_each_images_size(loaded, model, example):
    """A batch of a 96 x 48 PNG and a 48 x 48 BMP: class maps at 96 x 48 and 48 x 48 (padded with -1)."""
    sketch = example["image"][0].astype(np.uint8)
    images = [tf.io.encode_png(np.repeat(sketch, 2, axis=0)).numpy(), encoded(Image.fromarray(sketch), "BMP")]
    outputs = loaded.signatures["serving_default"](image_bytes=tf.constant(images),
                                                   text=tf.constant(example["text"][:1].repeat(2)))
    np.testing.assert_array_equal(outputs["image_size"], [[96, 48], [48, 48]])
    assert outputs["class_map"].shape == (2, 96, 48)
    inputs, sizes = image_preprocessing.prepare_images(tf.constant(images), 48)
    predicted = np.argmax(model({"image": inputs, "tokens": example["tokens"][:1].repeat(2, 0)})["logits"], -1)
    np.testing.assert_array_equal(outputs["class_map"], image_preprocessing.resize_class_maps(predicted, sizes))
    assert np.all(outputs["class_map"][1, 48:] == -1) and np.all(outputs["edited_image"][1, 48:] == 0)
    np.testing.assert_array_equal(outputs["edited_image"][0], vocab.RGB_PALETTE[outputs["class_map"][0]])


def _signature_sections(text: str) -> dict:
    return {section.split("'")[0]: section for section in text.split("signature_def['")[1:]}


def test_saved_model_cli_show_lists_both_signatures(export_path):
    shown = subprocess.run([SAVED_MODEL_CLI, "show", "--dir", export_path, "--all"], check=True, env=ENV,
                           capture_output=True, text=True).stdout
    sections = _signature_sections(shown)
    expected = {"serving_default": {"image_bytes": "DT_STRING", "text": "DT_STRING", "edited_image": "DT_UINT8",
                                    "class_map": "DT_INT32", "image_size": "DT_INT32", "stop_step": "DT_INT32"},
                "predict_tensors": {"image": "DT_FLOAT", "tokens": "DT_INT32", "logits": "DT_FLOAT",
                                    "class_map": "DT_INT32", "stop_step": "DT_INT32", "attention": "DT_FLOAT"}}
    for name, tensors in expected.items():
        for tensor, dtype in tensors.items():
            assert f"['{tensor}'] tensor_info:\n        dtype: {dtype}" in sections[name], (name, tensor)


def test_saved_model_cli_run_serving_default(model, example, export_path, tmp_path):
    np.save(tmp_path / "image_bytes.npy", example["png"][:1])  # dtype |S<n>: loads without pickle
    np.save(tmp_path / "text.npy", example["text"][:1])
    subprocess.run([SAVED_MODEL_CLI, "run", "--dir", export_path, "--tag_set", "serve",
                    "--signature_def", "serving_default", "--outdir", str(tmp_path / "out"),
                    "--inputs", f"image_bytes={tmp_path / 'image_bytes.npy'};text={tmp_path / 'text.npy'}"],
                   check=True, env=ENV, capture_output=True)
    expected = model({"image": example["image"][:1], "tokens": example["tokens"][:1]})
    class_map = np.load(tmp_path / "out" / "class_map.npy")
    np.testing.assert_array_equal(class_map, np.argmax(expected["logits"], axis=-1))
    np.testing.assert_array_equal(np.load(tmp_path / "out" / "edited_image.npy"), vocab.RGB_PALETTE[class_map])


@pytest.mark.parametrize("text, message", [
    ("rectangle is blue. circle is purple. " * 5, r"unknown word.*purple"),
    ("rectangle is blue. " * 8, r"9 sentences.*\[8\]"),
    ("rectangle is blue red. " * 9, r"exactly 3 CoSaL tokens.*rectangle is blue red"),
    (" \n ", r"caption text is empty"),
])
def test_bad_caption_raises_readable_error(loaded, example, text, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        loaded.signatures["serving_default"](image_bytes=tf.constant(example["png"][:1]), text=tf.constant([text]))


def test_bad_image_or_batch_raises_invalid_argument(loaded, example):
    serve = loaded.signatures["serving_default"]
    for image_bytes, message in ((b"not an image", "not a PNG, JPEG, GIF or BMP image"),
                                 (b"", "the image is empty"),
                                 (example["png"][0][:40], "Invalid PNG")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            serve(image_bytes=tf.constant([image_bytes]), text=tf.constant(example["text"][:1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="one caption per image"):
        serve(image_bytes=tf.constant(example["png"]), text=tf.constant(example["text"][:1]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="the request holds no images"):
        serve(image_bytes=tf.constant([], tf.string), text=tf.constant([], tf.string))


def test_version_is_readable_by_any_user(export_path):
    modes = {}
    for root, _, files in os.walk(export_path):
        modes[root] = stat.S_IMODE(os.stat(root).st_mode)
        for name in files:
            modes[os.path.join(root, name)] = stat.S_IMODE(os.stat(os.path.join(root, name)).st_mode)
    assert modes[export_path] == 0o755 and len(modes) >= 4
    assert {mode for path, mode in modes.items() if os.path.isdir(path)} == {0o755}
    assert {mode for path, mode in modes.items() if os.path.isfile(path)} == {0o644}


def test_models_the_graph_cannot_serve_are_refused(model, tmp_path):
    words = build_segmenter(dataclasses.replace(model.config, text_encoder="words", word_embedding_dim=8),
                            sentences=1, words=5)
    binary = build_segmenter(dataclasses.replace(model.config, num_classes=1))
    for unservable, reason in ((words, "it reads words text"), (binary, "it predicts 1 classes")):
        with pytest.raises(DataError, match=f"this model cannot be served or edited with: {reason}"):
            export.export_model(unservable, str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_next_version(tmp_path):
    assert export.next_version(str(tmp_path / "missing")) == 1
    for name in ("1", "3", "10x", ".tmp-12-abc"):
        (tmp_path / name).mkdir()
    (tmp_path / "20").write_text("a file, not a version")
    assert export.next_version(str(tmp_path)) == 4


def test_existing_or_invalid_version_is_refused(model, tmp_path):
    (tmp_path / "2").mkdir()
    with pytest.raises(DataError, match="already exists"):
        export.export_model(model, str(tmp_path), version=2)
    with pytest.raises(DataError, match="positive integer"):
        export.export_model(model, str(tmp_path), version=0)


def test_failed_write_leaves_no_version_folder(model, tmp_path, monkeypatch):
    class FailingArchive:
        def write_out(self, path, verbose):
            open(os.path.join(path, "saved_model.pb"), "w").close()
            raise OSError("disk full")

    monkeypatch.setattr(export, "_archive", lambda model, jit_compile: FailingArchive())
    with pytest.raises(DataError, match="disk full"):
        export.export_model(model, str(tmp_path))
    assert os.listdir(tmp_path) == []


def test_cli_exports_a_training_run(model, tmp_path):
    run_dir = tmp_path / "run"
    write_run_config(str(run_dir), {"model": model.config.to_dict(), "sentences": 9, "words": 3})
    AtomicCheckpointManager(tf.train.Checkpoint(model=model), str(run_dir)).save(1)
    command = [sys.executable, "-m", "lbie_tf.cli.export", f"--export_dir={tmp_path / 'serving'}"]
    result = subprocess.run(command + [f"--model_dir={run_dir}"], env=ENV, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "serving" / "1")
    assert os.path.isfile(tmp_path / "serving" / "1" / "saved_model.pb")
    result = subprocess.run(command + [f"--model_dir={tmp_path / 'nothing'}"], env=ENV, capture_output=True,
                            text=True)
    assert result.returncode == 2
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("error: ") and "holds no trained model" in last_line
