"""Pretrained models shipped inside the package, so inference works offline right after `pip install`.

One registry for every kind: each model is a folder `lbie_tf/pretrained/<name>/` with `model.weights.h5`
(Keras weights) and `metadata.json`: its `kind` ("segmenter" or "colorizer"), the model config (`model` for a
segmenter, with its caption shape `sentences` × `words`; `generator` for a colorizer), the exact training
command, the step, and the test evaluation it reached (measured by that command's run, copied from its
`eval_results.json`).

    model, metadata = load_pretrained("cosal_colorization")   # any kind, by name
    model, metadata = load_pretrained_segmenter()             # the default segmenter: "cosal_best"
    model, metadata = load_pretrained_segmenter("cosal_paper_t4")  # the paper's T = 4 preset, for comparison
    model, metadata = load_pretrained_colorizer()             # the default colorizer: "cosal_colorization"

Re-create one from a finished training run of either kind (the kind is read from its `model_config.json`):

    python -m lbie_tf.pretrained --model_dir=runs/pretrained_cosal_paper_t4 --name=cosal_paper_t4 \\
        --command="python train_segmentation.py --flagfile=configs/cosal_demo.cfg ..."
    python -m lbie_tf.pretrained --model_dir=runs/cosal_best --name=cosal_best --report=docs/results/cosal_best.json \\
        --command="python train_segmentation.py --flagfile=configs/cosal_best.cfg --model_dir=runs/cosal_best"
"""

from __future__ import annotations

import json
import os

from lbie_tf.errors import DataError

PRETRAINED_DIR = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SEGMENTER = "cosal_best"
DEFAULT_COLORIZER = "cosal_colorization"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"


def available(kind: str | None = None) -> list[str]:
    """Names of the shipped pretrained models (of one `kind`, "segmenter" or "colorizer", if given)."""
    names = sorted(name for name in os.listdir(PRETRAINED_DIR)
                   if os.path.isfile(os.path.join(PRETRAINED_DIR, name, METADATA_FILE)))
    return [name for name in names if kind is None or _metadata(os.path.join(PRETRAINED_DIR, name))["kind"] == kind]


def load_pretrained(name: str, kind: str | None = None):
    """`(model, metadata)`: the shipped model `name` built with its weights (a `LanguageSegmenter` or a
    `LanguageColorizer`, as its metadata's `kind` says); a one-line `DataError` for an unknown name or, when
    `kind` is given, a model of another kind."""
    if name not in available():
        raise DataError(f"no pretrained model named {name!r}; shipped: {', '.join(available()) or 'none'}")
    folder = os.path.join(PRETRAINED_DIR, name)
    if kind is not None and _metadata(folder)["kind"] != kind:
        raise DataError(f"the pretrained model {name!r} is a {_metadata(folder)['kind']}, not a {kind}; "
                        f"shipped {kind}s: {', '.join(available(kind)) or 'none'}")
    return load_packaged(folder)


def load_pretrained_segmenter(name: str = DEFAULT_SEGMENTER):
    """`(model, metadata)` of a shipped segmenter (`load_pretrained`)."""
    return load_pretrained(name, "segmenter")


def load_pretrained_colorizer(name: str = DEFAULT_COLORIZER):
    """`(generator, metadata)` of a shipped colorizer (`load_pretrained`)."""
    return load_pretrained(name, "colorizer")


def load_packaged(folder: str):
    """`(model, metadata)` from a folder written by `package_run`."""
    metadata = _metadata(folder)
    if metadata["kind"] == "colorizer":
        from lbie_tf.configs import ColorizerConfig
        from lbie_tf.models.colorizer import build_colorizer

        model = build_colorizer(ColorizerConfig(**metadata["generator"]))
    else:
        from lbie_tf.configs import SegmenterConfig
        from lbie_tf.models.segmenter import build_segmenter

        model = build_segmenter(SegmenterConfig(**metadata["model"]), metadata["sentences"], metadata["words"])
    model.load_weights(os.path.join(folder, WEIGHTS_FILE))
    return model, metadata


def package_run(model_dir: str, name: str, command: str, out_dir: str = PRETRAINED_DIR,
                report: str | None = None) -> str:
    """Write `<out_dir>/<name>/` from a finished training run of either kind; returns the folder.

    `report`: optionally an `experiments/cosal_best.py` JSON of a segmenter run; its mean IoUs per number of
    direct sentences (test split and second renderer) are stored as `evaluation_by_num_direct`.
    """
    from lbie_tf.serving.loading import COLORIZER, load_trained_model, run_kind
    from lbie_tf.training.trainer import EVAL_RESULTS_FILE

    model, step = load_trained_model(model_dir)
    with open(os.path.join(model_dir, EVAL_RESULTS_FILE), encoding="utf-8") as f:
        evaluation = json.load(f)
    evaluation.pop("confusion_matrix", None)
    kind = run_kind(model_dir)
    described = {"generator": model.config.to_dict()} if kind == COLORIZER else \
        {"model": model.config.to_dict(), "sentences": model.sentences, "words": model.words}
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    model.save_weights(os.path.join(folder, WEIGHTS_FILE))
    metadata = {"name": name, "kind": kind, **described, "step": step, "training_command": command,
                "evaluation": evaluation}
    if report:
        with open(report, encoding="utf-8") as f:
            rows = json.load(f)["rows"]
        metadata["evaluation_by_num_direct"] = {
            str(row["num_direct"]): {source: row[source]["mean_iou"] for source in ("test_split", "second_renderer")}
            for row in rows}
    with open(os.path.join(folder, METADATA_FILE), "w", encoding="utf-8") as f:
        json.dump(metadata, f, indent=2, sort_keys=True)
    return folder


def _metadata(folder: str) -> dict:
    with open(os.path.join(folder, METADATA_FILE), encoding="utf-8") as f:
        return json.load(f)
