"""Crash-safe training checkpoints and the model-config record that guards `--model_dir` reuse.

Layout of a model directory:

    model_dir/
      ckpt-1200/ckpt.index, ckpt.data-00000-of-00001   complete checkpoints, one directory per step
      ckpt-1500/...
      latest                                           "ckpt-1500": the newest complete checkpoint
      model_config.json                                the model's config (and the training data's settings),
                                                       written at the first save

A checkpoint is written into `ckpt-<step>.tmp-<random>/` and renamed into place only once complete, and the
`latest` pointer is replaced atomically after that, so a crash at any point leaves `latest` naming a
complete checkpoint. Leftover `*.tmp-*` entries are removed at the next save.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from lbie_tf.errors import IncompatibleCheckpointError

LATEST_FILE = "latest"
RUN_CONFIG_FILE = "model_config.json"
_PREFIX = "ckpt"  # file prefix inside a checkpoint directory: ckpt.index, ckpt.data-*
_STEP_DIR = re.compile(r"^ckpt-(\d+)$")
_TMP_MARK = ".tmp-"
_FRESH_DIR_HINT = "use a fresh --model_dir or the flags it was trained with"
_MAX_DIFFS_SHOWN = 3
_ABSENT = object()  # a key missing from one of two compared configs


class AtomicCheckpointManager:
    """Saves and restores a `tf.train.Checkpoint` so that an interrupted save never corrupts the latest one.

    Args:
        checkpoint: what to save, e.g. `tf.train.Checkpoint(step=..., model=model, optimizer=opt)`.
        directory: the model directory (created on the first save).
        max_to_keep: number of complete checkpoints kept; older ones are deleted after each save.
    """

    def __init__(self, checkpoint: tf.train.Checkpoint, directory: str, max_to_keep: int = 3):
        if max_to_keep < 1:
            raise ValueError(f"max_to_keep must be at least 1, got {max_to_keep}")
        self.checkpoint = checkpoint
        self.directory = os.fspath(directory)
        self.max_to_keep = max_to_keep

    def save(self, step: int) -> str:
        """Writes a checkpoint for `step`, points `latest` at it and prunes old ones.

        Returns:
            The checkpoint path prefix (`directory/ckpt-<step>/ckpt`), as accepted by `checkpoint.read`.
        """
        step = int(step)
        os.makedirs(self.directory, exist_ok=True)
        final_dir = self._step_dir(step)
        tmp_dir = f"{final_dir}{_TMP_MARK}{secrets.token_hex(4)}"
        self.checkpoint.write(os.path.join(tmp_dir, _PREFIX))
        if os.path.exists(final_dir):  # saving a step again: move the old copy aside, pruned below
            os.rename(final_dir, f"{final_dir}{_TMP_MARK}{secrets.token_hex(4)}")
        os.rename(tmp_dir, final_dir)
        _write_atomically(os.path.join(self.directory, LATEST_FILE), os.path.basename(final_dir) + "\n")
        self._prune(keep=step)
        return os.path.join(final_dir, _PREFIX)

    def latest_step(self) -> int | None:
        """The step of the newest complete checkpoint, or None when the directory holds none.

        `latest` names it; if `latest` is missing or names a checkpoint that is gone, the highest complete
        step is used instead.
        """
        pointed = _read_pointer(os.path.join(self.directory, LATEST_FILE))
        if pointed is not None and self._is_complete(pointed):
            return pointed
        steps = self.steps()
        return steps[-1] if steps else None

    def steps(self) -> list[int]:
        """Steps of the complete checkpoints in the directory, ascending."""
        if not os.path.isdir(self.directory):
            return []
        found = (_STEP_DIR.match(name) for name in os.listdir(self.directory))
        return sorted(int(m.group(1)) for m in found if m and self._is_complete(int(m.group(1))))

    def restore_latest(self) -> int | None:
        """Restores the newest complete checkpoint into `checkpoint` and returns its step.

        Build the model and the optimizer (`opt.build(vars)`) first: values of objects that do not exist
        yet are restored only when they are created, and are not checked here.

        Returns:
            The restored step, or None (and nothing changed) when there is no checkpoint.

        Raises:
            IncompatibleCheckpointError: the checkpoint's variables or structure differ from `checkpoint`'s;
                some variables may already have been overwritten, so stop rather than train on.
        """
        step = self.latest_step()
        if step is None:
            return None
        path = os.path.join(self._step_dir(step), _PREFIX)
        try:
            # Objects of the checkpoint that `checkpoint` does not hold (an optimizer, when only a model is
            # loaded for inference) are fine: expect_partial() keeps TensorFlow from warning about them.
            self.checkpoint.read(path).assert_existing_objects_matched().expect_partial()
        except (ValueError, AssertionError, tf.errors.InvalidArgumentError) as e:
            raise IncompatibleCheckpointError(
                f"model_dir {self.directory} holds a checkpoint (step {step}) that does not fit this model "
                f"({_one_line(e)}); {_FRESH_DIR_HINT}") from e
        return step

    def _step_dir(self, step: int) -> str:
        return os.path.join(self.directory, f"ckpt-{step}")

    def _is_complete(self, step: int) -> bool:
        return os.path.isfile(os.path.join(self._step_dir(step), _PREFIX + ".index"))

    def _prune(self, keep: int) -> None:
        """Deletes `*.tmp-*` leftovers and the oldest complete checkpoints beyond `max_to_keep`."""
        for name in os.listdir(self.directory):
            if _TMP_MARK in name:
                _remove(os.path.join(self.directory, name))
        old = [s for s in self.steps() if s != keep]
        for step in old[: max(0, len(old) - (self.max_to_keep - 1))]:
            _remove(self._step_dir(step))


def write_run_config(directory: str, config: Mapping[str, Any]) -> str:
    """Stores the model's config as `directory/model_config.json` (atomically) and returns its path.

    Args:
        config: JSON-serialisable, possibly nested, e.g. `SegmenterConfig(...).to_dict()`.
    """
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, RUN_CONFIG_FILE)
    _write_atomically(path, json.dumps(config, indent=2, sort_keys=True) + "\n")
    return path


def check_run_config(directory: str, config: Mapping[str, Any],
                     defaults: Mapping[str, Any] | None = None) -> None:
    """Checks `config` against the one stored in `directory`; does nothing when none is stored yet.

    Nested keys are compared as dotted paths (`fusion.units`), after a JSON round trip (tuples = lists).
    `defaults` (same nesting) fills keys that the stored config lacks: a run written before an option existed
    resumes when the option is at its default.

    Raises:
        IncompatibleCheckpointError: naming the first differing keys (sorted) and both values.
    """
    path = os.path.join(directory, RUN_CONFIG_FILE)
    if not os.path.isfile(path):
        return
    with open(path, encoding="utf-8") as f:
        stored = {**_flatten(json.loads(json.dumps(defaults or {}))), **_flatten(json.load(f))}
    current = _flatten(json.loads(json.dumps(config)))
    keys = stored.keys() | current.keys()
    differing = sorted(k for k in keys if stored.get(k, _ABSENT) != current.get(k, _ABSENT))
    if not differing:
        return
    shown = ", ".join(f"{k}: {_show(current.get(k, _ABSENT))} here, {_show(stored.get(k, _ABSENT))} in the "
                      "checkpoint" for k in differing[:_MAX_DIFFS_SHOWN])
    more = f" and {len(differing) - _MAX_DIFFS_SHOWN} more" if len(differing) > _MAX_DIFFS_SHOWN else ""
    raise IncompatibleCheckpointError(
        f"model_dir {directory} holds a checkpoint of a different model ({shown}{more}); {_FRESH_DIR_HINT}")


def _show(value: Any) -> str:
    return "absent" if value is _ABSENT else json.dumps(value)


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} → {"a.b": 1}."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _write_atomically(path: str, text: str) -> None:
    """Writes `text` to a temporary file next to `path`, then replaces `path` with it."""
    tmp = f"{path}{_TMP_MARK}{secrets.token_hex(4)}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_pointer(path: str) -> int | None:
    """The step named by a `latest` file ("ckpt-<step>"), or None if it is missing or malformed."""
    try:
        with open(path, encoding="utf-8") as f:
            match = _STEP_DIR.match(f.read().strip())
    except FileNotFoundError:
        return None
    return int(match.group(1)) if match else None


def _remove(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.exists(path):
        os.remove(path)


def _one_line(error: Exception, limit: int = 200) -> str:
    """An error message on one line (whitespace collapsed), shortened to `limit` characters."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
