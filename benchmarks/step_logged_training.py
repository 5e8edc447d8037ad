"""`train_segmentation.py`, unchanged, with one progress line per finished step on stderr.

    python -m benchmarks.step_logged_training --flagfile=configs/cosal_demo.cfg --model_dir=runs/x ...

The progress bar repeats its line in a log file at most every 30 s; `benchmarks.faults` needs to know how many
steps a run had finished when it was killed, so here it writes a line after every step
(`step 120/300 [...] ...`, written once the step's update is applied). Everything else, flags, checkpoints,
signals and exit statuses included, is the training script's.
"""

from __future__ import annotations

import functools
import os
import runpy

from lbie_tf.training import progress, trainer

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train_segmentation.py")

if __name__ == "__main__":
    trainer.ProgressBar = functools.partial(progress.ProgressBar, log_interval_s=0.0)
    runpy.run_path(SCRIPT, run_name="__main__")
