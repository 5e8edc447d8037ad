"""The entry point: every preset flagfile parses into valid configs and builds its model, and mistakes a user
can fix end with one line on stderr and exit status 2 (no traceback)."""

import glob
import json
import os
import subprocess
import sys

import pytest
from absl import flags

import train_segmentation
from lbie_tf.cli import flags as lbie_flags
from lbie_tf.errors import ConfigError
from lbie_tf.models.segmenter import build_segmenter
from tests.entry_points import ROOT, run_script

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


@pytest.mark.parametrize("value, stages", [("8:1000,6:2000", ((8, 1000), (6, 2000))), ("", ()),
                                           ("8-1000", None), ("8:x", None), ("8:1000:2", None)])
def test_curriculum_flag(value, stages):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["train_segmentation.py", f"--cosal_curriculum={value}", "--model_dir=/tmp/unused"])
    try:
        if stages is None:
            with pytest.raises(ConfigError, match="num_direct:end_step"):
                train_segmentation.cosal_config_from_flags()
        else:
            assert train_segmentation.cosal_config_from_flags().curriculum == stages
    finally:
        flags.FLAGS.unparse_flags()


def _run(*args):
    return run_script("train_segmentation.py", *args)


@pytest.mark.parametrize("args, message", [
    (["--model_dir=/tmp/x", "--attention_score=dot"], "--attention_score='dot' is not one of"),
    (["--model_dir=/tmp/x", "--flagfile=configs/referit_paper.cfg"], "--data_dir is required"),
    (["--model_dir=/tmp/x", "--flagfile=configs/referit_paper.cfg", "--data_dir=/nonexistent"],
     "holds no prepared ReferIt"),
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


REFERIT_CONFIGS = sorted(glob.glob(os.path.join(ROOT, "configs", "referit_*.cfg")))


@pytest.mark.parametrize("path", REFERIT_CONFIGS, ids=os.path.basename)
def test_referit_presets_parse(path):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["train_segmentation.py", f"--flagfile={path}", "--model_dir=/tmp/unused"])
    model = lbie_flags.segmenter_config_from_flags()
    training = lbie_flags.training_config_from_flags()
    data = lbie_flags.referit_config_from_flags()
    assert flags.FLAGS.dataset == "referit" and data.eval_split == "test"
    assert (model.image_encoder, model.image_size, model.encoder_stride) == ("vgg16", 512, 32)
    assert (model.text_encoder, model.num_classes, model.vocab_size) == ("words", 1, 8803)
    assert (model.sentence_units, model.attention_units, model.fusion_units) == (1024, 512, 1024)
    assert model.steps == (1 if path.endswith("t1.cfg") else 3)
    assert training.weight_decay > 0
    assert lbie_flags.config_from_flagfile(type(model), path) == model  # the benchmarks' way to read a preset
    flags.FLAGS.unparse_flags()


def test_referit_one_command_then_evaluate(referit_prepared, tmp_path):
    """Train (preparing the data from --manual_dir into an empty --data_dir first), evaluate, then re-evaluate
    the saved run with lbie-evaluate-referit: the same numbers."""
    manual_dir, _ = referit_prepared
    data_dir, model_dir = str(tmp_path / "tfds"), str(tmp_path / "run")
    small = ["--image_size=64", "--vgg_blocks=3", "--vocab_size=17", "--word_embedding_dim=8", "--sentence_units=8",
             "--attention_units=8", "--fusion_units=8", "--classifier_units=8", "--steps=2", "--batch_size=4",
             "--train_steps=3", "--eval_batch_size=3", "--jit_compile=off", "--summary_every=1",
             "--image_summary_every=3"]
    result = _run("--flagfile=configs/referit_paper.cfg", *small, f"--data_dir={data_dir}",
                  f"--manual_dir={manual_dir}", f"--model_dir={model_dir}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| Hu, etc. [9] | 34.02%" in result.stdout and "| lbie-tf (this run) |" in result.stdout
    assert "4 expressions" in result.stdout
    with open(os.path.join(model_dir, "eval_results.json"), encoding="utf-8") as f:
        trained = json.load(f)
    evaluation = subprocess.run([sys.executable, "-m", "lbie_tf.cli.evaluate_referit", f"--model_dir={model_dir}",
                                 f"--data_dir={data_dir}", "--eval_batch_size=2"], cwd=ROOT, capture_output=True,
                                text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert evaluation.returncode == 0, evaluation.stderr[-3000:]
    with open(os.path.join(model_dir, "referit_test_results.json"), encoding="utf-8") as f:
        evaluated = json.load(f)
    assert evaluated["step"] == 3 and evaluated["num_expressions"] == 4
    for key in ("cumulative_intersection", "cumulative_union", "precision", "overall_iou"):
        assert evaluated[key] == trained[key]
    assert os.path.isfile(os.path.join(model_dir, "referit_test_table3.md"))
