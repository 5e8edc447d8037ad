"""`python -m lbie_tf.cli.prepare_referit`: build the ReferIt TFDS dataset from text_objseg's `exp-referit/`.

    python -m lbie_tf.cli.prepare_referit --manual_dir=/path/to/exp-referit --data_dir=~/tensorflow_datasets

The same as `tfds build datasets/referit --manual_dir=... --data_dir=...`, without the `tfds` command line,
which in tensorflow-datasets 4.9.10 fails at import unless apache-beam is installed. Skipped objects and
expressions are logged per split with their reasons.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from lbie_tf.cli import flags as lbie_flags  # noqa: E402
from lbie_tf.cli.app import run_app  # noqa: E402
from lbie_tf.errors import ConfigError  # noqa: E402

lbie_flags.declare_key_flags(__name__, lbie_flags.define_referit_flags())
FLAGS = flags.FLAGS


def _main(argv) -> None:
    del argv
    from lbie_tf.data import referit

    config = lbie_flags.referit_config_from_flags()
    if not config.manual_dir:
        raise ConfigError("--manual_dir is required: text_objseg's exp-referit/ folder")
    print(f"prepared ReferIt: {referit.prepare(config)}")


def main() -> None:
    """Console-script entry point: one-line errors (exit status 2) for anything the user can fix."""
    run_app(_main)


if __name__ == "__main__":
    main()
