"""SegmentationTask's gate warm-up: frozen termination gates and the mean of the per-step losses, then the
termination mode's loss."""

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.configs import SegmenterConfig, TrainingConfig
from lbie_tf.data.cosal import CosalConfig
from lbie_tf.losses import segmentation as losses
from lbie_tf.tasks.cosal_segmentation import make_trainer


@pytest.mark.parametrize("jit_compile", ["off", "on"])  # on: the warm-up and the termination loss, two XLA clusters
def test_gate_warmup_freezes_the_gates_and_averages_the_step_losses(tmp_path, jit_compile):
    training = TrainingConfig(batch_size=8, train_steps=3, gate_warmup_steps=2, jit_compile=jit_compile,
                              foreground_weight=10.0)
    trainer = make_trainer(SegmenterConfig(steps=3), training, CosalConfig(train_size=64, test_size=0),
                           str(tmp_path), tf.distribute.get_strategy(), progress_stream=None, previews=0,
                           log=lambda line: None)
    model = trainer.task.model
    first_batch = next(iter(trainer.train_dataset(0)))
    outputs = model.train_outputs({"image": first_batch["image"], "tokens": first_batch["tokens"]}, "marginal")
    per_step = losses.step_cross_entropies(outputs["step_logits"], tf.cast(first_batch["labels"], tf.int32), 10.0)
    expected_first_loss = float(tf.reduce_mean(per_step))

    def snapshot(variables):
        return [np.array(v.numpy()) for v in variables]

    gates, cell = model.gate_variables, model.fusion.cell.gates.trainable_variables
    assert len(gates) == 2  # kernel and bias
    gates_before, cell_before = snapshot(gates), snapshot(cell)
    step_fn = trainer.compiled_step()
    batches = iter(trainer.strategy.experimental_distribute_dataset(trainer.train_dataset(0)))
    first_loss = float(step_fn(next(batches))["loss"])
    np.testing.assert_allclose(first_loss, expected_first_loss, rtol=1e-5)
    step_fn(next(batches))
    for before, after in zip(gates_before, snapshot(gates)):
        np.testing.assert_array_equal(after, before)  # two warm-up steps: the gates are exactly as initialised
    assert all(np.abs(a - b).max() > 0 for a, b in zip(cell_before, snapshot(cell)))  # the rest learns
    step_fn(next(batches))  # step 3: past the warm-up, the Gumbel-softmax loss trains the gates
    assert all(np.abs(a - b).max() > 0 for a, b in zip(gates_before, snapshot(gates)))
