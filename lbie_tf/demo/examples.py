"""Generated CoSaL examples for the page: held-out test sketches with their captions for segmentation (written
by `python -m lbie_tf.cli.cosal_example`'s `write_example`, read back as `lbie-edit --text_file` reads them), and
grey pictures with captions for colorization (the colorization data's lightness input, as a grey PNG)."""

from __future__ import annotations

import os

import numpy as np
from PIL import Image

from lbie_tf.cli.cosal_example import write_example
from lbie_tf.cli.edit import edits_from_text_file
from lbie_tf.data import cosal, cosal_vocabulary
from lbie_tf.tasks.colorization import lab_to_rgb_uint8

EXAMPLE_COUNT = 4  # examples offered per tab
COLORIZATION_DIRECT_SENTENCES = 9  # configs/cosal_colorization.cfg: --num_direct=9


def segmentation_examples(folder: str, count: int = EXAMPLE_COUNT) -> list[tuple[str, str]]:
    """Writes `count` held-out CoSaL test sketches under `folder`; returns `(image_path, caption)` pairs."""
    examples = []
    for index in range(count):
        pairs = write_example(os.path.join(folder, f"segmentation_{index}"), index)
        (edit,) = edits_from_text_file(pairs, folder)
        examples.append((edit.image_path, ". ".join(edit.sentences)))
    return examples


def colorization_examples(folder: str, count: int = EXAMPLE_COUNT) -> list[tuple[str, str]]:
    """Writes `count` grey CoSaL test pictures (every shape at the same lightness) under `folder`; returns
    `(image_path, caption)` pairs."""
    config = cosal.CosalConfig(num_direct=COLORIZATION_DIRECT_SENTENCES, test_size=count)
    batch = cosal.generate(np.arange(count, dtype=np.int64), config, "test")
    greys = lab_to_rgb_uint8(batch["gray"], np.zeros(batch["gray"].shape[:3] + (2,), np.float32))
    os.makedirs(folder, exist_ok=True)
    examples = []
    for index in range(count):
        path = os.path.join(folder, f"colorization_{index}.png")
        Image.fromarray(greys[index]).save(path)
        caption = ". ".join(cosal_vocabulary.decode_caption(batch["tokens"][index].numpy()))
        examples.append((path, caption))
    return examples
