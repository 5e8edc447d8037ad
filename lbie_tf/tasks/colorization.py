"""Language-based colorization as a `Task` of the shared training loop: the GAN's alternating D and G steps.

Batches are dicts with `gray` `[batch, H, W, 1]` (L/50 − 1), `ab` `[batch, H, W, 2]` (ab/110), `tokens` int
`[batch, words]` (0 = padding), `caption` string `[batch]` and `example_id` `[batch]`; a dataset may add
fields its metrics need (CoSaL: labels and cells).

One training step is the released code's loop body (main.py:244-299) on one batch: the discriminator step
(D loss on the real pair and on the generator's current output), then the generator step (GAN term through the
*updated* discriminator + L1). Each model has its own Adam optimiser and only its own variables; the
discriminator sees the generator's text features with the gradient stopped, so it never trains the
generator's text encoder.
"""

from __future__ import annotations

from typing import Protocol

import keras
import numpy as np
import tensorflow as tf

from lbie_tf.configs import (
    ColorizerConfig,
    DiscriminatorConfig,
    GanConfig,
    TrainingConfig,
    field_defaults,
)
from lbie_tf.configs.training import check_no_learning_curve
from lbie_tf.configs.validation import check_unchanged
from lbie_tf.data import color_space
from lbie_tf.errors import ConfigError
from lbie_tf.evaluation import colorization_metrics as metrics
from lbie_tf.losses import gan as gan_losses
from lbie_tf.models.colorizer import build_colorizer
from lbie_tf.models.discriminator import build_discriminator
from lbie_tf.training.schedules import learning_rate_schedule

PSNR_CAP_DB = 100.0  # PSNR of an image reproduced exactly, in the mean


class ColorizationMetrics(Protocol):
    """Dataset-specific evaluation added to the generic one (e.g. CoSaL colour accuracy)."""

    def update(self, batch: dict, predicted_ab: np.ndarray, predicted_rgb: np.ndarray) -> None:
        """Accumulate one test batch, the generator's ab `[batch, H, W, 2]` and the RGB image it gives with
        the input's L, float in [0, 1] `[batch, H, W, 3]`."""

    def result(self) -> dict:
        """The accumulated report entries."""


def lab_to_rgb(gray, ab) -> np.ndarray:
    """Normalised L `[b, H, W, 1]` and ab `[b, H, W, 2]` → float sRGB in [0, 1] `[b, H, W, 3]`."""
    lab = color_space.denormalize_lab(tf.concat([tf.cast(gray, tf.float32), tf.cast(ab, tf.float32)], -1))
    return color_space.lab_to_rgb(lab).numpy()


def lab_to_rgb_uint8(gray, ab) -> np.ndarray:
    """As `lab_to_rgb`, as uint8 `[b, H, W, 3]` (for image summaries)."""
    return np.round(lab_to_rgb(gray, ab) * 255.0).astype(np.uint8)


def check_gan_configs(generator: ColorizerConfig, discriminator: DiscriminatorConfig) -> None:
    """Refuse a generator / discriminator pair that cannot work together (one line)."""
    if not generator.use_text and discriminator.text != "none":
        raise ConfigError("the text-free baseline (ColorizerConfig.use_text=False) has no caption for the "
                          "discriminator: set DiscriminatorConfig.text=none")


# TrainingConfig fields of the segmentation task (termination gates, pixel classes, the segmentation losses);
# a colorization run refuses them when they are not at their defaults, so that no flag is accepted and ignored.
_SEGMENTATION_ONLY = ("termination_training", "gumbel_temperature_initial", "gumbel_temperature_min",
                      "gumbel_temperature_decay", "gumbel_hard", "foreground_weight", "stop_prior_weight",
                      "weight_decay", "gate_warmup_steps")


def check_training_config(training: TrainingConfig) -> None:
    """Refuse training settings a colorization run would ignore or cannot apply (one line naming them)."""
    check_unchanged(training, _SEGMENTATION_ONLY, "belong(s) to segmentation training; colorization does not use "
                                                  "it: leave it at its default")
    check_no_learning_curve(training)
    if training.mixed_precision:
        raise ConfigError("TrainingConfig.mixed_precision is not supported by the colorization GAN step yet (its two "
                          "optimizers would need separate loss scaling): train in float32")
    check_unchanged(training, ("jit_compile",), "is not used: the colorization GAN step always runs without XLA (it "
                                                "applies two optimizers in one step; XLA is slower here on CPU): "
                                                "leave it at auto")


class ColorizationTask:
    """Trains and evaluates a `LanguageColorizer` with a `TextPatchDiscriminator`.

    Args:
        generator_config, discriminator_config, gan: the model and loss records.
        training: the `TrainingConfig` (learning rate and Adam β1 of both optimisers, seed).
        word_vectors: optional float `[vocab_size, word_embedding_dim]` pretrained vectors for the (frozen)
            word embedding(s).
        metrics_factory: optional callable returning a fresh `ColorizationMetrics` accumulator.
    """

    def __init__(self, generator_config: ColorizerConfig, discriminator_config: DiscriminatorConfig,
                 gan: GanConfig, training: TrainingConfig, word_vectors: np.ndarray | None = None,
                 metrics_factory=None):
        check_gan_configs(generator_config, discriminator_config)
        check_training_config(training)
        self.generator_config = generator_config
        self.discriminator_config = discriminator_config
        self.gan = gan
        self.training = training
        self.word_vectors = word_vectors
        self.metrics = metrics_factory
        self.generator = self.discriminator = None
        self.generator_optimizer = self.discriminator_optimizer = None

    def build(self, jit_compile: bool) -> None:
        """Models and optimisers. The GAN step runs without XLA (`jit_compile` is not used): it applies two
        optimisers in one step, and on CPU oneDNN runs these convolutions faster than XLA."""
        del jit_compile
        keras.utils.set_random_seed(self.training.seed)
        self.generator = build_colorizer(self.generator_config)
        self.discriminator = build_discriminator(self.discriminator_config, self.generator_config)
        if self.word_vectors is not None:
            for model in (self.generator, self.discriminator):
                if getattr(model, "text_encoder", None) is not None:
                    model.text_encoder.embedding.embeddings.assign(self.word_vectors)
        self.generator_optimizer = self._adam("generator_adam", self.generator)
        self.discriminator_optimizer = self._adam("discriminator_adam", self.discriminator)

    def _adam(self, name: str, model: keras.Model) -> keras.optimizers.Optimizer:
        optimizer = keras.optimizers.Adam(learning_rate_schedule(self.training), beta_1=self.training.adam_beta_1,
                                          name=name)
        optimizer.build(model.trainable_variables)
        return optimizer

    def run_config(self) -> dict:
        return {"generator": self.generator_config.to_dict(), "discriminator": self.discriminator_config.to_dict(),
                "gan": self.gan.to_dict()}

    def run_config_defaults(self) -> dict:
        return {"generator": field_defaults(ColorizerConfig), "discriminator": field_defaults(DiscriminatorConfig),
                "gan": field_defaults(GanConfig)}

    def checkpoint_objects(self) -> dict:
        return {"generator": self.generator, "discriminator": self.discriminator,
                "generator_optimizer": self.generator_optimizer,
                "discriminator_optimizer": self.discriminator_optimizer}

    # ----------------------------------------------------------------------------------------------
    def _discriminator_inputs(self, gray, ab, generated: dict, tokens) -> dict:
        inputs = {"gray": gray, "ab": ab}
        if self.discriminator_config.text == "shared":
            inputs["text_features"] = tf.stop_gradient(generated["text_features"])
            inputs["text_mask"] = generated["text_mask"]
        elif self.discriminator_config.text == "own":
            inputs["tokens"] = tokens
        return inputs

    def train_step(self, batch: dict, step, global_batch_size: int) -> dict:
        """D step, then G step, on one batch; every term averaged over the global batch.

        The generator runs forward once: its output feeds the D step (gradient stopped) and, through the
        updated discriminator, the G step's adversarial term.
        """
        del step
        gray, target = tf.cast(batch["gray"], tf.float32), tf.cast(batch["ab"], tf.float32)
        tokens = batch["tokens"]

        def average(per_example):
            return tf.nn.compute_average_loss(per_example, global_batch_size=global_batch_size)

        with tf.GradientTape() as generator_tape:
            generated = self.generator({"gray": gray, "tokens": tokens}, training=True)
            fake = generated["ab"]
            with generator_tape.stop_recording():
                with tf.GradientTape() as discriminator_tape:
                    real_logits = self.discriminator(self._discriminator_inputs(gray, target, generated, tokens),
                                                     training=True)
                    fake_logits = self.discriminator(
                        self._discriminator_inputs(gray, tf.stop_gradient(fake), generated, tokens), training=True)
                    discriminator_loss = average(gan_losses.discriminator_loss(real_logits, fake_logits))
                discriminator_variables = self.discriminator.trainable_variables
                self.discriminator_optimizer.apply_gradients(zip(
                    discriminator_tape.gradient(discriminator_loss, discriminator_variables),
                    discriminator_variables))
            fooled_logits = self.discriminator(self._discriminator_inputs(gray, fake, generated, tokens),
                                               training=True)
            adversarial = average(gan_losses.generator_adversarial_loss(fooled_logits, self.gan.gan_generator_loss))
            pixel_loss = gan_losses.l1_loss if self.gan.pixel_loss == "l1" else gan_losses.l2_loss
            pixel = average(pixel_loss(target, fake))
            generator_loss = self.gan.gan_weight * adversarial + self.gan.l1_weight * pixel
        generator_variables = self.generator.trainable_variables
        self.generator_optimizer.apply_gradients(zip(generator_tape.gradient(generator_loss, generator_variables),
                                                     generator_variables))
        return {
            "loss": discriminator_loss + generator_loss,
            "discriminator_loss": discriminator_loss,
            "generator_loss": generator_loss,
            "generator_adversarial": adversarial,
            self.gan.pixel_loss: pixel,
            "d_real": average(tf.reduce_mean(tf.sigmoid(real_logits), axis=[1, 2])),
            "d_fake": average(tf.reduce_mean(tf.sigmoid(fake_logits), axis=[1, 2])),
        }

    def log_scalars(self, step: int, reduced: dict) -> dict:
        return {name: float(value) for name, value in reduced.items()}

    # ----------------------------------------------------------------------------------------------
    def predict_ab(self, gray, tokens) -> np.ndarray:
        """The generator's ab `[batch, H, W, 2]` at inference."""
        return self.generator({"gray": gray, "tokens": tokens}, training=False)["ab"].numpy()

    def summary_images(self, examples: dict) -> dict:
        gray = np.asarray(examples["gray"])
        return {
            "gray_input": lab_to_rgb_uint8(gray, np.zeros(gray.shape[:-1] + (2,), np.float32)),
            "output": lab_to_rgb_uint8(gray, self.predict_ab(gray, examples["tokens"])),
            "target": lab_to_rgb_uint8(gray, examples["ab"]),
        }

    def summary_text(self, examples: dict) -> dict:
        """The captions of the preview images, for a TensorBoard text summary."""
        return {"caption": [c.decode("utf-8") if isinstance(c, bytes) else str(c) for c in examples["caption"]]}

    def evaluate(self, dataset: tf.data.Dataset) -> dict:
        """Mean L1 of ab (×110 = Lab units), mean PSNR of the RGB images (L from the input; an exact image
        counts as `PSNR_CAP_DB`), and the
        dataset-specific metrics, over the whole finite dataset."""
        model = self.generator

        @tf.function
        def predict(gray, tokens):
            return model({"gray": gray, "tokens": tokens}, training=False)["ab"]

        extra = self.metrics() if self.metrics is not None else None
        l1_sum, psnr_values, images = 0.0, [], 0
        for batch in dataset:
            predicted = predict(batch["gray"], batch["tokens"]).numpy()
            target = batch["ab"].numpy()
            l1_sum += float(np.sum(np.mean(np.abs(predicted - target), axis=(1, 2, 3))))
            predicted_rgb = lab_to_rgb(batch["gray"], predicted)
            psnr_values.append(metrics.psnr(predicted_rgb, lab_to_rgb(batch["gray"], target)))
            images += predicted.shape[0]
            if extra is not None:
                extra.update({k: v.numpy() for k, v in batch.items()}, predicted, predicted_rgb)
        psnr = np.minimum(np.concatenate(psnr_values), PSNR_CAP_DB) if psnr_values else np.zeros(0)
        report = {"num_images": images, "l1_ab": l1_sum / max(images, 1),
                  "psnr": float(np.mean(psnr)) if psnr.size else None}
        if extra is not None:
            report.update(extra.result())
        return report
