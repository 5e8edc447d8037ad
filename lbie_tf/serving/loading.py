"""Loading models for inference: a training run's `--model_dir`, a shipped pretrained model by name, or an
exported SavedModel, each kind called the same way from every source (a segmenter
`model({"image": ..., "tokens": ...})`, a colorizer `model({"gray": ..., "tokens": ...})`).

    from lbie_tf import load_segmenter, load_colorizer
    model = load_segmenter()                                  # the shipped default
    model = load_segmenter(model_dir="runs/cosal_t4")         # a training run's latest checkpoint
    model = load_segmenter(saved_model="export/lbie/1")       # an lbie-export version folder
    model = load_segmenter(pretrained="cosal_paper_t4")       # a shipped model by name
    generator = load_colorizer()                              # the shipped CoSaL colorizer; same sources
    model = load_model(model_dir="runs/any")                  # either kind, read from the run's model_config.json

A run's kind is read from its `model_config.json`: a segmentation run records `model`, a colorization run
`generator`; a shipped model's from its `metadata.json` (`kind`), an export's from its signature.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from lbie_tf.configs import ColorizerConfig, SegmenterConfig
from lbie_tf.data.flowers_vocabulary import VOCABULARY_FILE, FlowersVocabulary
from lbie_tf.errors import ConfigError, DataError
from lbie_tf.models.colorizer import LanguageColorizer, build_colorizer
from lbie_tf.models.segmenter import build_segmenter
from lbie_tf.serving.export import ExportedColorizer, load_exported
from lbie_tf.training.checkpoints import RUN_CONFIG_FILE, AtomicCheckpointManager, read_run_file

SEGMENTER, COLORIZER = "segmenter", "colorizer"
_SCRIPTS = {SEGMENTER: "train_segmentation.py", COLORIZER: "train_colorization.py"}


def run_kind(model_dir: str) -> str:
    """`SEGMENTER` or `COLORIZER`: the kind of model a training run's `model_config.json` describes."""
    run = _run_config(model_dir, " or ".join(_SCRIPTS.values()))
    if "model" in run:
        return SEGMENTER
    if "generator" in run:
        return COLORIZER
    raise DataError(f"{model_dir}/{RUN_CONFIG_FILE} describes neither a segmenter (no 'model') nor a colorizer "
                    f"(no 'generator')")


def load_trained_model(model_dir: str):
    """`(model, step)` of a training run of either kind (`run_kind`), with its latest checkpoint's weights."""
    if run_kind(model_dir) == COLORIZER:
        return load_trained_colorizer(model_dir)
    return load_trained_segmenter(model_dir)


def load_model(model_dir: str | None = None, saved_model: str | None = None, pretrained: str | None = None):
    """A segmenter or colorizer ready for inference, from at most one of the sources of `load_segmenter`, its
    kind read from the source; with no argument, the shipped default segmenter."""
    _check_one_source(model_dir, saved_model, pretrained)
    if saved_model:
        return load_exported(saved_model)
    if model_dir:
        return load_trained_model(model_dir)[0]
    from lbie_tf import pretrained as shipped

    return shipped.load_pretrained(pretrained or shipped.DEFAULT_SEGMENTER)[0]


def load_trained_segmenter(model_dir: str, config_overrides: dict | None = None):
    """The `LanguageSegmenter` of a training run, with the weights of its latest checkpoint.

    Args:
        model_dir: a `--model_dir` written by `train_segmentation.py` (it holds `model_config.json` and
            `ckpt-<step>/` directories).
        config_overrides: `SegmenterConfig` fields to change that leave the weights as they are (e.g.
            `{"batch_norm_inference": "batch"}`).

    Returns:
        `(model, step)`. Raises a one-line `DataError` when the directory holds no trained model, or its
        `model_config.json` or checkpoint is corrupt.
    """
    run = _run_config(model_dir, "train_segmentation.py")
    if "model" not in run:
        raise DataError(f"{model_dir} holds a colorization run, not a segmentation run; use load_colorizer")
    try:
        config = SegmenterConfig(**{**run["model"], **(config_overrides or {})})
        model = build_segmenter(config, run["sentences"], run["words"])
    except (KeyError, TypeError) as error:
        raise DataError(f"{model_dir}/{RUN_CONFIG_FILE} does not describe a segmenter ({error})") from None
    step = _restore(tf.train.Checkpoint(model=model), model_dir)
    if step is None:
        raise DataError(f"{model_dir} holds no checkpoint yet; train first or give another --model_dir")
    return model, step


def load_segmenter(model_dir: str | None = None, saved_model: str | None = None, pretrained: str | None = None):
    """A segmenter ready for inference, from at most one of three sources.

    Args:
        model_dir: a `train_segmentation.py` run (its latest checkpoint): a `LanguageSegmenter`.
        saved_model: an `lbie-export` version folder (`<export_dir>/<version>`): an `ExportedSegmenter`,
            called like the Keras model.
        pretrained: the name of a model shipped in `lbie_tf/pretrained/` (`lbie_tf.pretrained.available()`).

    Returns:
        The model; with no argument, the shipped default (`lbie_tf.pretrained.DEFAULT_SEGMENTER`). Raises a
        one-line `ConfigError` / `DataError` for two sources at once or a source that holds no model.
    """
    return _load_kind(SEGMENTER, model_dir, saved_model, pretrained)


def load_colorizer(model_dir: str | None = None, saved_model: str | None = None, pretrained: str | None = None):
    """A colorizer ready for inference, from at most one of three sources (as `load_segmenter`).

    Args:
        model_dir: a `train_colorization.py` run (its latest checkpoint): a `LanguageColorizer`.
        saved_model: an `lbie-export` version folder of a colorizer: an `ExportedColorizer`.
        pretrained: the name of a colorizer shipped in `lbie_tf/pretrained/`.

    Returns:
        The model; with no argument, the shipped default (`lbie_tf.pretrained.DEFAULT_COLORIZER`).
    """
    return _load_kind(COLORIZER, model_dir, saved_model, pretrained)


def _check_one_source(*sources) -> None:
    if sum(source is not None for source in sources) > 1:
        raise ConfigError("give one of model_dir, saved_model and pretrained, not several")


def model_kind(model) -> str:
    """`COLORIZER` for a `LanguageColorizer` or `ExportedColorizer`, else `SEGMENTER`."""
    return COLORIZER if isinstance(model, (LanguageColorizer, ExportedColorizer)) else SEGMENTER


def _load_kind(kind: str, model_dir, saved_model, pretrained):
    """`load_model` for one kind: a one-line `DataError` when the source holds the other kind."""
    from lbie_tf import pretrained as shipped

    if model_dir is None and saved_model is None and pretrained is None:
        pretrained = shipped.DEFAULT_COLORIZER if kind == COLORIZER else shipped.DEFAULT_SEGMENTER
    model = load_model(model_dir, saved_model, pretrained)
    found = model_kind(model)
    if found != kind:
        source = model_dir or saved_model or pretrained
        raise DataError(f"{source} holds a {found}, not a {kind}; use load_{found} (or load_model)")
    return model


def load_trained_colorizer(model_dir: str):
    """`(generator, step)`: the `LanguageColorizer` of a `train_colorization.py` run, with its latest
    checkpoint's weights and, for a Flowers run, the `vocabulary` of its `vocabulary.json`. Raises a one-line
    `DataError` when the directory holds no trained colorizer."""
    run = _run_config(model_dir, "train_colorization.py")
    if "generator" not in run:
        raise DataError(f"{model_dir} holds a segmentation run, not a colorization run; use load_segmenter")
    try:
        generator = build_colorizer(ColorizerConfig(**run["generator"]))
    except TypeError as error:
        raise DataError(f"{model_dir}/{RUN_CONFIG_FILE} does not describe a colorizer ({error})") from None
    step = _restore(tf.train.Checkpoint(generator=generator), model_dir)
    if step is None:
        raise DataError(f"{model_dir} holds no checkpoint yet; train first or give another model_dir")
    stored = read_run_file(model_dir, VOCABULARY_FILE)
    if stored is not None:
        generator.vocabulary = FlowersVocabulary.from_dict(stored, os.path.join(model_dir, VOCABULARY_FILE))
    return generator, step


def _restore(checkpoint: tf.train.Checkpoint, model_dir: str) -> int | None:
    """The step of the latest checkpoint of `model_dir` restored into `checkpoint` (None: there is none); a
    truncated or corrupt checkpoint is a one-line `DataError`."""
    try:
        return AtomicCheckpointManager(checkpoint, model_dir).restore_latest()
    except (tf.errors.OpError, IndexError) as error:  # IndexError: TF's reader on a truncated data file
        message = " ".join(str(error).split()) or type(error).__name__
        raise DataError(f"the checkpoint in {model_dir} is truncated or corrupt ({message[:200]}); train again "
                        f"or give another model_dir") from None


def _run_config(model_dir: str, script: str) -> dict:
    """The `model_config.json` of a run; `DataError` when there is none or it is not a JSON object."""
    path = os.path.join(model_dir, RUN_CONFIG_FILE)
    if not os.path.isfile(path):
        raise DataError(f"{model_dir} holds no trained model ({RUN_CONFIG_FILE} is missing); give the "
                        f"model_dir of a {script} run")
    try:
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read {path} ({error}); give the model_dir of a {script} run") from None
    if not isinstance(run, dict):
        raise DataError(f"{path} is not a JSON object; give the model_dir of a {script} run")
    return run
