"""The paper's Table 2 on CoSaL, measured: three models × 4/6/8 direct descriptions × both caption generators.

    python -m experiments.cosal_table2                                   # the whole table, both generators
    python -m experiments.cosal_table2 --captions=determined --presets=plus --num_direct=4,6,8

Each cell trains in its own model directory under `--runs_dir` (an interrupted campaign resumes where it
stopped; finished cells are only read back), is evaluated on the fixed CoSaL test split, and its row replaces
the row of the same cell in `<output>.json`; `<output>.md` is then rewritten from all rows: measured mean IoU
beside the paper's value, the legacy generator's ceiling, the spread over seeds, the paper's ordering
within each column (difference ± standard error), per-class IoU, the commands, seeds, budget, machine and
time. Cells differing from a preset (ablations) are added with `--variant` + `--extra_flags`.
"""

from __future__ import annotations

import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

from experiments.seed_statistics import difference, over_seeds  # noqa: E402

flags.DEFINE_list("presets", ["paper_t1_noattention", "paper_t1", "paper_t4"],
                  "Presets (configs/cosal_<preset>.cfg) to run.")
flags.DEFINE_list("num_direct", ["4", "6", "8"], "Direct descriptions per caption (Table 2's columns).")
flags.DEFINE_list("captions", ["determined", "legacy"], "Caption generators: determined and/or legacy.")
flags.DEFINE_list("seeds", ["0"], "Model seeds; every seed is its own cell.")
flags.DEFINE_integer("budget_images", 128_000, "Training images per cell.")
flags.DEFINE_float("budget_minutes", 0.0, "Training wall-clock minutes per cell (0: no limit).")
flags.DEFINE_integer("test_size", 10_000, "Test images per evaluation (the paper: 10,000).")
flags.DEFINE_integer("eval_every", 0, "Steps between learning-curve points (0: none).")
flags.DEFINE_integer("curve_eval_size", 1000, "Test images per learning-curve point.")
flags.DEFINE_string("variant", "", "Name of a variant of the presets (an ablation); needs --extra_flags.")
flags.DEFINE_list("extra_flags", [], "train_segmentation.py flags that make the variant.")
flags.DEFINE_string("runs_dir", "runs/cosal_table2", "Model directories, one per cell.")
flags.DEFINE_string("output", "docs/results/cosal_table2", "Writes <output>.json and <output>.md.")
FLAGS = flags.FLAGS

# Paper, Table 2: (preset, num_direct) -> mean IoU.
PAPER = {
    ("paper_t1_noattention", 4): 0.2107, ("paper_t1_noattention", 6): 0.2499, ("paper_t1_noattention", 8): 0.3186,
    ("paper_t1", 4): 0.4030, ("paper_t1", 6): 0.5220, ("paper_t1", 8): 0.7097,
    ("paper_t4", 4): 0.5033, ("paper_t4", 6): 0.5313, ("paper_t4", 8): 0.7017,
}
PAPER_ROW = {"paper_t4_open_choices": "paper_t4"}  # presets that fix open choices of a paper row: that row
PRESET_ORDER = ("paper_t1_noattention", "paper_t1", "paper_t4", "paper_t4_open_choices", "released_code", "plus")


def main(argv) -> None:
    del argv
    from experiments import campaign

    budget = campaign.Budget(images=FLAGS.budget_images, seconds=60 * FLAGS.budget_minutes,
                             test_size=FLAGS.test_size, eval_every=FLAGS.eval_every,
                             curve_eval_size=FLAGS.curve_eval_size)
    cells = [campaign.Cell(preset, int(n), captions, int(seed), FLAGS.variant, tuple(FLAGS.extra_flags))
             for captions in FLAGS.captions for preset in FLAGS.presets for n in FLAGS.num_direct
             for seed in FLAGS.seeds]
    json_path = f"{FLAGS.output}.json"
    for cell in cells:
        row = campaign.run_cell(cell, budget, FLAGS.runs_dir)
        paper_row = PAPER_ROW.get(cell.preset, cell.preset)
        row["paper_mean_iou"] = PAPER.get((paper_row, cell.num_direct)) if not cell.variant else None
        print(f"{cell.name}: mean IoU {row['mean_iou']:.4f} after {row['images_seen']} images, "
              f"{row['seconds']:.0f} s", flush=True)
        campaign.record_row(json_path, row)
    with open(f"{FLAGS.output}.md", "w", encoding="utf-8") as f:
        rows = campaign.load_rows(json_path)
        f.write(render(rows, ceilings(rows)))
    print(f"wrote {json_path} and {FLAGS.output}.md")


def ceilings(rows: list[dict]) -> dict[int, float]:
    """Legacy-caption ceiling (oracle mean IoU) per number of direct descriptions present in `rows`."""
    from experiments import cosal_ceiling
    from lbie_tf.data import cosal

    sizes = {row["num_direct"]: row["test_images"] for row in rows if row["captions"] == "legacy"}
    return {n: cosal_ceiling.caption_ceiling(cosal.CosalConfig(num_direct=n, legacy_captions=True,
                                                               test_size=size))
            for n, size in sorted(sizes.items())}


def _label(row: dict) -> str:
    attention = "yes" if row["attention"] else "no"
    name = row["preset"] + (f" ({row['variant']})" if row["variant"] else "")
    return f"{name} | {row['T']} | {attention}"


def _sort_key(row: dict):
    order = PRESET_ORDER.index(row["preset"]) if row["preset"] in PRESET_ORDER else len(PRESET_ORDER)
    return order, row["variant"], row["num_direct"], row["seed"]


def render(rows: list[dict], legacy_ceilings: dict[int, float]) -> str:
    """The Markdown report of all rows."""
    rows = sorted(rows, key=_sort_key)
    columns = sorted({row["num_direct"] for row in rows})
    lines = ["# CoSaL, Table 2 of the paper: measured", "",
             "Generated by `experiments/cosal_table2.py` from `cosal_table2.json`; every number below is read "
             "from the evaluation of a committed run (mean IoU over the 7 colour classes of the fixed 10,000-image "
             "CoSaL test split, one confusion matrix over the whole split). Cells: measured mean IoU, the "
             "paper's value in parentheses; with several seeds, the mean ± the sample standard deviation over "
             "seeds.", ""]
    for captions in ("determined", "legacy"):
        subset = [row for row in rows if row["captions"] == captions]
        if not subset:
            continue
        title = ("every colour determined by the caption" if captions == "determined"
                 else "the released generator's captions (`--cosal_legacy_captions`, some colours undetermined)")
        lines += [f"## Captions: {captions} — {title}", "",
                  "| preset | T | attention | " + " | ".join(f"{n} direct" for n in columns) + " |",
                  "|---|---|---|" + "---|" * len(columns)]
        labels = list(dict.fromkeys(_label(row) for row in subset))
        for label in labels:
            cells = []
            for n in columns:
                same = [row for row in subset if _label(row) == label and row["num_direct"] == n]
                if not same:
                    cells.append("—")
                    continue
                paper = same[0]["paper_mean_iou"]
                stats = over_seeds([r["mean_iou"] for r in same])
                text = f"{stats.mean:.4f}"
                if stats.n > 1:
                    text += f" ± {stats.sd:.4f} [{stats.n} seeds]"
                cells.append(text + (f" ({paper:.4f})" if paper is not None else ""))
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        if captions == "legacy" and legacy_ceilings:
            lines.append("| ceiling: oracle colouring only determined cells right | – | – | " + " | ".join(
                f"{legacy_ceilings[n]:.4f}" if n in legacy_ceilings else "—" for n in columns) + " |")
        lines.append("")
    lines += seed_section(rows)
    lines += ordering_section(rows)
    lines += stop_step_section(rows)
    lines += ["## Per-class IoU", "",
              "| preset | variant | captions | direct | seed | " + " | ".join(_class_names(rows)) + " |",
              "|---|---|---|---|---|" + "---|" * len(_class_names(rows))]
    for row in rows:
        per_class = " | ".join(_fmt(row["per_class_iou"].get(name)) for name in _class_names(rows))
        lines.append(f"| {row['preset']} | {row['variant'] or '–'} | {row['captions']} | {row['num_direct']} | "
                     f"{row['seed']} | {per_class} |")
    lines += ["", "## Runs", "",
              "| cell | images seen | training seconds | images/s | mean stop step | command |",
              "|---|---|---|---|---|---|"]
    for row in rows:
        name = f"{row['preset']}{'-' + row['variant'] if row['variant'] else ''} {row['captions']} " \
               f"{row['num_direct']} direct, seed {row['seed']}"
        lines.append(f"| {name} | {row['images_seen']:,} | {row['seconds']:.0f} | {row['images_per_second']:.0f} | "
                     f"{_fmt(row['mean_stop_step'], 2)} | `{row['command']}` |")
    machines = sorted({row["machine"] for row in rows})
    budgets = sorted({f"{row['budget']['images']:,} images" + (
        f" or {row['budget']['seconds'] / 60:g} min" if row["budget"]["seconds"] else "") for row in rows})
    lines += ["", f"Budget per cell: {'; '.join(budgets)}. Machine: {'; '.join(machines)}. Training seconds "
              "exclude evaluation; the machine was shared with other jobs while some cells ran, so seconds "
              "and images/s are upper and lower bounds of an idle machine's.", ""]
    return "\n".join(lines)


def seed_section(rows: list[dict]) -> list[str]:
    """Markdown lines: every cell that ran with several seeds, its per-seed mean IoU, mean, sample standard
    deviation and standard error of the mean."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((_label(row), row["captions"], row["num_direct"]), []).append(row)
    repeated = {key: same for key, same in groups.items() if len(same) > 1}
    if not repeated:
        return []
    lines = ["## Seeds", "",
             "Cells trained with several model seeds (the data are the same for every seed): sd is the sample "
             "standard deviation over seeds, se = sd / √n the standard error of their mean.", "",
             "| preset | T | attention | captions | direct | mean IoU per seed | mean | sd | se |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (label, captions, num_direct), same in repeated.items():
        stats = over_seeds([row["mean_iou"] for row in same])
        per_seed = ", ".join(f"{row['seed']}: {row['mean_iou']:.4f}" for row in same)
        lines.append(f"| {label} | {captions} | {num_direct} | {per_seed} | {stats.mean:.4f} | {stats.sd:.4f} | "
                     f"{stats.se:.4f} |")
    return lines + [""]


# The paper's ordering within every column of Table 2: (better preset, worse preset, relation).
# `paper_t4_open_choices` is the T = 4 row with the open choices that let its gates learn
# (configs/cosal_paper_t4_open_choices.cfg); the paper's value is the T = 4 row's.
ORDERING = (("paper_t4", "paper_t1", "≥"), ("paper_t4_open_choices", "paper_t1", "≥"),
            ("paper_t1", "paper_t1_noattention", ">"))


def ordering_section(rows: list[dict]) -> list[str]:
    """Markdown lines: for every caption mode, variant and column where both presets of a pair in `ORDERING`
    ran (same variant), the two means over seeds, their difference ± its standard error, the seeds (trained for
    both) where the relation holds, and a verdict: the relation holds or is reversed when the difference is more
    than two standard errors from zero, and is otherwise only "in the mean" (or from one seed)."""
    groups: dict[tuple, dict[str, list[dict]]] = {}
    for row in rows:
        key = (row["captions"], row["variant"], row["num_direct"])
        groups.setdefault(key, {}).setdefault(row["preset"], []).append(row)
    lines = []
    for (captions, variant, num_direct), by_preset in sorted(groups.items()):
        for better, worse, relation in ORDERING:
            if better not in by_preset or worse not in by_preset:
                continue
            first = over_seeds([row["mean_iou"] for row in by_preset[better]])
            second = over_seeds([row["mean_iou"] for row in by_preset[worse]])
            gap, error = difference(first, second)
            worse_by_seed = {row["seed"]: row["mean_iou"] for row in by_preset[worse]}
            paired = [(row["mean_iou"], worse_by_seed[row["seed"]]) for row in by_preset[better]
                      if row["seed"] in worse_by_seed]
            holding = sum(a >= b if relation == "≥" else a > b for a, b in paired)
            verdict = "holds" if (gap >= 0 if relation == "≥" else gap > 0) else "reversed"
            if error is None:
                verdict += ", one seed (no spread)"
            elif abs(gap) <= 2 * error:
                verdict += " in the mean, within 2 se"
            error_text = "" if error is None else f" ± {error:.4f}"
            paper_better = PAPER_ROW.get(better, better)
            paper = (f"{PAPER[(paper_better, num_direct)] - PAPER[(worse, num_direct)]:+.4f}"
                     if (paper_better, num_direct) in PAPER else "—")
            lines.append(f"| {captions} | {variant or '–'} | {num_direct} | {better} {relation} {worse} | {paper} | "
                         f"{first.mean:.4f} [{first.n}] | {second.mean:.4f} [{second.n}] | {gap:+.4f}{error_text} | "
                         f"{holding} of {len(paired)} | {verdict} |")
    if not lines:
        return []
    return ["## The paper's ordering", "",
            "The paper's Table 2 has T = 1 with attention above T = 1 without in every column, and T = 4 at or "
            "above T = 1 with attention at 4 and 6 direct descriptions (not at 8). Per caption mode, variant (the "
            "same for both presets) and column: the paper's difference, each preset's measured mean over its "
            "seeds [seeds], the measured difference ± its standard error sqrt(se₁² + se₂²), the seeds trained for "
            "both presets where the relation holds, and the verdict (more than 2 se from zero: holds or "
            "reversed).", "",
            "| captions | variant | direct | relation | paper | first | second | difference | seeds holding | "
            "verdict |",
            "|---|---|---|---|---|---|---|---|---|---|"] + lines + [""]


ONE_STEP_SHARE = 0.95  # a seed whose regions stop at one step at least this often learned one stop step for all


def stop_step_section(rows: list[dict]) -> list[str]:
    """Markdown lines: for every cell group of a T > 1 preset trained with several seeds whose gates moved off
    step 1 in some seed, each seed's test-split stop distribution (share of regions at each step), the share
    at its most common step, and the correlation over seeds between the mean stop step and the mean IoU."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if row["T"] > 1 and row.get("stop_step_distribution"):
            groups.setdefault((_label(row), row["captions"], row["num_direct"]), []).append(row)
    lines = []
    for (label, captions, num_direct), same in groups.items():
        if len(same) < 3 or all(row["mean_stop_step"] < 1.01 for row in same):
            continue
        same = sorted(same, key=lambda row: row["seed"])
        lines.append(f"**{label.split(' | ')[0]}, {captions} captions, {num_direct} direct** (Pearson r over "
                     f"{len(same)} seeds between mean stop step and mean IoU: "
                     f"{_pearson([r['mean_stop_step'] for r in same], [r['mean_iou'] for r in same]):+.2f}; "
                     "mean stop step over seeds: "
                     f"{over_seeds([r['mean_stop_step'] for r in same]).mean:.2f}; seeds whose regions stop at one "
                     f"step for at least {ONE_STEP_SHARE:.0%} of them: "
                     f"{sum(max(r['stop_step_distribution'].values()) >= ONE_STEP_SHARE for r in same)} of "
                     f"{len(same)})")
        lines += ["", "| seed | mean IoU | mean stop step | share of regions stopping at step 1..T | "
                      "share at the most common step |", "|---|---|---|---|---|"]
        for row in same:
            shares = [row["stop_step_distribution"][str(t)] for t in range(1, row["T"] + 1)]
            lines.append(f"| {row['seed']} | {row['mean_iou']:.4f} | {row['mean_stop_step']:.2f} | "
                         + " / ".join(f"{share:.3f}" for share in shares) + f" | {max(shares):.3f} |")
        lines.append("")
    if not lines:
        return []
    return ["## Stop steps at inference", "",
            "T > 1 rows with several seeds whose termination gates moved off step 1: where the regions of the "
            "10,000 test images stop (their `stop_step_distribution`). A share near 1 at one step means the "
            "gates learned one stop step for every region instead of one per region.", ""] + lines


def _pearson(xs: list[float], ys: list[float]) -> float:
    """Pearson correlation of two equally long lists (0 when either is constant)."""
    try:
        return statistics.correlation(xs, ys)
    except statistics.StatisticsError:
        return 0.0


def _class_names(rows: list[dict]) -> list[str]:
    return list(rows[0]["per_class_iou"]) if rows else []


def _fmt(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


if __name__ == "__main__":
    app.run(main)
