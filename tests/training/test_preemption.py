"""SIGTERM / SIGINT stop a run after the step in progress, with a checkpoint whose label is the number of
applied updates, and the resumed run ends bit-identical to an uninterrupted one: in process, and through
`train_segmentation.py` as a scheduler would signal it."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.configs import SegmenterConfig, TrainingConfig
from lbie_tf.data.cosal import CosalConfig
from lbie_tf.tasks.cosal_segmentation import make_trainer
from lbie_tf.training.preemption import StopSignals, TrainingStopped

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = SegmenterConfig(steps=2, attention_units=8, fusion_units=8, sentence_units=8, paragraph_units=8)
DATA = CosalConfig(train_size=64, test_size=0)


def _trainer(model_dir, **training):
    settings = dict(batch_size=8, train_steps=6, checkpoint_every=100, summary_every=1, jit_compile="off")
    settings.update(training)
    return make_trainer(MODEL, TrainingConfig(**settings), DATA, str(model_dir), tf.distribute.get_strategy(),
                        progress_stream=None, previews=0, log=lambda line: None)


def _checkpoint_values(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def test_stop_signals_set_a_flag_and_restore_the_handlers():
    before = signal.getsignal(signal.SIGTERM)
    messages = []
    with StopSignals(messages.append) as signals:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)  # let the handler run
        assert signals.received == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before
    assert len(messages) == 1 and "SIGTERM" in messages[0]


@pytest.mark.parametrize("signal_number, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_run_checkpoints_the_finished_steps_and_the_resume_is_exact(tmp_path, signal_number, status):
    uninterrupted = _trainer(tmp_path / "a")
    uninterrupted.run()

    stopped = _trainer(tmp_path / "b")
    log_scalars = stopped.task.log_scalars

    def signal_after_step_3(step, reduced):
        if step == 3:
            os.kill(os.getpid(), signal_number)
        return log_scalars(step, reduced)

    stopped.task.log_scalars = signal_after_step_3
    with pytest.raises(TrainingStopped, match="after step 3") as stop:
        stopped.run()
    assert stop.value.exit_status == status and "\n" not in str(stop.value)
    prefix = tf.train.latest_checkpoint(str(tmp_path / "b"))
    assert prefix.endswith("ckpt-3/ckpt")
    values = _checkpoint_values(prefix)
    assert values["step/.ATTRIBUTES/VARIABLE_VALUE"] == 3  # the label is the number of applied updates
    assert values["optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE"] == 3

    resumed = _trainer(tmp_path / "b")
    resumed.run()
    for a, b in zip(uninterrupted.task.model.variables, resumed.task.model.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.slow  # three training processes: `make test-all` and CI run it
def test_sigterm_to_the_training_script_loses_no_step(tmp_path):
    flags = ["--steps=2", "--attention_units=8", "--fusion_units=8", "--sentence_units=8", "--paragraph_units=8",
             "--batch_size=8", "--train_steps=60", "--checkpoint_every=5", "--jit_compile=off",
             "--cosal_train_size=64", "--cosal_test_size=0"]
    script = [sys.executable, os.path.join(ROOT, "train_segmentation.py"), *flags]
    subprocess.run([*script, f"--model_dir={tmp_path / 'a'}"], cwd=ROOT, check=True, capture_output=True,
                   timeout=300)

    process = subprocess.Popen([*script, f"--model_dir={tmp_path / 'b'}"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (tmp_path / "b" / "ckpt-5").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    stopped_line = [line for line in stderr.splitlines() if line.startswith("stopped by SIGTERM")]
    assert len(stopped_line) == 1 and "Traceback" not in stderr, stderr
    step = int(stopped_line[0].split("after step ")[1].split(":")[0])
    assert 5 <= step < 60
    prefix = tf.train.latest_checkpoint(str(tmp_path / "b"))
    assert prefix.endswith(f"ckpt-{step}/ckpt")  # nothing lost: the checkpoint holds every finished step
    assert _checkpoint_values(prefix)["step/.ATTRIBUTES/VARIABLE_VALUE"] == step

    resumed = subprocess.run([*script, f"--model_dir={tmp_path / 'b'}"], cwd=ROOT, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    final_a = _checkpoint_values(tf.train.latest_checkpoint(str(tmp_path / "a")))
    final_b = _checkpoint_values(tf.train.latest_checkpoint(str(tmp_path / "b")))
    assert final_a.keys() == final_b.keys()
    for name in final_a:
        if "train_seconds" not in name:
            np.testing.assert_array_equal(final_a[name], final_b[name], err_msg=name)
