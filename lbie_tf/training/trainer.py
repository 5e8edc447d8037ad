"""The one training loop every task shares: strategy, compiled steps, checkpoints, summaries, progress, resume.

A task (segmentation now, colorization later) supplies the model, the losses and the data-specific pieces
through the small `Task` interface below; `Trainer.run()` does the rest:

1. builds the task's variables and optimizers inside `strategy.scope()` (optimizers built eagerly:
   docs/tensorflow_notes.md, "Distribution", pitfall 1);
2. restores the latest complete checkpoint of `model_dir` (refusing one of a different model) and restarts the
   position-addressable data stream at the restored step, so a resumed run sees exactly the batches and noise
   an uninterrupted one would;
3. runs the task's replica step under `strategy.run` in one `tf.function` (the task compiles the parts of
   it that gain from XLA, on a single device only), sums the
   replica results (each already averaged over the global batch), stops with a one-line error on a non-finite
   loss, writes TensorBoard scalars and images, shows a progress bar, and checkpoints atomically every
   `checkpoint_every` steps and at exit (also on Ctrl-C);
4. evaluates on the held-out stream and writes the report as JSON beside the checkpoints.

Learning curves: with `eval_every > 0` the loop also evaluates every `eval_every` steps on a small held-out
stream and appends a row to `curve.jsonl`; the training wall time (evaluation excluded) is checkpointed with
the step, so curves and the `train_seconds` budget continue exactly across resumed runs.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from typing import Protocol

import numpy as np
import tensorflow as tf

from lbie_tf.configs import TrainingConfig
from lbie_tf.errors import NonFiniteLossError
from lbie_tf.training.checkpoints import (
    AtomicCheckpointManager,
    check_run_config,
    write_run_config,
)
from lbie_tf.training.progress import ProgressBar
from lbie_tf.training.strategy import jit_compile_supported
from lbie_tf.training.summaries import SummaryWriter

EVAL_RESULTS_FILE = "eval_results.json"
CURVE_FILE = "curve.jsonl"


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
        train_dataset: `start_step -> tf.data.Dataset` of global batches from that step on (endless).
        eval_dataset: `() -> tf.data.Dataset` (finite) for the final evaluation, or None.
        curve_dataset: `() -> tf.data.Dataset` (finite, small) for the learning-curve points every
            `config.eval_every` steps, or None.
        preview_examples: a few fixed examples (dict of arrays) for image summaries, or None.
        log: where one-line messages go.
        progress_stream: where the progress bar goes (None: no progress bar).
    """

    def __init__(self, task: Task, config: TrainingConfig, strategy: tf.distribute.Strategy, model_dir: str,
                 train_dataset: Callable[[int], tf.data.Dataset],
                 eval_dataset: Callable[[], tf.data.Dataset] | None = None,
                 curve_dataset: Callable[[], tf.data.Dataset] | None = None, preview_examples: dict | None = None,
                 log: Callable[[str], None] = print, progress_stream=sys.stderr):
        self.task = task
        self.config = config
        self.strategy = strategy
        self.model_dir = model_dir
        self.train_dataset = train_dataset
        self.eval_dataset = eval_dataset
        self.curve_dataset = curve_dataset
        self.preview_examples = preview_examples
        self.log = log
        self.progress_stream = progress_stream
        self.jit_compile = {"on": True, "off": False}.get(config.jit_compile, jit_compile_supported(strategy))
        with strategy.scope():
            task.build(self.jit_compile)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="global_step")
            self.train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False, name="train_seconds")
        checkpoint = tf.train.Checkpoint(step=self.step, train_seconds=self.train_seconds,
                                         **task.checkpoint_objects())
        self.checkpoints = AtomicCheckpointManager(checkpoint, model_dir, max_to_keep=3)

    # ----------------------------------------------------------------------------------------------
    def restore(self) -> int:
        """Restore the latest checkpoint of `model_dir` (if any) and return the step to start from."""
        os.makedirs(self.model_dir, exist_ok=True)
        if self.checkpoints.latest_step() is None:
            write_run_config(self.model_dir, self.task.run_config())
            _truncate_curve(self.model_dir, 0)
            return 0
        check_run_config(self.model_dir, self.task.run_config(), self.task.run_config_defaults())
        step = self.checkpoints.restore_latest()
        _truncate_curve(self.model_dir, step)
        self.log(f"resumed from {self.model_dir} at step {step}")
        return int(step)

    def compiled_step(self):
        """The `tf.function` that runs one distributed step on a global batch and returns summed results."""
        global_batch = self.config.batch_size

        def replica_step(batch):
            return self.task.train_step(batch, self.step, global_batch)

        # autograph=False: the steps are plain ops and Python loops over static ranges, so AutoGraph would
        # only re-parse the model's source on every trace (seconds per trainer on CPU).
        @tf.function(autograph=False)
        def step_fn(batch):
            results = self.strategy.run(replica_step, args=(batch,))
            reduced = {name: self.strategy.reduce("SUM", value, axis=None) for name, value in results.items()}
            self.step.assign_add(1)
            return reduced

        return step_fn

    def budget_spent(self) -> bool:
        """Whether the `train_seconds` budget (if any) is used up."""
        return 0 < self.config.train_seconds <= float(self.train_seconds.numpy())

    def run(self) -> dict | None:
        """Train to `config.train_steps` (or the `train_seconds` budget), then evaluate; returns the
        evaluation report (or None)."""
        start = self.restore()
        total = self.config.train_steps
        writer = SummaryWriter(os.path.join(self.model_dir, "train"))
        if start < total and not self.budget_spent():
            self._train(start, total, writer)
        report = None
        if self.eval_dataset is not None:
            report = self.task.evaluate(self.eval_dataset())
            report.update(self._position())
            with open(os.path.join(self.model_dir, EVAL_RESULTS_FILE), "w", encoding="utf-8") as f:
                json.dump(report, f, indent=2, sort_keys=True)
            writer.scalars(int(self.step.numpy()), {f"eval/{k}": v for k, v in report.items()
                                                     if isinstance(v, (int, float)) and v is not None})
        writer.flush()
        return report

    def _position(self) -> dict:
        """Where training stands: step, images seen, training seconds so far."""
        step = int(self.step.numpy())
        return {"step": step, "images_seen": step * self.config.batch_size,
                "train_seconds": round(float(self.train_seconds.numpy()), 3)}

    def _curve_point(self, writer: SummaryWriter) -> None:
        """Evaluate on the curve stream and append a row of scalars to `curve.jsonl`."""
        report = self.task.evaluate(self.curve_dataset())
        row = self._position()
        row.update({k: v for k, v in report.items() if isinstance(v, (int, float)) and k not in row})
        with open(os.path.join(self.model_dir, CURVE_FILE), "a", encoding="utf-8") as f:
            f.write(json.dumps(row, sort_keys=True) + "\n")
        writer.scalars(row["step"], {f"curve/{k}": v for k, v in row.items() if k != "step"})

    def _train(self, start: int, total: int, writer: SummaryWriter) -> None:
        dataset = self.strategy.experimental_distribute_dataset(self.train_dataset(start))
        step_fn = self.compiled_step()
        progress = (ProgressBar(total, self.config.batch_size, stream=self.progress_stream)
                    if self.progress_stream is not None else None)
        last_saved = start
        step = start
        interval: dict = {}
        curve_every = self.config.eval_every if self.curve_dataset is not None else 0
        clock = time.perf_counter()
        try:
            for batch in dataset:
                if step >= total or self.budget_spent():
                    break
                reduced = {k: v.numpy() for k, v in step_fn(batch).items()}
                step += 1
                now = time.perf_counter()
                self.train_seconds.assign_add(now - clock)
                clock = now
                if not math.isfinite(float(reduced["loss"])):
                    terms = ", ".join(f"{name} {float(value)}" for name, value in reduced.items()
                                      if np.ndim(value) == 0 and name != "loss" and not math.isfinite(float(value)))
                    raise NonFiniteLossError(
                        f"the training loss became {float(reduced['loss'])} at step {step}"
                        f"{f' ({terms})' if terms else ''}; lower "
                        f"--learning_rate or check the data (last good checkpoint: step {last_saved} "
                        f"in {self.model_dir})")
                _accumulate(interval, reduced)
                if step % self.config.summary_every == 0 or step == total:
                    writer.scalars(step, self.task.log_scalars(step, _mean_interval(interval)))
                    interval = {}
                if self.preview_examples is not None and (step % self.config.image_summary_every == 0
                                                          or step == total):
                    writer.images(step, self.task.summary_images(self.preview_examples))
                    summary_text = getattr(self.task, "summary_text", None)  # optional part of a Task
                    for name, strings in (summary_text(self.preview_examples) if summary_text else {}).items():
                        writer.text(step, name, strings)
                if progress is not None:
                    progress.update(step, **self.task.log_scalars(step, reduced))
                if step % self.config.checkpoint_every == 0:
                    self.checkpoints.save(step)
                    last_saved = step
                if curve_every and step % curve_every == 0:
                    self._curve_point(writer)
                    clock = time.perf_counter()  # curve evaluation is not training time
        except NonFiniteLossError:
            raise
        except BaseException:
            if step > last_saved:
                self.checkpoints.save(step)
            raise
        finally:
            if progress is not None:
                progress.close()
            writer.flush()
        if step > last_saved:
            self.checkpoints.save(step)


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


