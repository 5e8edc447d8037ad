"""Word-level text encoder for colorization captions: tokens `[batch, words]` → U `[batch, words, 2·units]`.

Word embedding (trainable, or frozen pretrained vectors) → bidirectional LSTM over the words, padding (id 0)
masked; every word keeps its output (the concatenated forward and backward states), so that the fusion can
attend over words (released colornet.py:162-202; paper §4.3 "biLSTM"). CoSaL captions (9 sentences × 3
tokens) are given as one 27-word sequence.
"""

from __future__ import annotations

import keras
from keras import ops

from lbie_tf.layers.composite import CompositeLayer


@keras.saving.register_keras_serializable(package="lbie")
class WordBiLSTMEncoder(CompositeLayer):
    """Embedding + BiLSTM over a padded word sequence.

    Args:
        vocab_size: number of word ids (0 = padding).
        embedding_dim: word vector width.
        units: LSTM units per direction.
        embedding_trainable: train the embedding (False: frozen pretrained vectors, as the released code).
        lstm_trainable: train the BiLSTM (False: the released code's frozen, pretrained BiLSTM).
        unit_forget_bias: forget-gate bias initialised to 1 (Keras default) or 0 (released forget_bias 0).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        tokens: int `[batch, words]`, 0 = padding.

    Returns:
        `(features, mask)`: features `[batch, words, 2·units]` (U) and bool `[batch, words]`, True for words.

    Reference: Chen et al., CVPR 2018, §3 "Language encoder" and §4.3.
    """

    def __init__(self, vocab_size, embedding_dim=300, units=512, embedding_trainable=True, lstm_trainable=True,
                 unit_forget_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = int(vocab_size)
        self.embedding_dim = int(embedding_dim)
        self.units = int(units)
        self.embedding_trainable = bool(embedding_trainable)
        self.lstm_trainable = bool(lstm_trainable)
        self.unit_forget_bias = bool(unit_forget_bias)
        # N(0, 1) word vectors (Keras' default U(−0.05, 0.05) makes different captions nearly identical inputs to
        # the LSTM at the start; pretrained vectors replace them anyway).
        self.embedding = keras.layers.Embedding(self.vocab_size, self.embedding_dim,
                                                embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
                                                trainable=self.embedding_trainable, name="word_embedding")
        self.bilstm = keras.layers.Bidirectional(
            keras.layers.LSTM(self.units, return_sequences=True, unit_forget_bias=self.unit_forget_bias),
            name="bilstm")
        self.bilstm.trainable = self.lstm_trainable  # (the constructor argument does not reach the wrapped LSTMs)

    def build(self, tokens_shape):
        self.embedding.build(tuple(tokens_shape))
        self.bilstm.build(tuple(tokens_shape) + (self.embedding_dim,))
        self.built = True

    def call(self, tokens):
        mask = ops.not_equal(tokens, 0)
        features = self.bilstm(self.embedding(tokens), mask=mask)
        # Keras zeroes masked outputs of the LSTM; the attention masks them as well.
        return features, mask

    def compute_output_shape(self, tokens_shape):
        return tuple(tokens_shape) + (2 * self.units,), tuple(tokens_shape)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "units": self.units, "embedding_trainable": self.embedding_trainable,
                "lstm_trainable": self.lstm_trainable, "unit_forget_bias": self.unit_forget_bias}
