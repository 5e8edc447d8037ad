"""LanguageColorizer and TextPatchDiscriminator: the released presets reproduce the shipped checkpoint's
parameter counts, outputs have the documented shapes, summaries list every part, Keras archives round-trip,
the baseline has no text path, and bad inputs / configs give one-line errors."""

import contextlib
import io

import keras
import numpy as np
import pytest

from lbie_tf.configs import ColorizerConfig, DiscriminatorConfig
from lbie_tf.errors import ConfigError, DataError
from lbie_tf.models.colorizer import (
    LanguageColorizer,
    build_colorizer,
    check_colorizer_inputs,
)
from lbie_tf.models.discriminator import TextPatchDiscriminator, build_discriminator

RELEASED = ColorizerConfig(
    filters=32, vocab_size=4291, word_embedding_dim=300, word_embedding_trainable=False, text_units=64,
    text_trainable=False, unit_forget_bias=False, attention_score="additive", fusion_kernel_size=1,
    output_projection=False, gate_bias_init=1.0, batch_norm_inference="batch")
SMALL = ColorizerConfig(filters=4, vocab_size=30, word_embedding_dim=8, text_units=6, attention_units=8,
                        fusion_units=16)


def _inputs(batch=2, size=32, words=5, seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(2, 30, (batch, words)).astype(np.int32)
    tokens[0, -2:] = 0  # padding
    return {"gray": rng.uniform(-1, 1, (batch, size, size, 1)).astype(np.float32), "tokens": tokens}


def _parameters(variables):
    return sum(int(np.prod(v.shape)) for v in variables)


def test_released_generator_and_discriminator_match_the_shipped_checkpoint():
    # docs/released_code.md: generator 2,339,267 (with the frozen BiLSTM, without the fed word2vec matrix),
    # discriminator 3,939,841. The released additive attention has two biases more per merger (on the text
    # projection and on the score: 128 + 1) that are redundant (they add to the state bias before the tanh,
    # and a constant score does not change the softmax), so each model has 129 parameters fewer.
    generator = build_colorizer(RELEASED)
    frozen_embedding = 4291 * 300
    learned = [v for v in generator.weights if "moving" not in v.path]
    assert _parameters(learned) - frozen_embedding == 2_339_267 - 129
    discriminator = build_discriminator(DiscriminatorConfig(), RELEASED)
    assert _parameters(discriminator.trainable_weights) == 3_939_841 - 129
    assert discriminator(discriminator.dummy_inputs(size=256)).shape == (1, 29, 29)  # released 29×29 patches


def test_frozen_parts_are_not_trainable():
    generator = build_colorizer(RELEASED)
    trainable = {v.path for v in generator.trainable_variables}
    assert not any("word_embedding" in p or "bilstm" in p for p in trainable)
    assert any("fusion" in p for p in trainable)


def test_generator_outputs_and_padding_is_ignored():
    keras.utils.set_random_seed(0)
    model = build_colorizer(SMALL)
    inputs = _inputs()
    out = model(inputs)
    assert out["ab"].shape == (2, 32, 32, 2)
    assert np.all(np.abs(out["ab"]) <= 1.0)
    assert out["text_features"].shape == (2, 5, 12)
    assert out["attention"].shape == (2, 1, 8, 8, 5)
    np.testing.assert_allclose(np.sum(out["attention"], axis=-1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(out["attention"][0, ..., -2:], 0.0)  # padding gets no attention
    # More padding after the words does not change the output.
    longer = {**inputs, "tokens": np.concatenate([inputs["tokens"], np.zeros((2, 3), np.int32)], axis=1)}
    np.testing.assert_allclose(model(longer)["ab"], out["ab"], atol=1e-5)


def test_text_changes_the_output_and_the_baseline_has_no_text_path():
    keras.utils.set_random_seed(0)
    model = build_colorizer(SMALL)
    a, b = _inputs(seed=1), _inputs(seed=2)
    # (batch statistics: at initialisation the moving statistics leave the output near 0)
    changed = model({**a, "tokens": b["tokens"]}, training=True)["ab"] - model(a, training=True)["ab"]
    assert np.max(np.abs(changed)) > 1e-3
    baseline = build_colorizer(ColorizerConfig(**{**SMALL.to_dict(), "use_text": False}))
    assert baseline.text_encoder is None and baseline.fusion is None
    assert set(baseline(a)) == {"ab"}
    np.testing.assert_allclose(baseline({**a, "tokens": b["tokens"]})["ab"], baseline(a)["ab"])


def test_steps_above_one_run():
    model = build_colorizer(ColorizerConfig(**{**SMALL.to_dict(), "steps": 3}))
    assert model(_inputs())["attention"].shape == (2, 3, 8, 8, 5)


@pytest.mark.parametrize("text", ["shared", "own", "none"])
def test_discriminator_patches_and_round_trip(text, tmp_path):
    keras.utils.set_random_seed(0)
    model = build_discriminator(DiscriminatorConfig(filters=4, text=text, merger_units=8), SMALL)
    inputs = model.dummy_inputs(batch=2, size=64, words=5)
    rng = np.random.default_rng(0)
    inputs = {k: (rng.uniform(-1, 1, v.shape).astype(np.float32) if v.dtype == np.float32 else v)
              for k, v in inputs.items()}
    logits = model(inputs)
    assert logits.shape == ((2, 5, 5) if text != "none" else (2, 6, 6))  # 64 → 32 → 16 → 8 → 7 (→ 6) → 5/6
    path = tmp_path / "d.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(restored, TextPatchDiscriminator)
    np.testing.assert_allclose(restored(inputs), logits, atol=1e-5)


def test_batch_norm_switch_removes_exactly_the_batch_norm_layers():
    with_norm, without = build_colorizer(SMALL), build_colorizer(ColorizerConfig(**{**SMALL.to_dict(),
                                                                                     "batch_norm": False}))

    def norm_layers(model):
        return [layer.name for part in (model.image_encoder, model.decoder) for layer in part.layers
                if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norm_layers(with_norm)) == 8  # five in the encoder, three in the decoder (released colornet)
    assert norm_layers(without) == []
    assert _parameters(with_norm.weights) - _parameters(without.weights) == 4 * sum(
        layer.gamma.shape[0] for part in (with_norm.image_encoder, with_norm.decoder) for layer in part.layers
        if isinstance(layer, keras.layers.BatchNormalization))
    assert without(_inputs())["ab"].shape == (2, 32, 32, 2)


@pytest.mark.parametrize("config", [SMALL, ColorizerConfig(**{**SMALL.to_dict(), "use_text": False}),
                                    ColorizerConfig(**{**SMALL.to_dict(), "batch_norm": False})],
                         ids=["lbie", "baseline_i2i", "no_batch_norm"])
def test_generator_keras_archive_round_trip(config, tmp_path):
    model = build_colorizer(config)
    path = tmp_path / "g.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(restored, LanguageColorizer)
    inputs = _inputs(seed=3)
    np.testing.assert_allclose(restored(inputs)["ab"], model(inputs)["ab"], atol=1e-5)


def test_summaries_list_every_part():
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        build_colorizer(SMALL).summary(expand_nested=True, print_fn=lambda line, **kw: print(line))
        build_discriminator(DiscriminatorConfig(filters=4, merger_units=8), SMALL).summary(
            expand_nested=True, print_fn=lambda line, **kw: print(line))
    text = buffer.getvalue()
    for name in ("image_encoder", "conv7_3", "text_encoder", "bilstm", "fusion", "attention", "decoder",
                 "conv_ab", "layer_4", "merger", "patch_logits"):
        assert name in text


@pytest.mark.parametrize("gray, tokens, message", [
    (np.zeros((1, 30, 32, 1)), np.ones((1, 4)), "multiples of 4"),
    (np.zeros((1, 32, 32, 3)), np.ones((1, 4)), r"\[batch, H, W, 1\]"),
    (np.full((1, 32, 32, 1), np.nan), np.ones((1, 4)), "non-finite"),
    (np.zeros((1, 32, 32, 1)), np.full((1, 4), 30), "outside"),
    (np.zeros((2, 32, 32, 1)), np.ones((1, 4)), "need"),
])
def test_bad_inputs_give_one_line_errors(gray, tokens, message):
    with pytest.raises(DataError, match=message) as error:
        check_colorizer_inputs(gray, tokens, SMALL)
    assert "\n" not in str(error.value)


def test_invalid_configs_are_one_line_config_errors():
    with pytest.raises(ConfigError, match="ColorizerConfig.attention_score"):
        ColorizerConfig(attention_score="scaled_dot")
    with pytest.raises(ConfigError, match="DiscriminatorConfig.text"):
        DiscriminatorConfig(text="bert")
    with pytest.raises(ConfigError, match="ColorizerConfig.filters"):
        ColorizerConfig(filters=0)
