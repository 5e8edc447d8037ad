"""Batch-1 CPU latency of the CoSaL segmenter: exported SavedModel signatures and the Keras model.

    python -m benchmarks.latency [--calls=300] [--warmup=30]

Uses the shipped pretrained segmenter when it is installed, else a freshly built paper preset
(`SegmenterConfig()`: same architecture, random weights), and says which. Prints one line per path, e.g.
    latency saved_model predict_tensors batch=1: p50 1.23 ms p99 2.34 ms
    latency saved_model serving_default batch=1: p50 1.50 ms p99 2.80 ms   (PNG decode + tokenizer included)
    latency keras batch=1: p50 1.10 ms p99 2.10 ms                         (model call in a tf.function)
Each call is timed end to end, outputs fetched to numpy, after `--warmup` untimed calls.
"""

from __future__ import annotations

import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags, logging  # noqa: E402

flags.DEFINE_integer("calls", 300, "Timed calls per path.")
flags.DEFINE_integer("warmup", 30, "Untimed calls first (tracing, graph optimisation).")
FLAGS = flags.FLAGS


def load_model():
    """`(model, description)`: the shipped pretrained segmenter, else a fresh paper preset."""
    from lbie_tf import pretrained
    from lbie_tf.configs import SegmenterConfig
    from lbie_tf.models.segmenter import build_segmenter

    if pretrained.DEFAULT_SEGMENTER in pretrained.available():
        return pretrained.load_pretrained_segmenter()[0], f"pretrained {pretrained.DEFAULT_SEGMENTER}"
    return build_segmenter(SegmenterConfig()), "fresh paper preset SegmenterConfig() (no pretrained weights found)"


def example_request() -> dict:
    """One CoSaL test example as tensors: `image` float32 `[1, 48, 48, 3]`, `tokens` int32 `[1, 9, 3]`,
    `image_bytes` (PNG) and `text` string `[1]`."""
    import tensorflow as tf

    from lbie_tf.data import cosal
    from lbie_tf.data import cosal_vocabulary as vocab

    data = cosal.generate(tf.constant([0], tf.int64), cosal.CosalConfig(), "test")
    return {"image": tf.cast(data["sketch"], tf.float32), "tokens": data["tokens"],
            "image_bytes": tf.io.encode_png(data["sketch"][0])[None],
            "text": tf.constant([". ".join(vocab.decode_caption(data["tokens"][0].numpy()))])}


def percentiles_ms(call, calls: int, warmup: int) -> tuple[float, float]:
    """p50 and p99 wall time of `call()` in milliseconds; `call` returns a dict of tensors."""
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

    from lbie_tf.serving.export import export_segmenter

    logging.set_verbosity(logging.WARNING)  # no INFO lines about writing the SavedModel
    model, description = load_model()
    print(f"model: {description}; {tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()} "
          f"CPU threads", flush=True)
    x = example_request()
    keras_call = tf.function(lambda image, tokens: model({"image": image, "tokens": tokens}, training=False))
    with tempfile.TemporaryDirectory() as export_dir:
        signatures = tf.saved_model.load(export_segmenter(model, export_dir)).signatures
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


if __name__ == "__main__":
    app.run(main)
