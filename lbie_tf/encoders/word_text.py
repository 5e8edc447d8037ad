"""Word-level text encoder for referring expressions (ReferIt): tokens → one feature vector per word.

Tokens `[batch, words]` (left-padded with id 0, as Hu et al. prepare them) → word embedding → one LSTM over
the words (optionally bidirectional) returning every word's output. The result U `[batch, words, units]` is
what the fusion attends over (paper §3 "Language encoder", §4.2 "Textual descriptions are encoded with an
LSTM of 1,024 units"); padding positions are masked out of the attention (`text_mask`). Because padding is on
the left, the last output has read every real word: it is the expression summary of the no-attention
baseline. The padding runs through the LSTM (no mask there), as in Hu et al., which keeps the cuDNN kernel.
"""

from __future__ import annotations

import keras
from keras import ops

from lbie_tf.layers.composite import CompositeLayer


@keras.saving.register_keras_serializable(package="lbie")
class WordSequenceEncoder(CompositeLayer):
    """Encodes a left-padded word sequence into one feature vector per word.

    Args:
        vocab_size: number of word ids (ReferIt: 8,803).
        embedding_dim: word embedding width (Hu et al.: 1,000).
        units: LSTM units (per direction when bidirectional; paper ReferIt: 1,024).
        bidirectional: run the LSTM in both directions and concatenate the outputs.
        unit_forget_bias: add 1 to the LSTM forget-gate bias at initialisation.
        pad_id: the padding word id, masked out by `text_mask`.

    Call arguments:
        tokens: int `[batch, words]`.

    Returns:
        `(features, summary)`: features `[batch, words, units']` (U; units' = 2·units when bidirectional) and
        the last word's output `[batch, units']`.

    Reference: paper §3 (language encoder) and §4.2 (ReferIt model implementation).
    """

    def __init__(self, vocab_size, embedding_dim=1000, units=1024, bidirectional=False, unit_forget_bias=True,
                 pad_id=0, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.bidirectional = bidirectional
        self.unit_forget_bias = unit_forget_bias
        self.pad_id = pad_id
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim, name="word_embedding")
        lstm = keras.layers.LSTM(units, return_sequences=True, unit_forget_bias=unit_forget_bias,
                                 name="word_lstm")
        self.lstm = keras.layers.Bidirectional(lstm, name="word_bilstm") if bidirectional else lstm

    @property
    def output_units(self) -> int:
        return self.units * (2 if self.bidirectional else 1)

    def text_mask(self, tokens):
        """bool `[batch, words]`: True for real words, False for padding."""
        return ops.not_equal(tokens, self.pad_id)

    def build(self, tokens_shape):
        self.embedding.build(tuple(tokens_shape))
        self.lstm.build((None, tokens_shape[1], self.embedding_dim))

    def call(self, tokens):
        features = self.lstm(self.embedding(tokens))
        return features, features[:, -1]

    def compute_output_shape(self, tokens_shape):
        batch, words = tokens_shape[0], tokens_shape[1]
        return (batch, words, self.output_units), (batch, self.output_units)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "units": self.units, "bidirectional": self.bidirectional,
                "unit_forget_bias": self.unit_forget_bias, "pad_id": self.pad_id}
