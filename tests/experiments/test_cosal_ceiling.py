"""The caption ceiling: the oracle is exact on determined cells, so determined captions reach 1.0 and the
released generator's captions stay below it, by an amount that follows from the undetermined cells."""

import numpy as np

from experiments import cosal_ceiling
from lbie_tf.data import cosal


def test_oracle_is_exact_on_determined_cells_and_guesses_the_rest():
    config = cosal.CosalConfig(num_direct=4, legacy_captions=True, test_size=64)
    batch = next(iter(cosal.test_dataset(config, 64)))
    prediction = cosal_ceiling.oracle_prediction(batch).numpy()
    labels = batch["labels"].numpy()
    determined = batch["determined"].numpy()
    assert 0 < determined.mean() < 1  # the legacy generator leaves some cells undetermined
    side = labels.shape[1] // cosal.GRID
    cell_of_pixel = (np.arange(labels.shape[1]) // side)[:, None] * cosal.GRID + np.arange(labels.shape[2]) // side
    pixel_determined = determined[:, cell_of_pixel]  # [batch, S, S]
    np.testing.assert_array_equal(prediction[pixel_determined], labels[pixel_determined])
    np.testing.assert_array_equal(prediction[labels == 0], 0)
    guessed = prediction[~pixel_determined & (labels > 0)]
    assert guessed.min() >= 1 and guessed.max() <= 6
    np.testing.assert_array_equal(prediction, cosal_ceiling.oracle_prediction(batch).numpy())  # seeded


def test_ceiling_is_one_for_determined_captions_and_lower_for_legacy_ones():
    assert cosal_ceiling.caption_ceiling(cosal.CosalConfig(num_direct=4, test_size=100)) == 1.0
    legacy = [cosal_ceiling.caption_ceiling(cosal.CosalConfig(num_direct=n, legacy_captions=True, test_size=300))
              for n in (4, 8)]
    assert 0.5 < legacy[0] < legacy[1] < 1.0, legacy  # more direct sentences: more cells determined
