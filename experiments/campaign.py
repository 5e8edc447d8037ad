"""A grid of CoSaL training runs ("cells"), each its own `train_segmentation.py` process and model directory.

The reproduction scripts in `experiments/` (Table 2, the termination comparison, the `plus` ablations) describe
their runs as `Cell`s and a `Budget`; `run_cell` trains a cell (or resumes it, or only reads its finished
result) and returns one JSON-ready row. Because every cell trains in its own `--model_dir` with the shared
loop's exact resume, a long campaign can be interrupted and restarted at any point, in any number of
background runs, and gives the same numbers.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Callable

from lbie_tf.cli.flags import config_from_flagfile
from lbie_tf.configs import SegmenterConfig, TrainingConfig
from lbie_tf.errors import ConfigError
from lbie_tf.training.trainer import CURVE_FILE, EVAL_RESULTS_FILE, read_report

MACHINE_FILE = "machine.txt"  # in a cell's model dir: the machine that trained it
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # experiments/ is in the repository
CAPTION_MODES = ("determined", "legacy")


@dataclasses.dataclass(frozen=True)
class Budget:
    """How long each cell trains and how it is evaluated.

    Attributes:
        images: training images per cell (rounded up to whole batches of the preset's batch size).
        seconds: wall-clock training budget per cell (0: none); whichever of the two ends first stops training.
        test_size: held-out images of the final evaluation (the paper: 10,000).
        eval_every: steps between learning-curve points (0: no curve).
        curve_eval_size: held-out images per learning-curve point.
    """

    images: int
    seconds: float = 0.0
    test_size: int = 10000
    eval_every: int = 0
    curve_eval_size: int = 1000


@dataclasses.dataclass(frozen=True)
class Cell:
    """One training run.

    Attributes:
        preset: a flagfile `configs/cosal_<preset>.cfg`.
        num_direct: direct descriptions per caption (4, 6 or 8 in the paper's Table 2).
        captions: "determined" (every colour fixed by the caption) or "legacy" (the released generator's).
        seed: model initialisation / noise seed (`--seed`); the data are the same for every seed.
        variant: a name for runs that change the preset (ablations, termination modes); "" for the preset.
        extra_flags: the flags that make the variant, e.g. `("--termination_training=marginal",)`.
    """

    preset: str
    num_direct: int
    captions: str = "determined"
    seed: int = 0
    variant: str = ""
    extra_flags: tuple[str, ...] = ()

    def __post_init__(self):
        if self.captions not in CAPTION_MODES:
            raise ConfigError(f"captions must be one of {', '.join(CAPTION_MODES)}, got {self.captions!r}")
        if self.extra_flags and not self.variant:
            raise ConfigError(f"a cell with extra flags {self.extra_flags} needs a variant name")

    @property
    def name(self) -> str:
        variant = f"-{self.variant}" if self.variant else ""
        return f"{self.preset}{variant}-{self.captions}-nd{self.num_direct}-seed{self.seed}"

    @property
    def flagfile(self) -> str:
        return os.path.join("configs", f"cosal_{self.preset}.cfg")


def cell_configs(cell: Cell) -> tuple[SegmenterConfig, TrainingConfig]:
    """The model and training records of the cell's preset with its extra flags applied."""
    return (config_from_flagfile(SegmenterConfig, cell.flagfile, cell.extra_flags),
            config_from_flagfile(TrainingConfig, cell.flagfile, cell.extra_flags))


def train_steps(cell: Cell, budget: Budget) -> int:
    return math.ceil(budget.images / cell_configs(cell)[1].batch_size)


def command(cell: Cell, budget: Budget, model_dir: str) -> list[str]:
    """The `train_segmentation.py` command line that trains `cell` in `model_dir`."""
    legacy = "--cosal_legacy_captions" if cell.captions == "legacy" else "--nocosal_legacy_captions"
    return [
        "python", "train_segmentation.py", f"--flagfile={cell.flagfile}", f"--num_direct={cell.num_direct}",
        legacy, f"--seed={cell.seed}", *cell.extra_flags,
        f"--train_steps={train_steps(cell, budget)}", f"--train_seconds={budget.seconds:g}",
        f"--cosal_test_size={budget.test_size}", f"--eval_every={budget.eval_every}",
        f"--curve_eval_size={budget.curve_eval_size}", f"--model_dir={model_dir}",
    ]


def _finished(model_dir: str, cell: Cell, budget: Budget) -> dict | None:
    """The evaluation report of a run that already reached its budget, else None."""
    if not os.path.exists(os.path.join(model_dir, EVAL_RESULTS_FILE)):
        return None
    report = read_report(model_dir)
    done = report.get("step", 0) >= train_steps(cell, budget) or (
        0 < budget.seconds <= report.get("train_seconds", 0))
    return report if done and report.get("num_images") == budget.test_size else None


def read_curve(model_dir: str) -> list[dict]:
    path = os.path.join(model_dir, CURVE_FILE)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run_cell(cell: Cell, budget: Budget, runs_dir: str, log: Callable[[str], None] = print) -> dict:
    """Trains (or resumes, or just reads) `cell` under `runs_dir/<cell.name>` and returns its row.

    Raises:
        RuntimeError: the training process failed (its log file is named).
    """
    model_dir = os.path.join(runs_dir, cell.name)
    argv = command(cell, budget, model_dir)
    report = _finished(model_dir, cell, budget)
    wall = None
    if report is None:
        os.makedirs(model_dir, exist_ok=True)
        log_path = os.path.join(model_dir, "train.log")
        log(f"{cell.name}: training ({shlex.join(argv)}); log: {log_path}")
        start = time.perf_counter()
        with open(log_path, "a", encoding="utf-8") as out:
            result = subprocess.run([sys.executable, *argv[1:]], cwd=REPOSITORY, stdout=out,
                                    stderr=subprocess.STDOUT, check=False)
        wall = round(time.perf_counter() - start, 1)
        if result.returncode != 0:
            raise RuntimeError(f"{cell.name}: train_segmentation.py exited with {result.returncode}; "
                               f"see {log_path}")
        report = _finished(model_dir, cell, budget)
        if report is None:
            raise RuntimeError(f"{cell.name}: no complete evaluation in {model_dir}; see {log_path}")
        with open(os.path.join(model_dir, MACHINE_FILE), "w", encoding="utf-8") as f:
            f.write(machine())
    row = result_row(cell, budget, report, argv, read_curve(model_dir), wall)
    row["machine"] = _trained_on(model_dir)
    return row


def _trained_on(model_dir: str) -> str:
    """The machine recorded when the cell was trained (this one for cells trained before it was recorded)."""
    path = os.path.join(model_dir, MACHINE_FILE)
    if not os.path.exists(path):
        return machine()
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def result_row(cell: Cell, budget: Budget, report: dict, argv: list[str], curve: list[dict],
               wall_seconds: float | None) -> dict:
    """One JSON row: what the cell is, how it was trained, what it measured."""
    model, training = cell_configs(cell)
    return {
        "preset": cell.preset,
        "variant": cell.variant,
        "T": model.steps,
        "attention": model.attention,
        "termination_training": training.termination_training,
        "termination_bias_init": model.termination_bias_init,
        "num_direct": cell.num_direct,
        "captions": cell.captions,
        "seed": cell.seed,
        "mean_iou": report["mean_iou"],
        "per_class_iou": report["per_class_iou"],
        "pixel_accuracy": report.get("pixel_accuracy"),
        "mean_stop_step": report.get("mean_stop_step"),
        "stop_step_distribution": report.get("stop_step_distribution"),
        "test_images": report["num_images"],
        "images_seen": report["images_seen"],
        "seconds": report["train_seconds"],
        "images_per_second": round(report["images_seen"] / max(report["train_seconds"], 1e-9), 1),
        "wall_seconds_last_invocation": wall_seconds,
        "budget": dataclasses.asdict(budget),
        "command": shlex.join(argv),
        "curve": curve,
    }


def machine() -> str:
    """One line naming this machine: CPU model, cores, OS, TensorFlow version, GPUs."""
    import tensorflow as tf

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, TensorFlow "
            f"{tf.__version__}, GPUs: {', '.join(gpus) if gpus else 'none'}")


def merge_rows(existing: list[dict], new: list[dict]) -> list[dict]:
    """`existing` with every row of `new` replacing the row of the same cell (or appended)."""
    def key(row):
        return (row["preset"], row["variant"], row["captions"], row["num_direct"], row["seed"])

    merged = {key(row): row for row in existing}
    merged.update({key(row): row for row in new})
    return list(merged.values())


def record_row(path: str, row: dict) -> None:
    """Merge `row` into the JSON rows at `path` (re-read first: several campaigns may share one file)."""
    save_rows(path, merge_rows(load_rows(path), [row]))


def load_rows(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save_rows(path: str, rows: list[dict]) -> None:
    """Write rows as JSON atomically (a temporary file renamed over the old one)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"  # one per process: several campaigns may share `path`
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(temporary, path)
