"""Termination-gate training compared on CoSaL: Gumbel-softmax (paper) vs exact marginal (released code) vs
REINFORCE, on the paper's T = 4 preset at 4 direct descriptions.

    python -m experiments.cosal_termination

Each mode is a campaign cell (the `gumbel` one is Table 2's own T = 4 cell, shared through `--runs_dir`, so
it is trained once for both reports). Writes `<output>.json` and `<output>.md`: mean IoU, mean stop step,
the distribution of stop steps over the test split, training images/s, and a summary per mode over seeds
whose verdict (is any mode measurably better than the preset's own?) is computed from the rows.
With `--modes=` nothing is trained and the report is rewritten from `<output>.json`.
"""

from __future__ import annotations

import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from experiments.seed_statistics import difference, over_seeds  # noqa: E402

flags.DEFINE_list("modes", ["gumbel", "marginal", "reinforce"], "Termination training modes to compare.")
flags.DEFINE_string("preset", "paper_t4", "Preset (configs/cosal_<preset>.cfg); its own mode is the plain cell.")
flags.DEFINE_integer("num_direct", 4, "Direct descriptions per caption.")
flags.DEFINE_list("seeds", ["0"], "Model seeds.")
flags.DEFINE_float("termination_bias_init", 0.0, "Initial termination-gate bias of every cell (0: the "
                   "preset's; negative favours continuing); a nonzero value makes each cell a variant.")
flags.DEFINE_integer("budget_images", 128_000, "Training images per run (as Table 2).")
flags.DEFINE_integer("test_size", 10_000, "Test images.")
flags.DEFINE_integer("eval_every", 250, "Steps between learning-curve points (0: none).")
flags.DEFINE_string("runs_dir", "runs/cosal_table2", "Model directories (shared with Table 2).")
flags.DEFINE_string("output", "docs/results/cosal_termination", "Writes <output>.json and <output>.md.")
FLAGS = flags.FLAGS


def cells(preset_mode: str):
    from experiments.campaign import Cell

    bias = FLAGS.termination_bias_init
    bias_flags = (f"--termination_bias_init={bias:g}",) if bias else ()
    for mode in FLAGS.modes:
        for seed in FLAGS.seeds:
            if mode == preset_mode and not bias:
                yield Cell(FLAGS.preset, FLAGS.num_direct, seed=int(seed))
            else:
                variant = "-".join(([mode] if mode != preset_mode else []) + ([f"bias{bias:g}"] if bias else []))
                yield Cell(FLAGS.preset, FLAGS.num_direct, seed=int(seed), variant=variant,
                           extra_flags=(f"--termination_training={mode}",) + bias_flags)


def summary(rows: list[dict], default_mode: str) -> list[str]:
    """Markdown lines: per mode (rows with the preset's gate bias only), the mean IoU over seeds, its sample
    standard deviation and standard error, and the verdict. A mode is called measurably better than
    `default_mode` when its mean exceeds the default's by more than two standard errors of the difference;
    with one seed of either mode there is no spread to judge by and the default stays."""
    by_mode: dict[str, list[dict]] = {}
    for row in rows:
        if not row.get("termination_bias_init", 0.0):
            by_mode.setdefault(row["termination_training"], []).append(row)
    if default_mode not in by_mode:
        return []

    lines = ["## Summary over seeds", "",
             "Rows with the preset's gate bias; sd is the sample standard deviation over seeds, se = sd / √n.", "",
             "| training | seeds | mean IoU | sd | se | mean stop step |", "|---|---|---|---|---|---|"]
    per_mode = {mode: over_seeds([row["mean_iou"] for row in same]) for mode, same in by_mode.items()}
    for mode, same in by_mode.items():
        stats = per_mode[mode]
        stop = statistics.mean(row["mean_stop_step"] for row in same)
        spread = "–" if stats.sd is None else f"{stats.sd:.4f}"
        error = "–" if stats.se is None else f"{stats.se:.4f}"
        lines.append(f"| {mode} | {stats.n} | {stats.mean:.4f} | {spread} | {error} | {stop:.2f} |")
    best = max(per_mode, key=lambda mode: per_mode[mode].mean)
    verdict = f"The preset's default is `{default_mode}`; the best mean is `{best}`'s"
    if best == default_mode:
        verdict += ", so the default stays."
    else:
        gap, error = difference(per_mode[best], per_mode[default_mode])
        if error is None:
            verdict += f" (+{gap:.4f}), from one seed: no spread to judge by, so the default stays."
        else:
            verdict += f", +{gap:.4f} ± {error:.4f} (difference ± its standard error): "
            verdict += (f"more than two standard errors, so `{best}` is measurably better and should be the default."
                        if gap > 2 * error else
                        "within two standard errors, so no mode is measurably better and the default stays.")
    return lines + ["", verdict, ""]


def render(rows: list[dict], default_mode: str) -> str:
    steps = max(row["T"] for row in rows)
    lines = ["# Termination-gate training on CoSaL, measured", "",
             f"Preset `{rows[0]['preset']}` (T = {steps}), {rows[0]['num_direct']} direct descriptions, "
             "determined captions; generated by `experiments/cosal_termination.py`. Mean IoU over the 7 colour "
             "classes of the test split; stop steps are those used at inference (`--inference_stop`), counted "
             "over all regions of the test split.", "",
             "| training | gate bias init | seed | mean IoU | mean stop step | "
             + " | ".join(f"stop at {t + 1}" for t in range(steps))
             + " | images/s | images seen |",
             "|---|---|---|---|---|" + "---|" * steps + "---|---|"]
    for row in rows:
        shares = " | ".join(f"{row['stop_step_distribution'].get(str(t + 1), 0.0):.3f}" for t in range(steps))
        lines.append(f"| {row['termination_training']} | {row.get('termination_bias_init', 0.0):g} | {row['seed']} | "
                     f"{row['mean_iou']:.4f} | "
                     f"{row['mean_stop_step']:.2f} | {shares} | {row['images_per_second']:.0f} | "
                     f"{row['images_seen']:,} |")
    lines += [""] + summary(rows, default_mode)
    lines += ["Commands:", ""] + [f"- `{row['command']}`" for row in rows]
    lines += ["", f"Machine: {rows[0]['machine']}.", ""]
    return "\n".join(lines)


def main(argv) -> None:
    del argv
    from experiments import campaign
    from lbie_tf.cli.flags import config_from_flagfile
    from lbie_tf.configs import TrainingConfig

    budget = campaign.Budget(images=FLAGS.budget_images, test_size=FLAGS.test_size, eval_every=FLAGS.eval_every)
    preset_mode = config_from_flagfile(TrainingConfig, f"configs/cosal_{FLAGS.preset}.cfg").termination_training
    json_path = f"{FLAGS.output}.json"
    for cell in cells(preset_mode):
        row = campaign.run_cell(cell, budget, FLAGS.runs_dir)
        print(f"{cell.name}: mean IoU {row['mean_iou']:.4f}, mean stop step {row['mean_stop_step']:.2f}, "
              f"{row['images_per_second']:.0f} images/s", flush=True)
        campaign.record_row(json_path, row)
    with open(f"{FLAGS.output}.md", "w", encoding="utf-8") as f:
        f.write(render(campaign.load_rows(json_path), preset_mode))
    print(f"wrote {json_path} and {FLAGS.output}.md")


if __name__ == "__main__":
    app.run(main)
