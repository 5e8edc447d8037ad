"""The shipped pretrained CoSaL segmenter and colorizer load offline from one registry and score what their
metadata says; packaging a run of either kind round-trips."""

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf import pretrained
from lbie_tf.configs import ColorizerConfig, DiscriminatorConfig, GanConfig, SegmenterConfig, TrainingConfig
from lbie_tf.data.cosal import CosalConfig
from lbie_tf.errors import DataError
from lbie_tf.evaluation.segmentation_metrics import ConfusionMatrix, mean_iou
from lbie_tf.serving.loading import load_colorizer
from lbie_tf.tasks import cosal_colorization, cosal_segmentation
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
    folder = pretrained.package_run(str(run), "tiny", "python train_segmentation.py ...",
                                          out_dir=str(tmp_path / "out"))
    model, metadata = pretrained.load_packaged(folder)
    assert metadata["step"] == 1 and metadata["model"]["steps"] == 2
    assert "confusion_matrix" not in metadata["evaluation"]
    inputs = {"image": np.zeros((1, 48, 48, 3), np.float32), "tokens": np.zeros((1, 9, 3), np.int32)}
    again, _ = pretrained.load_packaged(folder)
    np.testing.assert_allclose(model(inputs)["logits"], again(inputs)["logits"])


def test_shipped_colorizer_reaches_its_recorded_accuracy():
    generator, metadata = pretrained.load_pretrained_colorizer()
    assert metadata["kind"] == "colorizer" and "train_colorization.py" in metadata["training_command"]
    recorded = metadata["evaluation"]["shape_color_accuracy"]
    metrics = cosal_colorization.CosalColourMetrics()
    # Captions of 9 direct sentences, as the preset trains (--num_direct=9); the first 250 of its 1,000 test images.
    for batch in cosal_colorization.test_batches(CosalConfig(num_direct=9, test_size=250), 250):
        ab = generator({"gray": batch["gray"], "tokens": batch["tokens"]})["ab"].numpy()
        metrics.update({key: value.numpy() for key, value in batch.items()}, ab, None)
    assert recorded > 0.9 and abs(metrics.result()["shape_color_accuracy"] - recorded) < 0.02


def test_one_registry_for_both_kinds():
    assert pretrained.available("segmenter") == [pretrained.DEFAULT_SEGMENTER, "cosal_paper_t4"]
    assert pretrained.available("colorizer") == [pretrained.DEFAULT_COLORIZER]
    with pytest.raises(DataError, match="'cosal_colorization' is a colorizer, not a segmenter"):
        pretrained.load_pretrained_segmenter(pretrained.DEFAULT_COLORIZER)
    with pytest.raises(DataError, match="cosal_best holds a segmenter, not a colorizer"):
        load_colorizer(pretrained=pretrained.DEFAULT_SEGMENTER)


def test_package_round_trip_of_a_colorization_run(tmp_path):
    run = tmp_path / "run"
    generator = ColorizerConfig(filters=4, word_embedding_dim=4, text_units=4, attention_units=4, fusion_units=16,
                                batch_norm=False, vocab_size=0)
    cosal_colorization.make_trainer(
        generator, DiscriminatorConfig(filters=4, merger_units=4, text="shared"), GanConfig(),
        TrainingConfig(batch_size=4, train_steps=1), CosalConfig(train_size=8, test_size=4),
        str(run), tf.distribute.get_strategy(), progress_stream=None, previews=0, log=lambda line: None,
        eval_batch_size=4).run()
    folder = pretrained.package_run(str(run), "tiny", "python train_colorization.py ...", out_dir=str(tmp_path / "out"))
    model, metadata = pretrained.load_packaged(folder)
    assert metadata["kind"] == "colorizer" and metadata["step"] == 1
    assert "shape_color_accuracy" in metadata["evaluation"]
    inputs = {"gray": np.linspace(-1, 1, 48 * 48, dtype=np.float32).reshape(1, 48, 48, 1),
              "tokens": np.arange(2, 29, dtype=np.int32)[None] % 22}
    np.testing.assert_allclose(model(inputs)["ab"], load_colorizer(model_dir=str(run))(inputs)["ab"], atol=1e-6)
