"""The benchmark baseline: the paper's CoSaL T = 4 model ported to Keras the straightforward way.

What a first port of the paper would look like, for `benchmarks/throughput.py` to time our trainer against:
plain Keras layers only, one `Conv2D` per C-GRU weight (W1..W7, no fused gate convolution), a tf.keras-style
loop of `T` attention + C-GRU steps, `TimeDistributed(Bidirectional(LSTM))` over the sentences, a plain
`Conv2DTranspose` (k16, s8) upsampling (no sub-pixel convolution), the Gumbel-softmax mixture of the step
outputs, and a `model.fit`-style `train_step` (compiled by `model.compile`). Same sizes as
`configs/cosal_paper_t4.cfg` (encoder 4,4,8,8,16,16, BiLSTM 16, sentence LSTM 16, attention 16, C-GRU 16,
decoder 16, 7 classes; Adam 3e-3, shape pixels weighted 10). Not used by the package.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

CLASSES, UNITS, STEPS = 7, 16, 4
FOREGROUND_WEIGHT = 10.0
GUMBEL_TEMPERATURE = 1.0


class StraightforwardSegmenter(keras.Model):
    """The paper's CoSaL model in plain Keras layers.

    Args:
        vocab_size: word ids.
        steps: fusion steps T.

    Call arguments:
        inputs: dict with `image` `[batch, 48, 48, 3]` (0..255) and `tokens` int `[batch, 9, 3]`.
        training: unused (no layer behaves differently).

    Returns:
        Logits `[batch, 48, 48, 7]` of the Gumbel-softmax mixture of the step outputs (fresh noise per call).
    """

    def __init__(self, vocab_size: int = 20, steps: int = STEPS, **kwargs):
        super().__init__(**kwargs)
        self.steps = steps
        self.encoder = keras.Sequential(
            [layers.Rescaling(1.0 / 255.0, offset=-0.5)]
            + [layer for channels in (4, 8, 16) for layer in (
                layers.Conv2D(channels, 3, padding="same", activation="relu"),
                layers.Conv2D(channels, 3, padding="same", activation="relu"), layers.MaxPooling2D(2))])
        self.embedding = layers.Embedding(vocab_size, 16)
        self.sentence_lstm = layers.TimeDistributed(layers.Bidirectional(layers.LSTM(16)))
        self.paragraph_lstm = layers.LSTM(16, return_sequences=True)
        self.query = layers.Dense(16, use_bias=False)
        self.key = layers.Dense(16, use_bias=False)

        def conv(bias=True):
            return layers.Conv2D(UNITS, 3, padding="same", use_bias=bias)

        self.w1, self.w2, self.w3, self.w4 = conv(), conv(False), conv(), conv(False)
        self.w5, self.w6, self.w7 = conv(), conv(False), conv(False)
        self.gate = layers.Dense(1)
        self.classifier_1 = layers.Conv2D(16, 1, activation="relu")
        self.classifier_2 = layers.Conv2D(CLASSES, 1)
        self.upsample = layers.Conv2DTranspose(CLASSES, 16, strides=8, padding="same")

    def call(self, inputs, training=False):
        state = self.encoder(inputs["image"])                                   # [B, 6, 6, 16]
        words = self.embedding(inputs["tokens"])                                # [B, 9, 3, 16]
        text = self.paragraph_lstm(self.sentence_lstm(words))                   # [B, 9, 16]
        keys = self.key(text)
        outputs, log_continue, log_betas = [], 0.0, []
        for t in range(self.steps):
            scores = tf.einsum("bmnr,blr->bmnl", self.query(state), keys)
            attended = tf.einsum("bmnl,blk->bmnk", tf.nn.softmax(scores), text)
            z = tf.sigmoid(self.w1(state) + self.w2(attended))
            r = tf.sigmoid(self.w3(state) + self.w4(attended))
            candidate = tf.nn.relu(self.w5(r * state) + self.w6(attended))
            h = (1.0 - z) * state + z * candidate
            state = self.w7(h)
            outputs.append(h)
            logit = self.gate(state)[..., 0]
            last = t == self.steps - 1
            log_betas.append(log_continue if last else log_continue + tf.math.log_sigmoid(logit))
            log_continue = log_continue + tf.math.log_sigmoid(-logit)
        log_beta = tf.stack(log_betas, axis=1)                                 # [B, T, 6, 6]
        gumbel = -tf.math.log(-tf.math.log(tf.random.uniform(tf.shape(log_beta), 1e-6, 1.0 - 1e-6)))
        weights = tf.nn.softmax((log_beta + gumbel) / GUMBEL_TEMPERATURE, axis=1)
        fused = tf.reduce_sum(tf.stack(outputs, axis=1) * weights[..., None], axis=1)
        return self.upsample(self.classifier_2(self.classifier_1(fused)))

    def train_step(self, data):
        inputs, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        weights = tf.where(labels > 0, FOREGROUND_WEIGHT, 1.0)
        with tf.GradientTape() as tape:
            logits = self(inputs, training=True)
            loss = self.compute_loss(y=labels, y_pred=logits, sample_weight=weights)
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        return {"loss": loss}


def compiled_port(vocab_size: int = 20) -> StraightforwardSegmenter:
    """The port, built and compiled as `model.fit` would use it (Keras' default `jit_compile="auto"`)."""
    model = StraightforwardSegmenter(vocab_size)
    model({"image": tf.zeros((1, 48, 48, 3)), "tokens": tf.zeros((1, 9, 3), tf.int32)})
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model
