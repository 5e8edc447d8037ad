"""Steady-state throughput on this machine: CoSaL generation and training of the paper T=4 preset.

    python benchmarks/throughput.py [--batch_sizes=32,64] [--steps=60] [--warmup=15]

Prints one line per measurement, e.g.
    generate cosal batch=64: 5400.0 images/s
    train cosal_paper_t4 batch=64: 812.3 images/s
Training is timed through the real input pipeline (generation runs concurrently, as in training) after the
first `--warmup` steps (tracing and XLA compilation) are excluded.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app, flags  # noqa: E402

flags.DEFINE_list("batch_sizes", ["32", "64"], "Global batch sizes to time.")
flags.DEFINE_integer("steps", 60, "Timed training steps per batch size.")
flags.DEFINE_integer("warmup", 15, "Untimed steps first (compilation).")
flags.DEFINE_integer("generate_batches", 60, "Timed generation batches.")
flags.DEFINE_string("termination_training", "gumbel", "Termination training mode to time.")
flags.DEFINE_string("jit_compile", "auto", "auto | on | off")
FLAGS = flags.FLAGS


def time_generation(batch_size: int, batches: int) -> float:
    from lbie_tf.data import cosal

    iterator = iter(cosal.train_dataset(cosal.CosalConfig(), batch_size))
    for _ in range(5):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def time_training(batch_size: int, steps: int, warmup: int) -> float:
    import tensorflow as tf

    from lbie_tf.config import SegmenterConfig, TrainingConfig
    from lbie_tf.data.cosal import CosalConfig
    from lbie_tf.training.cosal_segmentation import make_trainer

    training = TrainingConfig(batch_size=batch_size, termination_training=FLAGS.termination_training,
                              jit_compile=FLAGS.jit_compile)
    with tempfile.TemporaryDirectory() as model_dir:
        trainer = make_trainer(SegmenterConfig(steps=4), training, CosalConfig(test_size=0), model_dir,
                               tf.distribute.get_strategy(), progress_stream=None, previews=0)
        step_fn = trainer.compiled_step()
        batches = iter(trainer.strategy.experimental_distribute_dataset(trainer.train_dataset(0)))
        for _ in range(warmup):
            step_fn(next(batches))["loss"].numpy()
        start = time.perf_counter()
        for _ in range(steps):
            step_fn(next(batches))["loss"].numpy()
        return steps * batch_size / (time.perf_counter() - start)


def main(argv) -> None:
    del argv
    for batch_size in map(int, FLAGS.batch_sizes):
        rate = time_generation(batch_size, FLAGS.generate_batches)
        print(f"generate cosal batch={batch_size}: {rate:.1f} images/s", flush=True)
    for batch_size in map(int, FLAGS.batch_sizes):
        rate = time_training(batch_size, FLAGS.steps, FLAGS.warmup)
        print(f"train cosal_paper_t4 batch={batch_size}: {rate:.1f} images/s", flush=True)


if __name__ == "__main__":
    app.run(main)
