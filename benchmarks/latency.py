"""CPU latency and throughput of the CoSaL segmenter and colorizer: exported SavedModel signatures, the TFLite
flat buffer of `predict_tensors` and the Keras model.

    python -m benchmarks.latency [--calls=300] [--warmup=30] [--batch_size=32] [--batch_calls=30]

Uses the shipped pretrained segmenter and colorizer when they are installed, else freshly built presets (same
architecture, random weights), and says which. Prints one line per model and path, e.g.
    segmenter latency saved_model predict_tensors batch=1: p50 1.23 ms p99 2.34 ms
    segmenter latency saved_model serving_default batch=1: p50 1.50 ms p99 2.80 ms  (PNG decode + tokenizer)
    segmenter latency keras batch=1: p50 1.10 ms p99 2.10 ms                        (model call in a tf.function)
    segmenter latency tflite predict_tensors batch=1: p50 0.90 ms p99 1.20 ms       (tf.lite.Interpreter)
    segmenter tflite size: 102,932 bytes
    segmenter throughput saved_model serving_default batch=32: 1234 images/s (p50 25.9 ms per call)
and the same `colorizer ...` lines (its serving_default also colourises at the input's size). Each call is
timed end to end, outputs fetched to numpy, after `--warmup` untimed calls. The throughput line sends
`--batch_size` different CoSaL test sketches (PNG) with their captions in one `serving_default` call.
"""

from __future__ import annotations

import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

FLAGS = flags.FLAGS


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


def model_paths(kind: str, model, export_path: str, x: dict) -> dict:
    """`{path name: call}` for one exported model and one request `x` (`example_request`)."""
    import tensorflow as tf

    from lbie_tf.serving.tflite import SIGNATURE, TFLITE_FILE

    signatures = tf.saved_model.load(export_path).signatures
    interpreter = tf.lite.Interpreter(model_path=os.path.join(export_path, TFLITE_FILE))
    runner = interpreter.get_signature_runner(SIGNATURE)
    if kind == "colorizer":
        tensors = {"gray": x["gray"], "tokens": x["word_ids"]}
        keras_call = tf.function(lambda gray, tokens: model({"gray": gray, "tokens": tokens}, training=False))
    else:
        tensors = {"image": x["image"], "tokens": x["tokens"]}
        keras_call = tf.function(lambda image, tokens: model({"image": image, "tokens": tokens}, training=False))
    arrays = {name: value.numpy() for name, value in tensors.items()}
    return {
        "saved_model predict_tensors": lambda: signatures["predict_tensors"](**tensors),
        "saved_model serving_default": lambda: signatures["serving_default"](image_bytes=x["image_bytes"],
                                                                             text=x["text"]),
        "keras": lambda: keras_call(**tensors),
        "tflite predict_tensors": lambda: runner(**arrays),
    }


def main(argv) -> None:
    del argv
    import tensorflow as tf

    from lbie_tf.serving.export import export_model
    from lbie_tf.serving.tflite import TFLITE_FILE

    logging.set_verbosity(logging.WARNING)  # no INFO lines about writing the SavedModel
    models = load_models()
    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    print("models: " + "; ".join(f"{kind} {description}" for kind, (_, description) in models.items())
          + f"; {threads} CPU threads", flush=True)
    x, batch = example_request(), example_request(FLAGS.batch_size)
    for kind, (model, _) in models.items():
        with tempfile.TemporaryDirectory() as export_dir:
            path = export_model(model, export_dir, tflite=True)
            for name, call in model_paths(kind, model, path, x).items():
                p50, p99 = percentiles_ms(call, FLAGS.calls, FLAGS.warmup)
                print(f"{kind} latency {name} batch=1: p50 {p50:.2f} ms p99 {p99:.2f} ms", flush=True)
            print(f"{kind} tflite size: {os.path.getsize(os.path.join(path, TFLITE_FILE)):,} bytes", flush=True)
            serve = tf.saved_model.load(path).signatures["serving_default"]
            p50, _ = percentiles_ms(lambda: serve(image_bytes=batch["image_bytes"], text=batch["text"]),
                                    FLAGS.batch_calls, min(FLAGS.warmup, 5))
            print(f"{kind} throughput saved_model serving_default batch={FLAGS.batch_size}: "
                  f"{FLAGS.batch_size / p50 * 1e3:.0f} images/s (p50 {p50:.1f} ms per call)", flush=True)


def define_flags() -> None:
    """The command line's flags (defined only when run as a script, so that importing the module defines none)."""
    flags.DEFINE_integer("calls", 300, "Timed calls per path.")
    flags.DEFINE_integer("warmup", 30, "Untimed calls first (tracing, graph optimisation).")
    flags.DEFINE_integer("batch_size", 32, "Images per serving_default call in the throughput measurement.")
    flags.DEFINE_integer("batch_calls", 30, "Timed serving_default calls of --batch_size images.")


if __name__ == "__main__":
    define_flags()
    app.run(main)
