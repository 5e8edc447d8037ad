"""Package a finished training run as a shipped pretrained model (see `lbie_tf.pretrained`)."""

from absl import flags

from lbie_tf.cli.app import run_app
from lbie_tf.pretrained import package_run

flags.DEFINE_string("model_dir", None, "A finished train_segmentation.py or train_colorization.py run.", required=True)
flags.DEFINE_string("name", None, "Folder name under lbie_tf/pretrained/.", required=True)
flags.DEFINE_string("command", None, "The exact command that trained it (stored in metadata.json).",
                    required=True)
flags.DEFINE_string("report", None, "Optionally a segmenter run's experiments/cosal_best.py JSON (mean IoU per "
                    "number of direct sentences, stored in metadata.json).")


def main(argv):
    del argv
    print(package_run(flags.FLAGS.model_dir, flags.FLAGS.name, flags.FLAGS.command, report=flags.FLAGS.report))


if __name__ == "__main__":
    run_app(main)
