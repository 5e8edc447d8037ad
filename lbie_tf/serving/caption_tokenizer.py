"""The CoSaL caption tokenizer in TF ops, so the exported graph reads caption text itself, by the rules of the
command line's reader (`lbie_tf.serving.captions`: the same separators, the same `NORMALISATION_RULES`)."""

from __future__ import annotations

import tensorflow as tf

from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.serving.captions import NORMALISATION_RULES, SENTENCE_SEPARATORS, spaced
from lbie_tf.serving.graph_checks import in_order

_NOT_A_WORD = r"[^\pL\pN]+"  # RE2 for what `captions` reads as non-word characters (Python: [\W_])


class CaptionTokenizer(tf.Module):
    """Caption text → CoSaL token ids inside the graph (regex, string split and a static hash table).

    After the normalisation rules, multi-word tokens ("half fat ellipse") are joined into single words,
    longest first, which matches `cosal_vocabulary.encode_sentence`'s greedy longest match for this vocabulary.

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
        with tf.control_dependencies(in_order(self._checks(text, words, ids))):
            ids = tf.cast(words.with_flat_values(ids).to_tensor(), tf.int32)
        return tf.ensure_shape(ids, [None, self.sentences, self.words])

    def _checks(self, text: tf.Tensor, words: tf.RaggedTensor, ids: tf.Tensor) -> list:
        """`(condition, message data)` pairs for `tf.debugging.Assert`, in the order they are reported."""
        unknown = tf.unique(tf.boolean_mask(words.flat_values, ids < 0)).y
        sentences = tf.strings.reduce_join(words, axis=-1, separator=" ").flat_values
        wrong_length = tf.strings.regex_replace(
            tf.boolean_mask(sentences, words.values.row_lengths() != self.words), "_", " ")
        utf8 = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
        return [
            (tf.reduce_all(tf.equal(utf8, text)), ["caption text is not valid UTF-8"]),
            (tf.reduce_all(tf.strings.length(tf.strings.strip(text)) > 0),
             [f"caption text is empty; give {self.sentences} sentences of {self.words} CoSaL tokens"]),
            (tf.size(unknown) == 0,
             ["unknown word(s) in the caption:", unknown,
              f"the CoSaL vocabulary is: {', '.join(vocab.VOCABULARY)}"]),
            (tf.reduce_all(words.row_lengths() == self.sentences),
             [f"a caption has {self.sentences} sentences separated by periods, semicolons or new lines; sentences "
              "per caption:",
              words.row_lengths()]),
            (tf.size(wrong_length) == 0,
             [f"every sentence has exactly {self.words} CoSaL tokens; these do not:", wrong_length]),
        ]


def _split_words(text: tf.Tensor) -> tf.RaggedTensor:
    """string `[batch]` → ragged string `[batch, (sentences), (words)]`: `captions.normalise_sentence` in TF
    ops, empty sentences dropped, each multi-word vocabulary token one word with "_" between its parts."""
    sentences = tf.strings.split(tf.strings.regex_replace(tf.strings.lower(text, encoding="utf-8"),
                                                          SENTENCE_SEPARATORS, "."), sep=".")
    form = tf.strings.strip(tf.strings.regex_replace(sentences, _NOT_A_WORD, "  "))
    form = tf.ragged.boolean_mask(form, tf.strings.length(form) > 0)
    form = form.with_flat_values(tf.strings.join([" ", form.flat_values, " "]))
    for pattern, replacement in NORMALISATION_RULES:
        form = tf.strings.regex_replace(form, pattern, replacement)
    for token in sorted(vocab.VOCABULARY, key=len, reverse=True):
        if " " in token:
            form = tf.strings.regex_replace(form, spaced(token.split()), f" {token.replace(' ', '_')} ")
    return tf.strings.split(form)
