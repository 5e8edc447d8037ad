"""Runs a reload script on an exported SavedModel in a fresh interpreter (TensorFlow only, no lbie_tf state)."""

import os
import subprocess
import sys

import numpy as np

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def reloaded_outputs(script: str, export_path: str, inputs: dict, folder) -> dict:
    """The arrays `script` saves when run as `python -c script <export_path> <inputs.npz> <out.npz>` with
    `inputs` written to `folder/inputs.npz`."""
    np.savez(folder / "inputs.npz", **inputs)
    subprocess.run([sys.executable, "-c", script, export_path, str(folder / "inputs.npz"), str(folder / "out.npz")],
                   check=True, env=ENV, capture_output=True)
    return dict(np.load(folder / "out.npz"))
