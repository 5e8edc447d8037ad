"""The latency benchmark's page and README table (no TensorFlow)."""

import json
import os

from benchmarks import latency_report, readme_block

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _report(serving_p50: float, xla_serving_p50: float = 3.5) -> dict:
    paths = {name: {"p50_ms": 1.0, "p99_ms": 2.0} for name in latency_report._PATHS}
    paths["saved_model serving_default"] = {"p50_ms": serving_p50, "p99_ms": 9.5}
    paths["xla saved_model serving_default"] = {"p50_ms": xla_serving_p50, "p99_ms": 5.5}
    return {"command": "python -m benchmarks.latency", "cpu": "x86_64, 2 cores usable", "tensorflow": "2.21.0",
            "threads": 2, "calls": 300, "warmup": 30, "batch_size": 32, "batch_calls": 30,
            "matmul_peak_gflops": 50.0, "matmul_size": 2048,
            "models": {"segmenter": {"model": "pretrained cosal_best", "paths": paths, "tflite_bytes": 1234567,
                                     "mflop_per_image": 125.0,
                                     "batch_images_per_second": 456.7, "xla_batch_images_per_second": 789.4,
                                     "stages": {"tokenizer": 0.61, "model (predict_tensors)": 2.5}}}}


def test_table_row_holds_every_path_size_and_throughput():
    row = latency_report.table(_report(4.25))[2]
    assert row == ("| segmenter: pretrained cosal_best | 1.00 / 2.00 ms | 4.25 / 9.50 ms | 1.00 / 2.00 ms | "
                   "3.50 / 5.50 ms | 1.00 / 2.00 ms | 1.00 / 2.00 ms | 1,234,567 B | 457 / 789 images/s |")


def test_page_lists_the_stages_and_computes_the_goal_verdict():
    page = latency_report.render(_report(4.25))
    assert "| segmenter | tokenizer | 0.61 |" in page and "| segmenter | model (predict_tensors) | 2.50 |" in page
    assert ("p50 ≤ 3 ms: exported as by default: **not met** (4.25 ms); exported with `--jit_compile`: "
            "**not met** (3.50 ms)") in page
    assert "| segmenter | 125.0 | 2.50 ms | 1.00 ms |" in page  # 125 MFLOP at 50 GFLOP/s
    assert "exported with `--jit_compile`: **met** (2.90 ms)" in latency_report.render(_report(4.25, 2.9))
    assert "exported as by default: **met** (2.90 ms)" in latency_report.render(_report(2.9))


def test_the_readme_table_is_the_committed_measurement():
    with open(os.path.join(ROOT, "docs", "results", "latency.json"), encoding="utf-8") as f:
        report = json.load(f)
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert readme_block.replace_block(readme, "latency", latency_report.table(report)) == readme  # regenerate:
    # python -m benchmarks.latency
    with open(os.path.join(ROOT, "docs", "results", "latency.md"), encoding="utf-8") as f:
        assert f.read() == latency_report.render(report)
