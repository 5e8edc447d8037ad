"""The resources benchmark's pure parts: the epoch-time and GPU-memory estimates and the page (no TensorFlow)."""

import pytest

from benchmarks import resources_report


def test_epoch_hours():
    # 1 TFLOP per image, 36,000 images, 10 TFLOP/s at 50 %: 7,200 s
    assert resources_report.epoch_hours(1e12, 36_000, 10.0, 0.5) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="utilisation"):
        resources_report.epoch_hours(1e12, 1, 10.0, 0.0)


def test_gpu_memory_adds_variables_gradients_activations_and_inputs():
    graph = {"variable_bytes": 3 * 2**30, "trainable_bytes": 2**30, "activation_bytes": 2**31, "input_bytes": 0}
    assert resources_report.gpu_memory_gib(graph) == pytest.approx(6.0)


def test_render_marks_measured_and_estimated_numbers_and_missing_rows():
    graph = {"flops": 2 * 10**12, "variable_bytes": 2**30, "trainable_bytes": 2**30, "activation_bytes": 2**30,
             "input_bytes": 0, "uncounted_calls": 0}
    report = {"command": "python -m benchmarks.resources", "cpu": "x86_64, 2 cores", "steps": 1, "warmup": 1,
              "batch_sizes": [1, 2], "gpu": {"name": "a GPU", "tflops": 10.0, "utilisation": 0.5},
              "presets": [{"name": "referit_paper", "epoch_images": 3600, "epoch_note": "test"}],
              "graphs": {"referit_paper:1": {**graph, "flops": 10**12}, "referit_paper:2": graph},
              "timed": {"referit_paper:1": {"seconds_per_image": 12.34, "peak_rss_bytes": 3 * 2**30},
                        "referit_paper:2": {"error": "over 10 s"}}}
    page = resources_report.render(report)
    assert "| CPU s / image (measured) | CPU peak memory GiB (measured) |" in page
    assert "| GPU memory GiB (estimate) | epoch on the GPU, hours (estimate) |" in page
    assert "| referit_paper | 1 | 12.3 | 3.0 | 1,000 | 3.0 | 0.20 |" in page
    assert "| referit_paper | 2 | failed: over 10 s | failed: over 10 s | 1,000 | 3.0 | 0.20 |" in page


def test_with_readme_table_replaces_only_the_block():
    report = {"gpu": {"name": "a GPU", "tflops": 10.0, "utilisation": 0.5}, "batch_sizes": [1],
              "presets": [{"name": "flowers_paper", "epoch_images": 10, "epoch_note": "test"}],
              "graphs": {}, "timed": {}}
    readme = (f"# title\n{resources_report.README_BEGIN}\nold table\n{resources_report.README_END}\nafter\n")
    updated = resources_report.with_readme_table(readme, report)
    assert "old table" not in updated and updated.startswith("# title\n") and updated.endswith("after\n")
    assert "| flowers_paper | 1 | not measured |" in updated
    with pytest.raises(ValueError, match="no <!-- benchmarks.resources table"):
        resources_report.with_readme_table("# no block\n", report)


def test_the_readme_table_is_the_committed_measurement():
    import json
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "docs", "results", "resources.json"), encoding="utf-8") as f:
        report = json.load(f)
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert resources_report.with_readme_table(readme, report) == readme  # regenerate: benchmarks.resources
