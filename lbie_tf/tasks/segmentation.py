"""Language-based segmentation as a `Task` of the shared training loop.

Batches are dicts with `image` `[batch, H, W, 3]`, `tokens` `[batch, S, W]`, `labels` `[batch, H, W]` and
`example_id` `[batch]` (the example's index in its stream; it keys the Gumbel / REINFORCE noise together with
the step, so the noise of an example is the same however the batch is split over replicas, and a resumed run
draws the same noise as an uninterrupted one).
"""

from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from lbie_tf.configs import SegmenterConfig, TrainingConfig, field_defaults
from lbie_tf.configs.validation import check_unchanged
from lbie_tf.evaluation.segmentation_evaluation import (
    evaluate_segmenter,
    segmenter_eval_batch,
)
from lbie_tf.evaluation.segmentation_metrics import (
    confusion_matrix_batch,
    iou_from_confusion,
)
from lbie_tf.losses import segmentation as losses
from lbie_tf.losses import termination as termination_losses
from lbie_tf.models.segmenter import build_segmenter
from lbie_tf.ops import random_hash
from lbie_tf.training.schedules import GumbelTemperatureSchedule, learning_rate_schedule
from lbie_tf.visualization.figures import colorize_labels, stop_step_image

# Stream of the random-hash noise used by termination training (the data generator uses other streams).
NOISE_STREAM = 7


_GUMBEL_FIELDS = ("gumbel_temperature_initial", "gumbel_temperature_min", "gumbel_temperature_decay", "gumbel_hard")


def check_training_config(training: TrainingConfig) -> None:
    """Refuse Gumbel-softmax settings when the termination gates are trained another way (they would be
    ignored)."""
    if training.termination_training != "gumbel":
        check_unchanged(training, _GUMBEL_FIELDS, f"only apply with TrainingConfig.termination_training=gumbel, "
                                                  f"not {training.termination_training}")


class SegmentationTask:
    """Trains and evaluates a `LanguageSegmenter` (multi-class, or binary with `num_classes=1`: labels 0/1,
    two classes in confusion matrices and images).

    Args:
        model_config: the `SegmenterConfig`.
        training: the `TrainingConfig` (termination mode, Gumbel schedule, optimiser, pixel weights, weight
            decay, mixed precision, seed).
        class_names: one name per label class for the per-class IoU report.
        palette: uint8 `[label classes, 3]` colours for prediction images.
        sentences, words: caption shape.
        training_data: optional JSON-serialisable settings of the training stream (e.g. CoSaL's num_direct),
            stored with the run and checked on resume like the model's config (a run stored without them
            resumes unchecked).
        describe_caption: optional `tokens [sentences, words] -> str`: the caption of each preview image is
            then written as a TensorBoard text summary beside the images.
    """

    def __init__(self, model_config: SegmenterConfig, training: TrainingConfig, class_names, palette,
                 sentences: int = 9, words: int = 3, training_data: dict | None = None, describe_caption=None):
        check_training_config(training)
        self.model_config = model_config
        self.describe_caption = describe_caption
        self.training_data = training_data
        self.training = training
        self.class_names = list(class_names)
        self.palette = np.asarray(palette, np.uint8)
        self.sentences = sentences
        self.words = words
        self.temperature = GumbelTemperatureSchedule(training.gumbel_temperature_initial,
                                                     training.gumbel_temperature_min,
                                                     training.gumbel_temperature_decay)
        self.model = None
        self.optimizer = None
        self.jit_compile = False
        self._eval_batch = None  # traced once, then reused by every evaluation (curve points and final)

    def build(self, jit_compile: bool) -> None:
        keras.utils.set_random_seed(self.training.seed)
        self.model = build_segmenter(self.model_config, self.sentences, self.words)
        self.optimizer = keras.optimizers.Adam(learning_rate_schedule(self.training),
                                               beta_1=self.training.adam_beta_1)
        if self.training.mixed_precision:  # dynamic loss scaling; the float16 policy is set by the caller
            self.optimizer = keras.optimizers.LossScaleOptimizer(self.optimizer)
        self.optimizer.build(self.model.trainable_variables)
        self.jit_compile = jit_compile
        # A nested tf.function only where XLA compiles it: under MirroredStrategy (no XLA) the head may
        # synchronise replicas (REINFORCE baseline), which a nested tf.function cannot.
        # The gate warm-up's loss and the termination mode's are two functions (two XLA clusters) chosen per
        # step outside XLA: one XLA cluster holding both behind a conditional trains about 20× slower on CPU.
        self._head_steps = {warmup: (tf.function(functools.partial(self.loss_gradients, warmup=warmup),
                                                 jit_compile=True, autograph=False) if jit_compile
                                     else functools.partial(self.loss_gradients, warmup=warmup))
                            for warmup in (False, True)}

    @property
    def label_classes(self) -> int:
        """Classes of the label maps: `num_classes`, or 2 (rest, object) for a binary segmenter."""
        return max(self.model_config.num_classes, 2)

    def run_config(self) -> dict:
        config = {"model": self.model_config.to_dict(), "sentences": self.sentences, "words": self.words}
        if self.training_data is not None:
            config["training_data"] = self.training_data
        return config

    def run_config_defaults(self) -> dict:
        defaults = {"model": field_defaults(SegmenterConfig)}
        if self.training_data is not None:
            defaults["training_data"] = self.training_data
        return defaults

    def checkpoint_objects(self) -> dict:
        return {"model": self.model, "optimizer": self.optimizer}

    # ----------------------------------------------------------------------------------------------
    def _noise(self, example_ids, step):
        """Uniform noise `[batch, T, M, M]` keyed by (seed, step, example id)."""
        steps, regions = self.model_config.steps, self.model.regions
        keys = tf.cast(example_ids, tf.int64) * 1_000_003 + tf.cast(step, tf.int64)
        noise = random_hash.uniform(self.training.seed, NOISE_STREAM, keys, steps * regions * regions)
        return tf.reshape(noise, (-1, steps, regions, regions))

    def train_step(self, batch: dict, step, global_batch_size: int) -> dict:
        """Image encoder outside XLA (oneDNN runs its small convolutions about twice as fast on CPU), the
        rest — text encoder, fusion, decoder, loss and their gradients — in one XLA cluster when
        `jit_compile`; the encoder's gradients then follow from the features' gradient."""
        with tf.GradientTape() as tape:
            features = self.model.encode_image(batch["image"], training=True)
        results = self._head_gradients(features, batch["tokens"], tf.cast(batch["labels"], tf.int32),
                                       batch["example_id"], step, global_batch_size, batch["image"])
        encoder_variables = self.model.image_encoder.trainable_variables
        encoder_gradients = tape.gradient(features, encoder_variables,
                                          output_gradients=results.pop("feature_gradients"))
        variables = encoder_variables + self.model.head_variables
        gradients = encoder_gradients + results.pop("head_gradients")
        if self.training.weight_decay:
            gradients, results["weight_penalty"] = self._add_weight_decay(gradients, variables)
            results["loss"] += results["weight_penalty"]
        self.optimizer.apply_gradients(zip(gradients, variables))
        return results

    def _add_weight_decay(self, gradients: list, variables: list):
        """L2 regularisation λ/2 · Σ‖W‖² over kernels and embeddings (variables of rank ≥ 2): its gradient
        λW is added to the (loss-scaled) gradients. Each replica adds 1/replicas of it, since the optimizer
        sums the replicas' gradients; the penalty is returned the same way, to be summed over replicas."""
        replicas = tf.distribute.get_replica_context().num_replicas_in_sync
        decay = self.training.weight_decay / replicas
        penalty = tf.constant(0.0)
        decayed = []
        for gradient, variable in zip(gradients, variables):
            if len(variable.shape) >= 2:
                value = tf.cast(variable, tf.float32)
                penalty += 0.5 * decay * tf.reduce_sum(tf.square(value))
                gradient = gradient + tf.cast(self.optimizer.scale_loss(decay * value), gradient.dtype)
            decayed.append(gradient)
        return decayed, penalty

    def _head_gradients(self, features, tokens, labels, example_ids, step, global_batch_size: int,
                        image) -> dict:
        """Loss of the model after the image encoder, its gradients (head variables and features) and the
        step's statistics, each loss term averaged over the global batch. The first
        `TrainingConfig.gate_warmup_steps` steps use the gate warm-up loss instead (`_warmup_loss`)."""
        args = (features, tokens, labels, example_ids, step, global_batch_size, image)
        if not self.training.gate_warmup_steps:
            return self._head_steps[False](*args)
        return tf.cond(step < self.training.gate_warmup_steps, lambda: self._head_steps[True](*args),
                       lambda: self._head_steps[False](*args))

    def loss_gradients(self, features, tokens, labels, example_ids, step, global_batch_size: int, image,
                       warmup: bool) -> dict:
        """One batch's loss (the gate warm-up's when `warmup`, else the termination mode's), its gradients with
        respect to `features` and `model.head_variables` (in that order; the gate variables' are zeros when
        `warmup`), and the step's statistics. Also what `experiments/termination_dynamics.py` probes."""
        mode = "marginal" if warmup else self.training.termination_training
        noise = self._noise(example_ids, step) if mode != "marginal" else None
        head_variables = self.model.head_variables
        with tf.GradientTape() as tape:
            tape.watch(features)
            outputs = self.model.train_outputs_from_features(
                features, tokens, mode, temperature=self.temperature(step), uniform_noise=noise,
                hard=self.training.gumbel_hard, training=True, image=image)
            if warmup:
                loss = cross_entropy = self._warmup_loss(outputs, labels)
            else:
                loss, cross_entropy = losses.segmentation_loss(outputs, labels, mode, self.training.foreground_weight)
                if self.training.stop_prior_weight:
                    stop_prior = termination_losses.stop_prior_kl(outputs["log_stop_probs"])
                    loss = loss + self.training.stop_prior_weight * stop_prior
            scaled = tf.nn.compute_average_loss(loss, global_batch_size=global_batch_size)
            # Loss scaling (mixed precision only; identity otherwise) is undone by the optimizer.
            loss_scaled = self.optimizer.scale_loss(scaled)
        gradients = tape.gradient(loss_scaled, [features] + head_variables)
        if warmup:  # the gates are frozen: exactly zero (not None) so that both branches return the same
            frozen = {id(v) for v in self.model.gate_variables}
            gradients = [gradients[0]] + [tf.zeros_like(v) if id(v) in frozen else g
                                          for v, g in zip(head_variables, gradients[1:])]
        prediction = _training_prediction(outputs)
        return {
            "feature_gradients": gradients[0],
            "head_gradients": gradients[1:],
            "loss": scaled,
            "cross_entropy": tf.nn.compute_average_loss(cross_entropy, global_batch_size=global_batch_size),
            "stop_step": tf.nn.compute_average_loss(termination_losses.expected_stop_step(outputs["log_stop_probs"]),
                                                    global_batch_size=global_batch_size),
            "confusion": confusion_matrix_batch(labels, prediction, self.label_classes),
        }

    def _warmup_loss(self, outputs: dict, labels):
        """The gate warm-up's per-example loss `[batch]`: the mean over steps of each step's cross-entropy."""
        return tf.reduce_mean(losses.step_cross_entropies(outputs["step_logits"], labels,
                                                          self.training.foreground_weight), axis=1)

    def log_scalars(self, step: int, reduced: dict) -> dict:
        scalars = {"loss": float(reduced["loss"]), "cross_entropy": float(reduced["cross_entropy"]),
                   "mean_stop_step": float(reduced["stop_step"])}
        iou = iou_from_confusion(np.asarray(reduced["confusion"]))
        scalars["iou"] = float(np.nanmean(iou)) if np.any(np.isfinite(iou)) else 0.0
        if self.training.termination_training == "gumbel":
            scalars["temperature"] = float(self.temperature(step))
        return scalars

    # ----------------------------------------------------------------------------------------------
    def summary_text(self, examples: dict) -> dict:
        """The captions of the preview images (when the task can describe them), for a text summary."""
        if self.describe_caption is None:
            return {}
        return {"caption": [self.describe_caption(tokens) for tokens in np.asarray(examples["tokens"])]}

    def summary_images(self, examples: dict) -> dict:
        inputs = {"image": examples["image"], "tokens": examples["tokens"]}
        outputs = self.model(inputs, training=False)
        prediction = losses.predicted_classes(outputs["logits"]).numpy()
        step_prediction = losses.predicted_classes(self.model.step_logits(inputs)).numpy()  # [k, T, H, W]
        size = self.model_config.image_size
        steps = self.model_config.steps
        stops = np.asarray(outputs["stop_step"])
        images = {
            "input": np.asarray(examples["image"], np.uint8),
            "target": np.stack([colorize_labels(l, self.palette) for l in np.asarray(examples["labels"])]),
            "prediction": np.stack([colorize_labels(p, self.palette) for p in prediction]),
            "stop_step": np.stack([stop_step_image(s, steps, size) for s in stops]),
        }
        for t in range(steps):
            images[f"prediction_step_{t + 1}"] = np.stack(
                [colorize_labels(p, self.palette) for p in step_prediction[:, t]])
        return images

    def evaluate(self, dataset: tf.data.Dataset) -> dict:
        """`evaluate_segmenter` of this task's model, with one evaluation function for every call."""
        if self._eval_batch is None:
            self._eval_batch = segmenter_eval_batch(self.model, len(self.class_names), self.jit_compile)
        return evaluate_segmenter(self.model, dataset, self.class_names, eval_batch=self._eval_batch)


def _training_prediction(outputs: dict):
    """Class per pixel from the training outputs: `[batch, H, W]` int32."""
    if "logits" in outputs:
        return losses.predicted_classes(outputs["logits"])
    step_logits = outputs["step_logits"]
    height, width = step_logits.shape[2], step_logits.shape[3]
    beta = tf.exp(losses.regions_to_pixels(outputs["log_stop_probs"], height, width))
    mixture = tf.reduce_sum(beta[..., None] * losses.class_probabilities(step_logits), axis=1)
    return tf.argmax(mixture, axis=-1, output_type=tf.int32)


