"""CPU latency and throughput of the CoSaL segmenter: exported SavedModel signatures and the Keras model.

    python -m benchmarks.latency [--calls=300] [--warmup=30] [--batch_size=32] [--batch_calls=30]

Uses the shipped pretrained segmenter when it is installed, else a freshly built paper preset
(`SegmenterConfig()`: same architecture, random weights), and says which. Prints one line per path, e.g.
    latency saved_model predict_tensors batch=1: p50 1.23 ms p99 2.34 ms
    latency saved_model serving_default batch=1: p50 1.50 ms p99 2.80 ms   (PNG decode + tokenizer included)
    latency keras batch=1: p50 1.10 ms p99 2.10 ms                         (model call in a tf.function)
    throughput saved_model serving_default batch=32: 1234 images/s (p50 25.9 ms per call)
Each call is timed end to end, outputs fetched to numpy, after `--warmup` untimed calls. The throughput line
sends `--batch_size` different CoSaL test sketches (PNG) with their captions in one `serving_default` call.
"""

from __future__ import annotations

import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

flags.DEFINE_integer("calls", 300, "Timed calls per path.")
flags.DEFINE_integer("warmup", 30, "Untimed calls first (tracing, graph optimisation).")
flags.DEFINE_integer("batch_size", 32, "Images per serving_default call in the throughput measurement.")
flags.DEFINE_integer("batch_calls", 30, "Timed serving_default calls of --batch_size images.")
FLAGS = flags.FLAGS


def load_model():
    """`(model, description)`: the shipped pretrained segmenter, else a fresh paper preset."""
    from lbie_tf import pretrained
    from lbie_tf.configs import SegmenterConfig
    from lbie_tf.models.segmenter import build_segmenter

    if pretrained.DEFAULT_SEGMENTER in pretrained.available():
        return pretrained.load_pretrained_segmenter()[0], f"pretrained {pretrained.DEFAULT_SEGMENTER}"
    return build_segmenter(SegmenterConfig()), "fresh paper preset SegmenterConfig() (no pretrained weights found)"


def example_request(batch_size: int = 1) -> dict:
    """The first `batch_size` CoSaL test examples as tensors: `image` float32 `[batch, 48, 48, 3]`, `tokens`
    int32 `[batch, 9, 3]`, `image_bytes` (PNG) and `text` string `[batch]`."""
    import tensorflow as tf

    from lbie_tf.data import cosal
    from lbie_tf.data import cosal_vocabulary as vocab

    data = cosal.generate(tf.range(batch_size, dtype=tf.int64), cosal.CosalConfig(), "test")
    return {"image": tf.cast(data["sketch"], tf.float32), "tokens": data["tokens"],
            "image_bytes": tf.stack([tf.io.encode_png(sketch) for sketch in data["sketch"]]),
            "text": tf.constant([". ".join(vocab.decode_caption(tokens)) for tokens in data["tokens"].numpy()])}


def percentiles_ms(call, calls: int, warmup: int) -> tuple[float, float]:
    """p50 and p99 wall time of `call()` in milliseconds, after `warmup` untimed calls; `call` returns a dict
    of tensors, all fetched to numpy inside the timing."""
    import numpy as np

    for _ in range(warmup):
        [value.numpy() for value in call().values()]
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        [value.numpy() for value in call().values()]
        times.append(time.perf_counter() - start)
    p50, p99 = np.percentile(np.array(times) * 1e3, [50, 99])
    return float(p50), float(p99)


def main(argv) -> None:
    del argv
    import tensorflow as tf

    from lbie_tf.serving.export import export_model

    logging.set_verbosity(logging.WARNING)  # no INFO lines about writing the SavedModel
    model, description = load_model()
    print(f"model: {description}; {tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()} "
          f"CPU threads", flush=True)
    x = example_request()
    keras_call = tf.function(lambda image, tokens: model({"image": image, "tokens": tokens}, training=False))
    with tempfile.TemporaryDirectory() as export_dir:
        signatures = tf.saved_model.load(export_model(model, export_dir)).signatures
        paths = {
            "saved_model predict_tensors": lambda: signatures["predict_tensors"](image=x["image"],
                                                                                 tokens=x["tokens"]),
            "saved_model serving_default": lambda: signatures["serving_default"](image_bytes=x["image_bytes"],
                                                                                 text=x["text"]),
            "keras": lambda: keras_call(x["image"], x["tokens"]),
        }
        for name, call in paths.items():
            p50, p99 = percentiles_ms(call, FLAGS.calls, FLAGS.warmup)
            print(f"latency {name} batch=1: p50 {p50:.2f} ms p99 {p99:.2f} ms", flush=True)
        batch = example_request(FLAGS.batch_size)
        p50, _ = percentiles_ms(lambda: signatures["serving_default"](image_bytes=batch["image_bytes"],
                                                                      text=batch["text"]),
                                FLAGS.batch_calls, min(FLAGS.warmup, 5))
        print(f"throughput saved_model serving_default batch={FLAGS.batch_size}: "
              f"{FLAGS.batch_size / p50 * 1e3:.0f} images/s (p50 {p50:.1f} ms per call)", flush=True)


if __name__ == "__main__":
    app.run(main)
