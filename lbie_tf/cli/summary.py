"""`lbie-summary`: print `model.summary()` of a preset, every sublayer shown.

    lbie-summary --flagfile=configs/cosal_paper_t4.cfg
    lbie-summary --flagfile=configs/cosal_released_code.cfg --steps=2
    lbie-summary --flagfile=configs/referit_paper.cfg

Takes the same model flags as `train_segmentation.py` (other flags in the flagfile are accepted and ignored).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lbie_tf.cli import flags as lbie_flags  # noqa: E402
from lbie_tf.cli.app import run_app  # noqa: E402

lbie_flags.declare_key_flags(__name__, (*lbie_flags.define_cosal_flags(), *lbie_flags.define_segmenter_flags(),
                                        *lbie_flags.define_training_flags(), *lbie_flags.define_referit_flags(),
                                        *lbie_flags.define_dataset_flag()))


def _summary(argv) -> None:
    del argv
    from lbie_tf.models.segmenter import build_segmenter

    config = lbie_flags.segmenter_config_from_flags()
    if config.text_encoder == "words":
        from lbie_tf.data.referit_source import MAX_WORDS

        model = build_segmenter(config, sentences=1, words=MAX_WORDS)
    else:
        model = build_segmenter(config)
    model.summary(expand_nested=True)


def main() -> None:
    """Console-script entry point: one-line errors (exit status 2) for anything the user can fix."""
    run_app(_summary)


if __name__ == "__main__":
    main()
