"""The paper's Figure 5, measured: which sentence each region attends to at each fusion step.

    python -m experiments.cosal_figure5 --model_dir=runs/cosal_table2/paper_t4-determined-nd4-seed0 --num_direct=4

Writes `<output>.png` (one test example: its caption with the sentence attended at step 1, 2, 3, …
coloured red, yellow, green, …, the ground truth, the prediction, and per step which regions attend to a
direct or a relational sentence), and `<output>.json` / `<output>.md` with the statistic over the test split:
per step, the share of regions whose most-attended sentence is direct, over all regions and over the regions
that have not stopped yet. The paper observes direct descriptions first and relational ones later.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

FLAGS = flags.FLAGS


def attention_statistic(model, data, batch_size: int = 250) -> dict:
    """Per-step shares of regions attending to a direct sentence over `data`'s test split."""
    import numpy as np

    from experiments.figure5 import direct_attention_counts
    from lbie_tf.tasks.cosal_segmentation import test_batches

    counts = 0
    for batch in test_batches(data, batch_size):
        outputs = model({"image": batch["image"], "tokens": batch["tokens"]}, training=False)
        counts = counts + direct_attention_counts(np.asarray(outputs["attention"]), np.asarray(outputs["stop_step"]),
                                                  data.num_direct)
    steps = []
    for t, (regions, direct, active, active_direct) in enumerate(np.asarray(counts).tolist()):
        steps.append({"step": t + 1, "regions": regions, "direct_share": direct / regions,
                      "active_regions": active, "active_direct_share": active_direct / active if active else None})
    return {"num_direct": data.num_direct, "direct_share_if_uniform": data.num_direct / 9, "steps": steps}


def write_example(model, data, index: int, path: str) -> str:
    import numpy as np

    from experiments.figure5 import save_attention_figure
    from lbie_tf.data import cosal_vocabulary
    from lbie_tf.tasks.cosal_segmentation import preview_examples
    from lbie_tf.visualization.figures import colorize_labels

    example = preview_examples(data, index + 1)
    inputs = {"image": example["image"][index:index + 1], "tokens": example["tokens"][index:index + 1]}
    outputs = model(inputs, training=False)
    palette = cosal_vocabulary.RGB_PALETTE
    prediction = np.argmax(np.asarray(outputs["logits"])[0], axis=-1)
    return save_attention_figure(path, colorize_labels(example["labels"][index], palette),
                                 colorize_labels(prediction, palette), np.asarray(outputs["attention"])[0],
                                 cosal_vocabulary.decode_caption(example["tokens"][index]), data.num_direct)


def render(statistic: dict, model_dir: str, step: int, figure_file: str) -> str:
    lines = ["# CoSaL, Figure 5 of the paper: what the regions attend to, step by step", "",
             f"Model: `{model_dir}` (checkpoint step {step}), {statistic['num_direct']} direct descriptions; "
             f"statistic over {statistic['steps'][0]['regions'] // 36:,} test images "
             "(`experiments/cosal_figure5.py`). A region attends to the sentence with its largest attention "
             "weight. If attention ignored the kind of sentence, the direct share would be "
             f"{statistic['direct_share_if_uniform']:.3f} (direct sentences / all sentences).", "",
             "| step | regions attending a direct sentence | among regions not yet stopped (count) |",
             "|---|---|---|"]
    for row in statistic["steps"]:
        active = ("—" if row["active_direct_share"] is None
                  else f"{row['active_direct_share']:.3f} ({row['active_regions']:,})")
        lines.append(f"| {row['step']} | {row['direct_share']:.3f} | {active} |")
    active = [row["active_regions"] for row in statistic["steps"]] + [0]
    regions = statistic["steps"][0]["regions"]
    stops = ", ".join(f"step {t + 1}: {(active[t] - active[t + 1]) / regions:.3f}" for t in range(len(active) - 1))
    lines += ["", f"Share of regions stopping at each step (inference): {stops}. A region's output is its state "
              "at its stop step; the attention of later steps is computed but does not reach the output.", "",
              f"![Figure 5]({figure_file})", ""]
    return "\n".join(lines)


def main(argv) -> None:
    del argv
    from lbie_tf.data.cosal import CosalConfig
    from lbie_tf.serving.loading import load_trained_segmenter

    model, step = load_trained_segmenter(FLAGS.model_dir)
    data = CosalConfig(num_direct=FLAGS.num_direct, legacy_captions=FLAGS.legacy_captions,
                       test_size=FLAGS.test_size, image_size=model.image_size)
    figure = write_example(model, data, FLAGS.index, f"{FLAGS.output}.png")
    statistic = attention_statistic(model, data)
    statistic.update(model_dir=FLAGS.model_dir, checkpoint_step=step, example_index=FLAGS.index)
    with open(f"{FLAGS.output}.json", "w", encoding="utf-8") as f:
        json.dump(statistic, f, indent=1)
    with open(f"{FLAGS.output}.md", "w", encoding="utf-8") as f:
        f.write(render(statistic, FLAGS.model_dir, step, os.path.basename(FLAGS.output) + ".png"))
    for row in statistic["steps"]:
        print(f"step {row['step']}: direct share {row['direct_share']:.3f}")
    print(f"wrote {figure}, {FLAGS.output}.json and {FLAGS.output}.md")


def define_flags() -> None:
    """The command line's flags (defined only when run as a script, so that importing the module defines none)."""
    flags.DEFINE_string("model_dir", None, "A train_segmentation.py run with attention (T >= 2).", required=True)
    flags.DEFINE_integer("num_direct", 4, "Direct descriptions per caption (the run's --num_direct).")
    flags.DEFINE_bool("legacy_captions", False, "The run used --cosal_legacy_captions.")
    flags.DEFINE_integer("test_size", 10_000, "Test images for the statistic.")
    flags.DEFINE_integer("index", 0, "Test example drawn in the figure.")
    flags.DEFINE_string("output", "docs/results/cosal_figure5", "Writes <output>.png, .json and .md.")


if __name__ == "__main__":
    from lbie_tf.cli.app import run_app  # --help, and a user error as one line with exit status 2

    define_flags()
    run_app(main)
