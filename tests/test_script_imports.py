"""The scripts under experiments/ and benchmarks/ can be imported together, and with the package's CLI flags.

Tests import these scripts for their functions; a script that defines its absl flags at import time instead of
in its `define_flags()` collides with `lbie_tf.cli.flags` or another script (`DuplicateFlagError`).
"""

import pkgutil
import subprocess
import sys

import benchmarks
import experiments

_PROBE = """
import importlib, sys
from absl import flags
import train_colorization, train_segmentation  # the training CLIs' flags: what the tests import beside the scripts
for name in sys.argv[1:]:
    importlib.import_module(name)
own = sorted(module for module in flags.FLAGS.flags_by_module_dict()
             if module.split(".")[0] in ("experiments", "benchmarks"))
assert not own, f"flags defined at import time by {own}"
print("imported", len(sys.argv) - 1)
"""


def _script_modules():
    return [f"{package.__name__}.{info.name}" for package in (experiments, benchmarks)
            for info in pkgutil.iter_modules(package.__path__)]


def test_every_script_imports_without_defining_flags():
    modules = _script_modules()
    assert "experiments.cosal_table2" in modules and "benchmarks.latency" in modules
    result = subprocess.run([sys.executable, "-c", _PROBE, *modules], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"imported {len(modules)}" in result.stdout


def test_a_script_shows_its_help_and_refuses_a_bad_preset_in_one_line():
    script = [sys.executable, "-m", "experiments.cosal_table2"]
    shown = subprocess.run([*script, "--help"], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and "--presets" in shown.stdout and "--budget_images" in shown.stdout
    refused = subprocess.run([*script, "--presets=nope", "--runs_dir=/nonexistent"], capture_output=True,
                             text=True, timeout=120)
    errors = [line for line in refused.stderr.splitlines() if line.startswith(("error:", "Traceback"))]
    assert refused.returncode == 2 and errors == [errors[0]] and "no flagfile configs/cosal_nope.cfg" in errors[0]
