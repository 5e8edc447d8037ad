"""Is a seed campaign faster as one training process using every core, or as one process per core?

    python -m benchmarks.parallel_processes [--batch_size=64] [--steps=100] [--warmup=15] [--rounds=2]

Times the paper T = 4 preset's training step (`benchmarks.throughput`'s in-process timing, no port) twice:
1. one process that may use every core of this machine;
2. one process per core at the same time, each pinned to its core (`os.sched_setaffinity`, what
   `taskset -c N` does), the sum of their rates.
Prints two lines of the form
    one process on N cores: R images/s
    N processes, one core each: R1 + ... + RN = S images/s (S/R x one process)
On a machine shared with other jobs both numbers are lower bounds; run it on a quiet one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from absl import flags

RATE = re.compile(r"^train cosal_paper_t4 batch=\d+: ([0-9.]+) images/s$", re.MULTILINE)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def define_flags() -> None:
    flags.DEFINE_integer("batch_size", 64, "Global batch size of every process.")
    flags.DEFINE_integer("steps", 100, "Timed steps per round.")
    flags.DEFINE_integer("warmup", 15, "Untimed steps first (tracing, XLA compilation).")
    flags.DEFINE_integer("rounds", 2, "Timed rounds per process (the best counts).")


def throughput_command(batch_size: int, steps: int, warmup: int, rounds: int) -> list[str]:
    """The `benchmarks.throughput` command that times only our training step."""
    return [sys.executable, "-m", "benchmarks.throughput", f"--batch_sizes={batch_size}", f"--steps={steps}",
            f"--warmup={warmup}", f"--rounds={rounds}", "--noport", "--generate_batches=1"]


def parse_rate(output: str) -> float:
    """The training images/s that `benchmarks.throughput` printed."""
    match = RATE.search(output)
    if match is None:
        raise RuntimeError(f"benchmarks.throughput printed no training rate:\n{output[-2000:]}")
    return float(match.group(1))


def run_processes(command: list[str], cores: list[set[int] | None]) -> list[float]:
    """Runs `command` once per entry of `cores` at the same time (each pinned to its cores; None: unpinned)
    and returns their rates."""
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, preexec_fn=(lambda c=c: os.sched_setaffinity(0, c)) if c else None)
                 for c in cores]
    return [parse_rate(process.communicate()[0]) for process in processes]


def main(argv) -> None:
    del argv
    f = flags.FLAGS
    command = throughput_command(f.batch_size, f.steps, f.warmup, f.rounds)
    cores = sorted(os.sched_getaffinity(0))
    (single,) = run_processes(command, [None])
    print(f"one process on {len(cores)} cores: {single:.1f} images/s", flush=True)
    rates = run_processes(command, [{core} for core in cores])
    total = sum(rates)
    print(f"{len(cores)} processes, one core each: " + " + ".join(f"{r:.1f}" for r in rates)
          + f" = {total:.1f} images/s ({total / single:.2f}x one process)", flush=True)


if __name__ == "__main__":
    from lbie_tf.cli.app import run_app  # --help, and a user error as one line with exit status 2

    define_flags()
    run_app(main)
