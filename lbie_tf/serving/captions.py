"""CoSaL caption text → sentences and token ids, with one-line errors (the command line's reader), and the
normalisation rules that the serving graph's tokenizer (`caption_tokenizer.CaptionTokenizer`) applies too.

What a caption may look like (both readers):

- sentences are separated by ".", ";" or new lines; empty sentences (a final period, doubled separators,
  blank lines) are dropped;
- case does not matter, and words are runs of letters and digits: spaces, hyphens, commas and other
  punctuation only separate them ("Light-Green" = "light green");
- `NORMALISATION_RULES` then rewrite common variants: "gray" → "grey"; "the" or "a" before a shape is
  dropped ("the circle is red", "blue above a triangle"); "colour" / "color" before "is" and "coloured" /
  "colored" after it are dropped ("circle colour is red", "circle is colored red").

Anything else is an error naming the unknown word(s). The rules are regular expressions over the *spaced form*
of a sentence, every word wrapped in one space on each side (" circle  is  red "), so that Python's `re` and
TensorFlow's RE2 read them alike: only literal words, spaces, `?`, groups and alternation, no `\\b` (RE2's
word boundaries are ASCII-only).
"""

from __future__ import annotations

import re

import numpy as np

from lbie_tf.data import cosal_vocabulary
from lbie_tf.errors import DataError

SENTENCE_SEPARATORS = r"[.;\n]"
_WORD = r"[^\W_]+"  # letters and digits; RE2: [\pL\pN]+


def spaced(words) -> str:
    """The spaced form of a sentence's words: `spaced(["circle", "is"]) == " circle  is "`."""
    return "".join(f" {word} " for word in words)


NORMALISATION_RULES = (
    (spaced(["gray"]), spaced(["grey"])),
    (" colou?r  is ", " is "),
    (" is  colou?red ", " is "),
    (" (?:the|a) (" + "|".join(spaced(shape.split()) for shape in cosal_vocabulary.SHAPE_NAMES) + ")", r"\1"),
)


def normalise_sentence(sentence: str) -> str:
    """One sentence in the form the vocabulary reads: lower case, words joined by single spaces, the
    `NORMALISATION_RULES` applied ("" when it holds no word)."""
    form = spaced(re.findall(_WORD, sentence.lower()))
    for pattern, replacement in NORMALISATION_RULES:
        form = re.sub(pattern, replacement, form)
    return " ".join(form.split())


def split_caption(text: str) -> list[str]:
    """The normalised, non-empty sentences of a caption."""
    sentences = (normalise_sentence(piece) for piece in re.split(SENTENCE_SEPARATORS, text))
    return [sentence for sentence in sentences if sentence]


def encode_text(text: str) -> tuple[list[str], np.ndarray]:
    """Sentences (normalised) and token ids (int32 `[9, 3]`) of a CoSaL caption; `DataError` names what is
    wrong: text that is not UTF-8 (undecodable bytes of a command line), an empty caption, unknown words (first:
    the most telling error), a wrong number of sentences or of tokens in a sentence."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise DataError(f"the caption is not UTF-8 text (undecodable byte at character {error.start + 1})") from None
    sentences = split_caption(text)
    if not sentences:
        raise DataError(f"the caption is empty; give {cosal_vocabulary.SENTENCES_PER_CAPTION} sentences "
                        f"separated by '.', ';' or new lines")
    tokens = cosal_vocabulary.encode_caption(sentences)
    if len(sentences) != cosal_vocabulary.SENTENCES_PER_CAPTION:
        raise DataError(f"the caption has {len(sentences)} sentence(s); CoSaL captions have exactly "
                        f"{cosal_vocabulary.SENTENCES_PER_CAPTION}, separated by '.', ';' or new lines")
    return sentences, tokens
