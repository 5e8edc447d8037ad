"""absl flags of the entry points, generated from the config records, and turned back into config records.

Every flag is a field of a config dataclass (`lbie_tf.configs`): its name is the field's name with the group's
prefix (`--generator_filters` is `ColorizerConfig.filters`) or the name in the field's `metadata["flag"]`
(`--data_seed` is `CosalConfig.seed`); its default is the field's default and its help the field's entry in
the class docstring. Library errors name config fields (`ColorizerConfig.filters must be at least 1`);
`to_flag_names` rewrites them into the flags a user of the scripts typed.

Presets are flagfiles (`--flagfile=configs/cosal_paper_t4.cfg`); flags given after the flagfile on the command
line override it. `expand_flagfiles` is the one flagfile reader: it resolves `configs/<name>.cfg` against the
current directory first, then against the presets installed with the package (`lbie_tf/presets/`), and
expands nested `--flagfile` lines (a preset's base) the same way.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import sys

from absl import flags

from lbie_tf.configs import (
    ColorizerConfig,
    CosalConfig,
    DiscriminatorConfig,
    FlowersConfig,
    GanConfig,
    ReferitConfig,
    SegmenterConfig,
    TrainingConfig,
    choices,
)
from lbie_tf.errors import ConfigError

FLAGS = flags.FLAGS
GENERATOR_PREFIX = "generator_"
DISCRIMINATOR_PREFIX = "discriminator_"
FLOWERS_PREFIX = "flowers_"
PRESETS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "presets")
PRESET_FOLDER = "configs"  # how commands and flagfiles name the presets: configs/<name>.cfg

# The prefix of every config class's flags (its fields' flag names follow from it).
PREFIXES = {SegmenterConfig: "", TrainingConfig: "", CosalConfig: "", ReferitConfig: "", GanConfig: "",
            ColorizerConfig: GENERATOR_PREFIX, DiscriminatorConfig: DISCRIMINATOR_PREFIX, FlowersConfig: FLOWERS_PREFIX}


def flag_name(cls, field: dataclasses.Field) -> str | None:
    """The flag of a config field, or None when the field has no flag."""
    if "flag" in field.metadata:
        return field.metadata["flag"]
    return PREFIXES[cls] + field.name


def to_flag_names(message: str) -> str:
    """A library message with every `ClassName.field` of a config record replaced by its flag (`--name`)."""
    names, pattern = _field_flags()
    return pattern.sub(lambda m: f"--{names[m.group(1)]}" if names[m.group(1)] else m.group(1), message)


@functools.cache
def _field_flags() -> tuple[dict[str, str | None], re.Pattern]:
    """`{"ClassName.field": flag name or None}` of every config record, and a pattern matching the keys."""
    names = {f"{cls.__name__}.{field.name}": flag_name(cls, field)
             for cls in PREFIXES for field in dataclasses.fields(cls)}
    return names, re.compile(r"\b(" + "|".join(re.escape(name) for name in names) + r")\b")


# The `define_*_flags` functions define their flags once per process, whichever entry points are imported, and
# return the names of the flags they define, which an entry point passes to `declare_key_flags`.
@functools.cache
def define_cosal_flags() -> tuple[str, ...]:
    """CoSaL generator flags, one per `CosalConfig` field (`--image_size` comes from the model)."""
    return define_config_flags(CosalConfig, "CoSaL data")


@functools.cache
def define_segmenter_flags() -> tuple[str, ...]:
    """Model architecture flags, one per `SegmenterConfig` field (defaults: the paper's CoSaL model)."""
    return define_config_flags(SegmenterConfig, "Segmentation model")


@functools.cache
def define_training_flags() -> tuple[str, ...]:
    """Training loop flags, one per `TrainingConfig` field, plus the run directory, devices and figure."""
    flags.DEFINE_string("model_dir", None, "Checkpoints, TensorBoard logs and eval_results.json; an existing "
                        "run there is resumed.")
    flags.DEFINE_list("devices", None, "Devices for --strategy=mirrored, e.g. /gpu:0,/gpu:1 (default: all GPUs).")
    flags.DEFINE_string("figure", None, "Write a PNG of a test example (input, target, prediction, stop steps) "
                        "here after training.")
    return define_config_flags(TrainingConfig, "Training") + ("model_dir", "devices", "figure")


@functools.cache
def define_colorization_flags() -> tuple[str, ...]:
    """Colorization flags: `--generator_*` (`ColorizerConfig`), `--discriminator_*` (`DiscriminatorConfig`),
    the GAN loss (`GanConfig`) and pretrained word vectors; `--dataset` comes from `define_dataset_flag`."""
    flags.DEFINE_string("word_vectors", None, "Local word2vec / GloVe text file (`word v1 .. vD` per line) loaded "
                        "into the word embedding, which is then frozen (the released code's GoogleNews vectors).")
    return (define_config_flags(ColorizerConfig, "Colorization generator")
            + define_config_flags(DiscriminatorConfig, "Colorization discriminator")
            + define_config_flags(GanConfig, "Colorization GAN") + ("word_vectors",))


@functools.cache
def define_flowers_flags() -> tuple[str, ...]:
    """`--flowers_*` flags, one per `FlowersConfig` field."""
    return define_config_flags(FlowersConfig, "Flowers data")


@functools.cache
def define_referit_flags() -> tuple[str, ...]:
    """ReferIt data and initialisation flags, one per `ReferitConfig` field."""
    return define_config_flags(ReferitConfig, "ReferIt")


@functools.cache
def define_dataset_flag() -> tuple[str, ...]:
    """`--dataset`, shared by both entry points (every preset sets it): segmentation takes cosal or referit,
    colorization cosal or flowers; each entry point refuses the others with a one-line error."""
    datasets = sorted(set(choices.SEGMENTATION_DATASETS) | set(choices.COLORIZATION_DATASETS))
    flags.DEFINE_enum("dataset", "cosal", datasets, "Data to train and evaluate on: the generated CoSaL stream, "
                      "the prepared ReferIt or Oxford-102 Flowers (--data_dir).")
    return ("dataset",)


def declare_key_flags(module_name: str, names, flag_values: flags.FlagValues = FLAGS) -> None:
    """Make the flags `names` key flags of the entry point `module_name` (its `__name__`): its `--help` lists
    them as its own, and only them, whichever other entry points the process imported."""
    module = sys.argv[0] if module_name == "__main__" else module_name  # how absl names the main module
    for name in names:
        flag_values.register_key_flag_for_module(module, flag_values[name])


def config_flag_names(cls) -> tuple[str, ...]:
    """The flags of config class `cls`'s fields."""
    return tuple(name for name in (flag_name(cls, field) for field in dataclasses.fields(cls)) if name is not None)


def refuse_changed_flags(cls, context: str, flag_values: flags.FlagValues = FLAGS) -> None:
    """`ConfigError` naming the flags of config class `cls` that are not at their defaults: the run `context`
    names (e.g. `--dataset=cosal`) does not read `cls`, so they would be ignored."""
    changed = [f"--{name}" for name in config_flag_names(cls) if flag_values[name].value != flag_values[name].default]
    if changed:
        raise ConfigError(f"{', '.join(changed)} do(es) not apply with {context}: leave it at its default")


def flowers_config_from_flags() -> FlowersConfig:
    return config_from_flags(FlowersConfig)


def colorization_configs_from_flags() -> tuple[ColorizerConfig, DiscriminatorConfig, GanConfig]:
    return config_from_flags(ColorizerConfig), config_from_flags(DiscriminatorConfig), config_from_flags(GanConfig)


def referit_config_from_flags() -> ReferitConfig:
    return config_from_flags(ReferitConfig)


def cosal_config_from_flags(image_size: int = CosalConfig.image_size) -> CosalConfig:
    """The `CosalConfig` of the CoSaL flags, at `image_size` pixels."""
    return config_from_flags(CosalConfig, image_size=image_size)


def segmenter_config_from_flags() -> SegmenterConfig:
    return config_from_flags(SegmenterConfig)


def training_config_from_flags() -> TrainingConfig:
    return config_from_flags(TrainingConfig)


def expand_flagfiles(argv: list[str]) -> list[str]:
    """`argv` with every `--flagfile=PATH` replaced by the file's flags (recursively), presets resolved as the
    module docstring says; comment and blank lines are skipped. `ConfigError` for a missing file."""
    expanded = []
    for arg in argv:
        match = re.fullmatch(r"--?flagfile=(.+)", arg)
        if not match:
            expanded.append(arg)
            continue
        with open(resolve_preset(match.group(1)), encoding="utf-8") as f:
            lines = [line.strip() for line in f]
        expanded += expand_flagfiles([line for line in lines if line and not line.startswith("#")])
    return expanded


def resolve_preset(path: str) -> str:
    """The file a `--flagfile` value names: `path` itself if it exists, else for `configs/<name>.cfg` the
    preset installed with the package. `ConfigError` when neither exists."""
    path = os.path.expanduser(path)
    if os.path.exists(path):
        return path
    folder, name = os.path.split(os.path.normpath(path))
    installed = os.path.join(PRESETS_DIR, name)
    if os.path.basename(folder) == PRESET_FOLDER and os.path.exists(installed):
        return installed
    raise ConfigError(f"no flagfile {path} (presets: {', '.join(sorted(available_presets()))})")


def available_presets() -> list[str]:
    """`configs/<name>.cfg` of every preset installed with the package."""
    return [f"{PRESET_FOLDER}/{name}" for name in sorted(os.listdir(PRESETS_DIR)) if name.endswith(".cfg")]


def config_from_flagfile(cls, path: str, extra_flags: tuple[str, ...] = (), **fixed):
    """A config record (e.g. `SegmenterConfig`) from a preset flagfile and extra flags; the file's other flags
    are ignored and the process' own flags are not touched."""
    values = flags.FlagValues()
    define_config_flags(cls, cls.__name__, flag_values=values)
    values(["preset", *expand_flagfiles([f"--flagfile={path}", *extra_flags])], known_only=True)
    return config_from_flags(cls, flag_values=values, **fixed)


def define_config_flags(cls, group: str, flag_values: flags.FlagValues = FLAGS) -> tuple[str, ...]:
    """One flag per field of `cls` (named by `flag_name`) in `flag_values`, with the field's docstring entry as
    help; tuple fields are comma-separated lists (`metadata["format"]` writes the default). Returns the flags'
    names. `ValueError` for a field that the class docstring does not describe (its flag would have no help)."""
    helps = _attribute_help(cls)
    for field in dataclasses.fields(cls):
        name = flag_name(cls, field)
        if name is None:
            continue
        if field.name not in helps:
            raise ValueError(f"{cls.__name__}.{field.name} has no entry in the class docstring's Attributes")
        default = field.default
        help_text = f"{group}: {helps[field.name]}"
        if isinstance(default, bool):
            flags.DEFINE_bool(name, default, help_text, flag_values=flag_values)
        elif isinstance(default, int):
            flags.DEFINE_integer(name, default, help_text, flag_values=flag_values)
        elif isinstance(default, float):
            flags.DEFINE_float(name, default, help_text, flag_values=flag_values)
        elif isinstance(default, tuple):
            flags.DEFINE_list(name, field.metadata["format"](default), help_text, flag_values=flag_values)
        else:
            flags.DEFINE_string(name, default, help_text, flag_values=flag_values)
    return config_flag_names(cls)


def config_from_flags(cls, flag_values: flags.FlagValues = FLAGS, **fixed):
    """The `cls` record of the flags in `flag_values`; `fixed` sets fields that have no flag. A `ConfigError`
    names the flags, not the fields."""
    values = dict(fixed)
    for field in dataclasses.fields(cls):
        name = flag_name(cls, field)
        if name is not None:
            value = flag_values[name].value
            values[field.name] = field.metadata["parse"](value) if "parse" in field.metadata else value
    try:
        return cls(**values)
    except ConfigError as error:
        raise ConfigError(to_flag_names(str(error))) from None


def _attribute_help(cls) -> dict[str, str]:
    """`name: text` entries of the class docstring's Attributes section (continuation lines joined). An entry
    may describe several fields, named before the colon with "/" or "," between them (`learning_rate,
    adam_beta_1: Adam ...`); each of them gets the entry, its names included, so the help says which value is
    which."""
    helps: dict[str, str] = {}
    current = None
    for line in (cls.__doc__ or "").split("Attributes:", 1)[-1].splitlines():
        match = re.match(r"^\s{8}(\w+(?:\s*[/,]\s*\w+)*):\s*(.*)$", line)
        if match:
            names = [n.strip() for n in re.split(r"[/,]", match.group(1))]
            current = names
            for name in names:
                helps[name] = match.group(2) if len(names) == 1 else f"{match.group(1)}: {match.group(2)}"
        elif current and line.startswith(" " * 12):
            for name in current:
                helps[name] += " " + line.strip()
    return helps
