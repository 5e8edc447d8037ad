"""Schedules of the training loop: the learning rate and the annealed Gumbel-softmax temperature."""

from __future__ import annotations

import keras
import tensorflow as tf

from lbie_tf.configs.training import TrainingConfig


@keras.saving.register_keras_serializable(package="lbie")
class GumbelTemperatureSchedule:
    """Annealed Gumbel-softmax temperature `λ(step) = max(minimum, initial · exp(−decay_rate · step))`.

    Args:
        initial: float, temperature at step 0.
        minimum: float, the floor.
        decay_rate: float, exponential decay per training step.

    Call arguments:
        step: int or tensor, the training step.

    Returns:
        Scalar float32 tensor `λ`.

    Reference:
        Chen et al., CVPR 2018, §3 ("λ is a temperature annealed via a fixed schedule"); the schedule form
        of Jang et al., ICLR 2017.
    """

    def __init__(self, initial=1.0, minimum=0.5, decay_rate=1e-4):
        self.initial = float(initial)
        self.minimum = float(minimum)
        self.decay_rate = float(decay_rate)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        value = self.initial * tf.exp(-self.decay_rate * step)
        return tf.maximum(tf.constant(self.minimum, tf.float32), value)

    def get_config(self):
        return {"initial": self.initial, "minimum": self.minimum, "decay_rate": self.decay_rate}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def learning_rate_schedule(config: TrainingConfig):
    """The optimizer's learning rate: a constant, or a `keras` cosine decay to 0 at `config.train_steps`
    (counted in optimizer updates, so it resumes with the optimizer's checkpointed iteration counter)."""
    if config.learning_rate_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=config.train_steps)
    return config.learning_rate
