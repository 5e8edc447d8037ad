"""Pretrained word vectors from a local text file (word2vec text format or GloVe) for the colorization text
encoder; the released code used frozen GoogleNews word2vec vectors (docs/released_code.md, "Flowers data")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lbie_tf.errors import DataError


def load_word_vectors(path: str, vocabulary: Sequence[str], dim: int) -> tuple[np.ndarray, int]:
    """Embedding matrix for `vocabulary` from a text file of `word v1 ... v_dim` lines.

    A first line of two integers (word2vec's `count dim` header) is skipped. Rows of words the file lacks, and
    row 0 (padding), are zeros, as in the released code.

    Args:
        path: the text file.
        vocabulary: index = token id (0 `<pad>`, 1 `<unk>`).
        dim: the expected vector width (`--generator_word_embedding_dim`).

    Returns:
        `(matrix, found)`: float32 `[len(vocabulary), dim]` and how many vocabulary words the file held.
        Raises `DataError` (one line) for a missing file or a line of another width.
    """
    index = {word: i for i, word in enumerate(vocabulary) if i > 0}
    matrix = np.zeros((len(vocabulary), dim), np.float32)
    found = 0
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, start=1):
                parts = line.rstrip().split(" ")
                if number == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                    continue
                if len(parts) != dim + 1:
                    if not line.strip():
                        continue
                    raise DataError(f"{path}:{number} has {len(parts) - 1} values; --generator_word_embedding_dim "
                                    f"is {dim}")
                row = index.get(parts[0])
                if row is not None:
                    try:
                        matrix[row] = np.asarray(parts[1:], np.float32)
                    except ValueError:
                        raise DataError(f"{path}:{number} holds a value that is not a number") from None
                    found += 1
    except OSError as error:
        raise DataError(f"cannot read word vectors {path}: {error.strerror or error}") from None
    return matrix, found
