"""The CoSaL caption tokenizer in TF ops, so the exported graph reads caption text itself."""

from __future__ import annotations

import tensorflow as tf

from lbie_tf.data import cosal_vocabulary as vocab

SENTENCE_SEPARATORS = r"[.;\n]"


class CaptionTokenizer(tf.Module):
    """Caption text → CoSaL token ids inside the graph (regex, string split and a static hash table).

    Multi-word tokens ("half fat ellipse") are joined into single words first, longest first, which matches
    `cosal_vocabulary.encode_sentence`'s greedy longest match for this vocabulary.

    Args:
        sentences, words: the caption shape the model takes (CoSaL: 9 sentences of 3 tokens).
    """

    def __init__(self, sentences: int = vocab.SENTENCES_PER_CAPTION, words: int = vocab.TOKENS_PER_SENTENCE):
        super().__init__(name="caption_tokenizer")
        self.sentences = sentences
        self.words = words
        keys = [token.replace(" ", "_") for token in vocab.VOCABULARY]
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(keys, tf.range(len(keys), dtype=tf.int64)), default_value=-1)

    def __call__(self, text: tf.Tensor) -> tf.Tensor:
        """string `[batch]` → int32 `[batch, sentences, words]`; failed checks raise `InvalidArgumentError`."""
        words = _split_words(text)  # ragged [batch, (sentences), (words)]
        ids = self.table.lookup(words.flat_values)
        with tf.control_dependencies(_in_order(self._checks(text, words, ids))):
            ids = tf.cast(words.with_flat_values(ids).to_tensor(), tf.int32)
        return tf.ensure_shape(ids, [None, self.sentences, self.words])

    def _checks(self, text: tf.Tensor, words: tf.RaggedTensor, ids: tf.Tensor) -> list:
        """`(condition, message data)` pairs for `tf.debugging.Assert`, in the order they are reported."""
        unknown = tf.unique(tf.boolean_mask(words.flat_values, ids < 0)).y
        sentences = tf.strings.reduce_join(words, axis=-1, separator=" ").flat_values
        wrong_length = tf.boolean_mask(sentences, words.values.row_lengths() != self.words)
        return [
            (tf.reduce_all(tf.strings.length(tf.strings.strip(text)) > 0),
             [f"caption text is empty; give {self.sentences} sentences of {self.words} CoSaL tokens"]),
            (tf.size(unknown) == 0,
             ["unknown word(s) in the caption:", unknown,
              f"the CoSaL vocabulary is: {', '.join(vocab.VOCABULARY)}"]),
            (tf.reduce_all(words.row_lengths() == self.sentences),
             [f"a caption has {self.sentences} sentences separated by '.', ';' or newlines; sentences per caption:",
              words.row_lengths()]),
            (tf.size(wrong_length) == 0,
             [f"every sentence has exactly {self.words} CoSaL tokens; these do not:", wrong_length]),
        ]


def _in_order(checks: list) -> list:
    """`tf.debugging.Assert` ops for `(condition, data)` pairs, each run only after the previous one passed, so
    the first failing check is the one reported; returns `[last op]` for `tf.control_dependencies`."""
    asserts = []
    for condition, data in checks:
        with tf.control_dependencies(asserts[-1:]):
            asserts.append(tf.debugging.Assert(condition, data))
    return asserts[-1:]


def _split_words(text: tf.Tensor) -> tf.RaggedTensor:
    """string `[batch]` → ragged string `[batch, (sentences), (words)]`, lower case, empty sentences dropped,
    each multi-word vocabulary token one word with "_" between its parts."""
    sentences = tf.strings.split(tf.strings.regex_replace(tf.strings.lower(text, encoding="utf-8"),
                                                          SENTENCE_SEPARATORS, "."), sep=".")
    sentences = tf.strings.strip(tf.strings.regex_replace(sentences, r"[^\pL\pN]+", " "))
    for token in sorted(vocab.VOCABULARY, key=len, reverse=True):
        if " " in token:
            sentences = tf.strings.regex_replace(sentences, rf"\b{token}\b", token.replace(" ", "_"))
    sentences = tf.ragged.boolean_mask(sentences, tf.strings.length(sentences) > 0)
    return tf.strings.split(sentences)
