"""Pretrained models shipped inside the package, so inference works offline right after `pip install`.

Each model is a folder `lbie_tf/pretrained/<name>/` with `model.weights.h5` (Keras weights) and
`metadata.json`: the model config, the caption shape, the exact training command, the step, and the test
evaluation it reached (measured by that command's run, copied from its `eval_results.json`).

    model, metadata = load_pretrained_segmenter()          # the default: "cosal_best"
    model, metadata = load_pretrained_segmenter("cosal_paper_t4")  # the paper's T = 4 preset, for comparison

Re-create one from a finished training run:

    python -m lbie_tf.pretrained --model_dir=runs/pretrained_cosal_paper_t4 --name=cosal_paper_t4 \
        --command="python train_segmentation.py --flagfile=configs/cosal_demo.cfg ..."
    python -m lbie_tf.pretrained --model_dir=runs/cosal_best --name=cosal_best --report=docs/results/cosal_best.json \
        --command="python train_segmentation.py --flagfile=configs/cosal_best.cfg --model_dir=runs/cosal_best"
"""

from __future__ import annotations

import json
import os

from lbie_tf.errors import DataError

PRETRAINED_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SEGMENTER = "cosal_best"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"


def available() -> list[str]:
    """Names of the shipped pretrained models."""
    return sorted(name for name in os.listdir(PRETRAINED_DIR)
                  if os.path.isfile(os.path.join(PRETRAINED_DIR, name, METADATA_FILE)))


def load_pretrained_segmenter(name: str = DEFAULT_SEGMENTER):
    """`(model, metadata)`: a built `LanguageSegmenter` with the shipped weights, and its metadata dict."""
    if name not in available():
        raise DataError(f"no pretrained model named {name!r}; shipped: {', '.join(available()) or 'none'}")
    return load_packaged_segmenter(os.path.join(PRETRAINED_DIR, name))


def load_packaged_segmenter(folder: str):
    """`(model, metadata)` from a folder written by `package_segmenter`."""
    from lbie_tf.configs import SegmenterConfig
    from lbie_tf.models.segmenter import build_segmenter

    with open(os.path.join(folder, METADATA_FILE), encoding="utf-8") as f:
        metadata = json.load(f)
    model = build_segmenter(SegmenterConfig(**metadata["model"]), metadata["sentences"], metadata["words"])
    model.load_weights(os.path.join(folder, WEIGHTS_FILE))
    return model, metadata


def package_segmenter(model_dir: str, name: str, command: str, out_dir: str = PRETRAINED_DIR,
                      report: str | None = None) -> str:
    """Write `<out_dir>/<name>/` from a finished `train_segmentation.py` run; returns the folder.

    `report`: optionally an `experiments/cosal_best.py` JSON of this run; its mean IoUs per number of direct
    sentences (test split and second renderer) are stored as `evaluation_by_num_direct`.
    """
    from lbie_tf.serving.loading import load_trained_segmenter
    from lbie_tf.training.trainer import EVAL_RESULTS_FILE

    model, step = load_trained_segmenter(model_dir)
    with open(os.path.join(model_dir, EVAL_RESULTS_FILE), encoding="utf-8") as f:
        evaluation = json.load(f)
    evaluation.pop("confusion_matrix", None)
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    model.save_weights(os.path.join(folder, WEIGHTS_FILE))
    metadata = {"name": name, "model": model.config.to_dict(), "sentences": model.sentences,
                "words": model.words, "step": step, "training_command": command, "evaluation": evaluation}
    if report:
        with open(report, encoding="utf-8") as f:
            rows = json.load(f)["rows"]
        metadata["evaluation_by_num_direct"] = {
            str(row["num_direct"]): {source: row[source]["mean_iou"] for source in ("test_split", "second_renderer")}
            for row in rows}
    with open(os.path.join(folder, METADATA_FILE), "w", encoding="utf-8") as f:
        json.dump(metadata, f, indent=2, sort_keys=True)
    return folder
