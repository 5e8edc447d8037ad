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

from lbie_tf.config import (
    ColorizerConfig,
    DiscriminatorConfig,
    GanConfig,
    SegmenterConfig,
    TrainingConfig,
)
from lbie_tf.errors import ConfigError

FLAGS = flags.FLAGS
GENERATOR_PREFIX = "generator_"
DISCRIMINATOR_PREFIX = "discriminator_"
FLOWERS_PREFIX = "flowers_"


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
    flags.DEFINE_list("cosal_curriculum", [], "Training stages before --num_direct, as num_direct:end_step "
                      "(ours), e.g. 4:3000 = steps 0-2999 with 4 direct sentences, then --num_direct. Testing "
                      "always uses --num_direct.")


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
def define_colorization_flags() -> None:
    """Colorization flags: `--generator_*` (`ColorizerConfig`), `--discriminator_*` (`DiscriminatorConfig`),
    the GAN loss (`GanConfig`) and pretrained word vectors; `--dataset` comes from `define_dataset_flag`."""
    _define_from_dataclass(ColorizerConfig, "Colorization generator", GENERATOR_PREFIX)
    _define_from_dataclass(DiscriminatorConfig, "Colorization discriminator", DISCRIMINATOR_PREFIX)
    _define_from_dataclass(GanConfig, "Colorization GAN")
    flags.DEFINE_string("word_vectors", None, "Local word2vec / GloVe text file (`word v1 .. vD` per line) loaded "
                        "into the word embedding, which is then frozen (the released code's GoogleNews vectors).")


@functools.cache  # once per process, whichever entry points are imported
def define_flowers_flags() -> None:
    """`--flowers_*` flags, one per `lbie_tf.data.flowers.FlowersConfig` field."""
    from lbie_tf.data.flowers import FlowersConfig

    _define_from_dataclass(FlowersConfig, "Flowers data", FLOWERS_PREFIX)


def flowers_config_from_flags():
    """The `FlowersConfig` of the `--flowers_*` flags."""
    from lbie_tf.data.flowers import FlowersConfig

    return _dataclass_from_flags(FlowersConfig, FLOWERS_PREFIX)


def colorization_configs_from_flags() -> tuple[ColorizerConfig, DiscriminatorConfig, GanConfig]:
    return (_dataclass_from_flags(ColorizerConfig, GENERATOR_PREFIX),
            _dataclass_from_flags(DiscriminatorConfig, DISCRIMINATOR_PREFIX), _dataclass_from_flags(GanConfig))


@functools.cache  # once per process, whichever entry points are imported
def define_dataset_flag() -> None:
    """`--dataset`, shared by both entry points (every preset sets it): segmentation takes cosal or referit,
    colorization cosal or flowers; each entry point refuses the others with a one-line error."""
    flags.DEFINE_enum("dataset", "cosal", ["cosal", "referit", "flowers"], "Data to train and evaluate on: the "
                      "generated CoSaL stream, the prepared ReferIt or Oxford-102 Flowers (--data_dir).")


@functools.cache  # once per process, whichever entry points are imported
def define_referit_flags() -> None:
    """ReferIt data and initialisation flags, one per `lbie_tf.data.referit.ReferitConfig` field."""
    from lbie_tf.data.referit import ReferitConfig

    _define_from_dataclass(ReferitConfig, "ReferIt")


def referit_config_from_flags():
    from lbie_tf.data.referit import ReferitConfig

    return _dataclass_from_flags(ReferitConfig)


def cosal_config_from_flags(image_size: int = 48):
    """The `lbie_tf.data.cosal.CosalConfig` of the CoSaL flags, at `image_size` pixels."""
    from lbie_tf.data.cosal import CosalConfig

    return CosalConfig(image_size=image_size, num_direct=FLAGS.num_direct,
                       legacy_captions=FLAGS.cosal_legacy_captions, seed=FLAGS.data_seed,
                       train_size=FLAGS.cosal_train_size, test_size=FLAGS.cosal_test_size,
                       curriculum=_curriculum_stages(FLAGS.cosal_curriculum))


def _curriculum_stages(items: list[str]) -> tuple[tuple[int, int], ...]:
    """`["8:1000", "6:2000"]` → `((8, 1000), (6, 2000))`; a malformed item is a one-line ConfigError."""
    stages = []
    for item in items:
        parts = item.split(":")
        if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
            raise ConfigError(f"--cosal_curriculum items are num_direct:end_step, got {item!r}")
        stages.append((int(parts[0]), int(parts[1])))
    return tuple(stages)


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
    _define_from_dataclass(cls, cls.__name__, flag_values=values)
    values(["preset", f"--flagfile={path}"], known_only=True)
    return cls(**{field.name: values[field.name].value for field in dataclasses.fields(cls)})


def _define_from_dataclass(cls, group: str, prefix: str = "", flag_values: flags.FlagValues = FLAGS) -> None:
    """One flag `<prefix><field>` per field of `cls` in `flag_values`, with the field's docstring entry as help."""
    helps = _attribute_help(cls)
    for field in dataclasses.fields(cls):
        default = field.default
        name = prefix + field.name
        help_text = f"{group}: {helps.get(field.name, field.name)}"
        if isinstance(default, bool):
            flags.DEFINE_bool(name, default, help_text, flag_values=flag_values)
        elif isinstance(default, int):
            flags.DEFINE_integer(name, default, help_text, flag_values=flag_values)
        elif isinstance(default, float):
            flags.DEFINE_float(name, default, help_text, flag_values=flag_values)
        else:
            flags.DEFINE_string(name, default, help_text, flag_values=flag_values)


def _dataclass_from_flags(cls, prefix: str = ""):
    return cls(**{field.name: getattr(FLAGS, prefix + field.name) for field in dataclasses.fields(cls)})
