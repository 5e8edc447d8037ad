"""Hierarchical text encoder for multi-sentence captions (CoSaL): words → sentence vectors → U.

Tokens `[batch, sentences, words]` → word vectors (an embedding, or one-hot as in the released code) →
one LSTM shared by every sentence (bidirectional in the paper, unidirectional in the code), keeping each
sentence's final state → a sentence-level LSTM over the sentence vectors, returning one vector per sentence.
The result U `[batch, sentences, units]` is what the fusion attends over (paper §3 "Language encoder",
§4.1 "Each sentence … is encoded with bidirectional LSTMs that share parameters. Another LSTM … on top").
The paper's no-attention baseline uses the last sentence-level output as the caption summary.
"""

from __future__ import annotations

import keras
from keras import ops

from lbie_tf.layers.composite_layer import CompositeLayer


@keras.saving.register_keras_serializable(package="lbie")
class SentenceHierarchyEncoder(CompositeLayer):
    """Encodes a caption of fixed-length sentences into one feature vector per sentence.

    Args:
        vocab_size: number of word ids; ids outside [0, vocab_size) are rejected by the model's input check.
        embedding_dim: word embedding width; 0 uses one-hot word vectors (the released code).
        sentence_units: units of the per-sentence LSTM (per direction when bidirectional).
        bidirectional: run the per-sentence LSTM in both directions and concatenate the final states.
        paragraph_units: units of the sentence-level LSTM.
        unit_forget_bias: add 1 to the LSTM forget-gate bias at initialisation (Keras default; the released
            code's cells use forget_bias 0, i.e. False).
        paragraph_lstm: False (ours) drops the sentence-level LSTM: U is the sentence vectors themselves and
            the summary their mean. CoSaL sentences are independent statements whose order means nothing,
            and with the LSTM each u_j also carries the sentences before it, which the attention must undo.

    Call arguments:
        tokens: int `[batch, sentences, words]`.

    Returns:
        `(features, summary)`: features `[batch, sentences, K]` (U) and the last sentence-level output
        `[batch, K]`, with K = paragraph_units (or, without the paragraph LSTM, the sentence vectors' width
        and their mean).

    Reference: paper §3 (language encoder) and §4.1 (CoSaL model implementation).
    """

    def __init__(self, vocab_size, embedding_dim=16, sentence_units=16, bidirectional=True,
                 paragraph_units=16, unit_forget_bias=True, paragraph_lstm=True, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.sentence_units = sentence_units
        self.bidirectional = bidirectional
        self.paragraph_units = paragraph_units
        self.unit_forget_bias = unit_forget_bias
        self.use_paragraph_lstm = paragraph_lstm
        self.embedding = (keras.layers.Embedding(vocab_size, embedding_dim, name="word_embedding")
                          if embedding_dim else None)
        # Captions are short (3 words, 9 sentences): unrolled LSTMs avoid a while loop per step.
        sentence_lstm = keras.layers.LSTM(sentence_units, unroll=True, unit_forget_bias=unit_forget_bias,
                                          name="sentence_lstm")
        self.sentence_lstm = (keras.layers.Bidirectional(sentence_lstm, name="sentence_bilstm")
                              if bidirectional else sentence_lstm)
        self.paragraph_lstm = (keras.layers.LSTM(paragraph_units, return_sequences=True, unroll=True,
                                                 unit_forget_bias=unit_forget_bias, name="paragraph_lstm")
                               if paragraph_lstm else None)

    def _word_vectors(self, tokens):
        if self.embedding is not None:
            return self.embedding(tokens)
        return ops.one_hot(tokens, self.vocab_size)

    def build(self, tokens_shape):
        batch, sentences, words = tokens_shape
        width = self.embedding_dim or self.vocab_size
        if self.embedding is not None:
            self.embedding.build((None, words))
        self.sentence_lstm.build((None, words, width))
        if self.paragraph_lstm is not None:
            self.paragraph_lstm.build((None, sentences, self._sentence_width))

    @property
    def _sentence_width(self):
        return self.sentence_units * (2 if self.bidirectional else 1)

    def call(self, tokens):
        sentences, words = tokens.shape[1], tokens.shape[2]
        flat = ops.reshape(tokens, (-1, words))
        sentence_vectors = self.sentence_lstm(self._word_vectors(flat))
        sentence_vectors = ops.reshape(sentence_vectors, (-1, sentences, sentence_vectors.shape[-1]))
        if self.paragraph_lstm is None:
            return sentence_vectors, ops.mean(sentence_vectors, axis=1)
        features = self.paragraph_lstm(sentence_vectors)
        return features, features[:, -1]

    def compute_output_shape(self, tokens_shape):
        batch, sentences = tokens_shape[0], tokens_shape[1]
        width = self.paragraph_units if self.paragraph_lstm is not None else self._sentence_width
        return (batch, sentences, width), (batch, width)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "sentence_units": self.sentence_units, "bidirectional": self.bidirectional,
                "paragraph_units": self.paragraph_units, "unit_forget_bias": self.unit_forget_bias,
                "paragraph_lstm": self.use_paragraph_lstm}
