"""Requests to the lbie-demo page on this machine: start-up, the first edit, single edits and concurrent edits,
over HTTP with Gradio's client against `lbie-demo` in its own process (the shipped segmenter, loopback).

    python -m benchmarks.demo_requests [--concurrent=20] [--sequential=10] [--out=docs/results/demo_requests]

Measures, in seconds:
- `startup_s`: from starting `python -m lbie_tf.cli.demo` to the page answering HTTP 200 (TensorFlow and Gradio
  imports, model load, warm-up edit; the installation is not included);
- `first_edit_s`: the first segmentation request after that, submitted to its result (files downloaded);
- `sequential`: `--sequential` requests one after the other: p50 / p99;
- `concurrent`: `--concurrent` requests submitted at once (each its own held-out sketch): p50 / p99 of each
  request's submit-to-result time, and how many were answered.
Writes `<out>.json` and `<out>.md`, with the machine's core count and load average (the machine is shared).
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
from absl import flags  # noqa: E402

FLAGS = flags.FLAGS
STARTUP_TIMEOUT_S = 600
COMMAND = "python -m benchmarks.demo_requests"


def percentiles(seconds: list[float]) -> dict:
    """p50 / p99 / max of request times, rounded to milliseconds."""
    return {"count": len(seconds), "p50_s": round(float(np.percentile(seconds, 50)), 3),
            "p99_s": round(float(np.percentile(seconds, 99)), 3), "max_s": round(max(seconds), 3)}


def timed_request(client, handle_file, model_name: str, pair: tuple[str, str]) -> float:
    """Seconds from submitting one segmentation request to its result."""
    start = time.perf_counter()
    client.submit(model_name, None, handle_file(pair[0]), pair[1], api_name="/segment").result(timeout=600)
    return time.perf_counter() - start


def measure(folder: str) -> dict:
    from gradio_client import Client, handle_file

    from lbie_tf.cli.cosal_example import write_example
    from lbie_tf.cli.edit import edits_from_text_file
    from lbie_tf.demo.models import shipped_segmenters
    from lbie_tf.demo.process import free_loopback_port, start_demo_process, wait_until_answering

    pairs = []
    for index in range(max(FLAGS.concurrent, FLAGS.sequential)):
        (edit,) = edits_from_text_file(write_example(os.path.join(folder, str(index)), index), folder)
        pairs.append((edit.image_path, ". ".join(edit.sentences)))
    load_before = os.getloadavg()[0]
    process, url = start_demo_process(free_loopback_port(), os.path.join(folder, "lbie-demo.log"))
    try:
        startup = wait_until_answering(url, process, STARTUP_TIMEOUT_S)
        client = Client(url, verbose=False)
        model_name = shipped_segmenters()[0]
        first = timed_request(client, handle_file, model_name, pairs[0])
        sequential = [timed_request(client, handle_file, model_name, pair) for pair in pairs[:FLAGS.sequential]]
        with concurrent.futures.ThreadPoolExecutor(FLAGS.concurrent) as pool:
            concurrent_times = list(pool.map(lambda pair: timed_request(client, handle_file, model_name, pair),
                                             pairs[:FLAGS.concurrent]))
    finally:
        process.terminate()
        process.wait(timeout=60)
    return {"command": COMMAND, "cores": os.cpu_count(), "load_average_before": round(load_before, 1),
            "load_average_after": round(os.getloadavg()[0], 1), "startup_s": round(startup, 2),
            "first_edit_s": round(first, 3), "sequential": percentiles(sequential),
            "concurrent": {**percentiles(concurrent_times), "answered": len(concurrent_times),
                           "submitted": FLAGS.concurrent}}


def markdown(result: dict) -> str:
    seq, conc = result["sequential"], result["concurrent"]
    return "\n".join([
        "# lbie-demo requests on this machine",
        "",
        f"Written by `{result['command']}` (benchmarks/demo_requests.py): `lbie-demo` in its own process with the "
        "shipped segmenter, requests over HTTP on 127.0.0.1 with Gradio's client (each a held-out CoSaL sketch "
        "uploaded with its caption, the result files downloaded). Model calls run one at a time "
        "(lbie_tf/demo/page.py); concurrent requests wait in Gradio's queue.",
        "",
        f"Machine: {result['cores']} cores, shared; load average {result['load_average_before']} before, "
        f"{result['load_average_after']} after.",
        "",
        "| measurement | seconds |",
        "| --- | --- |",
        f"| start-up (process start to page answering; install not included) | {result['startup_s']} |",
        f"| first edit after start-up | {result['first_edit_s']} |",
        f"| one request at a time ({seq['count']}): p50 / p99 | {seq['p50_s']} / {seq['p99_s']} |",
        f"| {conc['submitted']} concurrent requests ({conc['answered']} answered): p50 / p99 | "
        f"{conc['p50_s']} / {conc['p99_s']} |",
        "",
    ])


def main(argv) -> None:
    del argv
    with tempfile.TemporaryDirectory(prefix="lbie-demo-bench-") as folder:
        result = measure(folder)
    os.makedirs(os.path.dirname(FLAGS.out) or ".", exist_ok=True)
    with open(f"{FLAGS.out}.json", "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    with open(f"{FLAGS.out}.md", "w", encoding="utf-8") as f:
        f.write(markdown(result))
    print(markdown(result))


def define_flags() -> None:
    """The command line's flags (defined only when run as a script, so that importing the module defines none)."""
    flags.DEFINE_integer("concurrent", 20, "Requests submitted at once.", lower_bound=1)
    flags.DEFINE_integer("sequential", 10, "Requests one after the other.", lower_bound=1)
    flags.DEFINE_string("out", "docs/results/demo_requests", "Output path without extension (.json and .md).")


if __name__ == "__main__":
    from lbie_tf.cli.app import run_app  # --help, and a user error as one line with exit status 2

    define_flags()
    run_app(main)
