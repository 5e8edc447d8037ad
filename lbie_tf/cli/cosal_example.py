"""`python -m lbie_tf.cli.cosal_example --out_dir=DIR`: write a generated CoSaL test sketch and its caption.

Writes `DIR/cosal_sketch.png` (48 × 48 black shapes on white), `DIR/cosal_target.png` (the true colours) and
`DIR/cosal_pairs.txt` (one `image:caption` line, the format `lbie-edit --text_file` reads), so a trained or
the shipped model can be tried on an image it has never seen:

    python -m lbie_tf.cli.cosal_example --out_dir=runs/example --index=3
    lbie-edit --text_file=runs/example/cosal_pairs.txt --out=runs/example --explain
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from lbie_tf.cli import flags as lbie_flags  # noqa: E402
from lbie_tf.cli.app import run_app  # noqa: E402

lbie_flags.define_cosal_flags()
lbie_flags.declare_key_flags(__name__, ("num_direct", "cosal_legacy_captions", "data_seed"))  # the ones it reads
flags.DEFINE_string("out_dir", "runs/example", "Folder for the sketch, its target and the caption line.")
flags.DEFINE_integer("index", 0, "Which held-out test example (0-based).", lower_bound=0)
FLAGS = flags.FLAGS


def write_example(out_dir: str, index: int = 0, num_direct: int = 4, legacy_captions: bool = False,
                  seed: int = 0) -> str:
    """Write the files for test example `index`; returns the path of the caption file."""
    import numpy as np
    from PIL import Image

    from lbie_tf.data import cosal, cosal_vocabulary

    config = cosal.CosalConfig(num_direct=num_direct, legacy_captions=legacy_captions, seed=seed,
                               test_size=index + 1)
    example = cosal.generate(np.array([index], np.int64), config, "test")
    os.makedirs(out_dir, exist_ok=True)
    Image.fromarray(example["sketch"][0].numpy()).save(os.path.join(out_dir, "cosal_sketch.png"))
    Image.fromarray(example["rgb"][0].numpy()).save(os.path.join(out_dir, "cosal_target.png"))
    caption = ". ".join(cosal_vocabulary.decode_caption(example["tokens"][0].numpy()))
    path = os.path.join(out_dir, "cosal_pairs.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"cosal_sketch.png:{caption}\n")
    return path


def main(argv) -> None:
    del argv
    print(write_example(FLAGS.out_dir, FLAGS.index, FLAGS.num_direct, FLAGS.cosal_legacy_captions,
                        FLAGS.data_seed))


if __name__ == "__main__":
    run_app(main)
