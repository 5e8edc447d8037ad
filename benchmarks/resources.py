"""Peak memory and step time per image of the ReferIt and Flowers paper presets on this CPU, FLOPs per training
image from the train step's graph, and the GPU memory and epoch time they imply.

    python -m benchmarks.resources [--batch_sizes=1,2,4,8] [--steps=1] [--warmup=1]
        [--gpu_tflops=19.5 --gpu_utilisation=0.4] [--output=docs/results/resources]
    python -m benchmarks.resources --render_only       # resources.md again from resources.json

Each (preset, batch size) is timed in a process of its own (`--part=time:<preset>:<batch>`), so that its
`ru_maxrss` is its own; the graphs are traced, not run, in one more process per preset
(`--part=graph:<preset>`). A part's result is kept in `--work_dir/<part>.json`, so an interrupted benchmark
run again with the same `--work_dir` continues. Presets: `configs/referit_paper.cfg` (512², VGG-16, T = 3)
and `configs/flowers_paper.cfg` (256², the GAN's D and G steps), random weights, synthetic inputs
(`benchmarks.synthetic_inputs`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from benchmarks import report_files, resources_report  # noqa: E402

FLAGS = flags.FLAGS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULT_MARK = "RESULT "
# Training examples per epoch (the data sets are not on this machine): docs/referit.md, docs/flowers.md.
EPOCHS = {
    "referit_paper": (59_976, "trainval expressions, docs/referit.md"),
    "flowers_paper": (7_034, "photos of the 82 train + validation classes, one caption each"),
}
CALL_OPS = ("PartitionedCall", "StatefulPartitionedCall", "While", "StatelessWhile", "If", "StatelessIf")


def preset_path(name: str) -> str:
    return os.path.join(ROOT, "configs", f"{name}.cfg")


def build(name: str, batch_size: int, jit_compile: str | None = None):
    """A trainer of preset `name` at `batch_size` (random weights) and a synthetic batch of its shapes.

    Args:
        jit_compile: overrides the preset's setting ("off" for a graph with every op in it).

    Returns:
        `(trainer, batch)`, the batch a dict of tensors.
    """
    import tensorflow as tf

    from benchmarks.synthetic_inputs import FLOWERS_VOCAB_SIZE, colorization_batch, referit_batch
    from lbie_tf.cli.flags import config_from_flagfile
    from lbie_tf.configs import (
        ColorizerConfig,
        DiscriminatorConfig,
        FlowersConfig,
        GanConfig,
        SegmenterConfig,
        TrainingConfig,
    )
    from lbie_tf.training.trainer import Trainer

    path = preset_path(name)
    training = dataclasses.replace(config_from_flagfile(TrainingConfig, path), batch_size=batch_size)
    if jit_compile:
        training = dataclasses.replace(training, jit_compile=jit_compile)
    if name.startswith("referit"):
        from lbie_tf.tasks.referit_segmentation import ReferitSegmentationTask

        model = config_from_flagfile(SegmenterConfig, path)
        task, batch = ReferitSegmentationTask(model, training), referit_batch(model, batch_size)
    else:
        from lbie_tf.tasks.colorization import ColorizationTask

        generator = config_from_flagfile(ColorizerConfig, path)
        generator = dataclasses.replace(generator, vocab_size=generator.vocab_size or FLOWERS_VOCAB_SIZE)
        data = config_from_flagfile(FlowersConfig, path, ("--flowers_data_dir=unused",))  # only its sizes
        task = ColorizationTask(generator, config_from_flagfile(DiscriminatorConfig, path),
                                config_from_flagfile(GanConfig, path), training)
        batch = colorization_batch(generator.vocab_size, batch_size, data.image_size, data.max_words)
    trainer = Trainer(task, training, tf.distribute.get_strategy(), tempfile.mkdtemp(prefix="lbie-resources-"),
                      train_dataset=lambda start: None, progress_stream=None, log=lambda line: None)
    return trainer, {key: tf.constant(value) for key, value in batch.items()}


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def time_part(name: str, batch_size: int) -> dict:
    """Seconds per step and per image, and the peak resident memory, of `--steps` steps after `--warmup`."""
    trainer, batch = build(name, batch_size)
    after_build = _peak_rss_bytes()
    step_fn = trainer.compiled_step()
    for _ in range(FLAGS.warmup):
        step_fn(batch)["loss"].numpy()
    times = []
    for _ in range(FLAGS.steps):
        start = time.perf_counter()
        step_fn(batch)["loss"].numpy()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {"seconds_per_step": seconds, "seconds_per_image": seconds / batch_size, "step_seconds": times,
            "peak_rss_bytes": _peak_rss_bytes(), "rss_after_build_bytes": after_build,
            "jit_compile": trainer.jit_compile}


def graph_part(name: str) -> dict:
    """Per batch size: FLOPs of the train step's graph (XLA off), its variables, the forward tensors its
    backward pass reads and its inputs, in bytes (`resources_report.gpu_memory_gib`)."""
    import tensorflow as tf

    results = {}
    for batch_size in map(int, FLAGS.batch_sizes):
        # XLA off so that every op is in the graph (the colorization step never uses XLA and refuses the flag).
        trainer, batch = build(name, batch_size, jit_compile="off" if name.startswith("referit") else None)
        concrete = trainer.compiled_step().get_concrete_function(batch)
        graph = concrete.graph
        options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
        options["output"] = "none"
        flops = tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops
        results[str(batch_size)] = {
            "flops": int(flops),
            "variable_bytes": sum(_bytes(v) for v in concrete.variables),
            "trainable_bytes": sum(_bytes(v) for v in concrete.trainable_variables),
            "activation_bytes": sum(_bytes(t) for t in _saved_for_backward(graph)),
            "input_bytes": sum(_bytes(t) for t in graph.inputs if t.dtype != tf.resource),
            "uncounted_calls": sum(op.type in CALL_OPS for op in graph.get_operations()),
        }
        print(f"graph {name} batch {batch_size}: {results[str(batch_size)]}", flush=True)
    return results


def _bytes(tensor) -> int:
    elements = tensor.shape.num_elements()
    return (elements or 0) * tensor.dtype.size


def _saved_for_backward(graph) -> list:
    """Forward tensors (neither variables nor constants) read by an op of a gradient tape's backward pass, each
    once."""
    backward = [op for op in graph.get_operations() if op.name.startswith("gradient_tape")]
    saved = {t.ref(): t for op in backward for t in op.inputs if not t.op.name.startswith("gradient_tape")
             and t.op.type not in ("ReadVariableOp", "Const", "VarHandleOp", "Placeholder")}
    return list(saved.values())


def run_part(part: str) -> dict:
    """One part in a process of its own; its result (or its error) as a dict."""
    env = {**os.environ, "PYTHONPATH": ROOT}
    command = [sys.executable, "-m", "benchmarks.resources", f"--part={part}", f"--steps={FLAGS.steps}",
               f"--warmup={FLAGS.warmup}", f"--batch_sizes={','.join(FLAGS.batch_sizes)}"]
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=FLAGS.part_timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over {FLAGS.part_timeout} s"}
    results = [line[len(RESULT_MARK):] for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode != 0 or not results:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return {"error": f"exit status {done.returncode}: {last[:200]}"}
    return json.loads(results[-1])


def measure() -> dict:
    """Every part (each kept in `--work_dir`); returns the report."""
    work_dir = FLAGS.work_dir or tempfile.mkdtemp(prefix="lbie-resources-")
    os.makedirs(work_dir, exist_ok=True)

    def part(name: str) -> dict:
        path = os.path.join(work_dir, name.replace(":", "_") + ".json")
        if not os.path.exists(path):
            result = run_part(name)
            print(f"{name}: {result}", flush=True)
            if "error" in result:
                return result
            with open(path, "w", encoding="utf-8") as f:
                json.dump(result, f)
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    graphs, timed = {}, {}
    for name in FLAGS.presets:
        graph = part(f"graph:{name}")
        for batch_size in FLAGS.batch_sizes:
            graphs[f"{name}:{batch_size}"] = graph.get(batch_size, graph)
    for name in FLAGS.presets:
        for batch_size in FLAGS.batch_sizes:
            timed[f"{name}:{batch_size}"] = part(f"time:{name}:{batch_size}")
    return {
        "command": " ".join(["python -m benchmarks.resources",
                             *(a for a in sys.argv[1:] if not a.startswith("--work_dir"))]),
        "cpu": f"{_cpu_model()}, {len(os.sched_getaffinity(0))} of its {os.cpu_count()} cores usable",
        "steps": FLAGS.steps, "warmup": FLAGS.warmup, "batch_sizes": [int(b) for b in FLAGS.batch_sizes],
        "gpu": {"name": FLAGS.gpu_name, "tflops": FLAGS.gpu_tflops, "utilisation": FLAGS.gpu_utilisation},
        "presets": [{"name": n, "epoch_images": EPOCHS[n][0], "epoch_note": EPOCHS[n][1]} for n in FLAGS.presets],
        "graphs": graphs, "timed": timed,
    }


def _cpu_model() -> str:
    """The CPU's model name (Linux), else the machine type."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else platform.machine()


def main(argv) -> None:
    del argv
    if FLAGS.part:
        kind, name, *batch = FLAGS.part.split(":")
        result = graph_part(name) if kind == "graph" else time_part(name, int(batch[0]))
        print(RESULT_MARK + json.dumps(result), flush=True)
        return
    report = report_files.measured_or_committed(f"{FLAGS.output}.json", measure, FLAGS.render_only)
    report_files.write_text(f"{FLAGS.output}.md", resources_report.render(report))
    print(f"wrote {FLAGS.output}.json and {FLAGS.output}.md")
    if FLAGS.readme:
        report_files.update_readme(FLAGS.readme, "resources", resources_report.table(report))


def define_flags() -> None:
    """The command line's flags (defined only when run as a script: the tests import its pure functions)."""
    flags.DEFINE_list("batch_sizes", ["1", "2", "4", "8"], "Batch sizes of every preset.")
    flags.DEFINE_list("presets", ["referit_paper", "flowers_paper"], "Presets (configs/<name>.cfg).")
    flags.DEFINE_integer("steps", 1, "Timed steps per (preset, batch size).")
    flags.DEFINE_integer("warmup", 1, "Untimed steps first (tracing, compilation).")
    flags.DEFINE_float("gpu_tflops", 19.5, "Peak TFLOP/s of the GPU of the estimate, at the presets' float32.")
    flags.DEFINE_string("gpu_name", "NVIDIA A100 (19.5 TFLOP/s float32 without tensor cores)", "Its name.")
    flags.DEFINE_float("gpu_utilisation", 0.4, "Share of the peak the training step is assumed to sustain.")
    flags.DEFINE_integer("part_timeout", 3600, "Seconds one part may take.")
    flags.DEFINE_string("work_dir", "", "Where parts keep their results (default: a fresh temporary folder).")
    flags.DEFINE_string("part", "", "Internal: run one part (time:<preset>:<batch> or graph:<preset>) and print it.")
    flags.DEFINE_string("output", "docs/results/resources", "Writes <output>.json and .md.")
    flags.DEFINE_bool("render_only", False, "Only render <output>.md from <output>.json.")
    flags.DEFINE_string("readme", "README.md", "Also replace the table in this README's resources block ('': no).")


if __name__ == "__main__":
    from lbie_tf.cli.app import run_app  # --help, and a user error as one line with exit status 2

    define_flags()
    run_app(main)
