"""Tests of the per-model-directory run lock: exclusive, stale locks taken over, only one's own lock released,
unwritable directories as one-line errors."""

import errno
import json
import os
import socket
import subprocess
import sys

import pytest

from lbie_tf.errors import LbieError, ModelDirError, RunLockedError
from lbie_tf.training import run_lock as run_lock_lib
from lbie_tf.training.run_lock import RunLock

HOST = socket.gethostname()


def finished_pid():
    """The pid of a process that has exited (and been reaped), so that os.kill(pid, 0) fails."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def write_lock(directory, record):
    path = directory / ".lock"
    path.write_bytes(record if isinstance(record, bytes) else json.dumps(record).encode())
    return path


def read_lock(directory):
    return json.loads((directory / ".lock").read_text())


def test_lock_names_this_process_and_release_removes_it(tmp_path):
    run_dir = tmp_path / "run"
    with RunLock(run_dir) as lock:
        record = read_lock(run_dir)
        assert lock.path == str(run_dir / ".lock")
        assert record["pid"] == os.getpid() and record["host"] == HOST
        assert sorted(record) == ["host", "pid", "started"] and record["started"].endswith("+00:00")
    assert os.listdir(run_dir) == []


def test_second_acquire_is_refused_with_one_line(tmp_path):
    with RunLock(tmp_path):
        before = (tmp_path / ".lock").read_bytes()
        started = read_lock(tmp_path)["started"]
        with pytest.raises(RunLockedError) as info:
            RunLock(tmp_path).acquire()
        assert str(info.value) == (
            f"model_dir {tmp_path} is in use by pid {os.getpid()} on host {HOST} since {started}; wait for it to "
            f"finish or use another --model_dir (delete {tmp_path / '.lock'} if that run is gone)")
        assert isinstance(info.value, LbieError)
        assert (tmp_path / ".lock").read_bytes() == before


def test_lock_of_another_host_is_refused_even_if_its_pid_is_not_alive_here(tmp_path):
    write_lock(tmp_path, {"pid": finished_pid(), "host": HOST + "-elsewhere", "started": "2025-01-01T00:00:00+00:00"})
    with pytest.raises(RunLockedError, match=f"on host {HOST}-elsewhere since 2025-01-01T00:00:00"):
        RunLock(tmp_path).acquire()


def test_lock_of_a_finished_process_is_taken_over_with_one_line(tmp_path):
    pid = finished_pid()
    write_lock(tmp_path, {"pid": pid, "host": HOST, "started": "2025-01-01T00:00:00+00:00"})
    lines = []
    with RunLock(tmp_path, log=lines.append):
        assert read_lock(tmp_path)["pid"] == os.getpid()
    assert lines == [f"model_dir {tmp_path}: took over the lock of pid {pid} (started 2025-01-01T00:00:00+00:00), "
                     "which is no longer running"]
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("content", [
    b"", b"\xff\xfe garbage", b"[1, 2]", b'{"pid": 0, "host": "h", "started": "t"}',
    b'{"pid": "12", "host": "h", "started": "t"}', b'{"pid": 12, "host": "h"}',
])
def test_unreadable_lock_is_stale(tmp_path, content):
    write_lock(tmp_path, content)
    lines = []
    with RunLock(tmp_path, log=lines.append):
        assert read_lock(tmp_path)["pid"] == os.getpid()
    assert len(lines) == 1
    assert lines[0].startswith(f"model_dir {tmp_path}: its lock {tmp_path / '.lock'} was unreadable (")
    assert lines[0].endswith("); treated it as stale and took it over")


def test_a_lock_being_written_is_waited_for(tmp_path, monkeypatch):
    """An empty lock file may be another process's, between its creation and its write: look again."""
    path = write_lock(tmp_path, b"")
    live = {"pid": os.getpid(), "host": HOST, "started": "2025-01-01T00:00:00+00:00"}
    monkeypatch.setattr(run_lock_lib.time, "sleep", lambda seconds: write_lock(tmp_path, live))
    with pytest.raises(RunLockedError, match="since 2025-01-01T00:00:00"):
        RunLock(tmp_path).acquire()
    assert json.loads(path.read_text()) == live


def test_a_lock_replaced_while_judged_stale_is_given_back(tmp_path, monkeypatch):
    write_lock(tmp_path, {"pid": finished_pid(), "host": HOST, "started": "2025-01-01T00:00:00+00:00"})
    newer = {"pid": os.getpid(), "host": HOST, "started": "2025-06-01T00:00:00+00:00"}
    real_may_be_alive, judged = run_lock_lib._may_be_alive, []

    def another_process_takes_over_meanwhile(owner):
        judged.append(owner["started"])
        alive = real_may_be_alive(owner)
        if len(judged) == 1:
            write_lock(tmp_path, newer)
        return alive

    monkeypatch.setattr(run_lock_lib, "_may_be_alive", another_process_takes_over_meanwhile)
    with pytest.raises(RunLockedError, match="since 2025-06-01T00:00:00"):
        RunLock(tmp_path, log=lambda line: pytest.fail(f"logged {line!r}")).acquire()
    assert judged == ["2025-01-01T00:00:00+00:00", "2025-06-01T00:00:00+00:00"]
    assert read_lock(tmp_path) == newer
    assert os.listdir(tmp_path) == [".lock"]


def test_release_leaves_a_lock_that_is_no_longer_ours(tmp_path):
    lines = []
    lock = RunLock(tmp_path, log=lines.append)
    lock.acquire()
    other = {"pid": 4242, "host": "other-host", "started": "2025-01-01T00:00:00+00:00"}
    write_lock(tmp_path, other)  # another run took it over (say, after this one was thought dead)
    lock.release()
    assert read_lock(tmp_path) == other
    assert lines == [f"model_dir {tmp_path}: its lock {tmp_path / '.lock'} now belongs to pid 4242 on host "
                     "other-host; left it in place"]
    lock.release()  # released already: nothing happens
    assert len(lines) == 1 and read_lock(tmp_path) == other


def test_release_without_the_file_or_without_acquire_does_nothing(tmp_path):
    lock = RunLock(tmp_path, log=lambda line: pytest.fail(f"logged {line!r}"))
    lock.release()
    lock.acquire()
    os.remove(tmp_path / ".lock")
    lock.release()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("failing, code", [("open", errno.EROFS), ("open", errno.EACCES), ("write", errno.ENOSPC)])
def test_unwritable_directory_is_a_model_dir_error(tmp_path, monkeypatch, failing, code):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(run_lock_lib.os, failing, fail)
    with pytest.raises(ModelDirError) as info:
        RunLock(tmp_path).acquire()
    monkeypatch.undo()
    assert str(info.value) == (f"cannot create the run lock {tmp_path / '.lock'} ({os.strerror(code)}); check that "
                               "model_dir is writable and its disk is not full")
    assert os.listdir(tmp_path) == []  # a lock created but not written is removed


def test_model_dir_below_a_file_is_a_model_dir_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ModelDirError, match=r"cannot create the run lock .*file/run/\.lock"):
        RunLock(tmp_path / "file" / "run").acquire()
