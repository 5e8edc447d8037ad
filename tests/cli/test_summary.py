"""`lbie-summary --flagfile=...` prints every sublayer of both CoSaL presets."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("preset, layers", [
    ("cosal_paper_t4", ["conv3_2", "sentence_bilstm", "fusion", "bilinear_upsampling", "41,955"]),
    ("cosal_released_code", ["bn4", "paragraph_lstm", "deconv4", "logits", "1,618,488"]),
])
def test_summary_of_each_preset(preset, layers):
    result = subprocess.run([sys.executable, "-m", "lbie_tf.cli.summary", f"--flagfile=configs/{preset}.cfg"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "COLUMNS": "160"})
    assert result.returncode == 0, result.stderr[-2000:]
    for name in layers:
        assert name in result.stdout, name


def test_bad_flag_is_one_line():
    result = subprocess.run([sys.executable, "-m", "lbie_tf.cli.summary", "--decoder=unet"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: --decoder='unet'")
