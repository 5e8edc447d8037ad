"""The one training loop every task shares: strategy, compiled steps, checkpoints, summaries, progress, resume.

A task (segmentation, colorization) supplies the model, the losses and the data-specific pieces through the
small `Task` interface below; `Trainer.run()` does the rest:

1. takes the run lock of `model_dir` (a second training on the same folder stops with one line), builds the
   task's variables and optimizers inside `strategy.scope()` (optimizers built eagerly:
   docs/tensorflow_notes.md, "Distribution", pitfall 1);
2. restores the newest good checkpoint of `model_dir` (refusing one of a different model or of other training
   settings, `RESUMABLE_FIELDS` excepted) and restarts the position-addressable data stream at the restored
   step, so a resumed run sees exactly the batches and noise an uninterrupted one would;
3. runs the task's replica step under `strategy.run` in one `tf.function` (the task compiles the parts of
   it that gain from XLA, on a single device only), sums the replica results (each already averaged over the
   global batch), stops with a one-line error on a non-finite loss, writes TensorBoard scalars (the task's,
   `learning_rate`, `images_per_second`), images and captions into `model_dir/train/`, shows a progress bar,
   and checkpoints atomically every `checkpoint_every` steps and at the end; SIGTERM / SIGINT finish the step,
   checkpoint and raise `TrainingStopped` (exit status 143 / 130 in the scripts);
4. evaluates on the held-out stream, writes the report as `eval_results.json` (a pure function of the
   checkpoint: two identical runs write identical files) and the wall-clock figures as `timing.json`, and the
   evaluation scalars into `model_dir/eval/`.

Several machines (`MultiWorkerMirroredStrategy`): each worker builds only its own share of every global batch
(`distribute_datasets_from_function`: rows `[i·b/n, (i+1)·b/n)` of global batch t for input pipeline i of n,
`lbie_tf.data.batch_shard`; no example of another worker's rows is generated or read), so the global stream of
batches is the one a single process sees; a stop request (signal or time budget) on any
worker stops all of them at the same step; only the chief writes into `model_dir`, the other workers write
their (identical, collective) checkpoints and summaries into a temporary folder removed at the end.

Learning curves: with `eval_every > 0` the loop also evaluates every `eval_every` steps on a small held-out
stream and appends a row to `curve.jsonl`; the training wall time (evaluation excluded) is checkpointed with
the step, so curves and the `train_seconds` budget continue exactly across resumed runs.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np
import tensorflow as tf

from lbie_tf.configs import TrainingConfig
from lbie_tf.data.batch_shard import BatchShard
from lbie_tf.errors import NonFiniteLossError
from lbie_tf.training.checkpoints import (
    AtomicCheckpointManager,
    check_run_config,
    check_run_file,
    has_checkpoint_files,
    read_run_file,
    require_run_config,
    write_run_config,
    write_run_file,
)
from lbie_tf.training.preemption import StopSignals, TrainingStopped
from lbie_tf.training.progress import ProgressBar
from lbie_tf.training.run_lock import RunLock
from lbie_tf.training.schedules import learning_rate_schedule
from lbie_tf.training.strategy import is_chief, is_multi_worker, jit_compile_supported
from lbie_tf.training.summaries import SummaryWriter

EVAL_RESULTS_FILE = "eval_results.json"
TIMING_FILE = "timing.json"
CURVE_FILE = "curve.jsonl"
RUN_SETTINGS_KEY = "training"  # the training settings' section of model_config.json
# TrainingConfig fields a resumed run may change: they decide how long, how often and on what hardware, not what
# each step computes. Every other field is stored with the run and checked on resume.
RESUMABLE_FIELDS = ("train_steps", "checkpoint_every", "summary_every", "image_summary_every", "eval_every",
                    "curve_eval_size", "train_seconds", "jit_compile", "strategy", "cluster_timeout",
                    "deterministic", "profile_steps", "fallback")
CHECKPOINTS_KEPT = 2  # the newest and the one before it: a damaged newest one falls back to it


def read_report(model_dir: str) -> dict:
    """A finished run's evaluation report (`eval_results.json`) with its timing (`timing.json`, when present:
    `train_seconds`, `images_per_second`) merged in."""
    with open(os.path.join(model_dir, EVAL_RESULTS_FILE), encoding="utf-8") as f:
        report = json.load(f)
    timing = os.path.join(model_dir, TIMING_FILE)
    if os.path.isfile(timing):
        with open(timing, encoding="utf-8") as f:
            report.update(json.load(f))
    return report


def run_settings(config: TrainingConfig) -> dict:
    """The training settings that decide what a run computes (all but `RESUMABLE_FIELDS`)."""
    return {k: v for k, v in dataclasses.asdict(config).items() if k not in RESUMABLE_FIELDS}


class Task(Protocol):
    """What a task gives the shared loop."""

    def build(self, jit_compile: bool) -> None:
        """Create model(s) and optimizer(s); called inside `strategy.scope()`. `jit_compile` says whether
        the task may compile (parts of) its steps with XLA: the task chooses which parts."""

    def run_config(self) -> dict:
        """JSON-serialisable description of the model, stored with checkpoints to refuse mismatches."""

    def run_config_defaults(self) -> dict:
        """`run_config`'s shape with every option at its default (fills options a stored config lacks)."""

    def checkpoint_objects(self) -> dict:
        """Trackables to checkpoint (models, optimizers)."""

    def train_step(self, batch: dict, step, global_batch_size: int) -> dict:
        """One optimisation step on this replica's part of the batch.

        Returns scalars already averaged over the global batch (so the loop sums replicas) plus any
        additive statistics (e.g. confusion matrices). The key "loss" must be present.
        """

    def log_scalars(self, step: int, reduced: dict) -> dict:
        """Scalars for TensorBoard and the progress bar from one step's summed results."""

    def summary_images(self, examples: dict) -> dict:
        """Named uint8 image batches `[k, h, w, 3]` for TensorBoard from a few fixed examples."""

    # Optional: `summary_text(examples) -> dict[str, list[str]]`, text summaries (e.g. captions) written with
    # the images.

    def evaluate(self, dataset: tf.data.Dataset) -> dict:
        """Evaluation report (JSON-serialisable) over a finite dataset."""


class Trainer:
    """Runs `task` for `config.train_steps` steps, resuming from `model_dir`.

    Args:
        task: a `Task`.
        config: the `TrainingConfig`.
        strategy: a `tf.distribute.Strategy` (see `lbie_tf.training.strategy.select_strategy`).
        model_dir: checkpoints, TensorBoard logs and the evaluation report go here.
        train_dataset: `(start_step[, shard]) -> tf.data.Dataset` of global batches from that step on
            (endless); on several workers it is called with each input pipeline's `BatchShard` and returns
            only that pipeline's rows of each global batch.
        eval_dataset: `() -> tf.data.Dataset` (finite) for the final evaluation, or None.
        curve_dataset: `() -> tf.data.Dataset` (finite, small) for the learning-curve points every
            `config.eval_every` steps, or None.
        preview_examples: a few fixed examples (dict of arrays) for image summaries, or None.
        log: where one-line messages go.
        progress_stream: where the progress bar goes (None: no progress bar).
        run_files: `{file name: JSON object}` records of what the run reads (a Flowers run: its
            `vocabulary.json`), written beside `model_config.json` when the run starts; a resumed run must
            match them (a run that started before a record existed gets it written).
    """

    def __init__(self, task: Task, config: TrainingConfig, strategy: tf.distribute.Strategy, model_dir: str,
                 train_dataset: Callable[..., tf.data.Dataset],
                 eval_dataset: Callable[[], tf.data.Dataset] | None = None,
                 curve_dataset: Callable[[], tf.data.Dataset] | None = None, preview_examples: dict | None = None,
                 log: Callable[[str], None] = print, progress_stream=sys.stderr,
                 run_files: dict[str, dict] | None = None):
        self.task = task
        self.run_files = dict(run_files or {})
        self.config = config
        self.strategy = strategy
        self.model_dir = model_dir
        self.train_dataset = train_dataset
        self.eval_dataset = eval_dataset
        self.curve_dataset = curve_dataset
        self.preview_examples = preview_examples
        self.log = log
        self.is_chief = is_chief(strategy)
        # Where this process writes: the run folder on the chief, a temporary folder on the other workers.
        self.write_dir = model_dir if self.is_chief else tempfile.mkdtemp(prefix="lbie-worker-")
        self.progress_stream = progress_stream if self.is_chief else None
        self.jit_compile = {"on": True, "off": False}.get(config.jit_compile, jit_compile_supported(strategy))
        with strategy.scope():
            task.build(self.jit_compile)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
            self.train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="train_seconds")
        checkpoint = tf.train.Checkpoint(step=self.step, train_seconds=self.train_seconds,
                                         **task.checkpoint_objects())
        self.checkpoints = AtomicCheckpointManager(checkpoint, model_dir, max_to_keep=CHECKPOINTS_KEPT)
        self.saver = (self.checkpoints if self.is_chief
                      else AtomicCheckpointManager(checkpoint, self.write_dir, max_to_keep=1))
        self._learning_rate = learning_rate_schedule(config)

    # ----------------------------------------------------------------------------------------------
    def run_config(self) -> tuple[dict, dict]:
        """What model_config.json holds for this run, and the same shape at every default."""
        return ({**self.task.run_config(), RUN_SETTINGS_KEY: run_settings(self.config)},
                {**self.task.run_config_defaults(), RUN_SETTINGS_KEY: run_settings(TrainingConfig())})

    def restore(self) -> int:
        """Restore the newest good checkpoint of `model_dir` (if any) and return the step to start from.

        Raises:
            IncompatibleCheckpointError: the checkpoint is of another model or other training settings, or
                a stored run file (`run_files`) differs from this run's.
            DamagedCheckpointError: `model_dir` holds checkpoint files of which none can be read, its
                `model_config.json` is missing or unreadable, or (with `fallback=False`) the newest is damaged.
        """
        config, defaults = self.run_config()
        if not has_checkpoint_files(self.model_dir):
            if self.is_chief:
                write_run_config(self.model_dir, config)
                self._write_run_files(self.run_files)
                _truncate_curve(self.model_dir, 0)
            return 0
        for name, content in self.run_files.items():
            check_run_file(self.model_dir, name, content)
        if RUN_SETTINGS_KEY not in require_run_config(self.model_dir):  # a run written before they were stored
            config, defaults = ({k: v for k, v in d.items() if k != RUN_SETTINGS_KEY} for d in (config, defaults))
        check_run_config(self.model_dir, config, defaults)
        if self.is_chief:  # a run that started before a record existed: it is the one this run reads
            self._write_run_files({name: content for name, content in self.run_files.items()
                                   if read_run_file(self.model_dir, name) is None})
        step = self.checkpoints.restore_latest(fallback=self.config.fallback, log=self.log)
        if self.is_chief:
            _truncate_curve(self.model_dir, step)
        self.log(f"resumed from {self.model_dir} at step {step}")
        return int(step)

    def _write_run_files(self, files: dict[str, dict]) -> None:
        for name, content in files.items():
            write_run_file(self.model_dir, name, content)

    def compiled_step(self):
        """The `tf.function` that runs one distributed step on a global batch and returns summed results.

        Its optional second argument is this process's stop request (int32 `[2]`: a signal arrived, the time
        budget is spent; default none); the result's "stop" is its sum over all replicas of every worker
        (> 0: stop), so that all workers stop at the same step.
        """
        global_batch = self.config.batch_size

        def replica_step(batch, stop):
            results = self.task.train_step(batch, self.step, global_batch)
            return results, tf.cast(stop, tf.float32) + 0.0  # a value of this replica's own (not the input)

        # autograph=False: the steps are plain ops and Python loops over static ranges, so AutoGraph would
        # only re-parse the model's source on every trace (seconds per trainer on CPU).
        @tf.function(autograph=False)
        def step_fn(batch, stop=None):
            if stop is None:
                stop = tf.zeros([2], tf.int32)
            results, stops = self.strategy.run(replica_step, args=(batch, stop))
            reduced = {name: self.strategy.reduce("SUM", value, axis=None) for name, value in results.items()}
            reduced["stop"] = self.strategy.reduce("SUM", stops, axis=None)  # > 0: stop
            self.step.assign_add(1)
            return reduced

        return step_fn

    def budget_spent(self) -> bool:
        """Whether the `train_seconds` budget (if any) is used up."""
        return 0 < self.config.train_seconds <= float(self.train_seconds.numpy())

    def run(self) -> dict | None:
        """Train to `config.train_steps` (or the `train_seconds` budget), then evaluate; returns the
        evaluation report (or None).

        Raises:
            TrainingStopped: SIGTERM or SIGINT arrived; the checkpoint of the last finished step is written.
        """
        lock = RunLock(self.model_dir, log=self.log) if self.is_chief else None
        if lock is not None:
            lock.acquire()
        try:
            return self._run()
        finally:
            if lock is not None:
                lock.release()
            if not self.is_chief:
                shutil.rmtree(self.write_dir, ignore_errors=True)

    def _run(self) -> dict | None:
        start = self.restore()
        total = self.config.train_steps
        train_writer = SummaryWriter(os.path.join(self.write_dir, "train"))
        eval_writer = SummaryWriter(os.path.join(self.write_dir, "eval"))
        try:
            if start < total and not self.budget_spent():
                self._train(start, total, train_writer, eval_writer)
            if self.eval_dataset is None:
                return None
            report = self.task.evaluate(self.eval_dataset())
            position = self._position()
            report.update({k: position[k] for k in ("step", "images_seen")})
            self._write_json(EVAL_RESULTS_FILE, report)
            self._write_json(TIMING_FILE, {k: position[k] for k in ("train_seconds", "images_per_second")})
            eval_writer.scalars(position["step"], {f"test/{k}": v for k, v in report.items()
                                                   if isinstance(v, (int, float)) and v is not None})
            return report
        finally:
            train_writer.flush()
            eval_writer.flush()

    def _write_json(self, name: str, content: dict) -> None:
        with open(os.path.join(self.write_dir, name), "w", encoding="utf-8") as f:
            json.dump(content, f, indent=2, sort_keys=True)
            f.write("\n")

    def _position(self) -> dict:
        """Where training stands: step, images seen, training seconds so far and their rate."""
        step = int(self.step.numpy())
        seconds = float(self.train_seconds.numpy())
        return {"step": step, "images_seen": step * self.config.batch_size, "train_seconds": round(seconds, 3),
                "images_per_second": round(step * self.config.batch_size / seconds, 1) if seconds > 0 else None}

    def _curve_point(self, writer: SummaryWriter) -> None:
        """Evaluate on the curve stream and append a row of scalars to `curve.jsonl`."""
        report = self.task.evaluate(self.curve_dataset())
        row = {k: v for k, v in self._position().items() if k != "images_per_second"}
        row.update({k: v for k, v in report.items() if isinstance(v, (int, float)) and k not in row})
        with open(os.path.join(self.write_dir, CURVE_FILE), "a", encoding="utf-8") as f:
            f.write(json.dumps(row, sort_keys=True) + "\n")
        writer.scalars(row["step"], {f"curve/{k}": v for k, v in row.items() if k != "step"})

    def _distributed_batches(self, start: int):
        """The training stream from `start` distributed over the replicas (per worker on a cluster)."""
        if not is_multi_worker(self.strategy):
            return self.strategy.experimental_distribute_dataset(self.train_dataset(start))
        global_batch = self.config.batch_size

        def worker_batches(context: tf.distribute.InputContext) -> tf.data.Dataset:
            shard = BatchShard(context.input_pipeline_id, context.num_input_pipelines)
            # A worker with several local replicas hands them consecutive per-replica batches.
            return self.train_dataset(start, shard).rebatch(context.get_per_replica_batch_size(global_batch))

        return self.strategy.distribute_datasets_from_function(worker_batches)

    def _summaries(self, step: int, total: int, writer: SummaryWriter, interval: dict) -> None:
        """Scalars (every `summary_every` steps and at the end) and images / captions (every
        `image_summary_every` steps and at the end)."""
        if step % self.config.summary_every == 0 or step == total:
            seconds = interval.pop("__seconds")
            steps = interval["__count"]
            scalars = self.task.log_scalars(step, _mean_interval(interval))
            scalars["learning_rate"] = float(self._learning_rate(step - 1) if callable(self._learning_rate)
                                             else self._learning_rate)
            scalars["images_per_second"] = steps * self.config.batch_size / max(seconds, 1e-9)
            writer.scalars(step, scalars)
            interval.clear()
        if self.preview_examples is not None and (step % self.config.image_summary_every == 0 or step == total):
            writer.images(step, self.task.summary_images(self.preview_examples))
            summary_text = getattr(self.task, "summary_text", None)  # optional part of a Task
            for name, strings in (summary_text(self.preview_examples) if summary_text else {}).items():
                writer.text(step, name, strings)

    def _train(self, start: int, total: int, writer: SummaryWriter, eval_writer: SummaryWriter) -> None:
        batches = self._distributed_batches(start)
        step_fn = self.compiled_step()
        progress = (ProgressBar(total, self.config.batch_size, stream=self.progress_stream)
                    if self.progress_stream is not None else None)
        last_saved = step = start
        interval: dict = {}
        curve_every = self.config.eval_every if self.curve_dataset is not None else 0
        profile_first, profile_last = self.config.profile_steps or (0, 0)
        multi_worker = is_multi_worker(self.strategy)
        clock = time.perf_counter()
        try:
            with StopSignals(self.log) as signals:
                for batch in batches:
                    if step >= total:
                        break
                    if step + 1 == profile_first:
                        tf.profiler.experimental.start(writer.logdir)
                    stop = tf.constant([signals.received is not None, self.budget_spent()], tf.int32)
                    reduced = {k: v.numpy() for k, v in step_fn(batch, stop).items()}
                    step = int(self.step.numpy())  # the label of a checkpoint is the number of applied updates
                    if step == profile_last:
                        tf.profiler.experimental.stop()
                    now = time.perf_counter()
                    self.train_seconds.assign_add(now - clock)
                    interval["__seconds"] = interval.get("__seconds", 0.0) + now - clock
                    clock = now
                    signal_stop, budget_stop = (bool(x) for x in reduced.pop("stop"))
                    self._check_finite(reduced, step, last_saved)
                    _accumulate(interval, reduced)
                    self._summaries(step, total, writer, interval)
                    if progress is not None:
                        progress.update(step, **self.task.log_scalars(step, reduced))
                    # One process stops right after the step in which the signal came; a cluster one step later,
                    # when every worker has seen the request through the step's collective.
                    signal_stop = signal_stop or (signals.received is not None and not multi_worker)
                    if step % self.config.checkpoint_every == 0 or signal_stop:
                        self.saver.save(step)
                        last_saved = step
                    if signal_stop:
                        self._stopped(signals.received, step)
                    if budget_stop or (not multi_worker and self.budget_spent()):
                        break
                    if curve_every and step % curve_every == 0:
                        self._curve_point(eval_writer)
                        clock = time.perf_counter()  # curve evaluation is not training time
        except (NonFiniteLossError, TrainingStopped):
            raise
        except Exception:
            # Anything else (a bug, a full disk in a summary): keep the finished steps, then report it.
            step = int(self.step.numpy())
            if step > last_saved:
                self.saver.save(step)
            raise
        finally:
            if progress is not None:
                progress.close()
            writer.flush()
        if step > last_saved:
            self.saver.save(step)

    def _check_finite(self, reduced: dict, step: int, last_saved: int) -> None:
        if math.isfinite(float(reduced["loss"])):
            return
        terms = ", ".join(f"{name} {float(value)}" for name, value in reduced.items()
                          if np.ndim(value) == 0 and name != "loss" and not math.isfinite(float(value)))
        raise NonFiniteLossError(
            f"the training loss became {float(reduced['loss'])} at step {step}{f' ({terms})' if terms else ''}; "
            f"lower --learning_rate or check the data (last good checkpoint: step {last_saved} in "
            f"{self.model_dir})")

    def _stopped(self, signal_number: int | None, step: int):
        name = signal.Signals(signal_number).name if signal_number else "a stop request on another worker"
        number = signal_number or signal.SIGTERM
        raise TrainingStopped(number, f"stopped by {name} after step {step}: checkpoint written to "
                                      f"{self.model_dir}; run the same command to resume")


def _truncate_curve(model_dir: str, step: int) -> None:
    """Drop learning-curve rows past `step` (written after the checkpoint a run resumes from: the resumed run
    writes them again)."""
    path = os.path.join(model_dir, CURVE_FILE)
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        rows = [line for line in f if line.strip() and json.loads(line)["step"] <= step]
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(rows)


def _accumulate(interval: dict, reduced: dict) -> None:
    interval["__count"] = interval.get("__count", 0) + 1
    for name, value in reduced.items():
        interval[name] = interval.get(name, 0) + np.asarray(value)


def _mean_interval(interval: dict) -> dict:
    """Per-step means of scalar results; additive arrays (confusion matrices) stay summed."""
    count = interval.pop("__count", 1)
    return {name: (value / count if np.ndim(value) == 0 else value) for name, value in interval.items()}


