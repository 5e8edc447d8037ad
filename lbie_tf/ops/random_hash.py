"""Counter-based stateless uniform random numbers in pure TensorFlow.

Every number is a pure function of four keys: a seed, a stream, an example id and a draw index. The keys are
folded one after another into a 32-bit state with the `lowbias32` integer finaliser (C. Wellons' "hash
prospector"), and the top 24 bits of the final state become a float32 in [0, 1). Nothing depends on the
batch an example sits in, on the order of evaluation or on any op state, so a data pipeline built on it is
reproducible and position-addressable. Only uint32 multiplies (which wrap), xors and shifts are used: the
ops run eagerly, inside `tf.function` and under `jit_compile=True`.
"""

from __future__ import annotations

import tensorflow as tf

_MASK32 = 0xFFFFFFFF
# Distinct starting states per key, so that e.g. (seed=1, stream=0) and (seed=0, stream=1) never collide.
_SEED_DOMAIN = 0x9E3779B9
_DRAW_DOMAIN = 0x85EBCA6B


def _lowbias32(x: tf.Tensor) -> tf.Tensor:
    """The `lowbias32` bijective finaliser on a uint32 tensor of any shape."""
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, tf.constant(16, tf.uint32)))
    x = x * tf.constant(0x7FEB352D, tf.uint32)
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, tf.constant(15, tf.uint32)))
    x = x * tf.constant(0x846CA68B, tf.uint32)
    return tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, tf.constant(16, tf.uint32)))


def _fold(state: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
    """Mixes one uint32 key into a uint32 state: `lowbias32(state ^ key)`."""
    return _lowbias32(tf.bitwise.bitwise_xor(state, key))


def _uint32_halves(value: int) -> tuple[tf.Tensor, tf.Tensor]:
    """Low and high 32 bits of a Python int (taken modulo 2**64) as uint32 scalars."""
    value &= (1 << 64) - 1
    return tf.constant(value & _MASK32, tf.uint32), tf.constant(value >> 32, tf.uint32)


def _int64_halves(ids: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Low and high 32 bits of an int64 tensor as uint32 tensors of the same shape."""
    mask = tf.constant(_MASK32, tf.int64)
    low = tf.cast(tf.bitwise.bitwise_and(ids, mask), tf.uint32)
    high = tf.cast(tf.bitwise.bitwise_and(tf.bitwise.right_shift(ids, tf.constant(32, tf.int64)), mask), tf.uint32)
    return low, high


def uniform(seed: int, stream: int, example_ids: tf.Tensor, num_draws: int) -> tf.Tensor:
    """Uniform float32 numbers in [0, 1), one row of `num_draws` per example id.

    Args:
        seed: experiment seed (any Python int; taken modulo 2**64).
        stream: independent stream number (e.g. one per data split or per use).
        example_ids: int64 tensor of any shape `[...]`.
        num_draws: number of numbers per example (Python int >= 0).

    Returns:
        float32 tensor `[..., num_draws]`; entry `[..., d]` depends only on (seed, stream, example id, d)
        and is a multiple of 2**-24 in [0, 1 - 2**-24].
    """
    example_ids = tf.convert_to_tensor(example_ids, tf.int64)
    seed_low, seed_high = _uint32_halves(seed)
    stream_low, stream_high = _uint32_halves(stream)
    state = tf.constant(_SEED_DOMAIN, tf.uint32)
    for key in (seed_low, seed_high, stream_low, stream_high):
        state = _fold(state, key)
    id_low, id_high = _int64_halves(example_ids)
    for key in (id_low, id_high, tf.constant(_DRAW_DOMAIN, tf.uint32)):
        state = _fold(state, key)
    draws = tf.cast(tf.range(num_draws), tf.uint32)
    bits = _lowbias32(_fold(state[..., tf.newaxis], draws))
    mantissa = tf.bitwise.right_shift(bits, tf.constant(8, tf.uint32))
    return tf.cast(mantissa, tf.float32) * tf.constant(2.0**-24, tf.float32)
