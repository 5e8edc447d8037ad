"""CPU latency and throughput of the CoSaL segmenter and colorizer: exported SavedModel signatures, the TFLite
flat buffer of `predict_tensors` and the Keras model.

    python -m benchmarks.latency [--calls=300] [--warmup=30] [--batch_size=32] [--batch_calls=30] [--threads=N]

Uses the shipped pretrained segmenter and colorizer when they are installed, else freshly built presets (same
architecture, random weights), and says which. Prints, per model, each path's batch-1 p50 and p99 (SavedModel
`predict_tensors` and `serving_default`, both also as exported by `lbie-export --jit_compile`, the model's call
compiled by XLA; the Keras model in a `tf.function`, the TFLite interpreter), the p50 of
each stage of `serving_default` run on its own (decode + resize, tokenizer, model, back to the input's size),
the `.tflite` size and the `serving_default` throughput at `--batch_size` different CoSaL test sketches (PNG)
per call. Each call is timed end to end, outputs fetched to numpy, after `--warmup` untimed calls. Beside them,
the model's floating-point operations per image (TensorFlow's graph profiler on one batch-1 inference call)
and the time they would take at this machine's matmul peak (a large `tf.matmul` with the same threads): the
model's compute floor, below which no runtime brings the request.

Writes `<output>.json` and `<output>.md` (`benchmarks/latency_report.py`) and the README's latency table;
`--render_only` rewrites the page and the table from the JSON.
"""

from __future__ import annotations

import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags, logging  # noqa: E402

from benchmarks.throughput import MATMUL_SIZE  # noqa: E402

FLAGS = flags.FLAGS
XLA_MODEL_STAGE = "model (predict_tensors, lbie-export --jit_compile)"


def load_models() -> dict:
    """`{"segmenter": (model, description), "colorizer": (generator, description)}`: the shipped pretrained
    models, else fresh presets (the segmenter's paper `SegmenterConfig()`, the colorizer of
    `configs/cosal_colorization.cfg` as shipped)."""
    from lbie_tf import pretrained
    from lbie_tf.configs import ColorizerConfig, SegmenterConfig
    from lbie_tf.models.colorizer import build_colorizer
    from lbie_tf.models.segmenter import build_segmenter
    from lbie_tf.tasks.cosal_colorization import VOCAB_SIZE

    models = {}
    for kind, name, fresh, fresh_description in (
            ("segmenter", pretrained.DEFAULT_SEGMENTER, lambda: build_segmenter(SegmenterConfig()),
             "fresh paper preset SegmenterConfig()"),
            ("colorizer", pretrained.DEFAULT_COLORIZER, lambda: build_colorizer(ColorizerConfig(vocab_size=VOCAB_SIZE)),
             f"fresh ColorizerConfig(vocab_size={VOCAB_SIZE})")):
        if name in pretrained.available(kind):
            models[kind] = pretrained.load_pretrained(name, kind)[0], f"pretrained {name}"
        else:
            models[kind] = fresh(), f"{fresh_description} (no pretrained weights found)"
    return models


def example_request(batch_size: int = 1) -> dict:
    """The first `batch_size` CoSaL test examples as tensors: `image` float32 `[batch, 48, 48, 3]`, `tokens`
    int32 `[batch, 9, 3]`, the colorizer's `gray` `[batch, 48, 48, 1]` and `word_ids` `[batch, 27]`,
    `image_bytes` (PNG) and `text` string `[batch]`."""
    import tensorflow as tf

    from lbie_tf.data import cosal
    from lbie_tf.data import cosal_vocabulary as vocab

    data = cosal.generate(tf.range(batch_size, dtype=tf.int64), cosal.CosalConfig(), "test")
    from lbie_tf.serving.colorization_pixels import gray_input
    from lbie_tf.tasks.cosal_colorization import caption_ids

    image = tf.cast(data["sketch"], tf.float32)
    return {"image": image, "tokens": data["tokens"], "gray": gray_input(image),
            "word_ids": caption_ids(data["tokens"]),
            "image_bytes": tf.stack([tf.io.encode_png(sketch) for sketch in data["sketch"]]),
            "text": tf.constant([". ".join(vocab.decode_caption(tokens)) for tokens in data["tokens"].numpy()])}


def percentiles_ms(call, calls: int, warmup: int) -> tuple[float, float]:
    """p50 and p99 wall time of `call()` in milliseconds, after `warmup` untimed calls; `call` returns a dict
    of tensors (or numpy arrays), all fetched to numpy inside the timing."""
    import numpy as np

    for _ in range(warmup):
        [np.asarray(value) for value in call().values()]
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        [np.asarray(value) for value in call().values()]
        times.append(time.perf_counter() - start)
    p50, p99 = np.percentile(np.array(times) * 1e3, [50, 99])
    return float(p50), float(p99)


def predict_inputs(kind: str, x: dict) -> dict:
    """The `predict_tensors` inputs of request `x` (`example_request`) for a model of `kind`."""
    if kind == "colorizer":
        return {"gray": x["gray"], "tokens": x["word_ids"]}
    return {"image": x["image"], "tokens": x["tokens"]}


def model_flops(kind: str, model, x: dict) -> int:
    """Floating-point operations of one inference call of `model` on request `x` (`example_request`)."""
    import tensorflow as tf

    from benchmarks.throughput import graph_flops

    tensors = predict_inputs(kind, x)
    names = sorted(tensors)
    specs = [tf.TensorSpec(tensors[name].shape, tensors[name].dtype) for name in names]
    return graph_flops(lambda *values: model(dict(zip(names, values)), training=False), *specs)


def model_paths(kind: str, model, signatures, export_path: str, x: dict) -> dict:
    """`{path name: call}` for one exported model (its loaded `signatures`, its folder `export_path`) and one
    request `x` (`example_request`)."""
    import tensorflow as tf

    from lbie_tf.serving.tflite import SIGNATURE, TFLITE_FILE

    interpreter = tf.lite.Interpreter(model_path=os.path.join(export_path, TFLITE_FILE))
    runner = interpreter.get_signature_runner(SIGNATURE)
    tensors = predict_inputs(kind, x)
    keras_call = tf.function(lambda inputs: model(inputs, training=False))
    arrays = {name: value.numpy() for name, value in tensors.items()}
    return {**saved_model_paths(kind, signatures, x), "keras": lambda: keras_call(tensors),
            "tflite predict_tensors": lambda: runner(**arrays)}


def saved_model_paths(kind: str, signatures, x: dict) -> dict:
    """`{"saved_model predict_tensors": call, "saved_model serving_default": call}` of loaded `signatures` on
    request `x` (`example_request`)."""
    tensors = predict_inputs(kind, x)
    return {"saved_model predict_tensors": lambda: signatures["predict_tensors"](**tensors),
            "saved_model serving_default": lambda: signatures["serving_default"](image_bytes=x["image_bytes"],
                                                                                 text=x["text"])}


def stage_paths(kind: str, model, signatures, x: dict) -> dict:
    """`{stage: call}`: the parts of `serving_default` one by one, each in its own `tf.function` on request
    `x` (`example_request`), so that their sum shows where the signature's time goes."""
    import tensorflow as tf

    from lbie_tf.data import cosal_vocabulary as vocab
    from lbie_tf.serving import image_preprocessing
    from lbie_tf.serving.colorization_pixels import colourise_requests
    from lbie_tf.serving.signatures import caption_tokenizer

    size = int(x["image"].shape[1])
    tokenizer = caption_tokenizer(model)
    prepare = tf.function(lambda data: image_preprocessing.prepare_images(data, size))
    tokens = tf.function(tokenizer.ids if kind == "colorizer" else tokenizer.__call__)  # a colorizer's: word ids
    sizes = prepare(x["image_bytes"])[1]
    stages = {"decode + resize to the model": lambda: {"image": prepare(x["image_bytes"])[0]},
              "tokenizer": lambda: {"tokens": tokens(x["text"])}}
    tensors = predict_inputs(kind, x)
    outputs = signatures["predict_tensors"](**tensors)
    stages["model (predict_tensors)"] = lambda: signatures["predict_tensors"](**tensors)
    if kind == "colorizer":
        back = tf.function(lambda data, ab, sizes: colourise_requests(data, ab, sizes))
        stages["colourise at the input's size"] = lambda: {"rgb": back(x["image_bytes"], outputs["ab"], sizes)}
    else:
        back = tf.function(lambda class_map, sizes: image_preprocessing.colour_class_maps(
            image_preprocessing.resize_class_maps(class_map, sizes), vocab.RGB_PALETTE))
        stages["class map to the input's size + palette"] = lambda: {"rgb": back(outputs["class_map"], sizes)}
    return stages


def measure() -> dict:
    """Every path, stage and throughput of both shipped models (the JSON report)."""
    import platform

    import tensorflow as tf

    from benchmarks.throughput import matmul_peak
    from lbie_tf.serving.export import export_model
    from lbie_tf.serving.tflite import TFLITE_FILE

    logging.set_verbosity(logging.WARNING)  # no INFO lines about writing the SavedModel
    if FLAGS.threads:
        tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
        tf.config.threading.set_inter_op_parallelism_threads(FLAGS.threads)
    threads = tf.config.threading.get_intra_op_parallelism_threads() or len(os.sched_getaffinity(0))
    report = {"command": "python -m benchmarks.latency" + (f" --threads={FLAGS.threads}" if FLAGS.threads else ""),
              "cpu": f"{platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores usable",
              "tensorflow": tf.__version__, "threads": threads, "calls": FLAGS.calls, "warmup": FLAGS.warmup,
              "batch_size": FLAGS.batch_size, "batch_calls": FLAGS.batch_calls,
              "matmul_peak_gflops": matmul_peak(FLAGS.matmul_size), "matmul_size": FLAGS.matmul_size, "models": {}}
    print(f"matmul peak ({FLAGS.matmul_size}×{FLAGS.matmul_size} float32): {report['matmul_peak_gflops']:.1f} "
          "GFLOP/s", flush=True)
    x, batch = example_request(), example_request(FLAGS.batch_size)
    for kind, (model, description) in load_models().items():
        result = report["models"][kind] = {"model": description, "paths": {}, "stages": {},
                                           "mflop_per_image": model_flops(kind, model, x) / 1e6}
        print(f"{kind} model: {result['mflop_per_image']:.1f} MFLOP per image", flush=True)
        with tempfile.TemporaryDirectory() as export_dir:
            path = export_model(model, export_dir, tflite=True)
            signatures = tf.saved_model.load(path).signatures
            xla = tf.saved_model.load(export_model(model, export_dir, jit_compile=True)).signatures
            paths = model_paths(kind, model, signatures, path, x)
            paths.update({f"xla {name}": call for name, call in saved_model_paths(kind, xla, x).items()})
            for name, call in paths.items():
                result["paths"][name] = dict(zip(("p50_ms", "p99_ms"), percentiles_ms(call, FLAGS.calls, FLAGS.warmup)))
                print(f"{kind} latency {name} batch=1: p50 {result['paths'][name]['p50_ms']:.2f} ms "
                      f"p99 {result['paths'][name]['p99_ms']:.2f} ms", flush=True)
            for name, call in stage_paths(kind, model, signatures, x).items():
                result["stages"][name] = percentiles_ms(call, FLAGS.calls, FLAGS.warmup)[0]
                print(f"{kind} serving_default stage {name}: p50 {result['stages'][name]:.2f} ms", flush=True)
            # The XLA model stage is the XLA export's predict_tensors call, timed above as a path.
            result["stages"][XLA_MODEL_STAGE] = result["paths"]["xla saved_model predict_tensors"]["p50_ms"]
            result["tflite_bytes"] = os.path.getsize(os.path.join(path, TFLITE_FILE))
            for key, loaded in (("batch_images_per_second", signatures), ("xla_batch_images_per_second", xla)):
                serve = loaded["serving_default"]
                p50, _ = percentiles_ms(lambda: serve(image_bytes=batch["image_bytes"], text=batch["text"]),
                                        FLAGS.batch_calls, min(FLAGS.warmup, 5))
                result[key] = FLAGS.batch_size / p50 * 1e3
                print(f"{kind} throughput {key} batch={FLAGS.batch_size}: {result[key]:.0f} images/s "
                      f"(p50 {p50:.1f} ms per call)", flush=True)
    return report


def main(argv) -> None:
    del argv
    from benchmarks import latency_report, report_files

    report = report_files.measured_or_committed(f"{FLAGS.output}.json", measure, FLAGS.render_only)
    report_files.write_text(f"{FLAGS.output}.md", latency_report.render(report))
    print(f"wrote {FLAGS.output}.json and {FLAGS.output}.md")
    if FLAGS.readme:
        report_files.update_readme(FLAGS.readme, "latency", latency_report.table(report))


def define_flags() -> None:
    """The command line's flags (defined only when run as a script, so that importing the module defines none)."""
    flags.DEFINE_integer("calls", 300, "Timed calls per path.")
    flags.DEFINE_integer("warmup", 30, "Untimed calls first (tracing, graph optimisation).")
    flags.DEFINE_integer("batch_size", 32, "Images per serving_default call in the throughput measurement.")
    flags.DEFINE_integer("batch_calls", 30, "Timed serving_default calls of --batch_size images.")
    flags.DEFINE_integer("threads", 0, "TensorFlow intra- and inter-op threads (0: TensorFlow's default, one per "
                                       "usable core).")
    flags.DEFINE_integer("matmul_size", MATMUL_SIZE, "Matrix size of the matmul peak.")
    flags.DEFINE_string("output", "docs/results/latency", "Writes <output>.json and .md.")
    flags.DEFINE_bool("render_only", False, "Only render <output>.md from <output>.json.")
    flags.DEFINE_string("readme", "README.md", "Also replace the table in this README's latency block ('': no).")


if __name__ == "__main__":
    from lbie_tf.cli.app import run_app  # --help, and a user error as one line with exit status 2

    define_flags()
    run_app(main)
