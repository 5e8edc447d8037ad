"""`python -m lbie_tf.cli.build_flowers --manual_dir=DIR --data_dir=DATA`: build the Flowers TFDS dataset.

Builds `datasets/oxford_flowers_captions` (Oxford-102 Flowers + Reed et al. captions) from the downloaded
files in DIR into the TFDS data dir DATA, for each split scheme in `--split_schemes`, and prints the split
sizes. It does what `tfds build datasets/oxford_flowers_captions --manual_dir=DIR --data_dir=DATA` does, without
the `tfds` command line, which in tensorflow-datasets 4.9.10 does not start unless apache-beam is installed.
The layout DIR must have, and where to download it: docs/flowers.md.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from lbie_tf.cli.app import exit_status  # noqa: E402
from lbie_tf.errors import ConfigError  # noqa: E402

FLAGS = flags.FlagValues()
flags.DEFINE_string("manual_dir", None, "Folder with 102flowers.tgz (or jpg/), imagelabels.mat, setid.mat and "
                    "cvpr2016_flowers/ (or cvpr2016_flowers.tar.gz).", flag_values=FLAGS)
flags.DEFINE_string("data_dir", None, "TFDS data dir to write the prepared dataset to.", flag_values=FLAGS)
flags.DEFINE_list("split_schemes", ["class_disjoint", "official"], "Builder configs to build.", flag_values=FLAGS)


def build(manual_dir: str, data_dir: str, split_schemes: list[str]) -> list[str]:
    """Builds each split scheme (skipping those already prepared); returns one summary line per scheme."""
    from lbie_tf.data import flowers

    lines = []
    for scheme in split_schemes:
        builder = flowers.load_builder(flowers.FlowersConfig(data_dir=data_dir, manual_dir=manual_dir,
                                                             split_scheme=scheme))
        sizes = " / ".join(f"{name} {split.num_examples}" for name, split in builder.info.splits.items())
        lines.append(f"{scheme}: {sizes} images in {builder.data_dir}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0, or 2 after one `error: ...` line on stderr)."""
    return exit_status(_build_from_flags, sys.argv if argv is None else argv, FLAGS)


def _build_from_flags(argv: list[str]) -> None:
    FLAGS.unparse_flags()
    extra = FLAGS(argv)[1:]
    if extra or not FLAGS.manual_dir or not FLAGS.data_dir:
        raise ConfigError("usage: python -m lbie_tf.cli.build_flowers --manual_dir=DIR --data_dir=DATA")
    for line in build(FLAGS.manual_dir, FLAGS.data_dir, FLAGS.split_schemes):
        print(line)


if __name__ == "__main__":
    sys.exit(main())
