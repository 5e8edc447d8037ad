"""Time of one colorization training step (D step + G step) of a preset, e.g. the Flowers paper preset at
256×256, batch 1, on this machine's CPU or GPU.

    python -m benchmarks.colorization_step [--preset=configs/flowers_paper.cfg] [--image_size=256]
        [--batch_size=1] [--steps=20] [--warmup=3] [--vocab_size=5000] [--words=30]

Prints the median and mean milliseconds per step over `--steps` timed steps, after `--warmup` untimed ones
(tracing), on synthetic inputs of the preset's shapes (the data pipeline is not timed).
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from absl import flags  # noqa: E402

from benchmarks.synthetic_inputs import FLOWERS_VOCAB_SIZE  # noqa: E402
from lbie_tf.cli import flags as lbie_flags  # noqa: E402

lbie_flags.define_colorization_flags()
lbie_flags.define_dataset_flag()
lbie_flags.define_training_flags()
FLAGS = flags.FLAGS


def main(argv) -> None:
    del argv
    import dataclasses

    import tensorflow as tf

    from benchmarks.synthetic_inputs import colorization_batch
    from lbie_tf.tasks.colorization import ColorizationTask
    from lbie_tf.training.strategy import select_strategy
    from lbie_tf.training.trainer import Trainer

    # The preset's model flags; the timing flags given here stay.
    keep = {name: getattr(FLAGS, name) for name in ("image_size", "words", "vocab_size", "steps", "warmup")}
    keep["batch_size"] = FLAGS.batch_size if FLAGS["batch_size"].present else None
    FLAGS(["colorization_step", f"--flagfile={FLAGS.preset}"], known_only=True)
    generator, discriminator, gan = lbie_flags.colorization_configs_from_flags()
    if generator.vocab_size == 0:
        generator = dataclasses.replace(generator, vocab_size=keep["vocab_size"])
    training = lbie_flags.training_config_from_flags()
    if keep["batch_size"]:
        training = dataclasses.replace(training, batch_size=keep["batch_size"])
    batch, size, words = training.batch_size, keep["image_size"], keep["words"]
    example = {name: tf.constant(value)
               for name, value in colorization_batch(generator.vocab_size, batch, size, words).items()}
    strategy = select_strategy(training.strategy)
    task = ColorizationTask(generator, discriminator, gan, training)
    trainer = Trainer(task, training, strategy, model_dir=os.path.join("/tmp", "colorization_step_unused"),
                      train_dataset=lambda start: None, progress_stream=None, log=lambda line: None)
    step_fn = trainer.compiled_step()
    for _ in range(keep["warmup"]):
        step_fn(example)["loss"].numpy()
    times = []
    for _ in range(keep["steps"]):
        start = time.perf_counter()
        step_fn(example)["loss"].numpy()
        times.append(1000.0 * (time.perf_counter() - start))
    gpus = tf.config.list_logical_devices("GPU")
    device = gpus[0].name if gpus else f"CPU ({os.cpu_count()} cores)"
    print(f"{os.path.basename(FLAGS.preset)} {size}x{size} batch={batch}: "
          f"median {statistics.median(times):.0f} ms/step, "
          f"mean {statistics.mean(times):.0f} ms/step over {len(times)} steps (D + G step) on {device}")


def define_flags() -> None:
    """The command line's flags (defined only when run as a script, so that importing the module defines none)."""
    flags.DEFINE_string("preset", os.path.join(ROOT, "configs", "flowers_paper.cfg"), "Preset flagfile to time.")
    flags.DEFINE_integer("image_size", 256, "Image height = width.")
    flags.DEFINE_integer("words", 30, "Caption length in words.")
    flags.DEFINE_integer("vocab_size", FLOWERS_VOCAB_SIZE,
                         "Vocabulary size when the preset takes it from the data (0).")
    flags.DEFINE_integer("steps", 20, "Timed steps.")
    flags.DEFINE_integer("warmup", 3, "Untimed steps first (tracing).")


if __name__ == "__main__":
    from lbie_tf.cli.app import run_app  # --help, and a user error as one line with exit status 2

    define_flags()
    run_app(main)
