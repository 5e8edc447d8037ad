"""Fault benchmark: a small CoSaL training killed again and again, and every damage a model directory can suffer.

    python -m benchmarks.faults [--seed=0] [--sigkills=20] [--sigterms=5] [--output=docs/results/faults]
    python -m benchmarks.faults --render_only        # faults.md and faults.png again from faults.json

What it runs (each training is `benchmarks.step_logged_training`, i.e. `train_segmentation.py` with a progress
line after every step, on `configs/cosal_demo.cfg` at `--batch_size=8 --train_steps=300 --checkpoint_every=25
--cosal_test_size=0 --jit_compile=off`, in folders under `--work_dir`):

1. Interrupted training: `--sigkills` SIGKILLs and `--sigterms` SIGTERMs in a seeded random order
   (`kill_plan`), the same command restarted after each one, then run to the end. SIGKILLs come at a random
   moment 1..2·checkpoint_every steps into a run, during a checkpoint write (`--sigkills_during_write` of them:
   as soon as a temporary checkpoint folder or state file appears, after a random delay of at most 2 ms), or
   during start-up (`--sigkills_during_startup`: 0.5–15 s after the process starts). After each kill every
   complete checkpoint is read tensor by tensor (crc32c) and the state file is checked. Steps lost per kill =
   steps finished before the kill (the last progress line) − the step the next run resumed from.
2. An uninterrupted run of the same command; the final checkpoints of both are compared variable by variable
   (the recorded training wall time excluded).
3. Disk full: `--model_dir` on a tmpfs of `--disk_size`; once the second checkpoint is written the rest of the
   disk is filled; the run must stop with one line, its checkpoints intact, and resume once space is freed.
4. Two trainings on one `--model_dir`: the second must refuse with one line.
5. Damage (`DAMAGES`) to copies of the finished run's folder: the same command must use the newest good
   checkpoint or stop with one line, never start again from step 0.

Writes `<output>.json`, and from it `<output>.md` and `<output>.png` (`benchmarks.faults_report`).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from benchmarks import faults_report, report_files  # noqa: E402
from lbie_tf.training.checkpoints import LATEST_FILE, RUN_CONFIG_FILE, STATE_FILE, TMP_MARK  # noqa: E402
from lbie_tf.training.run_lock import LOCK_FILE  # noqa: E402

FLAGS = flags.FLAGS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESET = "configs/cosal_demo.cfg"
PROGRESS_LINE = re.compile(r"^step (\d+)/\d+ \[")
RESUMED_LINE = re.compile(r"^resumed from .* at step (\d+)$")
STOPPED_LINE = re.compile(r"^stopped by SIG\w+ after step (\d+):")
# Lines a run prints about its model directory (not progress, not TensorFlow's logging).
DIAGNOSTIC_LINE = re.compile(r"^(error: |model_dir |stopped by |Traceback)")
DATA_FILE = "ckpt.data-00000-of-00001"
INDEX_FILE = "ckpt.index"
WRITE_DELAY_S = 0.002  # a kill aimed at a write comes at most this long after the write is seen
POLL_S = 0.0002  # how often a kill aimed at a write looks for one


def training_flags() -> list[str]:
    """The flags every training of the benchmark runs with (`--model_dir` apart)."""
    return [f"--flagfile={PRESET}", f"--batch_size={FLAGS.batch_size}", f"--train_steps={FLAGS.train_steps}",
            f"--checkpoint_every={FLAGS.checkpoint_every}", "--cosal_test_size=0", "--jit_compile=off"]


def kill_plan(seed: int, sigkills: int, during_write: int, during_startup: int, sigterms: int) -> list[str]:
    """The kinds of the interruptions in a seeded random order.

    Returns:
        `sigkills + sigterms` entries: "sigkill_write" (`during_write` of them), "sigkill_startup"
        (`during_startup`), "sigkill_step" (the other SIGKILLs) and "sigterm".
    """
    if during_write + during_startup > sigkills:
        raise ValueError(f"{during_write} + {during_startup} aimed SIGKILLs are more than the {sigkills} in all")
    kinds = (["sigkill_write"] * during_write + ["sigkill_startup"] * during_startup
             + ["sigkill_step"] * (sigkills - during_write - during_startup) + ["sigterm"] * sigterms)
    random.Random(seed).shuffle(kinds)
    return kinds


def steps_lost(runs: list[dict]) -> list[int]:
    """Steps lost by each interrupted run: the steps it had finished minus the step the next run resumed from.

    Args:
        runs: in order, each `{"start_step": int | None, "last_step": int | None, "checkpoint_before": int}`:
            the step it resumed from (None if it died before saying), the last step it finished (None if none)
            and the newest complete checkpoint before it started. The last run is the one that finished.

    Returns:
        One number per run but the last.
    """
    lost = []
    for index, run in enumerate(runs[:-1]):
        reached = run["last_step"]
        if reached is None:
            reached = run["start_step"] if run["start_step"] is not None else run["checkpoint_before"]
        resumed = next(r["start_step"] for r in runs[index + 1:] if r["start_step"] is not None)
        lost.append(reached - resumed)
    return lost


class Training:
    """One training process of the benchmark's command in `model_dir`, its output read line by line.

    Args:
        model_dir: the `--model_dir`.
        extra_flags: appended to `training_flags()`.
        clock: the benchmark's clock (seconds), for the timeline.
    """

    def __init__(self, model_dir: str, extra_flags: tuple[str, ...] = (), clock: Callable[[], float] = time.monotonic):
        self.model_dir = model_dir
        self.clock = clock
        self.started = clock()
        self.lines: list[str] = []
        self.timeline: list[tuple[float, int]] = []  # (clock, step) of every progress line
        self.last_step: int | None = None
        self.start_step: int | None = None
        env = {**os.environ, "PYTHONPATH": ROOT, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.step_logged_training", *training_flags(), *extra_flags,
             f"--model_dir={model_dir}"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            line = line.rstrip("\n")
            progress = PROGRESS_LINE.match(line)
            if progress:
                if self.start_step is None:
                    self.start_step = 0  # a fresh run says nothing before its first step
                self.last_step = int(progress.group(1))
                self.timeline.append((round(self.clock(), 3), self.last_step))
                continue
            resumed = RESUMED_LINE.match(line)
            if resumed:
                self.start_step = int(resumed.group(1))
            self.lines.append(line)

    def wait_for(self, condition: Callable[[], bool], timeout: float | None = None, poll: float = 0.01) -> bool:
        """Waits until `condition()` holds or the process ends; returns whether it holds."""
        deadline = time.monotonic() + (timeout or FLAGS.run_timeout)
        while not condition():
            if self.process.poll() is not None or time.monotonic() > deadline:
                return condition()
            time.sleep(poll)
        return True

    def finish(self) -> int:
        """Waits for the process to end (killing it after `--run_timeout`) and for its output; returns its status."""
        try:
            self.process.wait(timeout=FLAGS.run_timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join()
        return self.process.returncode

    def diagnostics(self) -> list[str]:
        """The lines it printed about its model directory (errors, damage, stops, tracebacks)."""
        return [line for line in self.lines if DIAGNOSTIC_LINE.match(line)]


def write_leftovers(model_dir: str) -> set[str]:
    """Names of checkpoint folders and state files being written (or left half-written): `*.tmp-*` of ours."""
    try:
        return {name for name in os.listdir(model_dir) if TMP_MARK in name and name.startswith(("ckpt-", STATE_FILE))}
    except FileNotFoundError:
        return set()


def complete_steps(model_dir: str) -> list[int]:
    """Steps of the checkpoint folders of `model_dir` that have an index, ascending."""
    import tensorflow as tf

    from lbie_tf.training.checkpoints import AtomicCheckpointManager

    return AtomicCheckpointManager(tf.train.Checkpoint(), model_dir).steps()


def inspect_model_dir(model_dir: str) -> dict:
    """What a killed run left: complete checkpoints, which of them cannot be read, what the state file names.

    Every tensor of every checkpoint folder with an index is read (`tf.train.load_checkpoint` checks each
    one's crc32c).
    """
    import tensorflow as tf

    steps = complete_steps(model_dir)
    corrupt = []
    for step in steps:
        try:
            reader = tf.train.load_checkpoint(os.path.join(model_dir, f"ckpt-{step}", "ckpt"))
            for name in reader.get_variable_to_shape_map():
                reader.get_tensor(name)
        except Exception:  # noqa: BLE001 - any failure to read is what is counted
            corrupt.append(step)
    latest = tf.train.latest_checkpoint(model_dir) if os.path.isdir(model_dir) else None
    named = int(re.search(r"ckpt-(\d+)", latest).group(1)) if latest else None
    return {"checkpoints": steps, "corrupt": corrupt, "state_names": named,
            "state_names_a_complete_checkpoint": named in steps,
            "write_leftovers": sorted(write_leftovers(model_dir)),
            "lock_left": os.path.exists(os.path.join(model_dir, LOCK_FILE))}


def interrupt(run: Training, kind: str, rng: random.Random) -> dict:
    """Sends the planned signal to `run` at the planned moment; returns what was done."""
    every = FLAGS.checkpoint_every
    if kind == "sigkill_startup":
        time.sleep(rng.uniform(0.5, 15.0))
    elif kind == "sigkill_write":  # look closely from the step before a checkpoint step on
        run.wait_for(lambda: run.last_step is not None and (run.last_step + 1) % every == 0, poll=0.001)
        earlier = write_leftovers(run.model_dir)  # left by an earlier kill: pruned by the next good save
        run.wait_for(lambda: bool(write_leftovers(run.model_dir) - earlier), poll=POLL_S)
        time.sleep(rng.uniform(0.0, WRITE_DELAY_S))
    else:
        run.wait_for(lambda: run.start_step is not None)
        target = min((run.start_step or 0) + rng.randint(1, 2 * every), FLAGS.train_steps - 1)
        run.wait_for(lambda: (run.last_step or 0) >= target, poll=0.001)
        time.sleep(rng.uniform(0.0, 0.1))  # about one step: any moment inside it
    number = signal.SIGTERM if kind == "sigterm" else signal.SIGKILL
    seconds = run.clock()
    if run.process.poll() is None:
        run.process.send_signal(number)
    status = run.finish()
    stopped = [int(m.group(1)) for m in map(STOPPED_LINE.match, run.lines) if m]
    return {"kind": kind, "signal": signal.Signals(number).name, "started_seconds": round(run.started, 3),
            "at_seconds": round(seconds, 3),
            "exit_status": status, "start_step": run.start_step, "last_step": run.last_step,
            "stopped_after_step": stopped[0] if stopped else None, "diagnostics": run.diagnostics()}


def interrupted_training(model_dir: str) -> dict:
    """The interrupted training: the plan's kills, a restart after each, then the run to the end; its
    timelines in seconds from the first start."""
    origin = time.monotonic()
    clock = lambda: time.monotonic() - origin
    rng = random.Random(FLAGS.seed)
    plan = kill_plan(FLAGS.seed, FLAGS.sigkills, FLAGS.sigkills_during_write, FLAGS.sigkills_during_startup,
                     FLAGS.sigterms)
    runs, timelines, checkpoint_before = [], [], 0
    for number, kind in enumerate(plan, 1):
        earlier = write_leftovers(model_dir)
        run = Training(model_dir, clock=clock)
        record = interrupt(run, kind, rng)
        record.update(checkpoint_before=checkpoint_before, after=inspect_model_dir(model_dir))
        record["new_write_leftovers"] = sorted(set(record["after"]["write_leftovers"]) - earlier)
        checkpoint_before = max(record["after"]["checkpoints"], default=0)
        runs.append(record)
        timelines.append(run.timeline)
        print(f"kill {number}/{len(plan)}: {kind} exit {record['exit_status']} steps {record['start_step']}.."
              f"{record['last_step']} left {record['after']['checkpoints']} corrupt {record['after']['corrupt']} "
              f"leftovers {record['after']['write_leftovers']}", flush=True)
    last = Training(model_dir, clock=clock)
    status = last.finish()
    runs.append({"kind": "to the end", "signal": None, "started_seconds": round(last.started, 3),
                 "at_seconds": round(clock(), 3), "exit_status": status, "start_step": last.start_step,
                 "last_step": last.last_step, "checkpoint_before": checkpoint_before,
                 "diagnostics": last.diagnostics(), "after": inspect_model_dir(model_dir)})
    timelines.append(last.timeline)
    for run, lost in zip(runs, steps_lost(runs)):
        run["steps_lost"] = lost
    return {"runs": runs, "timelines": timelines}


def uninterrupted_training(model_dir: str) -> dict:
    """The same command run once to the end; its timeline in seconds from its start."""
    origin = time.monotonic()
    run = Training(model_dir, clock=lambda: time.monotonic() - origin)
    status = run.finish()
    return {"exit_status": status, "last_step": run.last_step, "seconds": round(run.clock(), 3),
            "timeline": run.timeline,
            "diagnostics": run.diagnostics()}


def compare_final_weights(model_dir_a: str, model_dir_b: str) -> dict:
    """The final checkpoints of two runs, variable by variable (the recorded training wall time excluded)."""
    import numpy as np
    import tensorflow as tf

    readers = [tf.train.load_checkpoint(tf.train.latest_checkpoint(d)) for d in (model_dir_a, model_dir_b)]
    names, names_b = (sorted(n for n in r.get_variable_to_shape_map() if "train_seconds" not in n) for r in readers)
    differing, largest = [], 0.0
    for name in names:
        a, b = (np.asarray(r.get_tensor(name)) for r in readers)
        if a.shape != b.shape or a.dtype != b.dtype or a.tobytes() != b.tobytes():
            differing.append(name)
            if a.shape == b.shape and np.issubdtype(a.dtype, np.number):
                largest = max(largest, float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))))
    same_names = names == names_b
    return {"variables": len(names), "differing": differing, "largest_difference": largest,
            "same_variable_names": same_names, "bit_identical": same_names and not differing}


def fill_disk(folder: str) -> int:
    """Writes `folder/filler` until the disk is full; returns the bytes written."""
    written = 0
    with open(os.path.join(folder, "filler"), "wb", buffering=0) as f:
        for chunk in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    written += f.write(b"\0" * chunk)
            except OSError:
                pass
    return written


def disk_full(folder: str) -> dict:
    """A run on a small tmpfs filled up after its second checkpoint, then resumed once space is freed."""
    disk = os.path.join(folder, "disk")
    os.makedirs(disk, exist_ok=True)
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={FLAGS.disk_size}", "tmpfs", disk],
                           capture_output=True, text=True)
    if mount.returncode != 0:
        return {"run": False, "why": f"mount -t tmpfs failed: {mount.stderr.strip() or mount.returncode}"}
    try:
        model_dir = os.path.join(disk, "run")
        first = Training(model_dir)
        second_checkpoint = 2 * FLAGS.checkpoint_every
        first.wait_for(lambda: max(complete_steps(model_dir), default=0) >= second_checkpoint)
        filled_at = first.last_step
        filler = fill_disk(disk)
        status = first.finish()
        after = inspect_model_dir(model_dir)
        os.remove(os.path.join(disk, "filler"))
        resumed = Training(model_dir)
        resumed_status = resumed.finish()
        return {"run": True, "disk_size": FLAGS.disk_size, "filled_after_step": filled_at,
                "filler_bytes": filler, "exit_status": status, "last_step": first.last_step,
                "diagnostics": first.diagnostics(), "traceback": any("Traceback" in x for x in first.lines),
                "after": after, "resumed_exit_status": resumed_status, "resumed_from": resumed.start_step,
                "resumed_last_step": resumed.last_step, "resumed_diagnostics": resumed.diagnostics()}
    finally:
        subprocess.run(["umount", disk], check=True)


def two_trainings(model_dir: str) -> dict:
    """A second training started on the `--model_dir` of a running one."""
    first = Training(model_dir, extra_flags=("--train_steps=1000000",))
    first.wait_for(lambda: first.last_step is not None)
    second = Training(model_dir)
    second_status = second.finish()
    first_running = first.process.poll() is None
    first.process.send_signal(signal.SIGTERM)
    first_status = first.finish()
    return {"second_exit_status": second_status, "second_diagnostics": second.diagnostics(),
            "second_trained": second.last_step is not None, "first_still_running": first_running,
            "first_exit_status": first_status}


def _truncate(path: str) -> None:
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def _zero(path: str) -> None:
    size = os.path.getsize(path)
    with open(path, "wb") as f:
        f.write(b"\0" * size)


def _flip_middle_bit(path: str) -> None:
    with open(path, "r+b") as f:
        f.seek(os.path.getsize(path) // 2)
        byte = f.read(1)[0]
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte ^ 0x10]))


def _write(path: str, content: bytes) -> None:
    with open(path, "wb") as f:
        f.write(content)


def _old_layout(model_dir: str, content: bytes) -> None:
    """The layout of versions before the state file: `latest` instead of `checkpoint`."""
    os.remove(os.path.join(model_dir, STATE_FILE))
    _write(os.path.join(model_dir, LATEST_FILE), content)


# name → (damage(model_dir, newest step, older step), expected: "older", "newest" or "stop")
DAMAGES = {
    "newest data file truncated": (lambda d, n, o: _truncate(_in(d, n, DATA_FILE)), "older"),
    "newest data file zeroed": (lambda d, n, o: _zero(_in(d, n, DATA_FILE)), "older"),
    "newest data file, one bit flipped": (lambda d, n, o: _flip_middle_bit(_in(d, n, DATA_FILE)), "older"),
    "newest data file missing": (lambda d, n, o: os.remove(_in(d, n, DATA_FILE)), "older"),
    "newest index missing": (lambda d, n, o: os.remove(_in(d, n, INDEX_FILE)), "older"),
    "newest index empty": (lambda d, n, o: _write(_in(d, n, INDEX_FILE), b""), "older"),
    "every index missing": (lambda d, n, o: [os.remove(_in(d, s, INDEX_FILE)) for s in (n, o)], "stop"),
    "garbage checkpoint state file": (lambda d, n, o: _write(os.path.join(d, STATE_FILE), b"\xff garbage\n"),
                                      "newest"),
    "old layout: latest file, no state file": (lambda d, n, o: _old_layout(d, f"ckpt-{n}\n".encode()), "newest"),
    "old layout: garbage latest file": (lambda d, n, o: _old_layout(d, b"garbage\n"), "newest"),
    "model_config.json truncated": (lambda d, n, o: _truncate(os.path.join(d, RUN_CONFIG_FILE)), "stop"),
    "model_config.json missing": (lambda d, n, o: os.remove(os.path.join(d, RUN_CONFIG_FILE)), "stop"),
}


def _in(model_dir: str, step: int, name: str) -> str:
    return os.path.join(model_dir, f"ckpt-{step}", name)


def damaged_copies(finished_dir: str, folder: str) -> list[dict]:
    """Each of `DAMAGES` applied to a copy of a finished run's folder, and the same command run on it."""
    older, newest = inspect_model_dir(finished_dir)["checkpoints"][-2:]
    rows = []
    for name, (damage, expected) in DAMAGES.items():
        model_dir = os.path.join(folder, re.sub(r"\W+", "_", name))
        shutil.copytree(finished_dir, model_dir, ignore=shutil.ignore_patterns(LOCK_FILE))
        damage(model_dir, newest, older)
        run = Training(model_dir)
        status = run.finish()
        if status == 0 and run.start_step is not None:
            outcome = "silent restart" if run.start_step == 0 else f"resumed from step {run.start_step}"
        else:
            outcome = f"stopped, exit status {status}"
        wanted = {"older": f"resumed from step {older}", "newest": f"resumed from step {newest}"}.get(
            expected, "stopped, exit status 2")
        diagnostics = run.diagnostics()
        rows.append({"damage": name, "expected": wanted, "outcome": outcome, "exit_status": status,
                     "diagnostics": diagnostics, "traceback": any("Traceback" in x for x in run.lines),
                     "ok": outcome == wanted and not any(x.startswith("Traceback") for x in diagnostics)})
        print(f"damage {name}: {outcome} {diagnostics}", flush=True)
    return rows


def measure() -> dict:
    """Runs every part of the benchmark (or reads a part's result from an earlier run in the same
    `--work_dir`); returns the report."""
    work_dir = FLAGS.work_dir or tempfile.mkdtemp(prefix="lbie-faults-")
    interrupted_dir, reference_dir = (os.path.join(work_dir, n) for n in ("interrupted", "uninterrupted"))

    def part(name: str, compute: Callable[[], dict | list]) -> dict | list:
        path = os.path.join(work_dir, f"{name}.json")
        if not os.path.exists(path):
            started = time.monotonic()
            result = {"result": compute(), "seconds": round(time.monotonic() - started, 1)}
            with open(path, "w", encoding="utf-8") as f:
                json.dump(result, f)
        with open(path, encoding="utf-8") as f:
            stored = json.load(f)
        seconds[name] = stored["seconds"]
        return stored["result"]

    seconds: dict[str, float] = {}
    report = {
        "command": " ".join(["python -m benchmarks.faults",
                             *(a for a in sys.argv[1:] if not a.startswith("--work_dir"))]),
        "training_command": "python -m benchmarks.step_logged_training " + " ".join(training_flags())
                            + " --model_dir=DIR",
        "settings": {"seed": FLAGS.seed, "train_steps": FLAGS.train_steps,
                     "checkpoint_every": FLAGS.checkpoint_every, "batch_size": FLAGS.batch_size,
                     "preset": PRESET, "cpu_cores": len(os.sched_getaffinity(0))},  # the cores it may run on
        "interrupted": part("interrupted", lambda: interrupted_training(_fresh(interrupted_dir))),
        "uninterrupted": part("uninterrupted", lambda: uninterrupted_training(_fresh(reference_dir))),
        "final_weights": part("final_weights", lambda: compare_final_weights(interrupted_dir, reference_dir)),
        "disk_full": part("disk_full", lambda: disk_full(_fresh(os.path.join(work_dir, "disk_full")))),
        "two_trainings": part("two_trainings", lambda: two_trainings(_fresh(os.path.join(work_dir, "locked")))),
        "damages": part("damages", lambda: damaged_copies(interrupted_dir, _fresh(os.path.join(work_dir, "damaged")))),
    }
    report["benchmark_seconds"] = round(sum(seconds.values()), 1)
    # Paths of the temporary folders in the lines the runs printed are shown relative to it.
    return json.loads(json.dumps(report).replace(os.path.join(work_dir, ""), "WORK_DIR/"))


def _fresh(folder: str) -> str:
    """`folder`, emptied (a part run again starts from nothing)."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return folder


def main(argv) -> None:
    del argv
    report = report_files.measured_or_committed(f"{FLAGS.output}.json", measure, FLAGS.render_only)
    figure = f"{FLAGS.output}.png"
    faults_report.write_figure(report, figure)
    report_files.write_text(f"{FLAGS.output}.md", faults_report.render(report, os.path.basename(figure)))
    print(f"wrote {FLAGS.output}.json, {FLAGS.output}.md and {figure}")


def define_flags() -> None:
    """The command line's flags (defined only when run as a script: the tests import its pure functions)."""
    flags.DEFINE_integer("seed", 0, "Seed of the kill plan and of the kill moments.")
    flags.DEFINE_integer("sigkills", 20, "SIGKILLs of the interrupted training.")
    flags.DEFINE_integer("sigkills_during_write", 6, "Of those, how many are aimed at a checkpoint write.")
    flags.DEFINE_integer("sigkills_during_startup", 3, "Of those, how many come during start-up.")
    flags.DEFINE_integer("sigterms", 5, "SIGTERMs of the interrupted training.")
    flags.DEFINE_integer("train_steps", 300, "Steps of each training.")
    flags.DEFINE_integer("checkpoint_every", 25, "Checkpoint interval of each training.")
    flags.DEFINE_integer("batch_size", 8, "Batch size of each training.")
    flags.DEFINE_string("disk_size", "4m", "Size of the tmpfs of the disk-full run.")
    flags.DEFINE_integer("run_timeout", 600, "Seconds one training may take before the benchmark gives up.")
    flags.DEFINE_string("work_dir", "", "Where the model directories go (default: a fresh temporary folder).")
    flags.DEFINE_string("output", "docs/results/faults", "Writes <output>.json, .md and .png.")
    flags.DEFINE_bool("render_only", False, "Only render <output>.md and .png from <output>.json.")


if __name__ == "__main__":
    from lbie_tf.cli.app import run_app  # --help, and a user error as one line with exit status 2

    define_flags()
    run_app(main)
