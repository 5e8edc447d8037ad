"""Steady-state throughput on this machine: CoSaL generation and training of the paper T=4 preset, and
training of the ReferIt paper preset (configs/referit_paper.cfg, 512×512).

    python -m benchmarks.throughput [--batch_sizes=32,64] [--steps=60] [--warmup=15]
    python -m benchmarks.throughput --presets=referit --referit_batch_sizes=2 --steps=3 --warmup=1

Prints one line per measurement, e.g.
    generate cosal batch=64: 5400.0 images/s
    train cosal_paper_t4 batch=64: 812.3 images/s
    train referit_paper (512x512) batch=2: 0.3 images/s
CoSaL training is timed through the real input pipeline (generation runs concurrently, as in training);
ReferIt training on random 512×512 images and expressions held in memory (the data cannot be downloaded
here), so it measures the model's step alone. The first `--warmup` steps (tracing and XLA compilation) are
excluded.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

flags.DEFINE_list("presets", ["cosal"], "What to time: cosal (generation + training), referit (training).")
flags.DEFINE_list("batch_sizes", ["32", "64"], "Global batch sizes to time (CoSaL).")
flags.DEFINE_list("referit_batch_sizes", ["2"], "Global batch sizes to time (ReferIt, 512x512).")
flags.DEFINE_bool("mixed_precision", False, "Time ReferIt training in mixed float16 (GPUs).")
flags.DEFINE_integer("steps", 60, "Timed training steps per batch size.")
flags.DEFINE_integer("warmup", 15, "Untimed steps first (compilation).")
flags.DEFINE_integer("generate_batches", 60, "Timed generation batches.")
flags.DEFINE_string("termination_training", "gumbel", "Termination training mode to time.")
flags.DEFINE_string("jit_compile", "auto", "auto | on | off")
FLAGS = flags.FLAGS
REFERIT_PRESET = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs",
                              "referit_paper.cfg")


def time_generation(batch_size: int, batches: int) -> float:
    from lbie_tf.data import cosal

    iterator = iter(cosal.train_dataset(cosal.CosalConfig(), batch_size))
    for _ in range(5):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def _images_per_second(trainer, batch_size: int, steps: int, warmup: int) -> float:
    """Training images per second of `trainer`'s compiled step over `steps` steps after `warmup` untimed ones."""
    step_fn = trainer.compiled_step()
    batches = iter(trainer.strategy.experimental_distribute_dataset(trainer.train_dataset(0)))
    for _ in range(warmup):
        step_fn(next(batches))["loss"].numpy()
    start = time.perf_counter()
    for _ in range(steps):
        step_fn(next(batches))["loss"].numpy()
    return steps * batch_size / (time.perf_counter() - start)


def time_training(batch_size: int, steps: int, warmup: int) -> float:
    import tensorflow as tf

    from lbie_tf.configs import SegmenterConfig, TrainingConfig
    from lbie_tf.data.cosal import CosalConfig
    from lbie_tf.tasks.cosal_segmentation import make_trainer

    training = TrainingConfig(batch_size=batch_size, termination_training=FLAGS.termination_training,
                              jit_compile=FLAGS.jit_compile)
    with tempfile.TemporaryDirectory() as model_dir:
        trainer = make_trainer(SegmenterConfig(steps=4), training, CosalConfig(test_size=0), model_dir,
                               tf.distribute.get_strategy(), progress_stream=None, previews=0)
        return _images_per_second(trainer, batch_size, steps, warmup)


def time_referit_training(batch_size: int, steps: int, warmup: int) -> float:
    import tensorflow as tf

    from benchmarks.synthetic_inputs import referit_batch
    from lbie_tf.cli.flags import config_from_flagfile
    from lbie_tf.configs import SegmenterConfig, TrainingConfig
    from lbie_tf.tasks.referit_segmentation import ReferitSegmentationTask
    from lbie_tf.training.trainer import Trainer

    model_config = config_from_flagfile(SegmenterConfig, REFERIT_PRESET)
    training = dataclasses.replace(config_from_flagfile(TrainingConfig, REFERIT_PRESET), batch_size=batch_size,
                                   jit_compile=FLAGS.jit_compile, mixed_precision=FLAGS.mixed_precision)
    batch = referit_batch(model_config, batch_size)
    if FLAGS.mixed_precision:
        import keras

        keras.mixed_precision.set_global_policy("mixed_float16")
    with tempfile.TemporaryDirectory() as model_dir:
        trainer = Trainer(ReferitSegmentationTask(model_config, training), training, tf.distribute.get_strategy(),
                          model_dir, train_dataset=lambda start: tf.data.Dataset.from_tensors(batch).repeat(),
                          progress_stream=None)
        return _images_per_second(trainer, batch_size, steps, warmup)


def main(argv) -> None:
    del argv
    if "cosal" in FLAGS.presets:
        for batch_size in map(int, FLAGS.batch_sizes):
            rate = time_generation(batch_size, FLAGS.generate_batches)
            print(f"generate cosal batch={batch_size}: {rate:.1f} images/s", flush=True)
        for batch_size in map(int, FLAGS.batch_sizes):
            rate = time_training(batch_size, FLAGS.steps, FLAGS.warmup)
            print(f"train cosal_paper_t4 batch={batch_size}: {rate:.1f} images/s", flush=True)
    if "referit" in FLAGS.presets:
        for batch_size in map(int, FLAGS.referit_batch_sizes):
            rate = time_referit_training(batch_size, FLAGS.steps, FLAGS.warmup)
            precision = " mixed_float16" if FLAGS.mixed_precision else ""
            print(f"train referit_paper (512x512){precision} batch={batch_size}: {rate:.2f} images/s", flush=True)


if __name__ == "__main__":
    app.run(main)
