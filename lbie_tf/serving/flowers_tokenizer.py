"""Flowers caption text → word ids in TF ops: the one caption reader of a Flowers colorizer's exported graph and
of `lbie-edit` (which runs these same ops eagerly), equal to `flowers.caption_words` + the run's vocabulary.

    tokenizer = FlowersCaptionTokenizer(vocabulary)   # a `flowers_vocabulary.FlowersVocabulary`
    ids = tokenizer(tf.constant(["This flower has yellow petals."]))   # int32 [1, max_words]

Words are split as training split them (`flowers.caption_words`), with RE2 classes for Python's: a letter or
digit `[^\\W_]` is `[\\pL\\pN]`, Python's `\\s` is `_SPACE` (RE2's own `\\s` is ASCII only). Lower-casing
(`tokenizer="words"`) is `tf.strings.lower(..., encoding="utf-8")`, which maps every character as `str.lower`
does; both sides agree on every character that Python's Unicode database (14.0 for Python 3.11) assigns, which
tests/serving/test_flowers_serving.py checks character by character. A word outside the vocabulary is
`<unk>` (id 1), as in the test split; captions are cut to `max_words` and right-padded with `<pad>` (0).

Captions the model cannot read fail with `InvalidArgumentError` (`graph_checks`): text that is not UTF-8, a
caption with no word, a caption with no word of the vocabulary (training skips those: nothing conditions
the colours).
"""

from __future__ import annotations

import tensorflow as tf

from lbie_tf.data.flowers import PAD_ID, UNK_ID
from lbie_tf.data.flowers_vocabulary import FlowersVocabulary
from lbie_tf.serving.graph_checks import in_order

_LETTER_OR_DIGIT = r"\pL\pN"  # Python's [^\W_]
_SPACE = r"\t\n\x0b\f\r\x1c-\x1f \x{85}\pZ"  # Python's \s for str patterns (str.isspace)


class FlowersCaptionTokenizer(tf.Module):
    """Caption text → a Flowers colorizer's word ids inside the graph (regex, string split, a static hash table).

    Args:
        vocabulary: the run's `FlowersVocabulary` (words, tokenizer, max_words).
    """

    def __init__(self, vocabulary: FlowersVocabulary):
        super().__init__(name="flowers_caption_tokenizer")
        self.vocabulary = vocabulary
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(list(vocabulary.words), tf.range(len(vocabulary.words),
                                                                                   dtype=tf.int64)),
            default_value=UNK_ID)

    def __call__(self, text: tf.Tensor) -> tf.Tensor:
        """string `[batch]` → int32 `[batch, max_words]`; failed checks raise `InvalidArgumentError`."""
        text = tf.convert_to_tensor(text, tf.string)
        utf8 = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
        with tf.control_dependencies(in_order([(tf.reduce_all(tf.equal(utf8, text)),
                                                "caption text is not valid UTF-8")])):
            words = split_words(tf.identity(text), self.vocabulary.tokenizer)
        ids = words.with_flat_values(self.table.lookup(words.flat_values))
        with tf.control_dependencies(in_order([
            (tf.reduce_all(words.row_lengths() > 0), "caption text is empty: describe the flower in words"),
            (tf.reduce_all(tf.reduce_any(ids > UNK_ID, axis=1)),
             "no word of the caption is in the model's vocabulary (its training captions' words)"),
        ])):
            ids = tf.identity(ids[:, :self.vocabulary.max_words].to_tensor(
                PAD_ID, shape=[None, self.vocabulary.max_words]))
        return tf.cast(ids, tf.int32)


def split_words(text: tf.Tensor, tokenizer: str) -> tf.RaggedTensor:
    """`flowers.caption_words` in TF ops: string `[batch]` (valid UTF-8) → ragged string `[batch, (words)]`.

    Args:
        text: the captions.
        tokenizer: "words" (lower-cased runs of letters and digits) or "released" (case kept; runs of word
            characters, and every other character that is not a space as a word of its own).
    """
    if tokenizer == "words":
        # NUL is a separator here; tf.strings.lower would end the string at it.
        lowered = tf.strings.lower(tf.strings.regex_replace(text, r"\x00", " "), encoding="utf-8")
        return tf.strings.split(tf.strings.regex_replace(lowered, f"[^{_LETTER_OR_DIGIT}]+", " "))
    marks = tf.strings.regex_replace(text, f"([^{_LETTER_OR_DIGIT}_{_SPACE}])", r" \1 ")
    return tf.strings.split(tf.strings.regex_replace(marks, f"[{_SPACE}]+", " "))  # splits at ASCII spaces
