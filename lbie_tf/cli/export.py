"""`lbie-export`: write a segmenter or a colorizer as a TF Serving SavedModel at `<export_dir>/<version>/`.

    lbie-export --export_dir=export/lbie                                  # the shipped pretrained segmenter
    lbie-export --model_dir=runs/cosal_paper_t4 --export_dir=export/lbie --version=3
    lbie-export --pretrained=cosal_colorization --export_dir=export/colorizer --tflite
    lbie-export --model_dir=runs/cosal_colorization --export_dir=export/colorizer
    lbie-export --model_dir=runs/flowers_paper --export_dir=export/flowers   # vocabulary.json inside the graph
    python -m lbie_tf.cli.export --export_dir=export/lbie

The kind of model is read from the run's `model_config.json` (or the shipped model's metadata). Prints the
written path. Serve it with
`tensorflow_model_server --rest_api_port=8501 --model_name=lbie --model_base_path=$PWD/export/lbie`;
the signatures are described in `lbie_tf.serving.signatures`. With `--tflite`, the `predict_tensors`
signature is also converted to `<version>/predict_tensors.tflite` (TFLite builtin ops only,
`lbie_tf.serving.tflite`); a model that needs other ops is refused with one line saying which. With
`--jit_compile` the model's call in both signatures is compiled by XLA (faster on a CPU; serve it with
`tensorflow_model_server --xla_cpu_compilation_enabled=true ...`).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags, logging  # noqa: E402

from lbie_tf.cli.app import run_app  # noqa: E402

flags.DEFINE_string("model_dir", None, "A train_segmentation.py or train_colorization.py run to export (its "
                    "latest checkpoint); default: the shipped pretrained segmenter.")
flags.DEFINE_string("pretrained", None, "Instead of --model_dir: the name of a model shipped in lbie_tf/pretrained "
                    "(e.g. cosal_paper_t4, cosal_colorization).")
flags.DEFINE_string("export_dir", None, "TF Serving model base path; the SavedModel goes to "
                    "<export_dir>/<version>/.", required=True)
flags.DEFINE_integer("version", None, "Integer version folder; default: 1 + the highest existing one.",
                     lower_bound=1)
flags.DEFINE_bool("tflite", False, "Also convert the predict_tensors signature to "
                  "<export_dir>/<version>/predict_tensors.tflite (TFLite builtin ops only).")
flags.DEFINE_bool("jit_compile", False, "Compile the model's call inside both signatures with XLA: several times "
                  "faster at batch 1 on a CPU (docs/results/latency.md); tensorflow_model_server then needs "
                  "--xla_cpu_compilation_enabled=true, and compiles once per batch size it is sent.")
FLAGS = flags.FLAGS


def _export(argv) -> None:
    del argv
    from lbie_tf.serving.export import export_model
    from lbie_tf.serving.loading import load_model

    logging.set_verbosity(logging.WARNING)  # no INFO lines about writing the SavedModel
    model = load_model(model_dir=FLAGS.model_dir, pretrained=FLAGS.pretrained)
    print(export_model(model, FLAGS.export_dir, FLAGS.version, tflite=FLAGS.tflite,
                       jit_compile=FLAGS.jit_compile))


def main() -> None:
    """Console-script entry point: one-line errors (exit status 2) for anything the user can fix."""
    run_app(_export)


if __name__ == "__main__":
    main()
