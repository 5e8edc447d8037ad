"""Tests of the atomic checkpoint manager and the stored model config: TensorFlow's state file, the old layout,
fsync, pruning, damaged checkpoints (fallback to the newest good one, never a silent restart) and disk errors."""

import contextlib
import errno
import json
import os
import subprocess

import keras
import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.errors import (
    DamagedCheckpointError,
    IncompatibleCheckpointError,
    LbieError,
    ModelDirError,
)
from lbie_tf.training import checkpoints as checkpoints_lib
from lbie_tf.training.checkpoints import (
    AtomicCheckpointManager,
    check_run_config,
    has_checkpoint_files,
    require_run_config,
    write_run_config,
)

X = np.linspace(-1, 1, 24, dtype=np.float32).reshape(6, 4)
DATA = "ckpt.data-00000-of-00001"


def make_checkpoint(units=8, seed=0):
    """A built two-layer model, a built Adam optimizer and a step counter in a `tf.train.Checkpoint`."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(2)])
    optimizer = keras.optimizers.Adam(1e-2)
    optimizer.build(model.trainable_variables)
    step = tf.Variable(0, dtype=tf.int64)
    return tf.train.Checkpoint(step=step, model=model, optimizer=optimizer), model, optimizer


def train_step(model, optimizer):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(X) - 1.0))
    optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))


def entries(directory):
    return sorted(os.listdir(directory))


# A tiny checkpoint: two float tensors and a counter, all set from one number.
def tiny(value=0.0, b_shape=(4, 3)):
    return tf.train.Checkpoint(a=tf.Variable(np.full(64, value, np.float32)),
                               b=tf.Variable(np.full(b_shape, value, np.float32)),
                               n=tf.Variable(int(value), dtype=tf.int64))


def set_values(ckpt, value):
    """Distinct values per element, so that a partly restored tensor cannot pass for a restored one."""
    ckpt.a.assign(value + np.arange(64, dtype=np.float32) / 64)
    ckpt.b.assign(np.full(ckpt.b.shape, -value, np.float32))
    ckpt.n.assign(int(value))


def assert_values(ckpt, value):
    expected = tiny()
    set_values(expected, value)
    np.testing.assert_array_equal(ckpt.a, expected.a)
    np.testing.assert_array_equal(ckpt.b, expected.b)
    assert int(ckpt.n) == int(value)


def saved_run(directory, steps=(100, 200), max_to_keep=3):
    """A run with one checkpoint per step, each holding values = its step; returns its manager."""
    ckpt = tiny()
    manager = AtomicCheckpointManager(ckpt, directory, max_to_keep=max_to_keep)
    for step in steps:
        set_values(ckpt, step)
        manager.save(step)
    return manager


def restore_fresh(directory, **kwargs):
    """Restores `directory` into fresh variables (values 7); returns (checkpoint, step, logged lines)."""
    ckpt, lines = tiny(7.0), []
    step = AtomicCheckpointManager(ckpt, directory).restore_latest(log=lines.append, **kwargs)
    return ckpt, step, lines


# ---- round trip, state file, old layout ------------------------------------------------------------------

def test_round_trip_restores_weights_optimizer_and_step(tmp_path):
    ckpt, model, opt = make_checkpoint(seed=1)
    for _ in range(3):
        train_step(model, opt)
    ckpt.step.assign(3)
    manager = AtomicCheckpointManager(ckpt, tmp_path)
    path = manager.save(3)
    assert path == os.path.join(str(tmp_path), "ckpt-3", "ckpt")
    assert entries(tmp_path) == ["checkpoint", "ckpt-3"]

    fresh, fresh_model, fresh_opt = make_checkpoint(seed=2)
    assert not np.allclose(fresh_model(X), model(X))
    assert AtomicCheckpointManager(fresh, tmp_path).restore_latest() == 3
    assert int(fresh.step) == 3
    np.testing.assert_array_equal(fresh_model(X), model(X))
    assert int(fresh_opt.iterations) == 3
    for a, b in zip(fresh_opt.variables, opt.variables):
        np.testing.assert_array_equal(a, b)
    train_step(model, opt)  # the next update is the same as if training had not stopped
    train_step(fresh_model, fresh_opt)
    np.testing.assert_allclose(fresh_model(X), model(X), rtol=1e-6)


def test_state_file_is_tensorflows(tmp_path):
    saved_run(tmp_path, steps=(10, 20, 30), max_to_keep=2)
    assert (tmp_path / "checkpoint").read_text() == (
        'model_checkpoint_path: "ckpt-30/ckpt"\n'
        'all_model_checkpoint_paths: "ckpt-20/ckpt"\n'
        'all_model_checkpoint_paths: "ckpt-30/ckpt"\n')
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-30" / "ckpt")
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert list(state.all_model_checkpoint_paths) == [str(tmp_path / f"ckpt-{s}" / "ckpt") for s in (20, 30)]
    read_back = tiny()
    read_back.read(tf.train.latest_checkpoint(str(tmp_path)))
    assert_values(read_back, 30)


def write_old_layout(directory, steps=(1, 2)):
    """A model directory as versions before the state file wrote it: `ckpt-<N>/` folders and `latest`."""
    ckpt = tiny()
    for step in steps:
        set_values(ckpt, step)
        ckpt.write(str(directory / f"ckpt-{step}" / "ckpt"))
    (directory / "latest").write_text(f"ckpt-{steps[-1]}\n")


def test_old_layout_resumes_and_is_migrated_at_the_next_save(tmp_path):
    write_old_layout(tmp_path)
    assert entries(tmp_path) == ["ckpt-1", "ckpt-2", "latest"]
    ckpt, step, lines = restore_fresh(tmp_path)
    assert (step, lines) == (2, [])
    assert_values(ckpt, 2)

    manager = AtomicCheckpointManager(ckpt, tmp_path, max_to_keep=2)
    set_values(ckpt, 3)
    manager.save(3)
    assert entries(tmp_path) == ["checkpoint", "ckpt-2", "ckpt-3"]
    assert tf.train.latest_checkpoint(str(tmp_path)) == str(tmp_path / "ckpt-3" / "ckpt")


def test_old_layout_with_a_damaged_newest_falls_back(tmp_path):
    write_old_layout(tmp_path)
    (tmp_path / "ckpt-2" / "ckpt.index").write_bytes(b"")
    ckpt, step, lines = restore_fresh(tmp_path)
    assert step == 1 and len(lines) == 1 and "ckpt-2" in lines[0]
    assert_values(ckpt, 1)


def test_empty_directory_restores_nothing(tmp_path):
    ckpt, model, _ = make_checkpoint()
    before = model(X)
    manager = AtomicCheckpointManager(ckpt, tmp_path / "missing")
    assert manager.latest_step() is None
    assert manager.restore_latest() is None
    np.testing.assert_array_equal(model(X), before)
    (tmp_path / "missing").mkdir()
    (tmp_path / "missing" / "model_config.json").write_text("{}")
    (tmp_path / "missing" / "ckpt-5.tmp-abcd").mkdir()  # an interrupted first save: no checkpoint yet
    assert not has_checkpoint_files(tmp_path / "missing")
    assert manager.restore_latest() is None


@pytest.mark.parametrize("name", ["ckpt-300", "checkpoint", "latest"])
def test_has_checkpoint_files(tmp_path, name):
    assert not has_checkpoint_files(tmp_path)
    if name.startswith("ckpt-"):
        (tmp_path / name).mkdir()
    else:
        (tmp_path / name).write_text("")
    assert has_checkpoint_files(tmp_path)


# ---- pruning ----------------------------------------------------------------------------------------------

def test_max_to_keep_deletes_the_oldest(tmp_path):
    manager = saved_run(tmp_path, steps=(10, 20, 30), max_to_keep=2)
    assert manager.steps() == [20, 30]
    assert manager.latest_step() == 30
    assert entries(tmp_path) == ["checkpoint", "ckpt-20", "ckpt-30"]


def test_pruning_waits_until_the_new_checkpoint_is_pointed_to(tmp_path, monkeypatch):
    manager = saved_run(tmp_path, steps=(10, 20), max_to_keep=2)

    def state_file_fails(path, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(checkpoints_lib, "_write_atomically", state_file_fails)
    set_values(manager.checkpoint, 30)
    with pytest.raises(ModelDirError, match=r"ckpt-30 .* is written but its checkpoint file could not be "
                                            r"updated \(OSError: No space left on device\)"):
        manager.save(30)
    monkeypatch.undo()
    assert entries(tmp_path) == ["checkpoint", "ckpt-10", "ckpt-20", "ckpt-30"]  # nothing pruned
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-20/ckpt")
    ckpt, step, _ = restore_fresh(tmp_path)  # the complete folder is the newest checkpoint
    assert step == 30
    assert_values(ckpt, 30)


def test_saving_the_same_step_again_replaces_it(tmp_path):
    ckpt, model, opt = make_checkpoint()
    manager = AtomicCheckpointManager(ckpt, tmp_path)
    manager.save(5)
    train_step(model, opt)
    manager.save(5)
    assert entries(tmp_path) == ["checkpoint", "ckpt-5"]
    fresh, fresh_model, _ = make_checkpoint(seed=3)
    AtomicCheckpointManager(fresh, tmp_path).restore_latest()
    np.testing.assert_array_equal(fresh_model(X), model(X))


def test_half_written_tmp_directory_is_ignored_and_cleaned(tmp_path):
    manager = saved_run(tmp_path, steps=(1,))
    stale = tmp_path / "ckpt-2.tmp-deadbeef"
    stale.mkdir()
    (stale / DATA).write_bytes(b"\0" * 10)
    (tmp_path / "checkpoint.tmp-cafe").write_text('model_checkpoint_path: "ckpt-2/ckpt"\n')
    (tmp_path / "events.tmp-keep").write_text("not ours")
    assert manager.latest_step() == 1
    assert manager.steps() == [1]
    manager.save(3)
    assert entries(tmp_path) == ["checkpoint", "ckpt-1", "ckpt-3", "events.tmp-keep"]


def test_after_a_fallback_the_damaged_and_the_abandoned_checkpoints_are_pruned(tmp_path):
    saved_run(tmp_path, steps=(100, 200, 300, 400), max_to_keep=3)  # keeps 200, 300, 400
    (tmp_path / "ckpt-400" / DATA).write_bytes(b"")
    (tmp_path / "ckpt-300" / DATA).write_bytes(b"")
    ckpt, lines = tiny(), []
    manager = AtomicCheckpointManager(ckpt, tmp_path, max_to_keep=2)
    assert manager.restore_latest(log=lines.append) == 200
    assert len(lines) == 2
    set_values(ckpt, 350)
    manager.save(350)  # 400 is damaged and from the abandoned run; 300 is damaged
    assert entries(tmp_path) == ["checkpoint", "ckpt-200", "ckpt-350"]
    assert_values(restore_fresh(tmp_path)[0], 350)


# ---- fsync ------------------------------------------------------------------------------------------------

def record_fsyncs_and_renames(monkeypatch):
    """Patches os.fsync / os.rename / os.replace to log ("fsync", path) and ("rename", src, dst), in order."""
    events = []
    real_fsync, real_rename, real_replace = os.fsync, os.rename, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def rename(src, dst):
        events.append(("rename", os.fspath(src), os.fspath(dst)))
        real_rename(src, dst)

    def replace(src, dst):
        events.append(("rename", os.fspath(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(os, "replace", replace)
    return events


def test_every_file_and_folder_is_fsynced_before_its_rename(tmp_path, monkeypatch):
    saved_run(tmp_path, steps=(1,))
    events = record_fsyncs_and_renames(monkeypatch)
    saved_run(tmp_path, steps=(2,))
    monkeypatch.undo()
    renames = [e for e in events if e[0] == "rename"]
    assert len(renames) == 2  # the checkpoint folder, then the state file
    (_, tmp_dir, final_dir), (_, tmp_state, state) = renames
    assert final_dir == str(tmp_path / "ckpt-2") and state == str(tmp_path / "checkpoint")
    at = events.index
    for synced in (os.path.join(tmp_dir, "ckpt.index"), os.path.join(tmp_dir, DATA), tmp_dir):
        assert at(("fsync", synced)) < at(renames[0])
    assert at(renames[0]) < at(("fsync", str(tmp_path)), at(renames[0])) < at(("fsync", tmp_state))
    assert at(("fsync", tmp_state)) < at(renames[1]) < at(("fsync", str(tmp_path)), at(renames[1]))


def test_run_config_is_fsynced_with_its_folder(tmp_path, monkeypatch):
    events = record_fsyncs_and_renames(monkeypatch)
    path = write_run_config(tmp_path, {"units": 8})
    monkeypatch.undo()
    (_, tmp, final), = [e for e in events if e[0] == "rename"]
    assert final == path
    assert events == [("fsync", tmp), ("rename", tmp, path), ("fsync", str(tmp_path))]


# ---- damaged checkpoints ----------------------------------------------------------------------------------

def truncate(path):
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def zero(path):
    path.write_bytes(b"\0" * os.path.getsize(path))


def flip_bit(offset):
    def flip(path):
        data = bytearray(path.read_bytes())
        data[offset] ^= 0x10
        path.write_bytes(bytes(data))
    return flip


# file, damage, what the logged line says (the error TensorFlow raised)
DAMAGES = {
    "data truncated": (DATA, truncate, "IndexError: Read less bytes than requested"),
    "data empty": (DATA, lambda p: p.write_bytes(b""), "IndexError: Read less bytes than requested"),
    "data zeroed": (DATA, zero, "OpError: The length checksum does not match"),
    "data bit flip in a variable": (DATA, flip_bit(5), "OpError: TensorBundle at ckpt-200/ckpt shard 0 (256 "
                                                       "bytes): Checksum does not match"),
    "data bit flip in the object graph": (DATA, flip_bit(-3), "Checksum does not match"),
    "data missing": (DATA, os.remove, "No such file or directory"),
    "index empty": ("ckpt.index", lambda p: p.write_bytes(b""), "file is too short to be an sstable"),
    "index truncated": ("ckpt.index", truncate, "not an sstable (bad magic number)"),
    "index garbage": ("ckpt.index", lambda p: p.write_bytes(b"\xff\xfe garbage" * 9), "bad magic number"),
    "index bit flip": ("ckpt.index", flip_bit(40), "block checksum mismatch"),
    "index missing": ("ckpt.index", os.remove, "ckpt.index is missing"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_newest_falls_back_to_the_older_one_exactly(tmp_path, damage):
    saved_run(tmp_path)
    file, damage_fn, said = DAMAGES[damage]
    damage_fn(tmp_path / "ckpt-200" / file)
    ckpt, step, lines = restore_fresh(tmp_path)
    assert step == 100
    assert_values(ckpt, 100)
    assert len(lines) == 1 and "\n" not in lines[0]
    assert lines[0].startswith(f"model_dir {tmp_path}: checkpoint ckpt-200 is damaged (")
    assert said in lines[0] and lines[0].endswith("; trying ckpt-100")


@pytest.mark.parametrize("damage", DAMAGES)
def test_without_fallback_a_damaged_newest_raises_and_assigns_nothing(tmp_path, damage):
    saved_run(tmp_path)
    file, damage_fn, said = DAMAGES[damage]
    damage_fn(tmp_path / "ckpt-200" / file)
    with pytest.raises(DamagedCheckpointError) as info:
        restore_fresh(tmp_path, fallback=False)
    message = str(info.value)
    assert "\n" not in message and said in message
    assert message.startswith(f"model_dir {tmp_path}: checkpoint ckpt-200 is damaged (")


def test_damage_assigns_nothing_before_it_is_found(tmp_path):
    saved_run(tmp_path, steps=(100,))
    flip_bit(5)(tmp_path / "ckpt-100" / DATA)  # in tensor `a`: `b` and `n` are intact
    ckpt = tiny(7.0)
    with pytest.raises(DamagedCheckpointError):
        AtomicCheckpointManager(ckpt, tmp_path).restore_latest(fallback=False)
    for variable in (ckpt.a, ckpt.b, ckpt.n):
        np.testing.assert_array_equal(variable, np.full(variable.shape, 7))


def test_checkpoint_read_itself_catches_a_bit_flip(tmp_path):
    """The crc32c check is not only the verifier's: `checkpoint.read` raises DataLossError too."""
    saved_run(tmp_path, steps=(100,))
    flip_bit(5)(tmp_path / "ckpt-100" / DATA)
    with pytest.raises(tf.errors.DataLossError, match="Checksum does not match"):
        tiny().read(str(tmp_path / "ckpt-100" / "ckpt"))


def test_a_read_that_fails_halfway_is_overwritten_by_the_older_one(tmp_path, monkeypatch):
    saved_run(tmp_path)
    ckpt = tiny(7.0)
    real_read = ckpt.read

    def half_read(prefix):  # assigns part of a checkpoint, then fails (files changed after verification)
        if "ckpt-200" in prefix:
            ckpt.a.assign(np.full(64, 99.0, np.float32))
            ckpt.n.assign(99)
            raise tf.errors.DataLossError(None, None, "Checksum does not match")
        return real_read(prefix)

    monkeypatch.setattr(ckpt, "read", half_read)
    lines = []
    assert AtomicCheckpointManager(ckpt, tmp_path).restore_latest(log=lines.append) == 100
    assert_values(ckpt, 100)
    assert len(lines) == 1 and "DataLossError: Checksum does not match" in lines[0]


def test_several_damaged_fall_back_to_the_newest_good_one(tmp_path):
    saved_run(tmp_path, steps=(100, 200, 300))
    zero(tmp_path / "ckpt-300" / DATA)
    os.remove(tmp_path / "ckpt-200" / "ckpt.index")
    ckpt, step, lines = restore_fresh(tmp_path)
    assert step == 100
    assert_values(ckpt, 100)
    assert [line.split(" is damaged")[0] for line in lines] == [
        f"model_dir {tmp_path}: checkpoint ckpt-300", f"model_dir {tmp_path}: checkpoint ckpt-200"]


@pytest.mark.parametrize("content", [b"garbage\n", b"\xff\xfe\x00\x01", b"", b'model_checkpoint_path: "x"\n'])
@pytest.mark.parametrize("name", ["checkpoint", "latest"])
def test_damaged_pointer_file_is_ignored_with_one_line(tmp_path, name, content):
    if name == "checkpoint":
        saved_run(tmp_path)
    else:
        write_old_layout(tmp_path, steps=(100, 200))
    (tmp_path / name).write_bytes(content)
    ckpt, step, lines = restore_fresh(tmp_path)
    assert step == 200
    assert_values(ckpt, 200)
    assert len(lines) == 1 and lines[0].startswith(f"model_dir {tmp_path}: its {name} file is ")
    assert lines[0].endswith("; ignored it")


def test_pointer_to_a_missing_checkpoint_is_a_missing_newest(tmp_path):
    write_old_layout(tmp_path, steps=(1, 2))
    (tmp_path / "latest").write_text("ckpt-7\n")
    assert AtomicCheckpointManager(tiny(), tmp_path).latest_step() == 2
    ckpt, step, lines = restore_fresh(tmp_path)
    assert step == 2
    assert lines == [f"model_dir {tmp_path}: checkpoint ckpt-7 is damaged (the latest file names it but its "
                     "folder is missing); trying ckpt-2"]
    with pytest.raises(DamagedCheckpointError, match="ckpt-7 is damaged"):
        restore_fresh(tmp_path, fallback=False)


def test_checkpoint_files_that_cannot_be_read_are_never_a_fresh_start(tmp_path):
    saved_run(tmp_path)
    for step in (100, 200):
        os.remove(tmp_path / f"ckpt-{step}" / "ckpt.index")
    manager = AtomicCheckpointManager(tiny(), tmp_path)
    assert manager.latest_step() is None and has_checkpoint_files(tmp_path)
    with pytest.raises(DamagedCheckpointError) as info:
        manager.restore_latest(log=lambda line: None)
    assert str(info.value) == (
        f"model_dir {tmp_path} holds checkpoint files but none can be read (ckpt-200: ckpt.index is missing; "
        "ckpt-100: ckpt.index is missing); move them away or use a fresh --model_dir")


def test_a_lone_pointer_file_is_never_a_fresh_start(tmp_path):
    (tmp_path / "checkpoint").write_bytes(b"\xff\x00")
    with pytest.raises(DamagedCheckpointError, match=r"holds checkpoint files but none can be read \(its "
                                                     r"checkpoint file is unreadable \(UnicodeDecodeError"):
        restore_fresh(tmp_path)


def test_different_layer_width_is_an_incompatible_checkpoint(tmp_path):
    AtomicCheckpointManager(make_checkpoint(units=8)[0], tmp_path).save(4)
    manager = AtomicCheckpointManager(make_checkpoint(units=16)[0], tmp_path)
    with pytest.raises(IncompatibleCheckpointError) as info:
        manager.restore_latest()
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path) in message and "step 4" in message and "fresh --model_dir" in message


def test_different_structure_is_an_incompatible_checkpoint(tmp_path):
    AtomicCheckpointManager(make_checkpoint()[0], tmp_path).save(4)
    _, model, _ = make_checkpoint()
    extra = tf.Variable(np.zeros(3, np.float32))
    manager = AtomicCheckpointManager(tf.train.Checkpoint(model=model, extra=extra), tmp_path)
    with pytest.raises(IncompatibleCheckpointError, match="fresh --model_dir"):
        manager.restore_latest()


def test_an_incompatible_newest_is_not_skipped_for_an_older_one(tmp_path):
    saved_run(tmp_path, steps=(100,))
    AtomicCheckpointManager(tiny(b_shape=(5, 3)), tmp_path).save(200)
    with pytest.raises(IncompatibleCheckpointError, match=r"\(step 200\) that does not fit this model"):
        restore_fresh(tmp_path)


# ---- disk errors ------------------------------------------------------------------------------------------

def resource_exhausted(*args, **kwargs):
    raise tf.errors.ResourceExhaustedError(None, None, "{{function_node SaveV2}} x.tempstate1; No space left "
                                                       "on device")


def read_only(*args, **kwargs):
    raise OSError(errno.EROFS, os.strerror(errno.EROFS))


@pytest.mark.parametrize("failing, said", [
    ("write", "ResourceExhaustedError: x.tempstate1; No space left on device"),
    ("rename", "OSError: Read-only file system"),
    ("fsync", "OSError: Read-only file system"),
])
def test_failed_save_is_one_line_and_keeps_the_previous_checkpoint(tmp_path, monkeypatch, failing, said):
    ckpt, model, opt = make_checkpoint()
    manager = AtomicCheckpointManager(ckpt, tmp_path)
    manager.save(1)
    saved = model(X)
    train_step(model, opt)
    if failing == "write":
        real_write = ckpt.write

        def half_write(prefix, **kwargs):  # leaves a partial checkpoint in the temporary folder
            real_write(prefix, **kwargs)
            os.remove(prefix + ".index")
            resource_exhausted()

        monkeypatch.setattr(ckpt, "write", half_write)
    else:
        monkeypatch.setattr(os, failing, read_only)
    with pytest.raises(ModelDirError) as info:
        manager.save(2)
    monkeypatch.undo()
    assert str(info.value) == (
        f"cannot write checkpoint ckpt-2 in model_dir {tmp_path} ({said}); earlier checkpoints are intact; "
        "free space or fix the directory's permissions, then resume")
    assert isinstance(info.value, LbieError) and isinstance(info.value, OSError)
    assert entries(tmp_path) == ["checkpoint", "ckpt-1"]  # the temporary folder is gone
    fresh, fresh_model, _ = make_checkpoint(seed=4)
    assert AtomicCheckpointManager(fresh, tmp_path).restore_latest() == 1
    np.testing.assert_array_equal(fresh_model(X), saved)


def test_failed_save_of_an_existing_step_puts_the_old_copy_back(tmp_path, monkeypatch):
    manager = saved_run(tmp_path, steps=(100,))
    real_rename, renames = os.rename, []

    def rename(src, dst):  # moving the old copy aside works, moving the new one into place fails
        renames.append((os.fspath(src), os.fspath(dst)))
        if len(renames) == 2:
            read_only()
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    set_values(manager.checkpoint, 555)
    with pytest.raises(ModelDirError):
        manager.save(100)
    monkeypatch.undo()
    (_, aside), (new, _), (put_back, _) = renames
    assert ".tmp-" in aside and ".tmp-" in new and put_back == aside
    assert entries(tmp_path) == ["checkpoint", "ckpt-100"]
    assert_values(restore_fresh(tmp_path)[0], 100)


def test_unwritable_run_config_is_a_model_dir_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ModelDirError, match=r"^cannot write .*file/run/model_config.json \((File|NotADirectory)"):
        write_run_config(tmp_path / "file" / "run", {"units": 8})


@contextlib.contextmanager
def small_disk(path, size):
    """A tmpfs of `size` mounted at `path` (root only); skips the test where mounting is not allowed."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True).returncode == 0 if os.geteuid() == 0 else False
    if not mounted:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_full_and_read_only_disks_are_one_line_errors(tmp_path):
    with small_disk(tmp_path / "disk", "64k") as disk:
        ckpt = tf.train.Checkpoint(a=tf.Variable(np.arange(8192, dtype=np.float32)))  # 32 KiB
        manager = AtomicCheckpointManager(ckpt, disk / "run")
        manager.save(1)
        with pytest.raises(ModelDirError, match=r"^cannot write checkpoint ckpt-2 .*\(ResourceExhaustedError: "
                                                r".*No space left on device.*\); earlier checkpoints are intact"):
            manager.save(2)
        assert entries(disk / "run") == ["checkpoint", "ckpt-1"]
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        with pytest.raises(ModelDirError, match=r"\(PermissionDeniedError: .*Read-only file system\)"):
            manager.save(3)
        fresh = tf.train.Checkpoint(a=tf.Variable(np.zeros(8192, np.float32)))
        assert AtomicCheckpointManager(fresh, disk / "run").restore_latest() == 1
        np.testing.assert_array_equal(fresh.a, np.arange(8192, dtype=np.float32))


# ---- the stored model config ------------------------------------------------------------------------------

def test_run_config_round_trip_and_mismatch_message(tmp_path):
    config = {"image_size": 48, "fusion": {"units": 32, "kernel_size": 3}, "steps": (1, 2)}
    check_run_config(tmp_path, config)  # nothing stored yet: accepted
    path = write_run_config(tmp_path, config)
    assert os.path.basename(path) == "model_config.json"
    check_run_config(tmp_path, {"image_size": 48, "fusion": {"units": 32, "kernel_size": 3}, "steps": [1, 2]})
    assert require_run_config(tmp_path) == {"image_size": 48, "fusion": {"units": 32, "kernel_size": 3},
                                            "steps": [1, 2]}

    changed = {"image_size": 48, "fusion": {"units": 16, "kernel_size": 3}, "steps": (1, 2)}
    with pytest.raises(IncompatibleCheckpointError) as info:
        check_run_config(tmp_path, changed)
    assert str(info.value) == (
        f"model_dir {tmp_path} holds a checkpoint of a different model (fusion.units: 16 here, 32 in the "
        "checkpoint); use a fresh --model_dir or the flags it was trained with")
    assert isinstance(info.value, LbieError)


def test_run_config_mismatch_names_the_first_keys_sorted(tmp_path):
    write_run_config(tmp_path, {"a": 1, "b": 2, "c": 3, "d": "x"})
    with pytest.raises(IncompatibleCheckpointError) as info:
        check_run_config(tmp_path, {"a": 0, "b": 0, "d": "y", "e": True})
    assert ("(a: 0 here, 1 in the checkpoint, b: 0 here, 2 in the checkpoint, c: absent here, 3 in the "
            "checkpoint and 2 more)") in str(info.value)


def test_missing_run_config_beside_checkpoints_is_an_error(tmp_path):
    saved_run(tmp_path, steps=(100,))
    expected = (f"model_dir {tmp_path} has no model_config.json, the record of the model its checkpoints belong "
                "to; restore that file or use a fresh --model_dir")
    with pytest.raises(DamagedCheckpointError) as info:
        check_run_config(tmp_path, {"units": 8})
    assert str(info.value) == expected
    with pytest.raises(DamagedCheckpointError, match="has no model_config.json"):
        require_run_config(tmp_path)


@pytest.mark.parametrize("content, said", [
    (b'{"units": 8, "fus', "is not valid JSON (Unterminated string starting at: line 1 column 14"),
    (b"", "is not valid JSON (Expecting value: line 1 column 1"),
    (b"\xff\xfe{}", "is not valid JSON ('utf-8' codec can't decode byte 0xff"),
    (b"[1, 2]", "does not hold a JSON object"),
])
@pytest.mark.parametrize("with_checkpoints", [True, False])
def test_invalid_run_config_is_a_one_line_error(tmp_path, content, said, with_checkpoints):
    if with_checkpoints:
        saved_run(tmp_path, steps=(100,))
    (tmp_path / "model_config.json").write_bytes(content)
    with pytest.raises(DamagedCheckpointError) as info:
        check_run_config(tmp_path, {"units": 8})
    assert str(info.value).startswith(f"{tmp_path / 'model_config.json'} {said}")
    assert str(info.value).endswith("; restore that file or use a fresh --model_dir")
    assert "\n" not in str(info.value)


def test_run_written_before_an_option_existed_resumes_at_its_default(tmp_path):
    write_run_config(tmp_path, {"model": {"units": 8}})  # a run of a version without `bias`
    defaults = {"model": {"units": 16, "bias": 0.0}}
    check_run_config(tmp_path, {"model": {"units": 8, "bias": 0.0}}, defaults)  # the option at its default
    with pytest.raises(IncompatibleCheckpointError, match=r"model.bias: -2.0 here, 0.0 in the checkpoint"):
        check_run_config(tmp_path, {"model": {"units": 8, "bias": -2.0}}, defaults)
    with pytest.raises(IncompatibleCheckpointError, match="model.units: 16 here, 8 in the checkpoint"):
        check_run_config(tmp_path, {"model": {"units": 16, "bias": 0.0}}, defaults)  # stored values still win


def test_segmenter_run_config_from_before_termination_bias_init_resumes(tmp_path):
    from lbie_tf.configs import SegmenterConfig, field_defaults

    config = SegmenterConfig().to_dict()
    old = {key: value for key, value in config.items() if key != "termination_bias_init"}
    write_run_config(tmp_path, {"model": old})
    check_run_config(tmp_path, {"model": config}, {"model": field_defaults(SegmenterConfig)})
    assert json.loads((tmp_path / "model_config.json").read_text()) == {"model": old}
