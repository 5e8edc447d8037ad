"""TensorBoard event writing for the training loop, over `tf.summary`.

The trainer writes two runs per model directory:
- `train/`: the task's scalars averaged over each `summary_every` interval (segmentation: `loss`,
  `cross_entropy`, `mean_stop_step`, `iou`, `temperature` with Gumbel training; colorization: the generator and
  discriminator losses), `learning_rate`, `images_per_second` (training time only), the preview images
  (`input`, `target`, `prediction`, `stop_step`; colorization: `gray_input`, `output`, `target`), their
  `caption` text, and the profiler trace of `--profile_steps`;
- `eval/`: `curve/<metric>` at every learning-curve point and `test/<metric>` of the final evaluation.
Call from outside `strategy.run` with reduced scalars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import tensorflow as tf


class SummaryWriter:
    """Writes scalars, images and text for TensorBoard into `logdir`.

    Args:
        logdir: event file directory (created if needed), e.g. `model_dir/train`.
        max_images: at most this many images per tag and step.
    """

    def __init__(self, logdir: str, max_images: int = 4):
        self.logdir = logdir
        self.max_images = max_images
        self._writer = tf.summary.create_file_writer(logdir)

    def scalars(self, step: int, values: Mapping[str, Any]) -> None:
        """Writes one scalar per tag, e.g. `{"loss/total": 0.42, "lr": 1e-3}` (Python, NumPy or TF)."""
        with self._writer.as_default(step=int(step)):
            for tag, value in values.items():
                tf.summary.scalar(tag, tf.cast(value, tf.float32))

    def images(self, step: int, images: Mapping[str, Any]) -> None:
        """Writes image batches per tag.

        Args:
            images: tag → `[k, height, width, channels]` with channels 1, 3 or 4, uint8 or float in [0, 1];
                the first `max_images` of each batch are kept.
        """
        with self._writer.as_default(step=int(step)):
            for tag, batch in images.items():
                batch = tf.convert_to_tensor(batch)
                if batch.shape.rank != 4:
                    raise ValueError(f"images[{tag!r}] must be [k, height, width, channels], "
                                     f"got {batch.shape}")
                tf.summary.image(tag, batch, max_outputs=self.max_images)

    def text(self, step: int, name: str, strings: Sequence[str]) -> None:
        """Writes a list of strings (e.g. the captions of the sample images) under tag `name`."""
        with self._writer.as_default(step=int(step)):
            tf.summary.text(name, tf.constant(list(strings), dtype=tf.string))

    def flush(self) -> None:
        """Writes buffered events to disk."""
        self._writer.flush()

    def close(self) -> None:
        """Flushes and closes the event file."""
        self._writer.close()
