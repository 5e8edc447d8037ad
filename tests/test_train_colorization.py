"""The colorization entry point: the CoSaL preset parses into valid configs that build, the benchmark's
baseline switches give the text-free pair, and mistakes end with one line on stderr and exit status 2."""

import os

import numpy as np
import pytest
from absl import flags

import train_colorization
from lbie_tf.cli import flags as lbie_flags
from lbie_tf.tasks.colorization import check_gan_configs
from tests.entry_points import ROOT, run_script

COSAL_PRESET = os.path.join(ROOT, "configs", "cosal_colorization.cfg")


@pytest.mark.parametrize("extra, use_text", [([], True), (["--nogenerator_use_text", "--discriminator_text=none"],
                                                          False)], ids=["lbie", "baseline_i2i"])
def test_cosal_preset_parses(extra, use_text):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["train_colorization.py", f"--flagfile={COSAL_PRESET}", "--model_dir=/tmp/unused", *extra])
    generator, discriminator, gan = lbie_flags.colorization_configs_from_flags()
    assert flags.FLAGS.dataset == "cosal" and generator.use_text is use_text
    check_gan_configs(generator, discriminator)
    data = train_colorization.cosal_config_from_flags()
    assert data.num_direct == 9 and data.image_size == 48
    assert gan.pixel_loss == "l2" and lbie_flags.training_config_from_flags().batch_size == 32
    flags.FLAGS.unparse_flags()


def _run(*args):
    return run_script("train_colorization.py", *args)


@pytest.mark.parametrize("args, message", [
    (["--dataset=cosal"], "--model_dir is required"),
    (["--dataset=cosal", "--model_dir=/tmp/x", "--generator_attention_score=dot"],
     "--generator_attention_score='dot' is not one of"),
    (["--flagfile=configs/cosal_colorization.cfg", "--model_dir=/tmp/x", "--nogenerator_use_text"],
     "--discriminator_text=none"),
    (["--flagfile=configs/cosal_colorization.cfg", "--model_dir=/tmp/x", "--generator_vocab_size=30"],
     "CoSaL colorization uses 22 word ids"),
])
def test_user_errors_are_one_line_with_status_2(args, message):
    result = _run(*args)
    assert result.returncode == 2, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last
    assert "Traceback" not in result.stderr


FLOWERS_PRESETS = ["flowers_paper.cfg", "flowers_released_code.cfg", "flowers_baseline_i2i.cfg"]


@pytest.fixture(scope="module")
def flowers_fixture(tmp_path_factory):
    from tests.datasets.flowers_fixture import write_flowers_fixture

    root = tmp_path_factory.mktemp("flowers_colorization")
    return str(root / "data"), write_flowers_fixture(str(root), images_per_class=2)


@pytest.mark.parametrize("preset", FLOWERS_PRESETS)
def test_flowers_preset_trains_end_to_end_on_the_fixture(preset, flowers_fixture, tmp_path):
    """Each Flowers preset, reduced to 32×32 images and 2 steps, trains, checkpoints and evaluates."""
    import json

    import tensorflow as tf

    data_dir, manual_dir = flowers_fixture
    flags.FLAGS.unparse_flags()
    flags.FLAGS(["train_colorization.py", f"--flagfile={os.path.join(ROOT, 'configs', preset)}",
                 f"--model_dir={tmp_path}", f"--flowers_data_dir={data_dir}", f"--flowers_manual_dir={manual_dir}",
                 "--flowers_image_size=32", "--flowers_resize_size=0", "--train_steps=2", "--checkpoint_every=1"])
    trainer = train_colorization.make_trainer(tf.distribute.get_strategy())
    trainer.progress_stream = None
    report = trainer.run()
    flags.FLAGS.unparse_flags()
    assert report["step"] == 2 and report["num_images"] > 0
    assert np.isfinite(report["psnr"]) and -1 <= report["ssim"] <= 1 and report["colourfulness"] >= 0
    assert report["colour_words"] > 0 and 0 <= report["consistency"] <= 1
    assert json.load(open(os.path.join(tmp_path, "eval_results.json")))["step"] == 2
    generator = trainer.task.generator
    assert generator.config.use_text is (preset != "flowers_baseline_i2i.cfg")
    assert generator.config.vocab_size > 2  # filled in from the fixture's vocabulary
