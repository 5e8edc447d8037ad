"""Random training batches of the shapes a preset's model takes, for timing a step without its data set
(ReferIt and Flowers cannot be downloaded on our machines)."""

from __future__ import annotations

import numpy as np

REFERIT_PADDING = 16  # leading padding tokens of a ReferIt expression: 20 tokens, 4 of them words
REFERIT_WORDS = 4
FLOWERS_VOCAB_SIZE = 5000  # the Flowers presets take the vocabulary from the data (vocab_size=0): about this many


def referit_batch(model_config, batch_size: int, seed: int = 0) -> dict:
    """A ReferIt segmentation batch: uint8 images at the model's size, 20-token expressions (4 words after the
    padding), binary masks with 20 % foreground, example ids.

    Args:
        model_config: the `SegmenterConfig` (its `image_size` and `vocab_size`).
    """
    size, rng = model_config.image_size, np.random.default_rng(seed)
    return {"image": rng.integers(0, 256, (batch_size, size, size, 3), dtype=np.uint8),
            "tokens": np.concatenate([np.zeros((batch_size, REFERIT_PADDING), np.int32),
                                      rng.integers(4, model_config.vocab_size, (batch_size, REFERIT_WORDS),
                                                   dtype=np.int32)], 1),
            "labels": (rng.random((batch_size, size, size)) < 0.2).astype(np.int32),
            "example_id": np.arange(batch_size, dtype=np.int64)}


def colorization_batch(vocab_size: int, batch_size: int, image_size: int, words: int, seed: int = 0) -> dict:
    """A colorization batch: L in [-1, 1], ab in [-0.5, 0.5] at `image_size`², captions of `words` token ids."""
    rng = np.random.default_rng(seed)
    return {"gray": rng.uniform(-1, 1, (batch_size, image_size, image_size, 1)).astype(np.float32),
            "ab": rng.uniform(-0.5, 0.5, (batch_size, image_size, image_size, 2)).astype(np.float32),
            "tokens": rng.integers(2, vocab_size, (batch_size, words)).astype(np.int32)}
