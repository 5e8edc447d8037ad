"""The 20-token CoSaL vocabulary, the colour palettes and text <-> token-id conversion.

Token ids are those of the released generator (make_data.py:162-167; docs/released_code.md, "CoSaL generator"): 9 shape
names (0..8), 6 colour names (9..14), then `is, above, below, left, right` (15..19). Multi-word names
("half fat ellipse", "light green") are single tokens. Every CoSaL sentence has exactly three tokens:
`[shape, is, colour]` (direct) or `[colour, relation, shape]` (relational: "the shape <relation> <shape> is
<colour>").

Colour classes (segmentation labels) are 0 = background and c = colour index c - 1 + 1, i.e. class 1..6 for
the six colour names in vocabulary order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from lbie_tf.errors import DataError

SHAPE_NAMES = (
    "rectangle",
    "half fat ellipse",
    "fat ellipse",
    "triangle",
    "reverse triangle",
    "thin ellipse",
    "half thin ellipse",
    "diamond",
    "circle",
)
COLOUR_NAMES = ("blue", "light green", "red", "black", "grey", "yellow")
RELATION_NAMES = ("above", "below", "left", "right")
VOCABULARY = SHAPE_NAMES + COLOUR_NAMES + ("is",) + RELATION_NAMES

NUM_SHAPES = len(SHAPE_NAMES)
NUM_COLOURS = len(COLOUR_NAMES)
NUM_CLASSES = NUM_COLOURS + 1
VOCAB_SIZE = len(VOCABULARY)
TOKENS_PER_SENTENCE = 3
SENTENCES_PER_CAPTION = 9

FIRST_COLOUR_ID = NUM_SHAPES
IS_ID = VOCABULARY.index("is")
ABOVE_ID, BELOW_ID, LEFT_ID, RIGHT_ID = (VOCABULARY.index(name) for name in RELATION_NAMES)

# Class-indexed RGB palette: row 0 = white background, rows 1..6 = the released code's colours, read as RGB.
RGB_PALETTE = np.array(
    [
        (255, 255, 255),
        (0, 0, 255),  # blue
        (0, 255, 0),  # light green
        (255, 0, 0),  # red
        (0, 0, 0),  # black
        (128, 128, 128),  # grey
        (255, 255, 0),  # yellow
    ],
    dtype=np.uint8,
)
RGB_PALETTE.setflags(write=False)

# Class-indexed isoluminant CIE Lab palette for the colorization view of CoSaL. Row 0 = white background;
# rows 1..6 share L* = 60, so the grey-scale input cannot tell the colours apart and only the text can.
# The (a*, b*) values lie on six separated hues (pairwise ab distance >= 41), all inside the sRGB gamut at
# L* = 60 (checked in tests by an Lab -> sRGB -> Lab round trip). Black and grey have no isoluminant chromatic
# counterpart, so they are re-drawn as two hues left free by the other four names:
# "black" -> violet (hue ~318 deg), "grey" -> teal (hue ~200 deg).
ISOLUMINANT_LIGHTNESS = 60.0
ISOLUMINANT_LAB = np.array(
    [
        (100.0, 0.0, 0.0),  # background: white
        (ISOLUMINANT_LIGHTNESS, 5.0, -50.0),  # blue
        (ISOLUMINANT_LIGHTNESS, -45.0, 45.0),  # light green
        (ISOLUMINANT_LIGHTNESS, 50.0, 35.0),  # red
        (ISOLUMINANT_LIGHTNESS, 45.0, -40.0),  # "black" drawn as violet
        (ISOLUMINANT_LIGHTNESS, -28.0, -10.0),  # "grey" drawn as teal
        (ISOLUMINANT_LIGHTNESS, 0.0, 60.0),  # yellow (mustard at this lightness)
    ],
    dtype=np.float32,
)
ISOLUMINANT_LAB.setflags(write=False)

_TOKEN_IDS = {token: index for index, token in enumerate(VOCABULARY)}
_MAX_TOKEN_WORDS = max(len(token.split()) for token in VOCABULARY)


class UnknownTokenError(DataError):
    """A sentence contains words that are not (part of) a CoSaL vocabulary token."""


def _words(text: str) -> list[str]:
    """Lower-cased words of `text`; whitespace and punctuation (including '-') separate words."""
    return re.findall(r"[^\W_]+", text.lower())


def encode_sentence(text: str) -> list[int]:
    """Token ids of one sentence, multi-word tokens matched greedily (longest first).

    Example: `encode_sentence("Half fat ellipse is light-green.") == [1, 15, 10]`.

    Raises:
        UnknownTokenError: some words are not covered by vocabulary tokens.
    """
    words = _words(text)
    ids, unknown = [], []
    position = 0
    while position < len(words):
        for length in range(min(_MAX_TOKEN_WORDS, len(words) - position), 0, -1):
            candidate = " ".join(words[position : position + length])
            if candidate in _TOKEN_IDS:
                ids.append(_TOKEN_IDS[candidate])
                position += length
                break
        else:
            unknown.append(words[position])
            position += 1
    if unknown:
        raise UnknownTokenError(
            f"unknown word(s) {', '.join(map(repr, unknown))} in {text!r}; "
            f"the CoSaL vocabulary is: {', '.join(VOCABULARY)}"
        )
    return ids


def encode_caption(sentences: Iterable[str]) -> np.ndarray:
    """Token ids of a caption, int32 `[num_sentences, 3]`.

    Raises:
        UnknownTokenError: a sentence has unknown words.
        ValueError: a sentence does not have exactly three tokens.
    """
    rows = []
    for sentence in sentences:
        ids = encode_sentence(sentence)
        if len(ids) != TOKENS_PER_SENTENCE:
            raise DataError(
                f"CoSaL sentences have exactly {TOKENS_PER_SENTENCE} tokens, {sentence!r} has {len(ids)}: "
                f"{[VOCABULARY[i] for i in ids]}"
            )
        rows.append(ids)
    return np.array(rows, dtype=np.int32).reshape(-1, TOKENS_PER_SENTENCE)


def _check_ids(ids: np.ndarray) -> None:
    if ids.size and (ids.min() < 0 or ids.max() >= VOCAB_SIZE):
        bad = sorted({int(i) for i in ids.ravel() if not 0 <= i < VOCAB_SIZE})
        raise DataError(f"token ids must be in [0, {VOCAB_SIZE}), got {bad}")


def decode_sentence(ids: Sequence[int]) -> str:
    """Space-joined tokens of a sentence given as token ids `[words]`."""
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    _check_ids(ids)
    return " ".join(VOCABULARY[i] for i in ids)


def decode_caption(ids: Sequence[Sequence[int]]) -> list[str]:
    """One string per sentence of a caption given as token ids `[num_sentences, words]` (CoSaL: `[9, 3]`)."""
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 2:
        raise DataError(f"a caption is a [num_sentences, words] array of token ids, got shape {ids.shape}")
    _check_ids(ids)
    return [decode_sentence(row) for row in ids]
