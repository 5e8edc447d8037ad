"""CoSaL caption text → sentences and token ids, with one-line errors (the command line's reader)."""

from __future__ import annotations

import re

import numpy as np

from lbie_tf.data import cosal_vocabulary
from lbie_tf.errors import DataError


def split_caption(text: str) -> list[str]:
    """The sentences of a caption: split at ".", ";" and new lines, stripped, empty pieces dropped."""
    return [piece.strip() for piece in re.split(r"[.;\n]+", text) if piece.strip()]


def encode_text(text: str) -> tuple[list[str], np.ndarray]:
    """Sentences and token ids (int32 `[9, 3]`) of a CoSaL caption; `DataError` names what is wrong."""
    sentences = split_caption(text)
    if not sentences:
        raise DataError(f"the caption is empty; give {cosal_vocabulary.SENTENCES_PER_CAPTION} sentences "
                        f"separated by '.', ';' or new lines")
    tokens = cosal_vocabulary.encode_caption(sentences)  # unknown words first: the most telling error
    if len(sentences) != cosal_vocabulary.SENTENCES_PER_CAPTION:
        raise DataError(f"the caption has {len(sentences)} sentence(s); CoSaL captions have exactly "
                        f"{cosal_vocabulary.SENTENCES_PER_CAPTION}, separated by '.', ';' or new lines")
    return sentences, tokens
