"""Tests of the atomic checkpoint manager and the stored model config."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.errors import IncompatibleCheckpointError, LbieError
from lbie_tf.training import checkpoints as checkpoints_lib
from lbie_tf.training.checkpoints import (
    AtomicCheckpointManager,
    check_run_config,
    write_run_config,
)

X = np.linspace(-1, 1, 24, dtype=np.float32).reshape(6, 4)


def make_checkpoint(units=8, seed=0):
    """A built two-layer model, a built Adam optimizer and a step counter in a `tf.train.Checkpoint`."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(2)])
    optimizer = keras.optimizers.Adam(1e-2)
    optimizer.build(model.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64)
    return tf.train.Checkpoint(step=step, model=model, optimizer=optimizer), model, optimizer


def train_step(model, optimizer):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(X) - 1.0))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))


def entries(directory):
    return sorted(os.listdir(directory))


def test_round_trip_restores_weights_optimizer_and_step(tmp_path):
    ckpt, model, opt = make_checkpoint(seed=1)
    for _ in range(3):
        train_step(model, opt)
    ckpt.step.assign(3)
    manager = AtomicCheckpointManager(ckpt, tmp_path)
    path = manager.save(3)
    assert path == os.path.join(str(tmp_path), "ckpt-3", "ckpt")
    assert entries(tmp_path) == ["ckpt-3", "latest"]

    fresh, fresh_model, fresh_opt = make_checkpoint(seed=2)
    assert not np.allclose(fresh_model(X), model(X))
    assert AtomicCheckpointManager(fresh, tmp_path).restore_latest() == 3
    assert int(fresh.step) == 3
    np.testing.assert_array_equal(fresh_model(X), model(X))
    assert int(fresh_opt.iterations) == 3
    for a, b in zip(fresh_opt.variables, opt.variables):
        np.testing.assert_array_equal(a, b)
    train_step(model, opt)  # the next update is the same as if training had not stopped
    train_step(fresh_model, fresh_opt)
    np.testing.assert_allclose(fresh_model(X), model(X), rtol=1e-6)


def test_empty_directory_restores_nothing(tmp_path):
    ckpt, model, _ = make_checkpoint()
    before = model(X)
    manager = AtomicCheckpointManager(ckpt, tmp_path / "missing")
    assert manager.latest_step() is None
    assert manager.restore_latest() is None
    np.testing.assert_array_equal(model(X), before)


def test_max_to_keep_deletes_the_oldest(tmp_path):
    manager = AtomicCheckpointManager(make_checkpoint()[0], tmp_path, max_to_keep=2)
    for step in (10, 20, 30):
        manager.save(step)
    assert manager.steps() == [20, 30]
    assert manager.latest_step() == 30
    assert (tmp_path / "latest").read_text().strip() == "ckpt-30"
    assert entries(tmp_path) == ["ckpt-20", "ckpt-30", "latest"]


def test_saving_the_same_step_again_replaces_it(tmp_path):
    ckpt, model, opt = make_checkpoint()
    manager = AtomicCheckpointManager(ckpt, tmp_path)
    manager.save(5)
    train_step(model, opt)
    manager.save(5)
    assert entries(tmp_path) == ["ckpt-5", "latest"]
    fresh, fresh_model, _ = make_checkpoint(seed=3)
    AtomicCheckpointManager(fresh, tmp_path).restore_latest()
    np.testing.assert_array_equal(fresh_model(X), model(X))


@pytest.mark.parametrize("failing", ["rename", "write"])
def test_crash_during_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch, failing):
    ckpt, model, opt = make_checkpoint()
    manager = AtomicCheckpointManager(ckpt, tmp_path)
    manager.save(1)
    saved = model(X)
    train_step(model, opt)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    if failing == "rename":
        monkeypatch.setattr(checkpoints_lib.os, "rename", crash)
    else:
        real_write = ckpt.write

        def half_write(prefix, **kwargs):  # leaves a partial checkpoint in the temporary directory
            real_write(prefix, **kwargs)
            os.remove(prefix + ".index")
            crash()

        monkeypatch.setattr(ckpt, "write", half_write)
    with pytest.raises(OSError, match="disk full"):
        manager.save(2)
    monkeypatch.undo()

    assert (tmp_path / "latest").read_text().strip() == "ckpt-1"
    assert any(".tmp-" in name for name in entries(tmp_path))
    fresh, fresh_model, _ = make_checkpoint(seed=4)
    assert AtomicCheckpointManager(fresh, tmp_path).restore_latest() == 1
    np.testing.assert_array_equal(fresh_model(X), saved)


def test_half_written_tmp_directory_is_ignored_and_cleaned(tmp_path):
    manager = AtomicCheckpointManager(make_checkpoint()[0], tmp_path)
    manager.save(1)
    stale = tmp_path / "ckpt-2.tmp-deadbeef"
    stale.mkdir()
    (stale / "ckpt.data-00000-of-00001").write_bytes(b"\0" * 10)
    (tmp_path / "latest.tmp-cafe").write_text("ckpt-2\n")
    assert manager.latest_step() == 1
    assert manager.steps() == [1]
    manager.save(3)
    assert entries(tmp_path) == ["ckpt-1", "ckpt-3", "latest"]


def test_pointer_to_a_missing_checkpoint_falls_back_to_the_newest_complete(tmp_path):
    manager = AtomicCheckpointManager(make_checkpoint()[0], tmp_path)
    manager.save(1)
    manager.save(2)
    (tmp_path / "latest").write_text("ckpt-7\n")
    assert manager.latest_step() == 2


def test_different_layer_width_is_an_incompatible_checkpoint(tmp_path):
    AtomicCheckpointManager(make_checkpoint(units=8)[0], tmp_path).save(4)
    manager = AtomicCheckpointManager(make_checkpoint(units=16)[0], tmp_path)
    with pytest.raises(IncompatibleCheckpointError) as info:
        manager.restore_latest()
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path) in message and "step 4" in message and "fresh --model_dir" in message


def test_different_structure_is_an_incompatible_checkpoint(tmp_path):
    AtomicCheckpointManager(make_checkpoint()[0], tmp_path).save(4)
    _, model, _ = make_checkpoint()
    extra = tf.Variable(np.zeros(3, np.float32))
    manager = AtomicCheckpointManager(tf.train.Checkpoint(model=model, extra=extra), tmp_path)
    with pytest.raises(IncompatibleCheckpointError, match="fresh --model_dir"):
        manager.restore_latest()


def test_run_config_round_trip_and_mismatch_message(tmp_path):
    config = {"image_size": 48, "fusion": {"units": 32, "kernel_size": 3}, "steps": (1, 2)}
    check_run_config(tmp_path, config)  # nothing stored yet: accepted
    path = write_run_config(tmp_path, config)
    assert os.path.basename(path) == "model_config.json"
    check_run_config(tmp_path, {"image_size": 48, "fusion": {"units": 32, "kernel_size": 3}, "steps": [1, 2]})

    changed = {"image_size": 48, "fusion": {"units": 16, "kernel_size": 3}, "steps": (1, 2)}
    with pytest.raises(IncompatibleCheckpointError) as info:
        check_run_config(tmp_path, changed)
    assert str(info.value) == (
        f"model_dir {tmp_path} holds a checkpoint of a different model (fusion.units: 16 here, 32 in the "
        "checkpoint); use a fresh --model_dir or the flags it was trained with")
    assert isinstance(info.value, LbieError)


def test_run_config_mismatch_names_the_first_keys_sorted(tmp_path):
    write_run_config(tmp_path, {"a": 1, "b": 2, "c": 3, "d": "x"})
    with pytest.raises(IncompatibleCheckpointError) as info:
        check_run_config(tmp_path, {"a": 0, "b": 0, "d": "y", "e": True})
    assert ("(a: 0 here, 1 in the checkpoint, b: 0 here, 2 in the checkpoint, c: absent here, 3 in the "
            "checkpoint and 2 more)") in str(info.value)


def test_run_written_before_an_option_existed_resumes_at_its_default(tmp_path):
    write_run_config(tmp_path, {"model": {"units": 8}})  # a run of a version without `bias`
    defaults = {"model": {"units": 16, "bias": 0.0}}
    check_run_config(tmp_path, {"model": {"units": 8, "bias": 0.0}}, defaults)  # the option at its default
    with pytest.raises(IncompatibleCheckpointError, match=r"model.bias: -2.0 here, 0.0 in the checkpoint"):
        check_run_config(tmp_path, {"model": {"units": 8, "bias": -2.0}}, defaults)
    with pytest.raises(IncompatibleCheckpointError, match="model.units: 16 here, 8 in the checkpoint"):
        check_run_config(tmp_path, {"model": {"units": 16, "bias": 0.0}}, defaults)  # stored values still win


def test_segmenter_run_config_from_before_termination_bias_init_resumes(tmp_path):
    from lbie_tf.configs import SegmenterConfig, field_defaults

    config = SegmenterConfig().to_dict()
    old = {key: value for key, value in config.items() if key != "termination_bias_init"}
    write_run_config(tmp_path, {"model": old})
    check_run_config(tmp_path, {"model": config}, {"model": field_defaults(SegmenterConfig)})
