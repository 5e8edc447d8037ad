"""Running the repository's entry-point scripts (`train_segmentation.py`, `train_colorization.py`) the way a
user does: a fresh Python process in the repository root, TensorFlow's logging silenced."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_script(script: str, *args: str) -> subprocess.CompletedProcess:
    """Runs `python <script> <args>` in the repository root; returns the finished process (text output)."""
    return subprocess.run([sys.executable, os.path.join(ROOT, script), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
