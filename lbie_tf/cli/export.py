"""`lbie-export`: write a segmenter as a TF Serving SavedModel at `<export_dir>/<version>/`.

    lbie-export --export_dir=export/lbie                                  # the shipped pretrained model
    lbie-export --model_dir=runs/cosal_paper_t4 --export_dir=export/lbie --version=3
    python -m lbie_tf.cli.export --export_dir=export/lbie

Prints the written path. Serve it with
`tensorflow_model_server --rest_api_port=8501 --model_name=lbie --model_base_path=$PWD/export/lbie`;
the signatures are described in `lbie_tf.serving.export`.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags, logging  # noqa: E402

from lbie_tf.cli.app import run_app  # noqa: E402

flags.DEFINE_string("model_dir", None, "A train_segmentation.py run to export (its latest checkpoint); "
                    "default: the shipped pretrained segmenter.")
flags.DEFINE_string("export_dir", None, "TF Serving model base path; the SavedModel goes to "
                    "<export_dir>/<version>/.", required=True)
flags.DEFINE_integer("version", None, "Integer version folder; default: 1 + the highest existing one.",
                     lower_bound=1)
FLAGS = flags.FLAGS


def _load_model():
    """The segmenter named by `--model_dir`, or the shipped pretrained one."""
    if FLAGS.model_dir:
        from lbie_tf.serving.loading import load_trained_segmenter

        return load_trained_segmenter(FLAGS.model_dir)[0]
    from lbie_tf.pretrained import load_pretrained_segmenter

    return load_pretrained_segmenter()[0]


def _export(argv) -> None:
    del argv
    from lbie_tf.serving.export import export_segmenter

    logging.set_verbosity(logging.WARNING)  # no INFO lines about writing the SavedModel
    print(export_segmenter(_load_model(), FLAGS.export_dir, FLAGS.version))


def main() -> None:
    """Console-script entry point: one-line errors (exit status 2) for anything the user can fix."""
    run_app(_export)


if __name__ == "__main__":
    main()
