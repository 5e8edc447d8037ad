"""The entry point: every preset flagfile parses into valid configs and builds its model, and mistakes a user
can fix end with one line on stderr and exit status 2 (no traceback)."""

import glob
import os
import subprocess
import sys

import pytest
from absl import flags

import train_segmentation
from lbie_tf import flags as lbie_flags
from lbie_tf.models.segmenter import build_segmenter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(path for path in glob.glob(os.path.join(ROOT, "configs", "cosal_*.cfg"))
                 if not path.endswith("cosal_colorization.cfg"))  # (a train_colorization.py preset)


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_every_preset_parses_and_builds(path):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["train_segmentation.py", f"--flagfile={path}", "--model_dir=/tmp/unused"])
    model = lbie_flags.segmenter_config_from_flags()
    training = lbie_flags.training_config_from_flags()
    data = train_segmentation.cosal_config_from_flags()
    assert data.num_direct == 4
    built = build_segmenter(model)
    assert built.count_params() > 0
    assert training.batch_size > 0
    flags.FLAGS.unparse_flags()


def _run(*args):
    return subprocess.run([sys.executable, os.path.join(ROOT, "train_segmentation.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})


@pytest.mark.parametrize("args, message", [
    (["--model_dir=/tmp/x", "--attention_score=dot"], "--attention_score='dot' is not one of"),
    (["--attention_score=bilinear"], "--model_dir is required"),
    (["--model_dir=/tmp/x", "--attention=false"], "--steps=1"),
    (["--model_dir=/tmp/x", "--num_direct=0"], "--num_direct must be in 1..9"),
])
def test_user_errors_are_one_line_with_status_2(args, message):
    result = _run(*args)
    assert result.returncode == 2, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last
    assert "Traceback" not in result.stderr
