"""ColorizationTask on CoSaL: the D step trains only the discriminator and the G step only the generator, a
resumed run reaches the same weights, a NaN stops with the step and the last good checkpoint, summaries carry
the captions, and a tiny training beats the text-free baseline on colours only the caption can give."""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.configs import (
    ColorizerConfig,
    DiscriminatorConfig,
    GanConfig,
    TrainingConfig,
)
from lbie_tf.data.cosal import CosalConfig
from lbie_tf.errors import ConfigError, NonFiniteLossError
from lbie_tf.tasks import cosal_colorization
from lbie_tf.tasks.colorization import ColorizationTask
from lbie_tf.training.trainer import EVAL_RESULTS_FILE

DATA = CosalConfig(image_size=48, num_direct=9, train_size=64, test_size=8)
GENERATOR = ColorizerConfig(filters=4, vocab_size=cosal_colorization.VOCAB_SIZE, word_embedding_dim=8, text_units=8,
                            attention_units=8, fusion_units=16)
BASELINE = ColorizerConfig(**{**GENERATOR.to_dict(), "use_text": False})
DISCRIMINATOR = DiscriminatorConfig(filters=4, merger_units=8)
GAN = GanConfig(l1_weight=100.0)


def _trainer(model_dir, generator=GENERATOR, discriminator=DISCRIMINATOR, gan=GAN, evaluate=False, **training):
    """A tiny CoSaL colorization trainer; with `evaluate`, it evaluates on 8 test images and keeps 2 previews."""
    settings = dict(batch_size=4, train_steps=4, checkpoint_every=2, summary_every=2, image_summary_every=2,
                    learning_rate=1e-3, adam_beta_1=0.5)
    settings.update(training)
    data = DATA if evaluate else dataclasses.replace(DATA, test_size=0)
    return cosal_colorization.make_trainer(generator, discriminator, gan, TrainingConfig(**settings), data,
                                           str(model_dir), tf.distribute.get_strategy(), eval_batch_size=8,
                                           log=lambda line: None, progress_stream=None, previews=2 if evaluate else 0)


def _values(variables):
    return [np.array(v.numpy()) for v in variables]


def test_one_step_updates_each_model_with_its_own_optimizer(tmp_path):
    trainer = _trainer(tmp_path, evaluate=True)
    task = trainer.task
    generator_before, discriminator_before = _values(task.generator.trainable_variables), _values(
        task.discriminator.trainable_variables)
    batch = next(iter(trainer.train_dataset(0)))
    results = trainer.compiled_step()(batch)
    assert {"loss", "discriminator_loss", "generator_loss", "l1", "d_real", "d_fake"} <= set(results)
    assert int(task.generator_optimizer.iterations.numpy()) == 1
    assert int(task.discriminator_optimizer.iterations.numpy()) == 1
    generator_ids = {id(v) for v in task.generator.trainable_variables}
    assert not generator_ids & {id(v) for v in task.discriminator.trainable_variables}
    changed = [np.any(a != b.numpy()) for a, b in zip(generator_before, task.generator.trainable_variables)]
    assert all(changed)
    changed = [np.any(a != b.numpy()) for a, b in zip(discriminator_before, task.discriminator.trainable_variables)]
    assert all(changed)
    _check_summaries(trainer)
    trainer.run()  # to train_steps, then the evaluation report
    report = json.load(open(os.path.join(tmp_path, EVAL_RESULTS_FILE)))
    assert report["num_images"] == 8
    assert 0 <= report["shape_color_accuracy"] <= 1 and 0 <= report["consistency"] <= 1 and report["psnr"] > 0


def test_discriminator_step_does_not_touch_the_generator(tmp_path):
    # With both generator loss weights at 0 the generator's gradients are all zero, so Adam leaves it
    # unchanged: only the discriminator step moves weights (no leak of the D loss into the generator, e.g. via
    # the shared text features).
    trainer = _trainer(tmp_path, gan=GanConfig(gan_weight=0.0, l1_weight=1e-30))
    task = trainer.task
    before = _values(task.generator.trainable_variables)
    trainer.compiled_step()(next(iter(trainer.train_dataset(0))))
    for a, b in zip(before, task.generator.trainable_variables):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-6)


@pytest.mark.slow  # a training run long enough to prove its point: `make test-all` and CI run it
def test_interrupted_and_resumed_run_reaches_the_same_weights(tmp_path):
    uninterrupted = _trainer(tmp_path / "a")
    uninterrupted.run()
    _trainer(tmp_path / "b", train_steps=2).run()
    resumed = _trainer(tmp_path / "b")
    assert resumed.restore() == 2
    resumed.run()
    for model in ("generator", "discriminator"):
        for a, b in zip(_values(getattr(uninterrupted.task, model).weights),
                        _values(getattr(resumed.task, model).weights)):
            np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.slow  # a training run long enough to prove its point: `make test-all` and CI run it
def test_nan_in_the_gan_losses_stops_with_the_step_and_last_good_checkpoint(tmp_path):
    trainer = _trainer(tmp_path, train_steps=6)
    original = trainer.train_dataset

    def poisoned(start):  # the 4th batch's targets are NaN
        def poison(index, batch):
            bad = tf.fill(tf.shape(batch["ab"]), float("nan"))
            return {**batch, "ab": tf.where(index + start == 3, bad, batch["ab"])}
        return original(start).enumerate().map(poison)

    trainer.train_dataset = poisoned
    with pytest.raises(NonFiniteLossError) as error:
        trainer.run()
    message = str(error.value)
    assert "at step 4" in message and "last good checkpoint: step 2" in message
    assert "discriminator_loss nan" in message and "\n" not in message


def _check_summaries(trainer):
    images = trainer.task.summary_images(trainer.preview_examples)
    assert {k: v.shape for k, v in images.items()} == {k: (2, 48, 48, 3) for k in ("gray_input", "output", "target")}
    assert all(v.dtype == np.uint8 for v in images.values())
    captions = trainer.task.summary_text(trainer.preview_examples)["caption"]
    assert len(captions) == 2 and captions[0].count(" is ") == 9


def test_baseline_needs_a_text_free_discriminator():
    with pytest.raises(ConfigError, match="DiscriminatorConfig.text=none"):
        ColorizationTask(BASELINE, DISCRIMINATOR, GAN, TrainingConfig())


def _two_captions_one_picture():
    """One CoSaL silhouette twice: all shapes colour A with a caption naming A, all shapes colour B with a
    caption naming B. The gray inputs are identical, so only the caption can tell the two targets apart."""
    from lbie_tf.data import cosal
    from lbie_tf.data import cosal_vocabulary as vocab

    example = cosal.generate(tf.constant([0, 0], tf.int64), DATA, "test")
    colours = tf.constant([2, 5])  # red, yellow
    ab = tf.gather(tf.constant(cosal_colorization.PALETTE_AB), colours)[:, None, None, :]
    shape = example["labels"][..., None] > 0
    colour_words = (example["tokens"] >= vocab.FIRST_COLOUR_ID) & (example["tokens"] < vocab.IS_ID)
    tokens = tf.where(colour_words, (colours + vocab.FIRST_COLOUR_ID)[:, None, None], example["tokens"])
    labels = tf.where(example["labels"] > 0, (colours + 1)[:, None, None], 0)
    cells = tf.tile(tf.range(9)[None, :, None], [2, 1, 2])
    batch = cosal_colorization.colorization_view({**example, "tokens": tokens})
    return {**batch, "ab": tf.where(shape, ab, 0.0), "labels": labels, "sentence_cells": cells}


@pytest.mark.parametrize("generator, discriminator_text", [(GENERATOR, "shared"), (BASELINE, "none")],
                         ids=["lbie", "baseline_i2i"])
@pytest.mark.slow  # a training run long enough to prove its point: `make test-all` and CI run it
def test_tiny_training_uses_the_caption(tmp_path, generator, discriminator_text):
    batch = _two_captions_one_picture()
    training = TrainingConfig(batch_size=2, train_steps=120, checkpoint_every=1000, summary_every=1000,
                              image_summary_every=1000, learning_rate=2e-3, adam_beta_1=0.9)
    task = ColorizationTask(generator, DiscriminatorConfig(filters=4, merger_units=8, text=discriminator_text),
                            GanConfig(gan_weight=0.0, l1_weight=100.0, pixel_loss="l2"), training,
                            metrics_factory=cosal_colorization.CosalColourMetrics)
    from lbie_tf.training.trainer import Trainer

    Trainer(task, training, tf.distribute.get_strategy(), str(tmp_path),
            train_dataset=lambda start: tf.data.Dataset.from_tensors(batch).repeat(), progress_stream=None,
            log=lambda line: None).run()
    accuracy = task.evaluate(tf.data.Dataset.from_tensors(batch))["shape_color_accuracy"]
    if generator.use_text:
        assert accuracy > 0.9
    else:
        assert accuracy <= 0.5 + 1e-6  # the same input twice: one colour for both, right for at most half
