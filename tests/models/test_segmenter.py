"""LanguageSegmenter: both presets build and print, outputs have the documented shapes, Keras round trips,
training forward passes per termination mode, and one-line errors for inputs that do not fit."""

import contextlib
import dataclasses
import io

import keras
import numpy as np
import pytest

from lbie_tf.configs import SegmenterConfig
from lbie_tf.errors import ConfigError, DataError
from lbie_tf.models.segmenter import LanguageSegmenter, build_segmenter

RELEASED = SegmenterConfig(
    image_encoder="cosal_released", word_embedding_dim=0, sentence_units=128, sentence_bidirectional=False,
    paragraph_units=128, unit_forget_bias=False, attention_score="scaled_dot", attention_units=128, fusion_units=128,
    fusion_kernel_size=1, reset_gate_on="text", output_projection=False, gate_bias_init=0.5,
    gate_source="decoder", final_step="drop", inference_stop="most_likely", decoder="released")


def _inputs(batch=2, seed=0):
    rng = np.random.default_rng(seed)
    return {"image": rng.integers(0, 256, (batch, 48, 48, 3)).astype(np.float32),
            "tokens": rng.integers(0, 20, (batch, 9, 3)).astype(np.int32)}


@pytest.fixture(scope="module")
def paper_model():
    keras.utils.set_random_seed(0)
    return build_segmenter(SegmenterConfig(steps=4))


def test_paper_preset_shapes(paper_model):
    out = paper_model(_inputs())
    assert out["logits"].shape == (2, 48, 48, 7)
    assert out["stop_step"].shape == (2, 6, 6)
    assert out["stop_probabilities"].shape == (2, 4, 6, 6)
    assert out["attention"].shape == (2, 4, 6, 6, 9)
    np.testing.assert_allclose(np.sum(out["stop_probabilities"], axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.sum(out["attention"], axis=-1), 1.0, atol=1e-5)
    assert set(np.unique(out["stop_step"])) <= {0, 1, 2, 3}


def test_released_preset_matches_the_released_parameter_count():
    model = build_segmenter(RELEASED)
    # docs/released_code.md: the released attention_reasonet CoSaL model has 1,618,488 trainable parameters.
    assert sum(int(np.prod(v.shape)) for v in model.trainable_variables) == 1_618_488
    out = model(_inputs())
    assert out["logits"].shape == (2, 48, 48, 7)
    assert out["stop_step"].shape == (2, 48, 48)  # one gate per output pixel


def _batch_norm_layers(model):
    return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]


def test_released_batch_norm_inference_choices():
    """"initial" is the released code's test mode: the same as moving averages that never left mean 0 / var 1;
    "moving" uses the trained averages; "batch" the statistics of the batch being predicted."""
    inputs = _inputs(batch=3, seed=5)
    models = {}
    for statistics in ("moving", "batch", "initial"):
        keras.utils.set_random_seed(0)  # momentum 0: one training call sets the averages to that batch's moments
        models[statistics] = build_segmenter(dataclasses.replace(RELEASED, batch_norm_momentum=0.0,
                                                                 batch_norm_inference=statistics))
    models["moving"](inputs, training=True)
    for statistics in ("batch", "initial"):
        models[statistics].set_weights(models["moving"].get_weights())
    assert len(_batch_norm_layers(models["initial"])) == 9  # 4 encoder blocks, decoder input + 4 stages
    logits = {name: np.asarray(model(inputs)["logits"]) for name, model in models.items()}
    scale = np.abs(logits["moving"]).max()
    np.testing.assert_allclose(logits["batch"], logits["moving"], atol=1e-3 * scale)  # same batch, same moments
    assert np.abs(logits["initial"] - logits["moving"]).max() > 0.1 * scale
    reset = build_segmenter(dataclasses.replace(RELEASED, batch_norm_momentum=0.0))
    reset.set_weights(models["moving"].get_weights())
    for layer in _batch_norm_layers(reset):
        layer.moving_mean.assign(np.zeros(layer.moving_mean.shape, np.float32))
        layer.moving_variance.assign(np.ones(layer.moving_variance.shape, np.float32))
    expected = np.asarray(reset(inputs)["logits"])
    np.testing.assert_allclose(logits["initial"], expected, atol=1e-4 * np.abs(expected).max())
    alone = np.asarray(models["batch"]({key: value[:1] for key, value in inputs.items()})["logits"])
    assert np.abs(alone - logits["batch"][:1]).max() > 0.01 * scale  # one image: its own moments


def test_unknown_batch_norm_inference_is_a_config_error():
    with pytest.raises(ConfigError,
                       match="SegmenterConfig.batch_norm_inference='running' is not one of moving, batch, initial"):
        SegmenterConfig(batch_norm_inference="running")


@pytest.mark.parametrize("config", [SegmenterConfig(), RELEASED], ids=["paper", "released"])
def test_summary_lists_every_sublayer(config):
    model = build_segmenter(config)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        model.summary(expand_nested=True, print_fn=lambda line, **kw: print(line))
    text = buffer.getvalue()
    for name in ("image_encoder", "text_encoder", "fusion", "decoder", "conv1_1"):
        assert name in text


def test_keras_archive_round_trip(paper_model, tmp_path):
    path = tmp_path / "segmenter.keras"
    paper_model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(restored, LanguageSegmenter)
    inputs = _inputs(seed=3)
    np.testing.assert_allclose(paper_model(inputs)["logits"], restored(inputs)["logits"], atol=1e-5)


@pytest.mark.parametrize("mode", ["gumbel", "reinforce", "marginal"])
def test_train_outputs_per_mode(paper_model, mode):
    noise = np.random.default_rng(1).uniform(0.01, 0.99, (2, 4, 6, 6)).astype(np.float32)
    out = paper_model.train_outputs(_inputs(), mode, temperature=np.float32(1.0), uniform_noise=noise)
    assert out["log_stop_probs"].shape == (2, 4, 6, 6)
    if mode == "marginal":
        assert out["step_logits"].shape == (2, 4, 48, 48, 7)
    else:
        assert out["logits"].shape == (2, 48, 48, 7)


def test_decoder_gates_train_only_with_the_marginal():
    model = build_segmenter(RELEASED)
    with pytest.raises(ValueError, match="marginal"):
        model.train_outputs(_inputs(), "gumbel", temperature=1.0, uniform_noise=np.full((2, 4, 3, 3), 0.5))
    out = model.train_outputs(_inputs(), "marginal")
    assert out["log_stop_probs"].shape == (2, 4, 48, 48)


def test_no_attention_baseline_ignores_all_but_the_caption_summary():
    keras.utils.set_random_seed(0)
    model = build_segmenter(SegmenterConfig(steps=1, attention=False))
    inputs = _inputs()
    out = model(inputs)
    np.testing.assert_allclose(out["attention"], 0.0)  # no attention weights when attention is off
    assert out["logits"].shape == (2, 48, 48, 7)


@pytest.mark.parametrize("change, message", [
    (lambda x: {**x, "image": x["image"][:, :40]}, "image has shape"),
    (lambda x: {**x, "image": x["image"][..., :1]}, "RGB"),
    (lambda x: {**x, "tokens": x["tokens"][:, :8]}, "9 sentences of 3 words"),
    (lambda x: {**x, "tokens": x["tokens"] + 20}, "unknown word id"),
    (lambda x: {**x, "tokens": x["tokens"].astype(np.float32)}, "integer word ids"),
    (lambda x: {"image": x["image"]}, "lack 'tokens'"),
])
def test_bad_inputs_give_one_line_errors(paper_model, change, message):
    with pytest.raises(DataError, match=message) as error:
        paper_model.check_inputs(change(_inputs()))
    assert "\n" not in str(error.value)


def test_invalid_config_is_a_one_line_config_error():
    with pytest.raises(ConfigError, match="attention_score"):
        SegmenterConfig(attention_score="dot")
    with pytest.raises(ConfigError, match="SegmenterConfig.steps=1"):
        SegmenterConfig(attention=False, steps=4)


def test_encoder_width_multiplies_the_paper_encoder_channels():
    model = build_segmenter(SegmenterConfig(steps=1, encoder_width=3))
    convs = [layer for layer in model.image_encoder.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [conv.filters for conv in convs] == [12, 12, 24, 24, 48, 48]
    assert model.encode_image(_inputs()["image"]).shape == (2, 6, 6, 48)
    assert model(_inputs())["logits"].shape == (2, 48, 48, 7)


def test_encoder_context_layers_are_dilated_convs_at_the_region_resolution():
    model = build_segmenter(SegmenterConfig(steps=1, encoder_width=2, encoder_context_layers=2,
                                            encoder_context_units=40))
    context = [layer for layer in model.image_encoder.layers if layer.name.startswith("context")]
    assert [(conv.filters, conv.dilation_rate) for conv in context] == [(40, (2, 2)), (40, (2, 2))]
    assert model.encode_image(_inputs()["image"]).shape == (2, 6, 6, 40)
    # Receptive field: a pixel change in one corner cell reaches the region features of the cell two columns
    # away only through the dilated convs (the six paper convs see 36 pixels around a region).
    image = np.full((1, 48, 48, 3), 255.0, np.float32)
    changed = image.copy()
    changed[0, 4:12, 4:12] = 0.0
    for layers, reaches in ((0, False), (2, True)):
        keras.utils.set_random_seed(3)
        encoder = build_segmenter(SegmenterConfig(steps=1, encoder_context_layers=layers)).image_encoder
        delta = np.abs(np.asarray(encoder(changed)) - np.asarray(encoder(image)))
        assert (delta[0, 0, 4:].max() > 0) == reaches


def test_without_paragraph_lstm_the_text_features_are_the_sentence_vectors(tmp_path):
    keras.utils.set_random_seed(2)
    model = build_segmenter(SegmenterConfig(steps=1, sentence_units=8, paragraph_lstm=False))
    encoder = model.text_encoder
    assert encoder.paragraph_lstm is None
    tokens = _inputs()["tokens"]
    features, summary = encoder(tokens)
    assert features.shape == (2, 9, 16)  # bidirectional: 2 × 8
    np.testing.assert_allclose(summary, np.mean(features, axis=1), atol=1e-6)
    # Each sentence is encoded on its own: permuting the sentences permutes U the same way.
    order = np.array([8, 3, 0, 5, 1, 7, 2, 6, 4])
    np.testing.assert_allclose(encoder(tokens[:, order])[0], np.asarray(features)[:, order], atol=1e-5)
    path = tmp_path / "no_paragraph.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(restored(_inputs())["logits"], model(_inputs())["logits"], atol=1e-5)


def test_image_skip_refines_the_logits_from_the_pixels():
    keras.utils.set_random_seed(1)
    model = build_segmenter(SegmenterConfig(steps=2, image_skip=True))
    inputs = _inputs()
    fused = model.fuse(inputs)["step_outputs"][:, 0]
    plain = model.decoder(fused)
    # the refinement starts at zero: the model begins as the plain decoder
    np.testing.assert_allclose(model.decode(fused, inputs["image"]), plain, atol=1e-6)
    last = model.refinement.get_layer("refine_2")
    last.kernel.assign(np.ones(last.kernel.shape, np.float32) * 0.01)
    changed = np.asarray(model.decode(fused, inputs["image"]))
    assert np.abs(changed - np.asarray(plain)).max() > 1e-3
    flipped = np.asarray(model.decode(fused, 255.0 - inputs["image"]))
    assert np.abs(flipped - changed).max() > 1e-4  # the correction depends on the pixels
    with pytest.raises(ValueError, match="image_skip"):
        model.decode(fused)
    for mode in ("gumbel", "marginal"):
        noise = np.full((2, 2, 6, 6), 0.5, np.float32)
        outputs = model.train_outputs(inputs, mode, temperature=1.0, uniform_noise=noise)
        assert outputs["logits" if mode == "gumbel" else "step_logits"].shape[-3:] == (48, 48, 7)
    assert model(inputs)["logits"].shape == (2, 48, 48, 7)


# --- ReferIt: VGG-16 encoder, word-level text encoder, binary head ---------------------------------------------

WORDS = SegmenterConfig(image_encoder="vgg16", vgg_blocks=2, image_size=32, num_classes=1, text_encoder="words",
                        vocab_size=30, word_embedding_dim=8, sentence_units=8, sentence_bidirectional=False,
                        steps=3, attention_units=8, fusion_units=8, classifier_units=8)


def _word_inputs(batch=2, seed=0, size=32):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(1, 30, (batch, 20)).astype(np.int32)
    tokens[:, :15] = 0  # left padding: five real words
    return {"image": rng.integers(0, 256, (batch, size, size, 3)).astype(np.float32), "tokens": tokens}


@pytest.fixture(scope="module")
def word_model():
    keras.utils.set_random_seed(0)
    return build_segmenter(WORDS, sentences=1, words=20)


def test_word_level_binary_model_shapes_and_padding_mask(word_model):
    out = word_model(_word_inputs())
    assert word_model.token_shape == (20,) and word_model.regions == 8
    assert out["logits"].shape == (2, 32, 32, 1)
    assert out["stop_step"].shape == (2, 8, 8) and out["stop_probabilities"].shape == (2, 3, 8, 8)
    assert out["attention"].shape == (2, 3, 8, 8, 20)
    attention = np.asarray(out["attention"])
    np.testing.assert_array_equal(attention[..., :15], 0.0)  # padding gets no attention
    np.testing.assert_allclose(attention.sum(axis=-1), 1.0, atol=1e-5)


def test_word_level_model_round_trip_and_summary(word_model, tmp_path):
    path = tmp_path / "referit.keras"
    word_model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    inputs = _word_inputs(seed=4)
    np.testing.assert_allclose(word_model(inputs)["logits"], restored(inputs)["logits"], atol=1e-4)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        word_model.summary(expand_nested=True, print_fn=lambda line, **kw: print(line))
    for name in ("vgg_preprocessing", "block2_conv2", "word_lstm", "fusion", "bilinear_upsampling"):
        assert name in buffer.getvalue()


def test_word_level_bad_inputs(word_model):
    inputs = _word_inputs()
    with pytest.raises(DataError, match=r"needs \[batch, 20\] \(20 words\)"):
        word_model.check_inputs({**inputs, "tokens": inputs["tokens"][:, None]})
    with pytest.raises(DataError, match="unknown word id"):
        word_model.check_inputs({**inputs, "tokens": inputs["tokens"] + 30})


def test_referit_paper_preset_shapes_at_512():
    """The paper preset (VGG-16 at 512², LSTM 1,024, attention 512, C-GRU 1,024, T = 3), built symbolically
    (no forward computation, ~10 s for its 100 M parameters)."""
    config = SegmenterConfig(image_encoder="vgg16", image_size=512, num_classes=1, text_encoder="words",
                             vocab_size=8803, word_embedding_dim=1000, sentence_units=1024,
                             sentence_bidirectional=False, steps=3, attention_units=512, fusion_units=1024,
                             classifier_units=500)
    model = LanguageSegmenter(config, sentences=1, words=20)
    spec = model.compute_output_spec({"image": keras.KerasTensor((1, 512, 512, 3)),
                                      "tokens": keras.KerasTensor((1, 20), dtype="int32")})
    assert spec["logits"].shape == (1, 512, 512, 1)
    assert spec["stop_step"].shape == (1, 16, 16) and spec["attention"].shape == (1, 3, 16, 16, 20)
    assert sum(int(np.prod(v.shape)) for v in model.image_encoder.weights) == 14_714_688  # keras VGG16 notop
    assert model.decoder.get_layer("bilinear_upsampling").strides == (32, 32)


def test_referit_config_errors():
    with pytest.raises(ConfigError, match="multiple of 32"):
        SegmenterConfig(image_encoder="vgg16", image_size=500)
    with pytest.raises(ConfigError, match="SegmenterConfig.vgg_blocks must be in 1..5"):
        SegmenterConfig(image_encoder="vgg16", vgg_blocks=6, image_size=512)
    with pytest.raises(ConfigError, match="SegmenterConfig.word_embedding_dim >= 1"):
        SegmenterConfig(text_encoder="words", word_embedding_dim=0)
    with pytest.raises(ConfigError, match="text_encoder"):
        SegmenterConfig(text_encoder="chars")
