"""The CoSaL colorization view and its metrics: tokens shifted past padding, captions as text, and colour
accuracy / caption consistency against brute-force loops."""

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.data import cosal
from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.tasks import cosal_colorization as cc

DATA = cosal.CosalConfig(num_direct=4, test_size=3)


def _batch():
    return {k: v.numpy() for k, v in next(iter(cc.test_batches(DATA, 3))).items()}


def test_view_fields():
    batch = _batch()
    assert batch["gray"].shape == (3, 48, 48, 1) and batch["ab"].shape == (3, 48, 48, 2)
    assert batch["tokens"].shape == (3, 27) and batch["tokens"].min() >= cc.TOKEN_OFFSET
    np.testing.assert_array_equal(batch["tokens"], batch["sentence_tokens"].reshape(3, 27) + cc.TOKEN_OFFSET)
    first = ". ".join(vocab.decode_caption(batch["sentence_tokens"][0]))
    assert batch["caption"][0].decode() == first


def _brute_force(batch, predicted_ab):
    correct = total = consistent = sentences = 0
    for b in range(len(predicted_ab)):
        colour = np.array([[np.argmin([np.sum((predicted_ab[b, y, x] - p) ** 2) for p in cc.PALETTE_AB])
                            for x in range(48)] for y in range(48)])
        shape = batch["labels"][b] > 0
        correct += np.sum(colour[shape] == batch["labels"][b][shape] - 1)
        total += np.sum(shape)
        for s in range(9):
            cell = batch["sentence_cells"][b, s, 0]
            rows, cols = slice(cell // 3 * 16, cell // 3 * 16 + 16), slice(cell % 3 * 16, cell % 3 * 16 + 16)
            votes = np.bincount(colour[rows, cols][shape[rows, cols]], minlength=6)
            words = [vocab.VOCABULARY[t] for t in batch["sentence_tokens"][b, s]]
            stated = words[2] if words[1] == "is" else words[0]
            consistent += vocab.COLOUR_NAMES[np.argmax(votes)] == stated
            sentences += 1
    return correct / total, consistent / sentences


def test_metrics_match_brute_force():
    batch = _batch()
    rng = np.random.default_rng(0)
    truth = np.where(batch["labels"][..., None] > 0, cc.PALETTE_AB[np.maximum(batch["labels"], 1) - 1], 0.0)
    for predicted in (truth, rng.uniform(-0.6, 0.6, truth.shape), np.zeros_like(truth) + cc.PALETTE_AB[4]):
        metrics = cc.CosalColourMetrics()
        metrics.update(batch, predicted.astype(np.float32), None)
        result = metrics.result()
        accuracy, consistency = _brute_force(batch, predicted)
        np.testing.assert_allclose([result["shape_color_accuracy"], result["consistency"]], [accuracy, consistency])
    metrics = cc.CosalColourMetrics()
    metrics.update(batch, truth.astype(np.float32), None)
    assert metrics.result() == {"shape_color_accuracy": 1.0, "consistency": 1.0}


def test_sketch_augmentation_is_refused_for_colorization(tmp_path):
    from lbie_tf.configs import ColorizerConfig, DiscriminatorConfig, GanConfig, TrainingConfig
    from lbie_tf.errors import ConfigError
    from lbie_tf.tasks.cosal_colorization import make_trainer

    with pytest.raises(ConfigError, match="CosalConfig.augment"):
        make_trainer(ColorizerConfig(vocab_size=0), DiscriminatorConfig(), GanConfig(), TrainingConfig(),
                     cosal.CosalConfig(augment=True), str(tmp_path), tf.distribute.get_strategy())
