"""Crash-safe training checkpoints and the model-config record that guards `--model_dir` reuse.

Layout of a model directory:

    model_dir/
      ckpt-1200/ckpt.index, ckpt.data-00000-of-00001   complete checkpoints, one folder per step
      ckpt-1500/...
      checkpoint                                       TensorFlow's state file (text CheckpointState):
                                                       model_checkpoint_path: "ckpt-1500/ckpt" and one
                                                       all_model_checkpoint_paths line per kept checkpoint
      model_config.json                                the model's config (and the training data's settings)
      vocabulary.json, ...                             other records of the run, as a task stores them
                                                       (`write_run_file`; a Flowers run: its vocabulary)

Guarantees of `AtomicCheckpointManager.save(step)`:

- The checkpoint is written into `ckpt-<step>.tmp-<random>/`; every file in it and the folder itself are
  fsync'ed, the folder is renamed to `ckpt-<step>/` and the model directory is fsync'ed. A `ckpt-<step>/`
  folder therefore only ever appears complete. (Saving a step again first moves the old `ckpt-<step>/` to a
  `*.tmp-*` name; a crash between the two renames leaves that step to the checkpoint before it.)
- Then `checkpoint` is replaced atomically (temporary file, fsync, rename, fsync of the folder), naming the new
  checkpoint and the kept ones, so `tf.train.latest_checkpoint(model_dir)` and
  `tf.train.get_checkpoint_state(model_dir)` work on a model directory.
- Only then are older checkpoints pruned: kept are the new one and the `max_to_keep - 1` highest complete
  steps below it that this manager has not found damaged; every other `ckpt-<N>/` folder (higher steps left
  by a run that went back to an older checkpoint, damaged ones), `*.tmp-*` leftovers of an interrupted save
  and the old layout's `latest` file are deleted.
- A write that fails (full disk, read-only file system, no permission: `OSError`, or `tf.errors.*` such as
  `ResourceExhaustedError` / `PermissionDeniedError` from `checkpoint.write`) removes its temporary folder
  and raises a one-line `ModelDirError`; earlier checkpoints are untouched.

`restore_latest()` tries the `ckpt-<N>/` folders from the highest step down. Each one is verified first by
reading every tensor with `tf.train.load_checkpoint` (the index's crc32c covers each tensor, so a bit flip is
found), and only then read into the checkpoint object, so a damaged checkpoint assigns nothing. Damage shows
up as (TensorFlow 2.21, checked by tests/training/test_checkpoints.py):

    ckpt.data-* truncated or empty   IndexError "Read less bytes than requested"
    ckpt.data-* zeroed               tf.errors.OpError (code UNKNOWN) "The length checksum does not match"
    ckpt.data-* one bit flipped      tf.errors.OpError (code UNKNOWN) "Checksum does not match" when
                                     verified; tf.errors.DataLossError from checkpoint.read
    ckpt.data-* missing              tf.errors.OpError (code UNKNOWN) "... No such file or directory"
    ckpt.index empty / truncated /   tf.errors.OpError (code UNKNOWN) "file is too short to be an sstable",
      garbage / bit flipped          "not an sstable (bad magic number)", "block checksum mismatch"
    ckpt.index missing               found before reading (tf.errors.NotFoundError otherwise)

A damaged checkpoint is logged in one line and the next older one is tried (`fallback=True`), or raises
`DamagedCheckpointError` (`fallback=False`). A checkpoint of a different model raises
`IncompatibleCheckpointError` and is never skipped. If the directory holds checkpoint material
(`has_checkpoint_files`) but nothing can be read, `DamagedCheckpointError` is raised rather than returning
None, so a run never restarts from scratch over its own checkpoints. The state file (or the old `latest`) is
not needed to restore: a damaged one is logged and ignored, and one naming a missing folder counts as a
missing checkpoint of that step.

Old layout: runs written before the state file existed have `latest` ("ckpt-1500") beside the same
`ckpt-<N>/` folders; they restore the same way, and their first save writes `checkpoint` and deletes
`latest`. `latest` is no longer written: the versions that wrote it fall back to the highest complete step
when it is missing, which is the checkpoint `checkpoint` names, so they still read new directories.

Expected use by a trainer (one process per model directory, see `lbie_tf.training.run_lock.RunLock`):

    with RunLock(model_dir):
        if has_checkpoint_files(model_dir):
            check_run_config(model_dir, config, defaults)   # raises if model_config.json is missing/invalid
            step = manager.restore_latest(log=log)            # raises if no checkpoint can be read
        else:
            write_run_config(model_dir, config)
            step = 0
        ... manager.save(step) ...
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Mapping
from typing import Any

import tensorflow as tf

from lbie_tf.errors import DamagedCheckpointError, IncompatibleCheckpointError, ModelDirError

STATE_FILE = "checkpoint"  # TensorFlow's CheckpointState, read by tf.train.latest_checkpoint
LATEST_FILE = "latest"  # the old layout's pointer ("ckpt-<step>"): read, no longer written
RUN_CONFIG_FILE = "model_config.json"
_PREFIX = "ckpt"  # file prefix inside a checkpoint folder: ckpt.index, ckpt.data-*
_STEP_DIR = re.compile(r"^ckpt-(\d+)$")
_STATE_LINE = re.compile(r'^(model_checkpoint_path|all_model_checkpoint_paths): "ckpt-(\d+)/ckpt"$')
TMP_MARK = ".tmp-"  # in the names of files and folders being written: `ckpt-300.tmp-1a2b3c4d`
_OWN_NAMES = ("ckpt-", STATE_FILE, LATEST_FILE, RUN_CONFIG_FILE)  # leftovers `<name>.tmp-*` are ours to delete
_FRESH_DIR_HINT = "use a fresh --model_dir or the flags it was trained with"
_DISK_HINT = "free space or fix the directory's permissions, then resume"
_MAX_DIFFS_SHOWN = 3
_MAX_PROBLEMS_SHOWN = 3
_MAX_VALUE_SHOWN = 80  # characters of a differing value in a message
_ABSENT = object()  # a key missing from one of two compared configs
# What reading a damaged checkpoint raises (see the table above); UnicodeDecodeError is a ValueError.
_DAMAGE_ERRORS = (tf.errors.OpError, IndexError, OSError, UnicodeDecodeError)


class AtomicCheckpointManager:
    """Saves and restores a `tf.train.Checkpoint` so that no save or crash loses or mislabels a checkpoint.

    Args:
        checkpoint: what to save, e.g. `tf.train.Checkpoint(step=..., model=model, optimizer=opt)`.
        directory: the model directory (created on the first save).
        max_to_keep: number of complete checkpoints kept after each save, the new one included. 2 leaves a
            run one older checkpoint to fall back to if the newest is damaged.
    """

    def __init__(self, checkpoint: tf.train.Checkpoint, directory: str, max_to_keep: int = 3):
        if max_to_keep < 1:
            raise ValueError(f"max_to_keep must be at least 1, got {max_to_keep}")
        self.checkpoint = checkpoint
        self.directory = os.fspath(directory)
        self.max_to_keep = max_to_keep
        self._damaged: set[int] = set()  # steps restore_latest found damaged: pruned at the next save

    def save(self, step: int) -> str:
        """Writes a checkpoint for `step`, points the state file at it, then prunes old ones.

        Saving a step that exists replaces it. Kept are this one and the `max_to_keep - 1` highest older
        steps not found damaged by `restore_latest`; all other checkpoint folders are deleted, higher steps
        included (after a fallback they are damaged, or belong to the run that went on from them). See the
        module docstring for the order of writes and fsyncs.

        Returns:
            The checkpoint path prefix (`directory/ckpt-<step>/ckpt`), as accepted by `checkpoint.read`.

        Raises:
            ModelDirError: the directory cannot be written (full disk, read-only, no permission); the
                temporary folder is removed and earlier checkpoints are intact. If only the state file
                could not be replaced, `ckpt-<step>/` is complete (and restorable) but nothing was pruned.
        """
        step = int(step)
        final_dir = self._step_dir(step)
        tmp_dir = _tmp_name(final_dir)
        try:
            os.makedirs(self.directory, exist_ok=True)
            self.checkpoint.write(os.path.join(tmp_dir, _PREFIX))
            _fsync_tree(tmp_dir)
            _rename_into_place(tmp_dir, final_dir)
        except (OSError, tf.errors.OpError) as e:
            _remove(tmp_dir)
            raise ModelDirError(f"cannot write checkpoint ckpt-{step} in model_dir {self.directory} "
                                f"({_error_reason(e, self.directory)}); earlier checkpoints are intact; "
                                f"{_DISK_HINT}") from e
        self._damaged.discard(step)
        older = [s for s in self.steps() if s < step and s not in self._damaged]
        kept = older[max(0, len(older) - (self.max_to_keep - 1)):] + [step]
        try:
            _write_atomically(os.path.join(self.directory, STATE_FILE), _state_text(kept))
        except OSError as e:
            raise ModelDirError(f"checkpoint ckpt-{step} in model_dir {self.directory} is written but its "
                                f"{STATE_FILE} file could not be updated ({_error_reason(e)}); {_DISK_HINT}") from e
        self._prune(kept)
        return os.path.join(final_dir, _PREFIX)

    def latest_step(self) -> int | None:
        """The highest step with a complete-looking checkpoint (its `ckpt.index` exists), or None.

        Reads no checkpoint: `restore_latest` may still find it damaged and use an older one. None does not
        mean the directory is free of checkpoint files; ask `has_checkpoint_files` for that.
        """
        steps = self.steps()
        return steps[-1] if steps else None

    def steps(self) -> list[int]:
        """Steps of the checkpoint folders that have a `ckpt.index`, ascending."""
        return [s for s in _step_folders(self.directory) if os.path.isfile(self._prefix(s) + ".index")]

    def restore_latest(self, fallback: bool = True, log: Callable[[str], None] = print) -> int | None:
        """Restores the newest readable checkpoint into `checkpoint` and returns its step.

        Build the model and the optimizer (`opt.build(vars)`) first: values of objects that do not exist
        yet are restored only when they are created, and are not checked here. Every tensor of a checkpoint
        is read once to verify it before anything is assigned; after a fallback the older checkpoint's read
        assigns every variable again, so the result is exactly that checkpoint.

        Args:
            fallback: on a damaged checkpoint, log one line (naming its step and the error) and try the next
                older one; False raises instead.
            log: receives those lines, and, when a checkpoint is restored, one line for a damaged
                `checkpoint` / `latest` file (which is not needed to restore and is ignored).

        Returns:
            The restored step, or None (and nothing changed) when the directory holds no checkpoint files.

        Raises:
            DamagedCheckpointError: `fallback=False` and the newest checkpoint is damaged or missing; or
                the directory holds checkpoint files (`has_checkpoint_files`) but none can be read.
            IncompatibleCheckpointError: a checkpoint's variables or structure differ from `checkpoint`'s;
                some variables may already have been overwritten, so stop rather than train on.
        """
        problems = []  # "ckpt-300: why", for the error when nothing can be read
        pointed, pointer_name, pointer_problem = _read_pointer(self.directory)
        if pointer_problem:
            problems.append(pointer_problem)
        candidates = sorted(set(_step_folders(self.directory)) | ({pointed} - {None}), reverse=True)
        for index, step in enumerate(candidates):
            problem = self._try_restore(step, pointer_name)
            if problem is None:
                if pointer_problem:
                    log(f"model_dir {self.directory}: {pointer_problem}; ignored it")
                return step
            self._damaged.add(step)
            problems.append(f"ckpt-{step}: {problem}")
            if not fallback:
                raise DamagedCheckpointError(
                    f"model_dir {self.directory}: checkpoint ckpt-{step} is damaged ({problem}); move it away "
                    "to resume from the one before")
            if index + 1 < len(candidates):
                log(f"model_dir {self.directory}: checkpoint ckpt-{step} is damaged ({problem}); trying "
                    f"ckpt-{candidates[index + 1]}")
        if not problems and not has_checkpoint_files(self.directory):
            return None
        shown = "; ".join(problems[:_MAX_PROBLEMS_SHOWN])
        more = f"; and {len(problems) - _MAX_PROBLEMS_SHOWN} more" if len(problems) > _MAX_PROBLEMS_SHOWN else ""
        raise DamagedCheckpointError(
            f"model_dir {self.directory} holds checkpoint files but none can be read ({shown}{more}); move them "
            "away or use a fresh --model_dir")

    def _try_restore(self, step: int, pointer_name: str | None) -> str | None:
        """Verifies and reads checkpoint `step`: None when restored, else why it is damaged.

        Args:
            pointer_name: the file that named the newest step, for the message when its folder is missing.
        """
        prefix = self._prefix(step)
        if not os.path.exists(self._step_dir(step)):
            return f"the {pointer_name} file names it but its folder is missing"
        if not os.path.isfile(prefix + ".index"):
            return f"{_PREFIX}.index is missing"
        try:
            _verify(prefix)
        except _DAMAGE_ERRORS as e:
            return _error_reason(e, self.directory)
        try:
            # Objects of the checkpoint that `checkpoint` does not hold (an optimizer, when only a model is
            # loaded for inference) are fine: expect_partial() keeps TensorFlow from warning about them.
            self.checkpoint.read(prefix).assert_existing_objects_matched().expect_partial()
        except UnicodeDecodeError as e:  # a ValueError, but damage: verified files changed since
            return _error_reason(e, self.directory)
        except (ValueError, AssertionError, tf.errors.InvalidArgumentError) as e:
            raise IncompatibleCheckpointError(
                f"model_dir {self.directory} holds a checkpoint (step {step}) that does not fit this model "
                f"({_one_line(e)}); {_FRESH_DIR_HINT}") from e
        except _DAMAGE_ERRORS as e:  # verified files changed since
            return _error_reason(e, self.directory)
        return None

    def _step_dir(self, step: int) -> str:
        return os.path.join(self.directory, f"ckpt-{step}")

    def _prefix(self, step: int) -> str:
        return os.path.join(self._step_dir(step), _PREFIX)

    def _prune(self, kept: list[int]) -> None:
        """Deletes checkpoint folders not in `kept`, our `*.tmp-*` leftovers and the old `latest` file."""
        for name in os.listdir(self.directory):
            match = _STEP_DIR.match(name)
            if ((match and int(match.group(1)) not in kept) or name == LATEST_FILE
                    or (TMP_MARK in name and name.startswith(_OWN_NAMES))):
                _remove(os.path.join(self.directory, name))


def has_checkpoint_files(directory: str) -> bool:
    """Whether `directory` holds checkpoint material: a `ckpt-<step>` entry, a `checkpoint` or a `latest` file.

    Leftovers of an interrupted save (`ckpt-<step>.tmp-*`) do not count: they never held a complete
    checkpoint. A trainer starts afresh (and writes `model_config.json`) only when this is False; otherwise
    it resumes, and `restore_latest` raises if nothing can be read.
    """
    if not os.path.isdir(directory):
        return False
    return any(_STEP_DIR.match(name) or name in (STATE_FILE, LATEST_FILE) for name in os.listdir(directory))


def write_run_config(directory: str, config: Mapping[str, Any]) -> str:
    """Stores the model's config as `directory/model_config.json` (atomically, fsync'ed) and returns its path.

    Args:
        config: JSON-serialisable, possibly nested, e.g. `SegmenterConfig(...).to_dict()`.

    Raises:
        ModelDirError: the directory cannot be written.
    """
    return write_run_file(directory, RUN_CONFIG_FILE, config)


def write_run_file(directory: str, name: str, content: Mapping[str, Any]) -> str:
    """Stores `content` as the JSON file `directory/name` (atomically, fsync'ed) and returns its path.

    Args:
        name: the file name, e.g. `model_config.json` or a Flowers run's `vocabulary.json`.
        content: JSON-serialisable, possibly nested.

    Raises:
        ModelDirError: the directory cannot be written.
    """
    path = os.path.join(directory, name)
    try:
        os.makedirs(directory, exist_ok=True)
        _write_atomically(path, json.dumps(content, indent=2, sort_keys=True) + "\n")
    except OSError as e:
        raise ModelDirError(f"cannot write {path} ({_error_reason(e)}); {_DISK_HINT}") from e
    return path


def require_run_config(directory: str) -> dict[str, Any]:
    """The config stored in `directory/model_config.json`.

    Raises:
        DamagedCheckpointError: the file is missing, or is not a JSON object (e.g. truncated).
    """
    stored = read_run_file(directory, RUN_CONFIG_FILE)
    if stored is None:
        raise DamagedCheckpointError(
            f"model_dir {directory} has no {RUN_CONFIG_FILE}, the record of the model its checkpoints belong "
            "to; restore that file or use a fresh --model_dir")
    return stored


def check_run_config(directory: str, config: Mapping[str, Any],
                     defaults: Mapping[str, Any] | None = None) -> None:
    """Checks `config` against the one stored in `directory`.

    Nested keys are compared as dotted paths (`fusion.units`), after a JSON round trip (tuples = lists).
    `defaults` (same nesting) fills keys that the stored config lacks: a run written before an option existed
    resumes when the option is at its default. When no config is stored, this passes only if the directory
    holds no checkpoint files either (`has_checkpoint_files`).

    Raises:
        IncompatibleCheckpointError: naming the first differing keys (sorted) and both values.
        DamagedCheckpointError: `model_config.json` is invalid, or missing beside checkpoint files.
    """
    if not has_checkpoint_files(directory) and read_run_file(directory, RUN_CONFIG_FILE) is None:
        return
    stored = {**_flatten(json.loads(json.dumps(defaults or {}))), **_flatten(require_run_config(directory))}
    _refuse_differences(directory, "a checkpoint of a different model", stored, config)


def check_run_file(directory: str, name: str, content: Mapping[str, Any]) -> None:
    """Checks `content` against the JSON file `directory/name` stored when the run started (as
    `check_run_config` compares; a missing file passes).

    Raises:
        IncompatibleCheckpointError: naming the first differing keys (sorted) and both values.
        DamagedCheckpointError: the stored file is not a JSON object.
    """
    stored = read_run_file(directory, name)
    if stored is not None:
        _refuse_differences(directory, f"a checkpoint trained with another {name}", _flatten(stored), content)


def _refuse_differences(directory: str, what: str, stored: dict[str, Any], config: Mapping[str, Any]) -> None:
    """`IncompatibleCheckpointError` ("model_dir <directory> holds <what> (...)") unless the flattened `stored`
    equals `config` after a JSON round trip."""
    current = _flatten(json.loads(json.dumps(config)))
    keys = stored.keys() | current.keys()
    differing = sorted(k for k in keys if stored.get(k, _ABSENT) != current.get(k, _ABSENT))
    if not differing:
        return
    shown = ", ".join(f"{k}: {_show(current.get(k, _ABSENT))} here, {_show(stored.get(k, _ABSENT))} in the "
                      "checkpoint" for k in differing[:_MAX_DIFFS_SHOWN])
    more = f" and {len(differing) - _MAX_DIFFS_SHOWN} more" if len(differing) > _MAX_DIFFS_SHOWN else ""
    raise IncompatibleCheckpointError(f"model_dir {directory} holds {what} ({shown}{more}); {_FRESH_DIR_HINT}")


def read_run_file(directory: str, name: str) -> dict[str, Any] | None:
    """The JSON object stored in `directory/name`, or None when the file is missing.

    Raises:
        DamagedCheckpointError: the file is not valid JSON or not a JSON object.
    """
    path = os.path.join(directory, name)
    try:
        with open(path, "rb") as f:
            stored = json.loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        return None
    except ValueError as e:  # json.JSONDecodeError and UnicodeDecodeError
        raise DamagedCheckpointError(f"{path} is not valid JSON ({_one_line(e, 100)}); restore that file or use "
                                     "a fresh --model_dir") from e
    if not isinstance(stored, dict):
        raise DamagedCheckpointError(f"{path} does not hold a JSON object; restore that file or use a fresh "
                                     "--model_dir")
    return stored


def _show(value: Any) -> str:
    """A compared value for a message, shortened (a vocabulary's word list is long)."""
    return "absent" if value is _ABSENT else _one_line(json.dumps(value), _MAX_VALUE_SHOWN)


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} → {"a.b": 1}."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _step_folders(directory: str) -> list[int]:
    """Steps of the `ckpt-<step>` entries of `directory` (complete or not), ascending; [] if it is missing."""
    if not os.path.isdir(directory):
        return []
    return sorted(int(m.group(1)) for m in map(_STEP_DIR.match, os.listdir(directory)) if m)


def _verify(prefix: str) -> None:
    """Reads every tensor of the checkpoint at `prefix`, which checks each one's crc32c; raises if damaged."""
    reader = tf.train.load_checkpoint(prefix)
    for key in sorted(reader.get_variable_to_shape_map()):
        reader.get_tensor(key)


def _state_text(steps: list[int]) -> str:
    """The `checkpoint` file (text CheckpointState proto) naming `steps[-1]` and keeping `steps`, oldest first."""
    lines = [f'model_checkpoint_path: "ckpt-{steps[-1]}/{_PREFIX}"']
    lines += [f'all_model_checkpoint_paths: "ckpt-{s}/{_PREFIX}"' for s in steps]
    return "\n".join(lines) + "\n"


def _read_pointer(directory: str) -> tuple[int | None, str | None, str | None]:
    """What the `checkpoint` file (or, without one, the old `latest` file) says is the newest checkpoint.

    Returns:
        `(step, file name, None)`; `(None, None, None)` when there is no such file; `(None, file name, why)`
        when it is damaged.
    """
    for name, parse in ((STATE_FILE, _parse_state), (LATEST_FILE, _parse_latest)):
        path = os.path.join(directory, name)
        try:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8")
        except (FileNotFoundError, NotADirectoryError):
            continue
        except (OSError, UnicodeDecodeError) as e:
            return None, name, f"its {name} file is unreadable ({_error_reason(e)})"
        step = parse(text)
        if step is None:
            return None, name, f"its {name} file is damaged ({_one_line(text, 60)!r})"
        return step, name, None
    return None, None, None


def _parse_state(text: str) -> int | None:
    """The step of `model_checkpoint_path` in a state file as `_state_text` writes it; None unless every line
    is such a line."""
    named = None
    for line in text.strip().splitlines():
        match = _STATE_LINE.match(line.strip())
        if match is None:
            return None
        if match.group(1) == "model_checkpoint_path":
            named = int(match.group(2))
    return named


def _parse_latest(text: str) -> int | None:
    """The step of a `latest` file ("ckpt-<step>"), or None if malformed."""
    match = _STEP_DIR.match(text.strip())
    return int(match.group(1)) if match else None


def _tmp_name(path: str) -> str:
    return f"{path}{TMP_MARK}{secrets.token_hex(4)}"


def _rename_into_place(tmp_dir: str, final_dir: str) -> None:
    """Renames `tmp_dir` to `final_dir` (moving an existing `final_dir` aside, pruned later) and fsyncs the
    parent; if the rename fails, the old `final_dir` is put back."""
    aside = None
    if os.path.exists(final_dir):
        aside = _tmp_name(final_dir)
        os.rename(final_dir, aside)
    try:
        os.rename(tmp_dir, final_dir)
    except OSError:
        if aside is not None:
            os.rename(aside, final_dir)
        raise
    _fsync_path(os.path.dirname(final_dir) or ".")


def _write_atomically(path: str, text: str) -> None:
    """Writes `text` to a temporary file next to `path`, fsyncs it, replaces `path` with it and fsyncs the
    folder; on failure the temporary file is removed and the OSError raised."""
    tmp = _tmp_name(path)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        _remove(tmp)
        raise
    _fsync_path(os.path.dirname(path) or ".")


def _fsync_path(path: str) -> None:
    """fsync of a file or a folder (a folder's fsync makes the creation and renaming of its entries durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: str) -> None:
    """fsync of every file and folder under `root`, `root` last."""
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            _fsync_path(os.path.join(folder, name))
        _fsync_path(folder)


def _remove(path: str) -> None:
    """Deletes a file or a folder tree if it exists; failures are ignored (a leftover is pruned later)."""
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.remove(path)
        except OSError:
            pass


def _error_reason(error: BaseException, directory: str | None = None) -> str:
    """`error` as "ErrorType: message" on one line, without TensorFlow's `{{function_node ...}}` prefix and
    with paths inside `directory` shortened to their part below it."""
    if isinstance(error, OSError) and error.strerror:
        text = error.strerror
    else:
        text = re.sub(r"\{\{[^}]*\}\}\s*", "", str(error))
    if directory:
        text = text.replace(os.path.join(directory, ""), "")
    return f"{type(error).__name__}: {_one_line(text, 200)}"


def _one_line(error: Exception | str, limit: int = 200) -> str:
    """An error message on one line (whitespace collapsed), shortened to `limit` characters."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
