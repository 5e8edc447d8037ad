"""BatchNormalization whose inference statistics are a named choice.

The released CoSaL code (TF 1.2 `tf.contrib.layers.batch_norm`, is_training only in train mode) never runs
its moving-average update ops and does not save them, so at test time every BatchNorm layer normalises with
its *initial* statistics, mean 0 and variance 1 (docs/discrepancies.md). Usual practice is the moving
averages; a third choice, the statistics of the test batch itself, is what `is_training=True` at test time
gives (the released colorization code). `--batch_norm_inference` picks one of the three for the segmentation
models; training always uses (and, as usual, tracks) the statistics of the training batch.
"""

from __future__ import annotations

import keras
from keras import ops

from lbie_tf.configs.choices import BATCH_NORM_INFERENCE


@keras.saving.register_keras_serializable(package="lbie")
class InferenceStatisticsBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` with a choice of the statistics used when `training` is false.

    Args:
        inference_statistics: "moving" (the moving averages: Keras' behaviour), "batch" (mean and variance
            of the batch being predicted, per channel; the moving averages are left untouched) or "initial"
            (mean 0, variance 1: what the released CoSaL code's never-updated moving averages hold).
        **kwargs: `keras.layers.BatchNormalization` arguments.

    Call arguments:
        inputs: `[batch, ..., channels]` (any rank; statistics are per channel of `axis`).
        training: true → batch statistics and a moving-average update, as in Keras.
    """

    def __init__(self, inference_statistics: str = "moving", **kwargs):
        super().__init__(**kwargs)
        if inference_statistics not in BATCH_NORM_INFERENCE:
            raise ValueError(f"inference_statistics={inference_statistics!r} is not one of "
                             f"{', '.join(BATCH_NORM_INFERENCE)}")
        self.inference_statistics = inference_statistics

    def call(self, inputs, training=None, mask=None):
        if training or self.inference_statistics == "moving":
            return super().call(inputs, training=training, mask=mask)
        values = ops.cast(inputs, "float32")
        rank = len(values.shape)
        channel_axis = self.axis % rank
        if self.inference_statistics == "batch":
            mean, variance = ops.moments(values, [axis for axis in range(rank) if axis != channel_axis])
        else:
            mean = ops.zeros_like(self.moving_mean)
            variance = ops.ones_like(self.moving_variance)
        outputs = ops.batch_normalization(
            values, ops.cast(mean, "float32"), ops.cast(variance, "float32"), axis=channel_axis,
            offset=ops.cast(self.beta, "float32") if self.center else None,
            scale=ops.cast(self.gamma, "float32") if self.scale else None, epsilon=self.epsilon)
        return ops.cast(outputs, self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "inference_statistics": self.inference_statistics}
