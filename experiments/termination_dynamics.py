"""How the termination gates of the CoSaL T = 4 model learn, step by step of training.

    python -m experiments.termination_dynamics                          # every variant, then the report
    python -m experiments.termination_dynamics --variants=open_choices  # one variant (merged into the JSON)
    python -m experiments.termination_dynamics --variants=              # only rewrite the report from the JSON

Trains each variant in this process (its preset's model, data and training, `--train_steps` steps) and every
`--log_every` steps measures on a fixed probe batch of test images: the stop distribution β_1..β_T (mean over
regions), each step's cross-entropy with every region stopped there (`losses.segmentation.step_cross_entropies`),
the termination-gate logits (mean per step, largest |logit|), the norm of each step's state S_t (`W7 ⊗ h_t`), the
norm of the gate variables' gradient of the training loss, and the share of regions stopping at each step at
inference. Writes `<output>.json` (one entry per variant), `<output>.md` (rendered from it, with the numbers of
its explanation computed from the JSON) and `<output>_<variant>.png` (β and CE per step over training).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

# Variant → (preset flagfile, extra flags).
VARIANTS = {
    "paper": ("configs/cosal_paper_t4.cfg", ()),
    "open_choices": ("configs/cosal_paper_t4_open_choices.cfg", ()),
    "stop_prior": ("configs/cosal_paper_t4.cfg", ("--stop_prior_weight=0.1",)),
    # Ablations of the open choices: each alone on the paper preset.
    "identity_w7_only": ("configs/cosal_paper_t4.cfg", ("--output_projection_init=identity",)),
    "warmup_only": ("configs/cosal_paper_t4.cfg", ("--gate_warmup_steps=200",)),
}
COLLAPSE_SHARE = 0.9  # β_1 at or above this: the stop distribution has collapsed onto step 1

FLAGS = flags.FLAGS


def variant_configs(variant: str, seed: int):
    """`(SegmenterConfig, TrainingConfig, CosalConfig)` of a variant's preset with its extra flags and `seed`."""
    from lbie_tf.cli.flags import config_from_flagfile
    from lbie_tf.configs import SegmenterConfig, TrainingConfig
    from lbie_tf.data.cosal import CosalConfig

    flagfile, extra = VARIANTS[variant]
    extra = (*extra, f"--seed={seed}")
    model = config_from_flagfile(SegmenterConfig, flagfile, extra)
    training = config_from_flagfile(TrainingConfig, flagfile, extra)
    data = config_from_flagfile(CosalConfig, flagfile, extra, image_size=model.image_size)
    return model, training, data


def probe_function(task, probe_size: int):
    """A `tf.function(batch, step) -> dict` of the probe statistics of `task`'s model (see the module doc)."""
    import tensorflow as tf

    from lbie_tf.losses import segmentation as losses
    from lbie_tf.ops import stop_distribution

    model = task.model
    gate_ids = {id(v) for v in model.gate_variables}
    gate_index = [i for i, v in enumerate(model.head_variables) if id(v) in gate_ids]

    @tf.function
    def probe(batch, step):
        labels = tf.cast(batch["labels"], tf.int32)
        features = model.encode_image(batch["image"])
        fused = model.fuse_features(features, batch["tokens"])
        gate_logits = fused["gate_logits"]
        log_beta = stop_distribution.stop_log_probs(gate_logits, final_step=model.config.final_step)
        step_logits = model.decode_steps(fused["step_outputs"], batch["image"])
        outputs = fused["step_outputs"]
        projection = model.fusion.cell.projection
        states = outputs
        if projection is not None:
            shape = tf.shape(outputs)
            states = tf.reshape(projection(tf.reshape(outputs, tf.concat([[-1], shape[2:]], 0))), shape)
        _, first = stop_distribution.first_stop(gate_logits)
        results = task.loss_gradients(features, batch["tokens"], labels, batch["example_id"], step, probe_size,
                                      batch["image"], warmup=False)
        gate_gradients = [results["head_gradients"][i] for i in gate_index]
        return {
            "beta": tf.reduce_mean(tf.exp(log_beta), axis=[0, 2, 3]),
            "cross_entropy": tf.reduce_mean(losses.step_cross_entropies(step_logits, labels,
                                                                         task.training.foreground_weight), axis=0),
            "gate_logit_mean": tf.reduce_mean(gate_logits, axis=[0, 2, 3]),
            "gate_logit_abs_max": tf.reduce_max(tf.abs(gate_logits)),
            "state_norm": tf.reduce_mean(tf.norm(states, axis=-1), axis=[0, 2, 3]),
            "gate_gradient_norm": tf.linalg.global_norm(gate_gradients),
            "inference_stop_share": tf.reduce_mean(first, axis=[0, 2, 3]),
        }

    return probe


def train_variant(variant: str, train_steps: int, log_every: int, probe_size: int, seed: int) -> dict:
    """Train one variant and return its JSON entry: settings and one row per probe."""
    import dataclasses
    import tempfile

    import numpy as np
    import tensorflow as tf

    from lbie_tf.tasks.cosal_segmentation import make_trainer, test_batches

    model, training, data = variant_configs(variant, seed)
    training = dataclasses.replace(training, train_steps=train_steps)
    data = dataclasses.replace(data, test_size=probe_size)
    probe_batch = next(iter(test_batches(data, probe_size)))
    rows = []
    with tempfile.TemporaryDirectory() as model_dir:
        trainer = make_trainer(model, training, data, model_dir, tf.distribute.get_strategy(), log=lambda _: None,
                               progress_stream=None, previews=0)
        step_fn = trainer.compiled_step()
        probe = probe_function(trainer.task, probe_size)
        batches = iter(trainer.strategy.experimental_distribute_dataset(trainer.train_dataset(0)))
        for step in range(train_steps + 1):
            if step % log_every == 0 or step == train_steps:
                values = probe(probe_batch, tf.constant(step, tf.int64))
                rows.append({"step": step, **{k: np.asarray(v).tolist() for k, v in values.items()}})
                print(f"{variant} step {step}: beta {np.round(values['beta'], 3).tolist()} "
                      f"CE {np.round(values['cross_entropy'], 3).tolist()}", flush=True)
            if step < train_steps:
                step_fn(next(batches))
    flagfile, extra = VARIANTS[variant]
    return {"variant": variant, "flagfile": flagfile, "extra_flags": list(extra), "seed": seed, "steps": model.steps,
            "batch_size": training.batch_size, "gate_warmup_steps": training.gate_warmup_steps,
            "probe_size": probe_size, "log_every": log_every, "train_steps": train_steps, "rows": rows}


# ------------------------------------------------------------------------------------------------------------
# The report, from the JSON.

def collapse_step(rows: list[dict]) -> int | None:
    """The first probed step from which β_1 stays ≥ COLLAPSE_SHARE to the end, or None."""
    found = None
    for row in rows:
        if row["beta"][0] >= COLLAPSE_SHARE:
            found = row["step"] if found is None else found
        else:
            found = None
    return found


def first_lowest_step(rows: list[dict], index: int) -> int | None:
    """The first probed step from which step `index + 1`'s cross-entropy is the lowest of all steps' to the end."""
    found = None
    for row in rows:
        ce = row["cross_entropy"]
        if ce[index] <= min(ce):
            found = row["step"] if found is None else found
        else:
            found = None
    return found


def mean_stop_step(beta: list[float]) -> float:
    return sum((t + 1) * b for t, b in enumerate(beta))


def _vector(values, digits: int = 3) -> str:
    return "(" + ", ".join(f"{v:.{digits}f}" for v in values) + ")"


def explanation(entries: dict) -> list[str]:
    """Markdown lines explaining the collapse and the fix, every number read from `entries`."""
    lines = ["## What happens", ""]
    paper = entries.get("paper")
    if paper:
        rows = paper["rows"]
        first, last = rows[0], rows[-1]
        collapse, lowest = collapse_step(rows), first_lowest_step(rows, 0)
        lines.append(
            f"**Paper preset.** At step 0 β = {_vector(first['beta'])} and the four steps' cross-entropies are "
            f"{_vector(first['cross_entropy'])}. "
            + (f"From step {lowest} on, step 1 has the lowest cross-entropy of the {paper['steps']} steps at every "
               f"probe: it is the only step whose output holds the encoder features directly (Ô_1 mixes S_0 = V "
               f"with the candidate), while every later step's input state has passed through the randomly "
               f"initialised W7 first. " if lowest is not None else "")
            + (f"The gates follow: from step {collapse} on β_1 ≥ {COLLAPSE_SHARE}" if collapse is not None else
               "β_1 does not reach " + str(COLLAPSE_SHARE))
            + f"; at step {last['step']} β = {_vector(last['beta'])}, the state norms |S_t| are "
            f"{_vector(last['state_norm'], 1)} (step 0: {_vector(first['state_norm'], 2)}), the largest |gate logit| "
            f"{last['gate_logit_abs_max']:.1f} (step 0: {first['gate_logit_abs_max']:.2f}) and the gate gradient "
            f"norm {last['gate_gradient_norm']:.2e} (step 0: {first['gate_gradient_norm']:.2e}): the gates are "
            f"saturated and no longer learn, so T = 4 computes T = 1.")
        lines.append("")
    fixed = entries.get("open_choices")
    if fixed:
        rows, warmup = fixed["rows"], fixed["gate_warmup_steps"]
        last = rows[-1]
        at_warmup = [row for row in rows if row["step"] <= warmup][-1]
        lines.append(
            f"**Open choices fixed** (`{fixed['flagfile']}`: W7 initialised to the identity, gate kernel to 0, "
            f"{warmup} warm-up steps with frozen gates and every step's loss averaged). At step "
            f"{at_warmup['step']} (end of the warm-up) the cross-entropies are {_vector(at_warmup['cross_entropy'])}"
            + (", every later step's below step 1's, so the gates, released, move mass to later steps"
               if max(at_warmup["cross_entropy"][1:]) < at_warmup["cross_entropy"][0] else "") + "; "
            f"at step {last['step']} β = {_vector(last['beta'])} (mean stop step "
            f"{mean_stop_step(last['beta']):.2f}), cross-entropies {_vector(last['cross_entropy'])}, |S_t| "
            f"{_vector(last['state_norm'], 1)}, largest |gate logit| {last['gate_logit_abs_max']:.1f}, gate gradient "
            f"norm {last['gate_gradient_norm']:.2e}; at inference (first gate ≥ 0.5) "
            f"{_vector(last['inference_stop_share'])} of the probe's regions stop at steps 1..{fixed['steps']}.")
        lines.append("")
    prior = entries.get("stop_prior")
    if prior:
        last = prior["rows"][-1]
        lines.append(
            f"**Stop prior** (`--stop_prior_weight=0.1`, the paper preset otherwise). At step {last['step']} "
            f"β = {_vector(last['beta'])} (mean stop step {mean_stop_step(last['beta']):.2f}), cross-entropies "
            f"{_vector(last['cross_entropy'])}, largest |gate logit| {last['gate_logit_abs_max']:.1f}: the KL to the "
            f"uniform distribution keeps mass on every step.")
        lines.append("")
    return lines


def summary_table(entries: dict) -> list[str]:
    """Markdown lines: every variant's stop distribution, mean stop step, cross-entropies and largest |logit| at
    its last probe."""
    lines = ["## Every variant at its last probe", "",
             "| variant | flags | step | β | mean stop step | CE per step | max \\|logit\\| | inference stops |",
             "|---|---|---|---|---|---|---|---|"]
    for variant, entry in entries.items():
        last = entry["rows"][-1]
        flags_text = " ".join([f"--flagfile={entry['flagfile']}", *entry["extra_flags"]])
        lines.append(f"| {variant} | `{flags_text}` | {last['step']} | {_vector(last['beta'])} | "
                     f"{mean_stop_step(last['beta']):.2f} | {_vector(last['cross_entropy'])} | "
                     f"{last['gate_logit_abs_max']:.1f} | {_vector(last['inference_stop_share'], 2)} |")
    return lines + [""]


def variant_table(entry: dict, every: int = 50) -> list[str]:
    steps = entry["steps"]
    rows = [row for row in entry["rows"] if row["step"] % every == 0 or row is entry["rows"][-1]]
    index = ", ".join(str(t + 1) for t in range(steps))
    lines = [f"| step | β ({index}) | CE ({index}) | mean gate logit ({index}) | max \\|logit\\| | \\|S_t\\| ({index}) "
             f"| gate gradient | inference stops ({index}) |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['step']} | {_vector(row['beta'])} | {_vector(row['cross_entropy'])} | "
                     f"{_vector(row['gate_logit_mean'], 2)} | {row['gate_logit_abs_max']:.2f} | "
                     f"{_vector(row['state_norm'], 2)} | {row['gate_gradient_norm']:.2e} | "
                     f"{_vector(row['inference_stop_share'], 2)} |")
    return lines


def render(entries: dict, output: str) -> str:
    """The Markdown report of every variant in `entries`."""
    name = os.path.basename(output)
    lines = ["# Termination-gate dynamics on CoSaL (T = 4, 4 direct descriptions)", "",
             f"Generated by `experiments/termination_dynamics.py` from `{name}.json`. Each variant trains its "
             "preset (batch 64, determined captions) from scratch; every few steps a fixed probe batch of test "
             "images is measured: β (mean over regions of each region's stop distribution), CE_t (weighted "
             "cross-entropy with every region stopped at step t), the termination-gate logits, the mean norm of "
             "each step's state S_t = W7 ⊗ h_t, the norm of the gate variables' gradient of the training loss, "
             "and the share of regions stopping at each step at inference.", ""]
    lines += explanation(entries)
    lines += summary_table(entries)
    for variant, entry in entries.items():
        extra = " ".join(entry["extra_flags"])
        lines += [f"## {variant}", "",
                  f"`{entry['flagfile']}` {extra}, seed {entry['seed']}, {entry['train_steps']} steps, probe of "
                  f"{entry['probe_size']} test images every {entry['log_every']} steps.", "",
                  f"![β and CE per step, {variant}]({name}_{variant}.png)", ""]
        lines += variant_table(entry) + [""]
    commands = sorted({f"python -m experiments.termination_dynamics --variants={v} --train_steps={e['train_steps']} "
                       f"--log_every={e['log_every']} --probe_size={e['probe_size']} --seed={e['seed']}"
                       for v, e in entries.items()})
    lines += ["Commands:", ""] + [f"- `{c}`" for c in commands] + [""]
    return "\n".join(lines)


def write_charts(entries: dict, output: str) -> list[str]:
    from lbie_tf.visualization.line_chart import line_chart, stack_vertically

    paths = []
    for variant, entry in entries.items():
        x = [row["step"] for row in entry["rows"]]
        steps = range(entry["steps"])
        marks = [entry["gate_warmup_steps"]] if entry["gate_warmup_steps"] else []
        beta = line_chart(x, {f"beta_{t + 1}": [row["beta"][t] for row in entry["rows"]] for t in steps},
                          f"{variant}: stop distribution beta_t (mean over probe regions)", "beta", y_range=(0.0, 1.0),
                          marks=marks)
        ce = line_chart(x, {f"CE_{t + 1}": [row["cross_entropy"][t] for row in entry["rows"]] for t in steps},
                        f"{variant}: cross-entropy of each step decoded alone", "CE", marks=marks)
        path = f"{output}_{variant}.png"
        stack_vertically([beta, ce]).save(path)
        paths.append(path)
    return paths


def load_entries(path: str) -> dict:
    import json

    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main(argv) -> None:
    del argv
    import json

    json_path = f"{FLAGS.output}.json"
    for variant in FLAGS.variants:
        if variant not in VARIANTS:
            raise app.UsageError(f"unknown variant {variant!r}; one of {', '.join(VARIANTS)}")
        entry = train_variant(variant, FLAGS.train_steps, FLAGS.log_every, FLAGS.probe_size, FLAGS.seed)
        entries = load_entries(json_path)  # re-read: several runs may share the file
        entries[variant] = entry
        entries = {v: entries[v] for v in VARIANTS if v in entries}
        with open(json_path, "w", encoding="utf-8") as f:
            json.dump(entries, f, indent=1)
            f.write("\n")
    entries = load_entries(json_path)
    write_charts(entries, FLAGS.output)
    with open(f"{FLAGS.output}.md", "w", encoding="utf-8") as f:
        f.write(render(entries, FLAGS.output))
    print(f"wrote {json_path}, {FLAGS.output}.md and the charts")


def define_flags() -> None:
    """The command line's flags (defined only when run as a script: the tests import the report code)."""
    flags.DEFINE_list("variants", list(VARIANTS), f"Variants to train: {', '.join(VARIANTS)}.")
    flags.DEFINE_integer("train_steps", 400, "Training steps per variant.")
    flags.DEFINE_integer("log_every", 10, "Steps between probes.")
    flags.DEFINE_integer("probe_size", 256, "Test images of the probe batch.")
    flags.DEFINE_integer("seed", 0, "Model seed (--seed).")
    flags.DEFINE_string("output", "docs/results/termination_dynamics", "Writes <output>.json, .md and _<variant>.png.")


if __name__ == "__main__":
    from lbie_tf.cli.app import run_app  # --help, and a user error as one line with exit status 2

    define_flags()
    run_app(main)
