"""Tests for lbie_tf.ops.random_hash: counter-based stateless uniforms."""

import numpy as np
import tensorflow as tf

from lbie_tf.ops import random_hash


def test_deterministic_and_in_unit_interval():
    ids = tf.range(1000, dtype=tf.int64)
    first = random_hash.uniform(3, 1, ids, 7).numpy()
    second = random_hash.uniform(3, 1, ids, 7).numpy()
    assert first.dtype == np.float32 and first.shape == (1000, 7)
    np.testing.assert_array_equal(first, second)
    assert first.min() >= 0.0 and first.max() < 1.0


def test_value_depends_only_on_its_keys():
    batch = random_hash.uniform(5, 2, tf.range(10, dtype=tf.int64), 6).numpy()
    alone = random_hash.uniform(5, 2, tf.constant([7], tf.int64), 6).numpy()
    np.testing.assert_array_equal(alone[0], batch[7])
    fewer_draws = random_hash.uniform(5, 2, tf.range(10, dtype=tf.int64), 3).numpy()
    np.testing.assert_array_equal(fewer_draws, batch[:, :3])
    grid = random_hash.uniform(5, 2, tf.reshape(tf.range(10, dtype=tf.int64), [2, 5]), 6).numpy()
    assert grid.shape == (2, 5, 6)
    np.testing.assert_array_equal(grid.reshape(10, 6), batch)


def test_same_values_in_tf_function_and_under_xla():
    ids = tf.constant([0, 1, 2**40 + 5, -3], tf.int64)
    eager = random_hash.uniform(2**33 + 1, 4, ids, 5).numpy()
    graph = tf.function(lambda x: random_hash.uniform(2**33 + 1, 4, x, 5))(ids).numpy()
    compiled = tf.function(lambda x: random_hash.uniform(2**33 + 1, 4, x, 5), jit_compile=True)(ids).numpy()
    np.testing.assert_array_equal(eager, graph)
    np.testing.assert_array_equal(eager, compiled)


def test_moments_of_100k_draws():
    draws = random_hash.uniform(0, 0, tf.range(25_000, dtype=tf.int64), 4).numpy().ravel()
    assert abs(draws.mean() - 0.5) < 0.005
    assert abs(draws.var() - 1.0 / 12.0) < 0.002
    histogram, _ = np.histogram(draws, bins=10, range=(0.0, 1.0))
    assert np.all(np.abs(histogram / draws.size - 0.1) < 0.005)


def test_different_keys_give_different_numbers():
    ids = tf.range(100, dtype=tf.int64)
    reference = random_hash.uniform(0, 0, ids, 8).numpy()
    for seed, stream in ((1, 0), (0, 1), (2**32, 0), (0, 2**32)):
        other = random_hash.uniform(seed, stream, ids, 8).numpy()
        assert np.mean(other == reference) < 0.01, (seed, stream)
    assert np.mean(random_hash.uniform(1, 0, ids, 8).numpy() == random_hash.uniform(0, 1, ids, 8).numpy()) < 0.01
    shifted = random_hash.uniform(0, 0, ids + 2**32, 8).numpy()
    assert np.mean(shifted == reference) < 0.01
    # Neighbouring ids and draws are uncorrelated.
    assert abs(np.corrcoef(reference[:-1].ravel(), reference[1:].ravel())[0, 1]) < 0.1
    assert abs(np.corrcoef(reference[:, :-1].ravel(), reference[:, 1:].ravel())[0, 1]) < 0.1
