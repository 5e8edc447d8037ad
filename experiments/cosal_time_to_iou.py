"""How fast a preset learns CoSaL: the learning curve (mean IoU vs images seen and vs training seconds) and
the time to reach a target IoU.

    python -m experiments.cosal_time_to_iou                      # paper T = 1 preset, 8 direct, target 0.70

The run is a campaign cell in its own `--runs_dir` (resumable). Every `--eval_every` steps the model is
evaluated on the first `--curve_eval_size` test images; training seconds exclude those evaluations. Writes
`<output>.json` (the row, curve included) and `<output>.md`.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

FLAGS = flags.FLAGS


def first_reaching(curve: list[dict], target: float) -> dict | None:
    """The first curve point whose mean IoU is at least `target`, or None."""
    return next((point for point in curve if point["mean_iou"] >= target), None)


def render(row: dict, target: float) -> str:
    reached = first_reaching(row["curve"], target)
    verdict = (f"**{target:.2f} reached after {reached['train_seconds']:.0f} s of training "
               f"({reached['images_seen']:,} images, step {reached['step']})**" if reached
               else f"**{target:.2f} not reached** within {row['images_seen']:,} images")
    lines = [f"# Time to mean IoU {target:.2f}: `{row['preset']}`, {row['num_direct']} direct descriptions", "",
             f"{verdict}; final mean IoU {row['mean_iou']:.4f} on {row['test_images']:,} test images after "
             f"{row['seconds']:.0f} s. Curve points are evaluated on the first "
             f"{row['budget']['curve_eval_size']:,} test images; seconds count training only "
             f"(`experiments/cosal_time_to_iou.py`).", "",
             f"Command: `{row['command']}`", "", f"Machine: {row['machine']}.", "",
             "| step | images seen | training seconds | mean IoU |", "|---|---|---|---|"]
    lines += [f"| {p['step']} | {p['images_seen']:,} | {p['train_seconds']:.1f} | {p['mean_iou']:.4f} |"
              for p in row["curve"]]
    return "\n".join(lines + [""])


def main(argv) -> None:
    del argv
    from experiments import campaign

    budget = campaign.Budget(images=FLAGS.budget_images, test_size=FLAGS.test_size, eval_every=FLAGS.eval_every,
                             curve_eval_size=FLAGS.curve_eval_size)
    row = campaign.run_cell(campaign.Cell(FLAGS.preset, FLAGS.num_direct, seed=FLAGS.seed), budget, FLAGS.runs_dir)
    reached = first_reaching(row["curve"], FLAGS.target)
    row["target"] = FLAGS.target
    row["seconds_to_target"] = reached["train_seconds"] if reached else None
    row["images_to_target"] = reached["images_seen"] if reached else None
    os.makedirs(os.path.dirname(os.path.abspath(FLAGS.output)), exist_ok=True)
    with open(f"{FLAGS.output}.json", "w", encoding="utf-8") as f:
        json.dump(row, f, indent=1)
    with open(f"{FLAGS.output}.md", "w", encoding="utf-8") as f:
        f.write(render(row, FLAGS.target))
    print(f"time to {FLAGS.target}: {row['seconds_to_target']} s; wrote {FLAGS.output}.json and .md")


def define_flags() -> None:
    """The command line's flags (defined only when run as a script, so that importing the module defines none)."""
    flags.DEFINE_string("preset", "paper_t1", "Preset (configs/cosal_<preset>.cfg).")
    flags.DEFINE_integer("num_direct", 8, "Direct descriptions per caption.")
    flags.DEFINE_float("target", 0.70, "Mean IoU to reach.")
    flags.DEFINE_integer("budget_images", 128_000, "Training images.")
    flags.DEFINE_integer("eval_every", 100, "Steps between curve points.")
    flags.DEFINE_integer("curve_eval_size", 1000, "Test images per curve point.")
    flags.DEFINE_integer("test_size", 10_000, "Test images of the final evaluation.")
    flags.DEFINE_integer("seed", 0, "Model seed.")
    flags.DEFINE_string("runs_dir", "runs/cosal_curve", "Model directory parent.")
    flags.DEFINE_string("output", "docs/results/cosal_time_to_iou", "Writes <output>.json and <output>.md.")


if __name__ == "__main__":
    from lbie_tf.cli.app import run_app  # --help, and a user error as one line with exit status 2

    define_flags()
    run_app(main)
