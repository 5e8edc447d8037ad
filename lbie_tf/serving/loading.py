"""Loading models for inference: a training run's `--model_dir`, a shipped pretrained model by name, or an
exported SavedModel, all called the same way (`model({"image": ..., "tokens": ...})`).

    from lbie_tf import load_segmenter
    model = load_segmenter()                                  # the shipped default
    model = load_segmenter(model_dir="runs/cosal_t4")         # a training run's latest checkpoint
    model = load_segmenter(saved_model="export/lbie/1")       # an lbie-export version folder
    model = load_segmenter(pretrained="cosal_paper_t4")       # a shipped model by name
    generator = load_colorizer(model_dir="runs/cosal_colorization")
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from lbie_tf.configs import SegmenterConfig
from lbie_tf.errors import ConfigError, DataError
from lbie_tf.models.segmenter import build_segmenter
from lbie_tf.training.checkpoints import RUN_CONFIG_FILE, AtomicCheckpointManager


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
    if sum(source is not None for source in (model_dir, saved_model, pretrained)) > 1:
        raise ConfigError("give one of model_dir, saved_model and pretrained, not several")
    if saved_model:
        from lbie_tf.serving.export import ExportedSegmenter

        return ExportedSegmenter(saved_model)
    if model_dir:
        return load_trained_segmenter(model_dir)[0]
    from lbie_tf import pretrained as shipped

    return shipped.load_pretrained_segmenter(pretrained or shipped.DEFAULT_SEGMENTER)[0]


def load_colorizer(model_dir: str):
    """The generator (`LanguageColorizer`) of a `train_colorization.py` run, with its latest checkpoint's
    weights. Raises a one-line `DataError` when the directory holds no trained colorizer."""
    from lbie_tf.configs import ColorizerConfig
    from lbie_tf.models.colorizer import build_colorizer

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
    return generator


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
