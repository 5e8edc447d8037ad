"""CoSaL colorization: the text-aware model vs the text-free baseline, trained and evaluated the same way.

    python -m experiments.cosal_colorization --budget_s=1200 --seed=0 --out=docs/results/cosal_colorization

Trains `configs/cosal_colorization.cfg` (text-aware generator + text-aware discriminator) and the same preset
with `--nogenerator_use_text --discriminator_text=none` (the text-free baseline), each for at most
`--budget_s` seconds of training (or the preset's `--train_steps`, whichever comes first; `--seed` seeds the
models, `--data_seed` the data), evaluates both on
the fixed CoSaL test split and writes `<out>.json` (a list, one object per model) and `<out>.md`.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from absl import app, flags  # noqa: E402

import train_colorization  # noqa: E402  (defines the colorization flags)

FLAGS = flags.FLAGS

PRESET = os.path.join(ROOT, "configs", "cosal_colorization.cfg")
BASELINE_FLAGS = ["--nogenerator_use_text", "--discriminator_text=none"]
GOAL_ACCURACY, GOAL_RATIO = 0.90, 3.0


def _configure(model: str, model_dir: str) -> None:
    """Parse the preset (+ the baseline switches) into FLAGS, keeping this script's own flags."""
    own = {name: getattr(FLAGS, name)
           for name in ("budget_s", "seed", "out", "work_dir", "models", "append", "variant", "extra_flags")}
    FLAGS.unparse_flags()
    FLAGS(["cosal_colorization", f"--flagfile={PRESET}", f"--model_dir={model_dir}", f"--seed={own['seed']}",
           f"--train_seconds={own['budget_s']}"]
          + (BASELINE_FLAGS if model == "baseline_i2i" else []) + list(own["extra_flags"]))
    for name, value in own.items():
        setattr(FLAGS, name, value)


def train_and_evaluate(model: str, model_dir: str) -> dict:
    import tensorflow as tf

    from lbie_tf.training.strategy import select_strategy

    _configure(model, model_dir)
    trainer = train_colorization.make_trainer(select_strategy(FLAGS.strategy, FLAGS.devices))
    start = time.monotonic()
    report = trainer.run()
    seconds = time.monotonic() - start
    steps = int(trainer.step.numpy())
    devices = tf.config.list_logical_devices("GPU")
    return {
        "model": model,
        "variant": FLAGS.variant,
        "shape_color_accuracy": report["shape_color_accuracy"],
        "psnr": report["psnr"],
        "consistency": report["consistency"],
        "l1_ab": report["l1_ab"],
        "images_seen": steps * trainer.config.batch_size,
        "steps": steps,
        "seconds": round(seconds, 1),
        "test_images": report["num_images"],
        "num_direct": FLAGS.num_direct,
        "seed": FLAGS.seed,
        "device": devices[0].name if devices else f"CPU ({os.cpu_count()} cores, {platform.machine()})",
        "parameters": int(sum(int(v.shape.num_elements()) for v in trainer.task.generator.trainable_variables)),
    }


def markdown(results: list[dict], commands: list[str]) -> str:
    lines = [
        "# CoSaL colorization: text-aware model vs text-free baseline",
        "",
        "Measured by `experiments/cosal_colorization.py` (preset `configs/cosal_colorization.cfg`; the baseline adds "
        f"`{' '.join(BASELINE_FLAGS)}`). Commands:",
        "",
        *[f"    {command}" for command in commands],
        "",
        "Input: L of the picture drawn in the isoluminant palette (all six colours have L* = 60, so the input shows "
        "the silhouettes only); target: ab; caption: 9 sentences, all direct (`shape is colour`), as 27 words. "
        "Metrics over the fixed CoSaL test split (definitions in `docs/colorization.md`).",
        "",
        "Rows with a variant are ablations: the preset plus that variant's flags (in its command).",
        "",
        "| model | variant | seed | shape-pixel colour accuracy | consistency | PSNR (dB) | L1 (ab/110) | "
        "images seen | "
        "steps | training s | device |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['model']} | {r.get('variant') or '—'} | {r['seed']} | {r['shape_color_accuracy']:.4f} | "
                     f"{r['consistency']:.4f} | "
                     f"{r['psnr']:.2f} | {r['l1_ab']:.4f} | {r['images_seen']:,} | {r['steps']:,} | "
                     f"{r['seconds']:.0f} | {r['device']} |")
    preset_rows = [r for r in results if not r.get("variant")]
    baselines = [r["shape_color_accuracy"] for r in preset_rows if r["model"] == "baseline_i2i"]
    if baselines:
        base = sum(baselines) / len(baselines)
        lines += ["", f"Goal: accuracy ≥ {GOAL_ACCURACY:.2f} and ≥ {GOAL_RATIO:.0f}× the text-free baseline's "
                  f"(mean over its runs: {base:.4f})."]
        for r in preset_rows:
            if r["model"] == "lbie":
                ours = r["shape_color_accuracy"]
                ratio = ours / base if base > 0 else float("inf")
                met = ours >= GOAL_ACCURACY and ratio >= GOAL_RATIO
                lines.append(f"- lbie, seed {r['seed']}: accuracy {ours:.4f}, ratio {ratio:.2f} → "
                             f"**{'met' if met else 'not met'}**")
    return "\n".join(lines) + "\n"


def main(argv) -> None:
    del argv
    if bool(FLAGS.variant) != bool(FLAGS.extra_flags):
        raise app.UsageError("--variant and --extra_flags go together")
    command = "python " + " ".join(["-m", "experiments.cosal_colorization"] + sys.argv[1:])
    models = list(FLAGS.models)
    work_dir = FLAGS.work_dir or tempfile.mkdtemp(prefix="cosal_colorization_")
    results = []
    for model in models:
        results.append(train_and_evaluate(model, os.path.join(work_dir, model)))
        print(json.dumps(results[-1]))
    out = FLAGS.out
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    for result in results:
        result["command"] = command
    if FLAGS.append and os.path.exists(out + ".json"):
        with open(out + ".json", encoding="utf-8") as f:
            results = json.load(f) + results
    with open(out + ".json", "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    with open(out + ".md", "w", encoding="utf-8") as f:
        f.write(markdown(results, list(dict.fromkeys(r["command"] for r in results))))
    print(f"written {out}.json and {out}.md")


def define_flags() -> None:
    """The command line's flags (defined only when run as a script, so that importing the module defines none)."""
    flags.DEFINE_float("budget_s", 1200.0, "Training seconds per model (the run stops at the preset's "
                       "--train_steps if that comes first).")
    flags.DEFINE_string("out", os.path.join(ROOT, "docs", "results", "cosal_colorization"),
                        "Output path without extension: <out>.json and <out>.md.")
    flags.DEFINE_string("work_dir", None, "Where the two runs' checkpoints go (default: a temporary directory).")
    flags.DEFINE_list("models", ["lbie", "baseline_i2i"], "Which models to train: lbie, baseline_i2i.")
    flags.DEFINE_string("variant", "", "Name of an ablation of the preset (a row's `variant`); needs --extra_flags.")
    flags.DEFINE_list("extra_flags", [], "train_colorization.py flags that make the variant, e.g. "
                      "--extra_flags=--generator_batch_norm.")
    flags.DEFINE_bool("append", False, "Add this run's results to an existing <out>.json (e.g. another seed) and "
                      "rewrite <out>.md from all of them.")


if __name__ == "__main__":
    from lbie_tf.cli.app import run_app  # --help, and a user error as one line with exit status 2

    define_flags()
    run_app(main)
