"""Several machines, as real processes on 127.0.0.1: two `train_segmentation.py` workers under `TF_CONFIG`
train the same steps as one process with two replicas (losses to 1e-5), only the chief writes into
`--model_dir`, and its checkpoint resumes in one process and continues identically. `TF_CONFIG` mistakes are
one-line errors."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.configs import SegmenterConfig, TrainingConfig
from lbie_tf.data.cosal import CosalConfig
from lbie_tf.errors import ConfigError
from lbie_tf.tasks.cosal_segmentation import make_trainer
from lbie_tf.training.strategy import read_tf_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# A small model and stream; every TrainingConfig / CosalConfig field below is also passed as a flag.
MODEL = SegmenterConfig(steps=2, attention_units=8, fusion_units=8, sentence_units=8, paragraph_units=8)
TRAINING = dict(batch_size=8, summary_every=1, checkpoint_every=3, jit_compile="off", termination_training="gumbel")
DATA = CosalConfig(train_size=64, test_size=0)
FLAGS = ["--steps=2", "--attention_units=8", "--fusion_units=8", "--sentence_units=8", "--paragraph_units=8",
         "--batch_size=8", "--summary_every=1", "--checkpoint_every=3", "--jit_compile=off",
         "--cosal_train_size=64", "--cosal_test_size=0"]
WORKER_TIMEOUT_S = 240


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _losses(logdir):
    """The `loss` scalar of every step in a TensorBoard run folder: {step: value}."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    events.Reload()
    return {e.step: float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors("loss")}


def _in_process(model_dir, strategy, train_steps):
    trainer = make_trainer(MODEL, TrainingConfig(train_steps=train_steps, **TRAINING), DATA, str(model_dir),
                           strategy, progress_stream=None, previews=0, log=lambda line: None)
    trainer.run()
    return trainer


@pytest.mark.slow  # two TensorFlow processes forming a cluster: `make test-all` and CI run it
def test_two_workers_train_like_two_replicas_and_the_chief_resumes_in_one_process(tmp_path, mirrored_strategy):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    model_dir = tmp_path / "cluster"
    workers = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
               "CUDA_VISIBLE_DEVICES": ""}
        workers.append(subprocess.Popen(
            [sys.executable, os.path.join(ROOT, "train_segmentation.py"), f"--model_dir={model_dir}",
             "--train_steps=6", "--strategy=multi_worker", "--cluster_timeout=120", *FLAGS],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [worker.communicate(timeout=WORKER_TIMEOUT_S)[0] for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert "with 2 replica(s)" in outputs[0], outputs[0][-2000:]

    reference = _in_process(tmp_path / "mirrored", mirrored_strategy, train_steps=10)
    cluster_losses, mirrored_losses = _losses(model_dir / "train"), _losses(tmp_path / "mirrored" / "train")
    assert sorted(cluster_losses) == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose([cluster_losses[s] for s in range(1, 7)], [mirrored_losses[s] for s in range(1, 7)],
                               atol=1e-5)
    # Only the chief wrote the run folder: one lock-free set of checkpoints, one event file per run.
    assert tf.train.latest_checkpoint(str(model_dir)).endswith("ckpt-6/ckpt")
    assert len(os.listdir(model_dir / "train")) == 1

    resumed = _in_process(model_dir, mirrored_strategy, train_steps=10)
    assert int(resumed.step.numpy()) == 10
    resumed_losses = _losses(model_dir / "train")
    np.testing.assert_allclose([resumed_losses[s] for s in range(7, 11)], [mirrored_losses[s] for s in range(7, 11)],
                               atol=1e-5)
    for a, b in zip(resumed.task.model.trainable_variables, reference.task.model.trainable_variables):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


@pytest.mark.parametrize("tf_config, message", [
    ("{not json", "TF_CONFIG is not valid JSON"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}}', 'needs "cluster" and "task"'),
    ('{"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:1"]}, "task": {"type": "worker", "index": 0}}',
     "more than once"),
    ('{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}', "is not one of"),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}', "is not host:port"),
    ('{"cluster": {"ps": ["127.0.0.1:1"], "worker": ["127.0.0.1:2"]}, "task": {"type": "worker", "index": 0}}',
     "chief and worker tasks only"),
])
def test_malformed_tf_config_is_one_line(tf_config, message):
    with pytest.raises(ConfigError, match=message) as error:
        read_tf_config({"TF_CONFIG": tf_config})
    assert "\n" not in str(error.value)


def test_tf_config_names_the_chief():
    workers = '{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": %d}}'
    assert read_tf_config({"TF_CONFIG": workers % 0}).is_chief
    assert not read_tf_config({"TF_CONFIG": workers % 1}).is_chief
    with_chief = '{"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}'
    task = read_tf_config({"TF_CONFIG": with_chief})
    assert not task.is_chief and task.num_workers == 2 and task.chief_address == "c:0"
    assert read_tf_config({}) is None


@pytest.mark.slow  # a TensorFlow process waiting for its cluster: `make test-all` and CI run it
def test_a_worker_that_cannot_reach_the_others_stops_within_the_timeout(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}})}
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "train_segmentation.py"), f"--model_dir={tmp_path}", "--train_steps=2",
         "--cluster_timeout=5", *FLAGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "did not form within --cluster_timeout=5 s" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
