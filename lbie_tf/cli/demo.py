"""`lbie-demo`: edit images in the browser — a local web page (Gradio) on 127.0.0.1 for segmentation and
colorization, by the same path as `lbie-edit`.

    lbie-demo                                   # the shipped segmenters; open http://127.0.0.1:7860/
    lbie-demo --model_dir=runs/cosal_t4         # a train_segmentation.py run instead
    lbie-demo --saved_model=export/lbie/1       # an lbie-export SavedModel instead
    lbie-demo --colorizer_dir=runs/cosal_colorization   # also a CoSaL colorizer for the colorization tab
    make demo-web                               # install the demo extra, then lbie-demo

Needs the demo extra (`pip install -e '.[demo]'`). The page is served on the loopback interface only. A
user's mistake in the page (an unknown caption word, a file that is not an image) shows as one line in the
page; a mistake on the command line (a flag, a model directory without a readable checkpoint, a port in use,
the demo extra missing) prints one line `error: ...` on stderr and exits with 2. Stop with Ctrl-C.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from lbie_tf.cli.app import exit_status  # noqa: E402
from lbie_tf.errors import ConfigError  # noqa: E402

FLAGS = flags.FlagValues()
flags.DEFINE_string("model_dir", None, "A train_segmentation.py --model_dir to serve (its latest checkpoint); "
                    "default: the segmenters shipped with the package.", flag_values=FLAGS)
flags.DEFINE_string("saved_model", None, "Instead of --model_dir: a SavedModel version folder written by "
                    "lbie-export (<export_dir>/<version>).", flag_values=FLAGS)
flags.DEFINE_string("colorizer_dir", None, "A CoSaL train_colorization.py --model_dir for the colorization tab.",
                    flag_values=FLAGS)
flags.DEFINE_integer("port", 7860, "The port on 127.0.0.1 to serve the page on.", lower_bound=1,
                     upper_bound=65535, flag_values=FLAGS)


def check_port_free(port: int) -> None:
    """`ConfigError` when `port` on the loopback interface is taken (before any model is loaded)."""
    from lbie_tf.demo.server import HOST

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError as error:
            reason = "is in use" if error.errno == errno.EADDRINUSE else f"cannot be used ({error.strerror})"
            raise ConfigError(f"--port={port} {reason} on {HOST}; give another --port") from None


def _main(argv: list[str]) -> None:
    FLAGS.unparse_flags()
    extra = FLAGS(argv)[1:]
    if extra:
        raise ConfigError(f"unexpected arguments {extra}; see --help")
    if FLAGS.model_dir and FLAGS.saved_model:
        raise ConfigError("give --model_dir or --saved_model, not both")
    try:
        from lbie_tf.demo import server
        from lbie_tf.demo.models import DemoModels
    except ImportError as error:
        raise ConfigError(f"lbie-demo needs the demo extra ({error.name} is missing): pip install -e "
                          f"'.[demo]'") from None
    check_port_free(FLAGS.port)
    models = DemoModels(FLAGS.model_dir, FLAGS.saved_model, FLAGS.colorizer_dir)
    with tempfile.TemporaryDirectory(prefix="lbie-demo-") as folder:
        print(f"lbie-demo: serving http://{server.HOST}:{FLAGS.port}/ (Ctrl-C stops)", flush=True)
        server.start(models, FLAGS.port, folder, block=True)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit status (0, or 2 after one `error: ...` line on stderr).

    Args:
        argv: the command line, program name first (default: `sys.argv`).
    """
    return exit_status(_main, sys.argv if argv is None else argv, FLAGS)


if __name__ == "__main__":
    sys.exit(main())
