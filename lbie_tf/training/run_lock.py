"""One training run per model directory: `model_dir/.lock` names the process that uses it.

The lock file holds JSON `{"pid": 1234, "host": "node7", "started": "2025-12-02T10:20:59+00:00"}` and is
created with `O_CREAT | O_EXCL`, so of two runs starting at once exactly one gets it. A lock whose owner runs
on this host but is no longer alive (a crashed or killed run) is taken over with one logged line, and so is an
unreadable lock file (garbage, or left empty by a crash between creating and writing it). A lock held by a
live process, or by any process on another host (whose liveness cannot be checked), is refused with a
one-line `RunLockedError`.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import socket
import time
from collections.abc import Callable

from lbie_tf.errors import ModelDirError, RunLockedError

LOCK_FILE = ".lock"
_FIELDS = {"pid": int, "host": str, "started": str}
_ATTEMPTS = 3  # take-overs that another process may win in between
_SETTLE_SECONDS = 0.05  # a lock file just created by another process may not hold its content yet


class RunLock:
    """An exclusive claim on a model directory for the lifetime of one training run.

    Use as `with RunLock(model_dir): ...`, or call `acquire()` and `release()`.

    Args:
        directory: the model directory (created if missing).
        log: receives one line when a stale lock is taken over, or when `release` finds the lock is no
            longer this one's.
    """

    def __init__(self, directory: str, log: Callable[[str], None] = print):
        self.directory = os.fspath(directory)
        self.path = os.path.join(self.directory, LOCK_FILE)
        self.log = log
        self._owned: dict | None = None  # the record this lock wrote, while it holds the lock

    def acquire(self) -> None:
        """Creates `directory/.lock` naming this process, taking over a stale one.

        Raises:
            RunLockedError: a live process (on this host, or any process on another host) holds the lock.
            ModelDirError: the directory or the lock file cannot be written (read-only, full disk, no
                permission).
        """
        try:
            os.makedirs(self.directory, exist_ok=True)
        except OSError as e:
            raise self._unwritable(e) from e
        for _ in range(_ATTEMPTS):
            record = {"pid": os.getpid(), "host": socket.gethostname(),
                      "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
            try:
                _create_exclusively(self.path, json.dumps(record) + "\n")
            except FileExistsError:
                pass
            except OSError as e:
                raise self._unwritable(e) from e
            else:
                self._owned = record
                return
            self._remove_stale_lock()
        raise RunLockedError(f"model_dir {self.directory}: other processes keep taking its lock {self.path}; "
                             "start one run at a time or use another --model_dir")

    def release(self) -> None:
        """Deletes the lock file if it is still this lock's; otherwise leaves it (and logs a line).

        Does nothing when this lock is not held. Never raises: a lock file left behind by a failed delete
        names a finished process, and the next run takes it over.
        """
        if self._owned is None:
            return
        owned, self._owned = self._owned, None
        raw = _read_raw(self.path)
        if raw is None:
            return
        current = _parse(raw)
        if current != owned:
            self.log(f"model_dir {self.directory}: its lock {self.path} now belongs to {_describe(current)}; "
                     "left it in place")
            return
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass
        except OSError as e:
            self.log(f"model_dir {self.directory}: could not delete its lock {self.path} ({e.strerror}); the "
                     "next run will take it over")

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def _remove_stale_lock(self) -> None:
        """Looks at an existing lock file: raises RunLockedError if its owner may be alive, else removes it.

        The file is renamed aside before it is deleted, and put back if what was renamed is not the file
        judged stale (another process replaced it in between).
        """
        raw = _read_raw(self.path)
        owner = None if raw is None else _parse(raw)
        if raw is not None and owner is None:  # perhaps just created and not yet written: look again
            time.sleep(_SETTLE_SECONDS)
            raw = _read_raw(self.path)
            owner = None if raw is None else _parse(raw)
        if raw is None:  # released in the meantime
            return
        if owner is not None and _may_be_alive(owner):
            raise RunLockedError(
                f"model_dir {self.directory} is in use by pid {owner['pid']} on host {owner['host']} since "
                f"{owner['started']}; wait for it to finish or use another --model_dir (delete {self.path} if "
                "that run is gone)")
        aside = f"{self.path}.stale-{secrets.token_hex(4)}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:  # another process took it over first
            return
        except OSError as e:
            raise self._unwritable(e) from e
        if _read_raw(aside) != raw:  # not the file judged stale: give it back, the next attempt judges it
            with contextlib.suppress(OSError):  # fails only if yet another lock is in place
                os.link(aside, self.path)
            os.remove(aside)
            return
        os.remove(aside)
        if owner is None:
            self.log(f"model_dir {self.directory}: its lock {self.path} was unreadable ({_one_line(raw)!r}); "
                     "treated it as stale and took it over")
        else:
            self.log(f"model_dir {self.directory}: took over the lock of pid {owner['pid']} (started "
                     f"{owner['started']}), which is no longer running")

    def _unwritable(self, error: OSError) -> ModelDirError:
        return ModelDirError(f"cannot create the run lock {self.path} ({error.strerror or error}); check that "
                             "model_dir is writable and its disk is not full")


def _create_exclusively(path: str, text: str) -> None:
    """Creates `path` holding `text` (fsync'ed, with its folder), or raises FileExistsError if it exists; a
    file created but not written (full disk) is removed before the OSError is raised."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            os.write(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        with contextlib.suppress(OSError):
            os.remove(path)
        raise
    folder = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _read_raw(path: str) -> bytes | None:
    """The bytes of `path`, or None if it does not exist."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _parse(raw: bytes) -> dict | None:
    """The lock record in `raw`, or None unless it is a JSON object with a positive pid, a host and a start."""
    try:
        record = json.loads(raw.decode("utf-8"))
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError
        return None
    if (not isinstance(record, dict) or record.keys() != _FIELDS.keys()
            or any(type(record[k]) is not t for k, t in _FIELDS.items()) or record["pid"] <= 0):
        return None
    return record


def _may_be_alive(owner: dict) -> bool:
    """False only for an owner on this host whose pid no longer exists (os.kill(pid, 0))."""
    if owner["host"] != socket.gethostname():
        return True
    try:
        os.kill(owner["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _describe(record: dict | None) -> str:
    return "an unreadable record" if record is None else f"pid {record['pid']} on host {record['host']}"


def _one_line(raw: bytes, limit: int = 60) -> str:
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
