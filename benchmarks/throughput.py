"""Steady-state throughput on this machine: CoSaL generation and training of the paper T=4 preset (beside a
straightforward Keras port of the same model, `benchmarks/straightforward_port.py`, timed in the same run), and
training of the ReferIt paper preset (configs/referit_paper.cfg, 512×512).

    python -m benchmarks.throughput [--batch_sizes=32,64] [--steps=60] [--warmup=15]
    python -m benchmarks.throughput --presets=referit --referit_batch_sizes=2 --steps=3 --warmup=1

Prints one line per measurement, e.g.
    generate cosal batch=64: 5400.0 images/s
    train cosal_paper_t4 batch=64: 812.3 images/s
    train straightforward_port batch=64: 150.2 images/s (ours 5.41× the port)
    flops per training image: cosal_paper_t4 3.12 MFLOP, straightforward_port 3.95 MFLOP
    matmul peak (2048×2048 float32): 95.1 GFLOP/s
    achieved cosal_paper_t4 batch=64: 2.5 GFLOP/s (2.7 % of the matmul peak)
    train referit_paper (512x512) batch=2: 0.3 images/s
CoSaL training is timed through the real input pipeline (generation runs concurrently, as in training), ours
and the port's in alternating rounds of `--steps` steps, each model's best round reported (on a shared machine
both then meet the same load);
ReferIt training on random 512×512 images and expressions held in memory (the data cannot be downloaded
here), so it measures the model's step alone. The first `--warmup` steps (tracing and XLA compilation) are
excluded. FLOPs per training image are counted by TensorFlow's graph profiler on the graph of one training
step's loss and gradients (forward and backward; the profiler counts convolutions, matrix products and
element-wise ops, not the LSTMs' loop bodies); the matmul peak is a large `tf.matmul` timed on this machine.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

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


def trainer_steps(trainer):
    """`run(n)`: `n` training steps of `trainer`'s compiled step (each waits for its loss)."""
    step_fn = trainer.compiled_step()
    batches = iter(trainer.strategy.experimental_distribute_dataset(trainer.train_dataset(0)))

    def run(steps: int) -> None:
        for _ in range(steps):
            step_fn(next(batches))["loss"].numpy()

    return run


def best_rates(runners: dict, batch_size: int, steps: int, warmup: int, rounds: int) -> dict[str, float]:
    """Images/s of every runner (`name -> run(n)`): `warmup` untimed steps each, then `rounds` rounds that time
    `steps` steps of each runner in turn; each runner's best round. Interleaving puts every runner under the
    same load of a shared machine; the best round is the least disturbed."""
    for run in runners.values():
        run(warmup)
    best = dict.fromkeys(runners, 0.0)
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run(steps)
            best[name] = max(best[name], steps * batch_size / (time.perf_counter() - start))
    return best


def time_training(batch_size: int, steps: int, warmup: int, rounds: int, port: bool) -> dict[str, float]:
    """Training images/s of the paper T = 4 preset with our trainer and, with `port`, of the straightforward
    port, interleaved (`best_rates`)."""
    import tensorflow as tf

    from lbie_tf.configs import SegmenterConfig, TrainingConfig
    from lbie_tf.data.cosal import CosalConfig
    from lbie_tf.tasks.cosal_segmentation import make_trainer

    training = TrainingConfig(batch_size=batch_size, termination_training=FLAGS.termination_training,
                              jit_compile=FLAGS.jit_compile)
    with tempfile.TemporaryDirectory() as model_dir:
        trainer = make_trainer(SegmenterConfig(steps=4), training, CosalConfig(test_size=0), model_dir,
                               tf.distribute.get_strategy(), progress_stream=None, previews=0)
        runners = {"cosal_paper_t4": trainer_steps(trainer)}
        if port:
            runners["straightforward_port"] = port_steps(batch_size)
        return best_rates(runners, batch_size, steps, warmup, rounds)


def _port_batches(batch_size: int):
    from lbie_tf.data import cosal
    from lbie_tf.tasks.cosal_segmentation import segmentation_view

    def split(batch):
        view = segmentation_view(batch)
        return {"image": view["image"], "tokens": view["tokens"]}, view["labels"]

    return cosal.train_dataset(cosal.CosalConfig(), batch_size).map(split)


def port_steps(batch_size: int):
    """`run(n)`: `n` `model.train_on_batch` steps of the straightforward port (its compiled `model.fit` train
    step) on batches of the CoSaL input pipeline."""
    from benchmarks.straightforward_port import compiled_port

    model, batches = compiled_port(), iter(_port_batches(batch_size))

    def run(steps: int) -> None:
        for _ in range(steps):
            model.train_on_batch(*next(batches))

    return run


def graph_flops(function, *specs) -> int:
    """Floating-point operations the graph profiler counts in `function`'s graph for inputs of `specs`."""
    import tensorflow as tf

    graph = tf.function(function).get_concrete_function(*specs).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return tf.compat.v1.profiler.profile(graph, options=options).total_float_ops


def training_flops_per_image(batch_size: int = 8) -> dict[str, float]:
    """FLOPs of one training step (loss and gradients) per image, of our model and of the port."""
    import tensorflow as tf

    from benchmarks.straightforward_port import compiled_port
    from lbie_tf.configs import SegmenterConfig
    from lbie_tf.losses import segmentation as losses
    from lbie_tf.models.segmenter import build_segmenter

    ours, port = build_segmenter(SegmenterConfig(steps=4)), compiled_port()
    specs = (tf.TensorSpec((batch_size, 48, 48, 3)), tf.TensorSpec((batch_size, 9, 3), tf.int32),
             tf.TensorSpec((batch_size, 48, 48), tf.int32), tf.TensorSpec((batch_size, 4, 6, 6)))

    def ours_step(image, tokens, labels, noise):
        with tf.GradientTape() as tape:
            outputs = ours.train_outputs({"image": image, "tokens": tokens}, "gumbel", temperature=1.0,
                                         uniform_noise=noise)
            loss = tf.reduce_mean(losses.segmentation_loss(outputs, labels, "gumbel", 10.0)[0])
        return tape.gradient(loss, ours.trainable_variables)

    def port_step(image, tokens, labels, noise):
        del noise  # the port draws its own
        with tf.GradientTape() as tape:
            logits = port({"image": image, "tokens": tokens}, training=True)
            loss = port.compute_loss(y=labels, y_pred=logits, sample_weight=tf.where(labels > 0, 10.0, 1.0))
        return tape.gradient(loss, port.trainable_variables)

    return {"cosal_paper_t4": graph_flops(ours_step, *specs) / batch_size,
            "straightforward_port": graph_flops(port_step, *specs) / batch_size}


MATMUL_SIZE = 2048  # side of the matrices whose product measures the machine's peak


def matmul_peak(size: int = MATMUL_SIZE, repeats: int = 10) -> float:
    """GFLOP/s of a `size`×`size` float32 `tf.matmul` on this machine (best of `repeats`)."""
    import tensorflow as tf

    a = tf.random.normal((size, size))
    b = tf.random.normal((size, size))
    tf.matmul(a, b).numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        tf.matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2.0 * size ** 3 / best / 1e9


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
        return best_rates({"referit": trainer_steps(trainer)}, batch_size, steps, warmup, 1)["referit"]


def main(argv) -> None:
    del argv
    if "cosal" in FLAGS.presets:
        for batch_size in map(int, FLAGS.batch_sizes):
            rate = time_generation(batch_size, FLAGS.generate_batches)
            print(f"generate cosal batch={batch_size}: {rate:.1f} images/s", flush=True)
        rates = {}
        for batch_size in map(int, FLAGS.batch_sizes):
            measured = time_training(batch_size, FLAGS.steps, FLAGS.warmup, FLAGS.rounds, FLAGS.port)
            rates[batch_size] = measured["cosal_paper_t4"]
            print(f"train cosal_paper_t4 batch={batch_size}: {rates[batch_size]:.1f} images/s", flush=True)
            if FLAGS.port:
                port = measured["straightforward_port"]
                print(f"train straightforward_port batch={batch_size}: {port:.1f} images/s "
                      f"(ours {rates[batch_size] / port:.2f}× the port)", flush=True)
        if FLAGS.port:
            flops = training_flops_per_image()
            print("flops per training image: " + ", ".join(f"{name} {value / 1e6:.2f} MFLOP"
                                                           for name, value in flops.items()), flush=True)
            peak = matmul_peak(FLAGS.matmul_size)
            print(f"matmul peak ({FLAGS.matmul_size}×{FLAGS.matmul_size} float32): {peak:.1f} GFLOP/s", flush=True)
            for batch_size, rate in rates.items():
                achieved = rate * flops["cosal_paper_t4"] / 1e9
                print(f"achieved cosal_paper_t4 batch={batch_size}: {achieved:.2f} GFLOP/s "
                      f"({100 * achieved / peak:.1f} % of the matmul peak)", flush=True)
    if "referit" in FLAGS.presets:
        for batch_size in map(int, FLAGS.referit_batch_sizes):
            rate = time_referit_training(batch_size, FLAGS.steps, FLAGS.warmup)
            precision = " mixed_float16" if FLAGS.mixed_precision else ""
            print(f"train referit_paper (512x512){precision} batch={batch_size}: {rate:.2f} images/s", flush=True)


def define_flags() -> None:
    """The command line's flags (defined only when run as a script, so that importing the module defines none)."""
    flags.DEFINE_list("presets", ["cosal"], "What to time: cosal (generation + training), referit (training).")
    flags.DEFINE_list("batch_sizes", ["32", "64"], "Global batch sizes to time (CoSaL).")
    flags.DEFINE_list("referit_batch_sizes", ["2"], "Global batch sizes to time (ReferIt, 512x512).")
    flags.DEFINE_bool("mixed_precision", False, "Time ReferIt training in mixed float16 (GPUs).")
    flags.DEFINE_integer("steps", 60, "Timed training steps per batch size.")
    flags.DEFINE_integer("warmup", 15, "Untimed steps first (compilation).")
    flags.DEFINE_integer("rounds", 3, "Timed rounds of --steps steps per model (CoSaL; interleaved with the "
                         "port's, the best round counts).")
    flags.DEFINE_integer("generate_batches", 60, "Timed generation batches.")
    flags.DEFINE_string("termination_training", "gumbel", "Termination training mode to time.")
    flags.DEFINE_string("jit_compile", "auto", "auto | on | off")
    flags.DEFINE_bool("port", True,
                      "Also time the straightforward Keras port, count FLOPs and measure the matmul peak.")
    flags.DEFINE_integer("matmul_size", MATMUL_SIZE, "Matrix size of the matmul peak.")


if __name__ == "__main__":
    from lbie_tf.cli.app import run_app  # --help, and a user error as one line with exit status 2

    define_flags()
    run_app(main)
