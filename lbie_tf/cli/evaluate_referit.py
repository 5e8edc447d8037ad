"""`lbie-evaluate-referit`: Hu et al.'s ReferIt evaluation of a trained model (overall IoU, precision@0.5..0.9,
mean IoU), written as JSON and as a row laid out like the paper's Table 3, beside the paper's rows.

    lbie-evaluate-referit --model_dir=runs/referit_paper --data_dir=~/tensorflow_datasets [--eval_split=test]

Writes `<model_dir>/referit_<split>_results.json` and `<model_dir>/referit_<split>_table3.md` and prints the
table. Takes the ReferIt data flags of `train_segmentation.py`.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from lbie_tf.cli import flags as lbie_flags  # noqa: E402
from lbie_tf.cli.app import run_app  # noqa: E402
from lbie_tf.errors import LbieError  # noqa: E402

lbie_flags.declare_key_flags(__name__, lbie_flags.define_referit_flags())
flags.DEFINE_string("model_dir", None, "The --model_dir of a ReferIt train_segmentation.py run.")
FLAGS = flags.FLAGS


def evaluate(model_dir: str, data) -> dict:
    """Evaluate the latest checkpoint of `model_dir` on `data.eval_split`; write and return the report."""
    from lbie_tf.data import referit
    from lbie_tf.evaluation.referit_evaluation import evaluate_referit, write_table
    from lbie_tf.serving.loading import load_trained_segmenter
    from lbie_tf.tasks.referit_segmentation import check_compatible

    model, step = load_trained_segmenter(model_dir)
    check_compatible(model.config, data)
    report = evaluate_referit(model, referit.eval_dataset(data, model.config.image_size))
    report.update(step=int(step), split=data.eval_split)
    with open(os.path.join(model_dir, f"referit_{data.eval_split}_results.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, sort_keys=True)
    print(write_table(report, model_dir, f"referit_{data.eval_split}_table3.md"))
    return report


def _main(argv) -> None:
    del argv
    if not FLAGS.model_dir:
        raise LbieError("--model_dir is required: the directory of a ReferIt training run")
    evaluate(FLAGS.model_dir, lbie_flags.referit_config_from_flags())


def main() -> None:
    """Console-script entry point: one-line errors (exit status 2) for anything the user can fix."""
    run_app(_main)


if __name__ == "__main__":
    main()
