"""A Flowers colorizer served end to end: a tiny run trained on the Flowers fixture stores its vocabulary.json,
`lbie-edit --model_dir` colourises with it, the SavedModel reloaded in a fresh process matches the Keras model
and lbie-edit, the in-graph tokenizer equals `flowers.caption_words` + the vocabulary on tricky captions, and a
resumed run with another vocabulary setting, an old run without the file and the demo are refused in one line."""

import dataclasses
import json
import os
import random
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from lbie_tf.cli import edit
from lbie_tf.configs import ColorizerConfig, DiscriminatorConfig, GanConfig, TrainingConfig
from lbie_tf.data import flowers
from lbie_tf.data.flowers_vocabulary import VOCABULARY_FILE, FlowersVocabulary
from lbie_tf.errors import ConfigError, DataError, IncompatibleCheckpointError
from lbie_tf.serving import colorization_pixels, export
from lbie_tf.serving.flowers_tokenizer import FlowersCaptionTokenizer, split_words
from lbie_tf.serving.loading import load_trained_colorizer
from lbie_tf.tasks import flowers_colorization
from tests.datasets.flowers_fixture import UNKNOWN_CAPTION, fixture_image, write_flowers_fixture

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
SIZE = 32
GENERATOR = ColorizerConfig(filters=8, vocab_size=0, word_embedding_dim=16, text_units=16, attention_units=16,
                            fusion_units=32, steps=1, batch_norm=False, initializer="he")
TRAINING = TrainingConfig(batch_size=2, train_steps=2, checkpoint_every=2, summary_every=1,
                          image_summary_every=100)
CAPTION = "This flower has YELLOW petals, and a red-ish centre!"
TRICKY = ["This flower has YELLOW petals.", "  multiple   spaces\tand\ttabs\n", "it's the flower's 5-petaled bloom!",
          "Café naïve ÉTÉ Straße İstanbul ΣΟΦΟΣ", "numbers 12 and 3.5 and ½ ²", "under_score snake_case", "a\x00b",
          "", "...!!!", "emoji 🌸 flower🌼", "中文花 красный цветок", "e\u0301 combining",
          "nbsp\xa0here\u2003em\u3000x",
          "x\x1cy\x85z\u2028w", "'quoted' \"double\" `back`", "hyphen-ated—dash–en", "ǅ ǈ Ǆ", "Red-ish petals."]

RELOAD_SCRIPT = """
import sys, numpy as np, tensorflow as tf
path, inputs, out = sys.argv[1:]
x = np.load(inputs, allow_pickle=True)
loaded = tf.saved_model.load(path)
tensors = loaded.signatures["predict_tensors"](gray=tf.constant(x["gray"]), tokens=tf.constant(x["ids"]))
serving = loaded.signatures["serving_default"](image_bytes=tf.constant(x["png"]), text=tf.constant(x["text"]))
np.savez(out, **{"tensors_" + k: v.numpy() for k, v in tensors.items()},
         **{"serving_" + k: v.numpy() for k, v in serving.items()})
"""


def _train(data, model_dir, generator=GENERATOR):
    trainer = flowers_colorization.make_trainer(generator, DiscriminatorConfig(filters=8), GanConfig(), TRAINING,
                                                data, str(model_dir), tf.distribute.get_strategy(),
                                                log=lambda line: None, progress_stream=None, previews=0)
    trainer.run()
    return trainer


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("flowers_serving")
    manual = write_flowers_fixture(str(root), images_per_class=1)
    return flowers.FlowersConfig(data_dir=str(root / "data"), manual_dir=manual, image_size=SIZE, max_words=12)


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    """A Flowers run of 2 steps: `(model_dir, trained generator)`."""
    tf.keras.utils.set_random_seed(0)
    model_dir = tmp_path_factory.mktemp("flowers_run")
    return str(model_dir), _train(data, model_dir).task.generator


@pytest.fixture(scope="module")
def model(run):
    return load_trained_colorizer(run[0])[0]


def _reference_ids(vocabulary: FlowersVocabulary, text: str) -> np.ndarray:
    """`flowers.caption_words` + the vocabulary, as the training pipeline encodes a caption."""
    index = {word: i for i, word in enumerate(vocabulary.words)}
    known = [index.get(word, flowers.UNK_ID) for word in flowers.caption_words(text, vocabulary.tokenizer)]
    ids = np.zeros(vocabulary.max_words, np.int32)
    ids[:len(known[:vocabulary.max_words])] = known[:vocabulary.max_words]
    return ids


def _write(path, pixels) -> str:
    Image.fromarray(pixels).save(path)
    return str(path)


def test_the_run_stores_its_vocabulary(run, data, model):
    stored = json.load(open(os.path.join(run[0], VOCABULARY_FILE), encoding="utf-8"))
    vocabulary = FlowersVocabulary.from_dict(stored, VOCABULARY_FILE)
    assert vocabulary == FlowersVocabulary.of_run(data, flowers.vocabulary(data)) == model.vocabulary
    assert vocabulary.words[:2] == (flowers.PAD, flowers.UNK) and "yellow" in vocabulary.words
    assert (vocabulary.tokenizer, vocabulary.max_words, vocabulary.image_size) == ("words", 12, SIZE)
    assert model.config.vocab_size == len(vocabulary.words)
    with pytest.raises(DataError, match="'words' must start with '<pad>'"):
        FlowersVocabulary.from_dict({**stored, "words": ["petals"]}, VOCABULARY_FILE)


def test_in_graph_tokenizer_equals_caption_words(model):
    rng = random.Random(0)
    alphabet = "aZ é_-'. \t\n\x00½ΣσİßǅÅ🌸\u0301\xa0\x85,!?0"
    captions = TRICKY + ["".join(rng.choice(alphabet) for _ in range(rng.randrange(20))) for _ in range(200)]
    for tokenizer in ("words", "released"):
        words = split_words(tf.constant(captions), tokenizer).to_list()
        assert [[w.decode() for w in row] for row in words] == [flowers.caption_words(c, tokenizer)
                                                                for c in captions]
    released = dataclasses.replace(model.vocabulary, tokenizer="released", words=(flowers.PAD, flowers.UNK, "This",
                                                                                  "flower", ".", ",", "petals"))
    for vocabulary in (model.vocabulary, released):
        readable = [c for c in TRICKY if any(i > flowers.UNK_ID for i in _reference_ids(vocabulary, c))]
        assert len(readable) >= 2
        ids = FlowersCaptionTokenizer(vocabulary)(tf.constant(readable)).numpy()
        np.testing.assert_array_equal(ids, [_reference_ids(vocabulary, c) for c in readable])


def test_unknown_words_are_unk_and_long_captions_are_cut(model):
    tokenizer = FlowersCaptionTokenizer(model.vocabulary)
    ids = tokenizer(tf.constant([f"yellow {UNKNOWN_CAPTION} petals", "petals " * 20])).numpy()
    words = model.vocabulary.words
    assert [words[i] for i in ids[0]][:5] == ["yellow", "<unk>", "<unk>", "<unk>", "petals"]
    assert ids.shape == (2, 12) and np.all(ids[0, 5:] == flowers.PAD_ID) and np.all(ids[1] == words.index("petals"))
    for caption, message in ((" ,. ", "caption text is empty"), (UNKNOWN_CAPTION, "no word of the caption"),
                             (b"r\xe9d petals", "not valid UTF-8")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            tokenizer(tf.constant([caption]))


@pytest.fixture(scope="module")
def edited(run, model, tmp_path_factory):
    """lbie-edit on a grey 48 x 36 fixture image: `(input path, its pixels, output pixels)`."""
    folder = tmp_path_factory.mktemp("flowers_edit")
    grey = np.repeat(np.asarray(Image.fromarray(fixture_image(1)).convert("L"))[..., None], 3, axis=-1)
    path = _write(folder / "grey.png", grey)
    out = str(folder / "out.png")
    assert edit.main(["lbie-edit", f"--model_dir={run[0]}", f"--image={path}", f"--text={CAPTION}",
                      f"--out={out}", "--explain"]) == 0
    assert os.path.isfile(str(folder / "out_explain.png"))
    return path, grey, np.asarray(Image.open(out).convert("RGB"))


def test_edit_colourises_with_the_training_preprocessing(edited, model):
    _, grey, result = edited
    assert result.shape == grey.shape and result.dtype == np.uint8
    rgb = flowers.test_rgb(grey, SIZE)  # the test split's resize, then the pipeline's Lab conversion
    gray = flowers.color_space.normalize_lab(flowers.color_space.rgb_to_lab(tf.clip_by_value(rgb, 0, 1)))[..., :1]
    ids = _reference_ids(model.vocabulary, CAPTION)
    ab = model({"gray": gray[None], "tokens": ids[None]}, training=False)["ab"][0]
    wanted = colorization_pixels.colourise(grey, ab).numpy()
    assert np.abs(result.astype(int) - wanted).max() <= 1
    assert np.std(ab) > 1e-3  # the model's colours vary: agreement is not trivial


@pytest.mark.slow  # an export and a fresh TensorFlow process (25 s): `make test-all` and CI run it
def test_saved_model_in_a_fresh_process_matches_keras_and_lbie_edit(model, edited, tmp_path):
    path, grey, result = edited
    exported = export.export_model(model, str(tmp_path / "export"))
    texts = [CAPTION, f"petals {UNKNOWN_CAPTION}"]
    gray = np.stack([colorization_pixels.gray_input(flowers.test_rgb(fixture_image(n), SIZE) * 255.0).numpy()
                     for n in (1, 2)])
    ids = np.stack([_reference_ids(model.vocabulary, text) for text in texts])
    png = [open(path, "rb").read(), tf.io.encode_png(fixture_image(2)).numpy()]
    np.savez(tmp_path / "inputs.npz", gray=gray, ids=ids, png=np.array(png, object),
             text=np.array([t.encode() for t in texts], object))
    subprocess.run([sys.executable, "-c", RELOAD_SCRIPT, exported, str(tmp_path / "inputs.npz"),
                    str(tmp_path / "out.npz")], check=True, env=ENV, capture_output=True)
    out = np.load(tmp_path / "out.npz")
    expected = model({"gray": gray, "tokens": ids}, training=False)
    np.testing.assert_allclose(out["tensors_ab"], expected["ab"], atol=1e-5)
    np.testing.assert_allclose(out["tensors_attention"], expected["attention"], atol=1e-5)
    height, width = grey.shape[:2]
    np.testing.assert_array_equal(out["serving_image_size"][0], [height, width])
    np.testing.assert_array_equal(out["serving_edited_image"][0, :height, :width], result)  # = lbie-edit
    served = tf.saved_model.load(exported).signatures["serving_default"]
    for image_bytes, text, message in (([], [], "the request holds no images"),
                                       (png, texts[:1], "one caption per image"),
                                       (png[:1], [""], "caption text is empty")):
        with pytest.raises(tf.errors.InvalidArgumentError, match=message):
            served(image_bytes=tf.constant(image_bytes, tf.string), text=tf.constant(text, tf.string))
    out_saved = str(tmp_path / "saved.png")  # lbie-edit --saved_model reads the export's vocabulary record
    assert edit.main(["lbie-edit", f"--saved_model={exported}", f"--image={path}", f"--text={CAPTION}",
                      f"--out={out_saved}"]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(out_saved).convert("RGB")), result)


def test_edit_caption_errors_are_one_line(run, edited, tmp_path, capsys):
    path = edited[0]
    for caption, message in (("", "caption text is empty"), (" ... ", "caption text is empty"),
                             (UNKNOWN_CAPTION, "no word of the caption is in the model's vocabulary")):
        assert edit.main(["lbie-edit", f"--model_dir={run[0]}", f"--image={path}", f"--text={caption}",
                          f"--out={tmp_path}/r.png"]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


def test_resume_with_another_vocabulary_setting_is_refused(data, run, tmp_path):
    model_dir = tmp_path / "resumed"
    os.makedirs(model_dir)
    for name in os.listdir(run[0]):
        if name.startswith(("ckpt-", "checkpoint", "model_config", VOCABULARY_FILE)):
            subprocess.run(["cp", "-r", os.path.join(run[0], name), str(model_dir)], check=True)
    with pytest.raises(IncompatibleCheckpointError, match=r"another vocabulary\.json \(max_words: 8 here, 12 in"):
        _train(dataclasses.replace(data, max_words=8), model_dir,
               dataclasses.replace(GENERATOR, vocab_size=run[1].config.vocab_size))
    os.remove(model_dir / VOCABULARY_FILE)  # a run from before the file existed: the resumed run writes it
    _train(data, model_dir, dataclasses.replace(GENERATOR, vocab_size=run[1].config.vocab_size))
    assert json.load(open(model_dir / VOCABULARY_FILE)) == json.load(open(os.path.join(run[0], VOCABULARY_FILE)))


def test_an_old_run_without_its_vocabulary_and_the_demo_are_refused(run, edited, tmp_path, capsys):
    from lbie_tf.demo.models import DemoModels

    old = tmp_path / "old"
    subprocess.run(["cp", "-r", run[0], str(old)], check=True)
    os.remove(old / VOCABULARY_FILE)
    assert edit.main(["lbie-edit", f"--model_dir={old}", f"--image={edited[0]}", f"--text={CAPTION}",
                      f"--out={tmp_path}/r.png"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and re.search(f"holds no {VOCABULARY_FILE}.*or retrain", lines[0]), lines
    with pytest.raises(ConfigError, match="is a Flowers colorization run; the page's colorization tab serves CoSaL"):
        DemoModels(colorizer_dir=run[0])
