"""Flags generated from the config records: names, defaults, error messages naming flags, preset resolution."""

import dataclasses
import os

import pytest
from absl import flags

from lbie_tf.cli import flags as lbie_flags
from lbie_tf.configs import ColorizerConfig, CosalConfig, SegmenterConfig
from lbie_tf.errors import ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_cosal_flags_are_generated_from_the_config_with_its_defaults():
    values = flags.FlagValues()
    lbie_flags.define_config_flags(CosalConfig, "CoSaL", flag_values=values)
    values(["test"])
    names = {field.name: lbie_flags.flag_name(CosalConfig, field) for field in dataclasses.fields(CosalConfig)}
    assert names == {"image_size": None, "num_direct": "num_direct", "legacy_captions": "cosal_legacy_captions",
                     "seed": "data_seed", "train_size": "cosal_train_size", "test_size": "cosal_test_size",
                     "curriculum": "cosal_curriculum", "num_direct_mixture": "cosal_num_direct_mixture",
                     "augment": "cosal_augment"}
    assert values["data_seed"].value == CosalConfig.seed and values["cosal_train_size"].value == CosalConfig.train_size
    values(["test", "--cosal_curriculum=8:100,6:200", "--num_direct=5", "--cosal_num_direct_mixture=4,4,8",
            "--cosal_augment"])
    config = lbie_flags.config_from_flags(CosalConfig, flag_values=values, image_size=48)
    assert config.curriculum == ((8, 100), (6, 200)) and config.num_direct == 5
    assert config.num_direct_mixture == (4, 4, 8) and config.augment


def test_library_errors_name_fields_and_the_command_line_names_flags():
    with pytest.raises(ConfigError, match=r"^ColorizerConfig\.filters must be at least 1, got 0$"):
        ColorizerConfig(filters=0)
    values = flags.FlagValues()
    lbie_flags.define_config_flags(ColorizerConfig, "G", flag_values=values)
    values(["test", "--generator_filters=0"])
    with pytest.raises(ConfigError, match=r"^--generator_filters must be at least 1, got 0$"):
        lbie_flags.config_from_flags(ColorizerConfig, flag_values=values)
    assert lbie_flags.to_flag_names("CosalConfig.seed and SegmenterConfig.steps") == "--data_seed and --steps"


def test_presets_inherit_and_resolve_outside_the_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # configs/... is not under the current directory: the installed presets answer
    t1 = lbie_flags.config_from_flagfile(SegmenterConfig, "configs/cosal_paper_t1.cfg")
    t4 = lbie_flags.config_from_flagfile(SegmenterConfig, "configs/cosal_paper_t4.cfg")
    assert (t1.steps, t4.steps) == (1, 4)
    assert dataclasses.replace(t1, steps=4) == t4  # the presets differ in exactly one field
    with open(os.path.join(ROOT, "configs", "cosal_paper_t4.cfg"), encoding="utf-8") as f:
        assert "--flagfile=configs/cosal_base.cfg" in f.read()
    with pytest.raises(ConfigError, match="no flagfile configs/missing.cfg"):
        lbie_flags.expand_flagfiles(["--flagfile=configs/missing.cfg"])


def test_open_choices_preset_differs_from_the_paper_t4_preset_in_its_three_open_choices():
    from lbie_tf.configs import TrainingConfig

    paper = "configs/cosal_paper_t4.cfg"
    fixed = "configs/cosal_paper_t4_open_choices.cfg"
    model, open_model = (lbie_flags.config_from_flagfile(SegmenterConfig, p) for p in (paper, fixed))
    training, open_training = (lbie_flags.config_from_flagfile(TrainingConfig, p) for p in (paper, fixed))
    assert (model.output_projection_init, model.termination_kernel_init, training.gate_warmup_steps) == (
        "glorot", "glorot", 0)  # the paper preset keeps Keras' defaults and no warm-up
    assert dataclasses.replace(model, output_projection_init="identity", termination_kernel_init="zeros") == open_model
    assert dataclasses.replace(training, gate_warmup_steps=200) == open_training
