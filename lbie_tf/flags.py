"""absl flags of the entry points, defined once, grouped per part, and turned into config records.

Presets live in `configs/*.cfg` flagfiles (`--flagfile=configs/cosal_paper_t4.cfg`); flags given after the
flagfile on the command line override it. Nested `--flagfile` lines are resolved against the current
directory, so run the entry points from the repository root.
"""

from __future__ import annotations

import dataclasses
import functools
import re

from absl import flags

from lbie_tf.config import SegmenterConfig, TrainingConfig

FLAGS = flags.FLAGS


@functools.cache  # once per process, whichever entry points are imported
def define_cosal_flags() -> None:
    """CoSaL generator flags (`lbie_tf.data.cosal.CosalConfig`)."""
    flags.DEFINE_integer("num_direct", 4, "Direct sentences ('circle is red') per 9-sentence caption (1..9); "
                         "the rest are relational ('red below circle'). Paper Table 2: 4, 6, 8.")
    flags.DEFINE_bool("cosal_legacy_captions", False,
                      "Reproduce the released generator's coverage bug (make_data.py:225): relational "
                      "sentences may re-describe direct cells and leave others undetermined.")
    flags.DEFINE_integer("cosal_train_size", 50_000, "Distinct training images (paper: 50,000); 0 = an endless "
                         "stream of fresh images.")
    flags.DEFINE_integer("cosal_test_size", 10_000, "Held-out test images (paper: 10,000).")
    flags.DEFINE_integer("data_seed", 0, "Seed of the CoSaL generator (train and test streams are disjoint).")


@functools.cache  # once per process, whichever entry points are imported
def define_segmenter_flags() -> None:
    """Model architecture flags, one per `SegmenterConfig` field (defaults: the paper's CoSaL model)."""
    _define_from_dataclass(SegmenterConfig, "Segmentation model")


@functools.cache  # once per process, whichever entry points are imported
def define_training_flags() -> None:
    """Training loop flags, one per `TrainingConfig` field, plus the run directory."""
    _define_from_dataclass(TrainingConfig, "Training")
    flags.DEFINE_string("model_dir", None, "Checkpoints, TensorBoard logs and eval_results.json; an existing "
                        "run there is resumed.")
    flags.DEFINE_list("devices", None, "Devices for --strategy=mirrored, e.g. /gpu:0,/gpu:1 (default: all GPUs).")
    flags.DEFINE_string("figure", None, "Write a PNG of a test example (input, target, prediction, stop steps) "
                        "here after training.")


@functools.cache  # once per process, whichever entry points are imported
def define_dataset_flag() -> None:
    """`--dataset`: which data a segmentation run uses (every preset sets it)."""
    flags.DEFINE_enum("dataset", "cosal", ["cosal", "referit"], "Data to train and evaluate on: the generated "
                      "CoSaL stream, or the prepared ReferIt (--data_dir).")


@functools.cache  # once per process, whichever entry points are imported
def define_referit_flags() -> None:
    """ReferIt data and initialisation flags, one per `lbie_tf.data.referit.ReferitConfig` field."""
    from lbie_tf.data.referit import ReferitConfig

    _define_from_dataclass(ReferitConfig, "ReferIt")


def referit_config_from_flags():
    from lbie_tf.data.referit import ReferitConfig

    return _dataclass_from_flags(ReferitConfig)


def segmenter_config_from_flags() -> SegmenterConfig:
    return _dataclass_from_flags(SegmenterConfig)


def training_config_from_flags() -> TrainingConfig:
    return _dataclass_from_flags(TrainingConfig)


def _attribute_help(cls) -> dict[str, str]:
    """`name: text` entries of the class docstring's Attributes section (continuation lines joined)."""
    helps: dict[str, str] = {}
    current = None
    for line in (cls.__doc__ or "").split("Attributes:", 1)[-1].splitlines():
        match = re.match(r"^\s{8}([\w /]+):\s*(.*)$", line)
        if match:
            names = [n.strip() for n in match.group(1).split("/")]
            current = names
            for name in names:
                helps[name] = match.group(2)
        elif current and line.startswith(" " * 12):
            for name in current:
                helps[name] += " " + line.strip()
    return helps


def dataclass_from_flagfile(cls, path: str):
    """A config record (e.g. `SegmenterConfig`) from the flags of a preset flagfile that name its fields; the
    file's other flags are ignored and the process' own flags are not touched."""
    values = flags.FlagValues()
    _define_from_dataclass(cls, cls.__name__, values)
    values(["preset", f"--flagfile={path}"], known_only=True)
    return cls(**{field.name: values[field.name].value for field in dataclasses.fields(cls)})


def _define_from_dataclass(cls, group: str, flag_values: flags.FlagValues = FLAGS) -> None:
    helps = _attribute_help(cls)
    for field in dataclasses.fields(cls):
        default = field.default
        help_text = f"{group}: {helps.get(field.name, field.name)}"
        if isinstance(default, bool):
            flags.DEFINE_bool(field.name, default, help_text, flag_values=flag_values)
        elif isinstance(default, int):
            flags.DEFINE_integer(field.name, default, help_text, flag_values=flag_values)
        elif isinstance(default, float):
            flags.DEFINE_float(field.name, default, help_text, flag_values=flag_values)
        else:
            flags.DEFINE_string(field.name, default, help_text, flag_values=flag_values)


def _dataclass_from_flags(cls):
    return cls(**{field.name: getattr(FLAGS, field.name) for field in dataclasses.fields(cls)})
