"""The shipped pretrained CoSaL model loads offline and scores what its metadata says; packaging a run
round-trips."""

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf import pretrained
from lbie_tf.configs import SegmenterConfig, TrainingConfig
from lbie_tf.data.cosal import CosalConfig
from lbie_tf.errors import DataError
from lbie_tf.evaluation.segmentation_metrics import ConfusionMatrix, mean_iou
from lbie_tf.tasks import cosal_segmentation
from lbie_tf.tasks.cosal_segmentation import make_trainer


def test_shipped_model_reaches_its_recorded_iou():
    model, metadata = pretrained.load_pretrained_segmenter()
    assert "train_segmentation.py" in metadata["training_command"]
    recorded = metadata["evaluation"]["mean_iou"]
    confusion = ConfusionMatrix(7)
    for batch in cosal_segmentation.test_batches(CosalConfig(test_size=500), 250):
        logits = model({"image": batch["image"], "tokens": batch["tokens"]})["logits"]
        confusion.update(batch["labels"], np.argmax(logits, axis=-1))
    # The first 500 of the 10,000 test images it was evaluated on: the same model, so close to the record.
    assert abs(mean_iou(confusion.matrix) - recorded) < 0.03


def test_unknown_pretrained_name_is_a_one_line_error():
    with pytest.raises(DataError, match="cosal_paper_t4"):
        pretrained.load_pretrained_segmenter("nope")


def test_package_round_trip(tmp_path):
    run = tmp_path / "run"
    make_trainer(SegmenterConfig(steps=2), TrainingConfig(batch_size=4, train_steps=1, jit_compile="off"),
                 CosalConfig(train_size=8, test_size=4), str(run), tf.distribute.get_strategy(),
                 progress_stream=None, previews=0, log=lambda line: None, eval_batch_size=4).run()
    folder = pretrained.package_segmenter(str(run), "tiny", "python train_segmentation.py ...",
                                          out_dir=str(tmp_path / "out"))
    model, metadata = pretrained.load_packaged_segmenter(folder)
    assert metadata["step"] == 1 and metadata["model"]["steps"] == 2
    assert "confusion_matrix" not in metadata["evaluation"]
    inputs = {"image": np.zeros((1, 48, 48, 3), np.float32), "tokens": np.zeros((1, 9, 3), np.int32)}
    again, _ = pretrained.load_packaged_segmenter(folder)
    np.testing.assert_allclose(model(inputs)["logits"], again(inputs)["logits"])
