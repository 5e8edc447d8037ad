"""Word-level text encoder: tokens `[batch, words]` → one feature vector per word, U `[batch, words, units']`.

Word embedding → one LSTM over the words (optionally bidirectional) returning every word's output; this is
what the fusion attends over (paper §3 "Language encoder"). Two uses:
- ReferIt (paper §4.2, "an LSTM of 1,024 units"): tokens left-padded with id 0 as Hu et al. prepare them;
  the padding runs through the LSTM (no mask there, which keeps the cuDNN kernel) and the last output, having
  read every real word, is the expression summary of the no-attention baseline.
- Colorization (paper §4.3 "biLSTM", released colornet.py:162-202): right-padded captions, bidirectional,
  padding masked inside the LSTM (`mask_padding=True`), embedding drawn N(0, 1) or loaded from pretrained
  vectors and frozen, the LSTM optionally frozen as in the released code. CoSaL captions (9 sentences × 3
  tokens) are given as one 27-word sequence.
In both, `text_mask(tokens)` is what the attention masks.
"""

from __future__ import annotations

import keras
from keras import ops

from lbie_tf.layers.composite_layer import CompositeLayer


@keras.saving.register_keras_serializable(package="lbie")
class WordSequenceEncoder(CompositeLayer):
    """Encodes a padded word sequence into one feature vector per word.

    Args:
        vocab_size: number of word ids (ReferIt: 8,803).
        embedding_dim: word embedding width (Hu et al.: 1,000; colorization: 300).
        units: LSTM units (per direction when bidirectional; paper ReferIt: 1,024, colorization 512).
        bidirectional: run the LSTM in both directions and concatenate the outputs.
        unit_forget_bias: add 1 to the LSTM forget-gate bias at initialisation (0: the released code).
        pad_id: the padding word id, masked out by `text_mask`.
        mask_padding: also mask padding inside the LSTM (Keras zeroes the masked outputs).
        embedding_stddev: 0 = Keras' default U(−0.05, 0.05) embedding; > 0 = N(0, stddev²) (colorization: 1,
            since with the small default different captions start as nearly identical LSTM inputs).
        embedding_trainable: train the embedding (False: frozen pretrained vectors).
        lstm_trainable: train the LSTM (False: the released colorization code's frozen, pretrained BiLSTM).

    Call arguments:
        tokens: int `[batch, words]`.

    Returns:
        `(features, summary)`: features `[batch, words, units']` (U; units' = 2·units when bidirectional) and
        the last word's output `[batch, units']`.

    Reference: paper §3 (language encoder), §4.2 (ReferIt) and §4.3 (colorization).
    """

    def __init__(self, vocab_size, embedding_dim=1000, units=1024, bidirectional=False, unit_forget_bias=True,
                 pad_id=0, mask_padding=False, embedding_stddev=0.0, embedding_trainable=True,
                 lstm_trainable=True, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = int(vocab_size)
        self.embedding_dim = int(embedding_dim)
        self.units = int(units)
        self.bidirectional = bool(bidirectional)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.pad_id = int(pad_id)
        self.mask_padding = bool(mask_padding)
        self.embedding_stddev = float(embedding_stddev)
        self.embedding_trainable = bool(embedding_trainable)
        self.lstm_trainable = bool(lstm_trainable)
        initializer = (keras.initializers.RandomNormal(stddev=self.embedding_stddev) if self.embedding_stddev
                       else "uniform")
        self.embedding = keras.layers.Embedding(self.vocab_size, self.embedding_dim,
                                                embeddings_initializer=initializer,
                                                trainable=self.embedding_trainable, name="word_embedding")
        lstm = keras.layers.LSTM(self.units, return_sequences=True, unit_forget_bias=self.unit_forget_bias,
                                 name="word_lstm")
        self.lstm = keras.layers.Bidirectional(lstm, name="word_bilstm") if self.bidirectional else lstm
        self.lstm.trainable = self.lstm_trainable  # (a Bidirectional's argument does not reach its LSTMs)

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
        mask = self.text_mask(tokens) if self.mask_padding else None
        features = self.lstm(self.embedding(tokens), mask=mask)
        return features, features[:, -1]

    def compute_output_shape(self, tokens_shape):
        batch, words = tokens_shape[0], tokens_shape[1]
        return (batch, words, self.output_units), (batch, self.output_units)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "units": self.units, "bidirectional": self.bidirectional,
                "unit_forget_bias": self.unit_forget_bias, "pad_id": self.pad_id, "mask_padding": self.mask_padding,
                "embedding_stddev": self.embedding_stddev, "embedding_trainable": self.embedding_trainable,
                "lstm_trainable": self.lstm_trainable}
