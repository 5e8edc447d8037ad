"""The shared training loop on CoSaL segmentation: replicas match one device, resume is exact, checkpoints of
another model are refused, a NaN loss stops with one line, and a short training beats the majority class."""

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.configs import SegmenterConfig, TrainingConfig
from lbie_tf.data.cosal import CosalConfig
from lbie_tf.errors import DataError, IncompatibleCheckpointError, NonFiniteLossError
from lbie_tf.losses import segmentation as losses
from lbie_tf.losses import termination as termination_losses
from lbie_tf.serving.loading import load_trained_segmenter
from lbie_tf.tasks.cosal_segmentation import make_trainer

DATA = CosalConfig(train_size=512, test_size=0)
MODEL = SegmenterConfig(steps=4)


def _trainer(model_dir, strategy=None, model=MODEL, data=DATA, **training):
    settings = dict(batch_size=8, train_steps=4, checkpoint_every=2, summary_every=2, jit_compile="off")
    settings.update(training)
    return make_trainer(model, TrainingConfig(**settings), data, str(model_dir),
                        strategy or tf.distribute.get_strategy(), progress_stream=None, previews=0,
                        log=lambda line: None)


def _step_losses(trainer, steps):
    step_fn = trainer.compiled_step()
    batches = iter(trainer.strategy.experimental_distribute_dataset(trainer.train_dataset(0)))
    return [float(step_fn(next(batches))["loss"]) for _ in range(steps)]


def _weights(trainer):
    return [np.array(v.numpy()) for v in trainer.task.model.trainable_variables]


@pytest.mark.slow  # a training run long enough to prove its point: `make test-all` and CI run it
@pytest.mark.parametrize("mode", ["gumbel", "marginal", "reinforce"])
def test_two_replicas_match_one_device(tmp_path, mirrored_strategy, mode):
    single = _step_losses(_trainer(tmp_path / "one", termination_training=mode), 3)
    mirrored = _trainer(tmp_path / "two", mirrored_strategy, termination_training=mode)
    assert mirrored.strategy.num_replicas_in_sync == 2
    np.testing.assert_allclose(_step_losses(mirrored, 3), single, atol=1e-5)


def test_stop_prior_adds_its_weighted_kl_to_the_first_loss(tmp_path):
    plain = _trainer(tmp_path / "plain", termination_training="marginal")
    weighted = _trainer(tmp_path / "prior", termination_training="marginal", stop_prior_weight=0.5)
    batch = next(iter(plain.train_dataset(0)))
    outputs = plain.task.model.train_outputs(
        {"image": batch["image"], "tokens": batch["tokens"]}, "marginal", training=True)
    kl = float(tf.reduce_mean(termination_losses.stop_prior_kl(outputs["log_stop_probs"])))
    assert kl > 0.01  # the initial gates are not uniform over the 4 steps
    first_plain, first_weighted = _step_losses(plain, 1)[0], _step_losses(weighted, 1)[0]
    np.testing.assert_allclose(first_weighted - first_plain, 0.5 * kl, rtol=1e-3, atol=1e-5)


def test_interrupted_and_resumed_run_reaches_the_same_weights(tmp_path):
    uninterrupted = _trainer(tmp_path / "a")
    uninterrupted.run()
    _trainer(tmp_path / "b", train_steps=2).run()
    resumed = _trainer(tmp_path / "b")
    assert resumed.restore() == 2
    resumed.run()
    assert int(resumed.step.numpy()) == 4
    for a, b in zip(_weights(uninterrupted), _weights(resumed)):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_checkpoint_of_another_model_is_refused(tmp_path):
    _trainer(tmp_path, train_steps=1).run()
    wider = SegmenterConfig(steps=4, fusion_units=8)
    with pytest.raises(IncompatibleCheckpointError, match="fusion_units") as error:
        _trainer(tmp_path, model=wider).run()
    assert "\n" not in str(error.value)


def test_resume_with_other_training_data_is_refused(tmp_path):
    _trainer(tmp_path, train_steps=1).run()
    stored = json.loads((tmp_path / "model_config.json").read_text())
    assert stored["training_data"]["num_direct"] == 4 and "test_size" not in stored["training_data"]
    with pytest.raises(IncompatibleCheckpointError,
                       match="training_data.num_direct: 8 here, 4 in the checkpoint") as error:
        _trainer(tmp_path, data=dataclasses.replace(DATA, num_direct=8)).run()
    assert "\n" not in str(error.value)
    # Another test split is not another training run.
    assert _trainer(tmp_path, data=dataclasses.replace(DATA, test_size=16)).restore() == 1
    # A run stored before the data settings were recorded resumes unchecked.
    del stored["training_data"]
    (tmp_path / "model_config.json").write_text(json.dumps(stored))
    assert _trainer(tmp_path, data=dataclasses.replace(DATA, num_direct=8)).restore() == 1


def test_nan_loss_stops_with_one_line(tmp_path, monkeypatch):
    real_loss = losses.segmentation_loss

    def poisoned(*args, **kwargs):
        loss, cross_entropy = real_loss(*args, **kwargs)
        return loss * np.nan, cross_entropy

    monkeypatch.setattr(losses, "segmentation_loss", poisoned)
    with pytest.raises(NonFiniteLossError, match="step 1") as error:
        _trainer(tmp_path).run()
    assert "\n" not in str(error.value)
    assert "--learning_rate" in str(error.value)


@pytest.mark.slow  # a training run long enough to prove its point: `make test-all` and CI run it
def test_short_training_beats_the_majority_class(tmp_path):
    """The all-background prediction scores the background's share over 7 classes; a minute of training
    must clearly beat it and colour shape pixels better than a random colour (1/6)."""
    data = CosalConfig(num_direct=9, train_size=0, test_size=200)
    trainer = _trainer(tmp_path, model=SegmenterConfig(steps=1), data=data, batch_size=32, train_steps=400,
                       checkpoint_every=400, summary_every=100, learning_rate=1e-2, foreground_weight=10.0,
                       jit_compile="auto")
    report = trainer.run()
    confusion = np.asarray(report["confusion_matrix"])
    background_share = confusion[0].sum() / confusion.sum()
    majority_mean_iou = background_share / 7
    shape_pixels = confusion[1:].sum()
    colour_accuracy = np.trace(confusion[1:, 1:]) / shape_pixels
    assert report["mean_iou"] > majority_mean_iou + 0.15, (report["mean_iou"], majority_mean_iou)
    assert colour_accuracy > 1 / 6 + 0.1, colour_accuracy


def test_run_writes_tensorboard_scalars_images_and_the_evaluation(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    data = CosalConfig(train_size=64, test_size=16)
    trainer = make_trainer(MODEL, TrainingConfig(batch_size=8, train_steps=2, summary_every=1,
                                                 image_summary_every=2, jit_compile="off"),
                           data, str(tmp_path), tf.distribute.get_strategy(), progress_stream=None, previews=2,
                           log=lambda line: None, eval_batch_size=8)
    report = trainer.run()
    assert report["num_images"] == 16 and 0.0 <= report["mean_iou"] <= 1.0
    assert (tmp_path / "eval_results.json").exists()
    model, step = load_trained_segmenter(str(tmp_path))
    assert step == 2
    inputs = {"image": np.full((1, 48, 48, 3), 255.0, np.float32), "tokens": np.zeros((1, 9, 3), np.int32)}
    np.testing.assert_allclose(model(inputs)["logits"], trainer.task.model(inputs)["logits"], atol=1e-6)
    with pytest.raises(DataError, match="no trained model"):
        load_trained_segmenter(str(tmp_path / "train"))
    events = EventAccumulator(str(tmp_path / "train"), size_guidance={"tensors": 0})
    events.Reload()
    tags = set(events.Tags()["tensors"])
    for tag in ("loss", "iou", "mean_stop_step", "temperature", "learning_rate", "images_per_second", "input",
                "target", "prediction", "stop_step", "prediction_step_4", "caption"):
        assert tag in tags, (tag, sorted(tags))
    learning_rates = [float(tf.make_ndarray(event.tensor_proto)) for event in events.Tensors("learning_rate")]
    np.testing.assert_allclose(learning_rates, [1e-3, 1e-3])
    caption = tf.make_ndarray(events.Tensors("caption")[-1].tensor_proto)[0].decode()
    assert caption.startswith("1. ") and " is " in caption
    evaluation = EventAccumulator(str(tmp_path / "eval"), size_guidance={"tensors": 0})
    evaluation.Reload()
    final = evaluation.Tensors("test/mean_iou")
    assert [e.step for e in final] == [2]
    assert float(tf.make_ndarray(final[0].tensor_proto)) == pytest.approx(report["mean_iou"])
    # The report is a function of the checkpoint; the wall-clock figures are in timing.json.
    assert "train_seconds" not in json.loads((tmp_path / "eval_results.json").read_text())
    timing = json.loads((tmp_path / "timing.json").read_text())
    assert timing["train_seconds"] > 0 and timing["images_per_second"] > 0


def _curve(model_dir):
    import json

    with open(model_dir / "curve.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.mark.slow  # a training run long enough to prove its point: `make test-all` and CI run it
def test_learning_curve_rows_and_their_resume(tmp_path):
    """Every `eval_every` steps a row lands in curve.jsonl; a resumed run drops the rows past its checkpoint
    and writes them again with the same metrics (same weights, same held-out images)."""
    data = CosalConfig(train_size=64, test_size=40)
    # One fusion step: the curve does not depend on the model, and it traces several times faster than four.
    settings = dict(model=SegmenterConfig(steps=1), data=data, eval_every=1, curve_eval_size=16, checkpoint_every=2)
    _trainer(tmp_path / "a", **settings).run()
    rows = _curve(tmp_path / "a")
    assert [row["step"] for row in rows] == [1, 2, 3, 4]
    assert [row["images_seen"] for row in rows] == [8, 16, 24, 32]
    seconds = [row["train_seconds"] for row in rows]
    assert all(0 < a < b for a, b in zip(seconds, seconds[1:])), seconds
    assert all(0.0 <= row["mean_iou"] <= 1.0 for row in rows)

    interrupted = _trainer(tmp_path / "b", train_steps=3, **settings)
    interrupted.run()  # checkpoints at 2 and (on exit) 3
    (tmp_path / "b" / "curve.jsonl").write_text(
        (tmp_path / "b" / "curve.jsonl").read_text() + '{"step": 9, "mean_iou": 0.5}\n')
    resumed = _trainer(tmp_path / "b", **settings)
    report = resumed.run()
    resumed_rows = _curve(tmp_path / "b")
    assert [row["step"] for row in resumed_rows] == [1, 2, 3, 4]
    np.testing.assert_allclose([r["mean_iou"] for r in resumed_rows], [r["mean_iou"] for r in rows], atol=1e-6)
    assert report["step"] == 4 and report["images_seen"] == 32
    timing = json.loads((tmp_path / "b" / "timing.json").read_text())
    assert timing["train_seconds"] >= resumed_rows[-1]["train_seconds"] > resumed_rows[2]["train_seconds"]


def test_training_seconds_budget_stops_early_and_persists(tmp_path):
    budget = _trainer(tmp_path, train_steps=50, train_seconds=1e-6)
    budget.run()
    assert int(budget.step.numpy()) == 1  # the first step already spends the budget
    spent = float(budget.train_seconds.numpy())
    assert spent > 0
    again = _trainer(tmp_path, train_steps=50, train_seconds=1e-6)
    again.run()  # budget restored from the checkpoint: nothing more to train
    assert int(again.step.numpy()) == 1 and float(again.train_seconds.numpy()) == pytest.approx(spent)


def test_cosine_learning_rate_decays_to_zero_at_the_last_step():
    from lbie_tf.training.schedules import learning_rate_schedule

    assert learning_rate_schedule(TrainingConfig(learning_rate=0.01)) == 0.01
    cosine = learning_rate_schedule(TrainingConfig(learning_rate=0.01, train_steps=100,
                                                   learning_rate_schedule="cosine"))
    np.testing.assert_allclose([float(cosine(s)) for s in (0, 50, 100)], [0.01, 0.005, 0.0], atol=1e-7)
