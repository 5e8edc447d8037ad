"""`ReferitConfig`: the data and initialisation of a ReferIt run (`lbie_tf.data.referit`)."""

from __future__ import annotations

import dataclasses

from lbie_tf.configs import choices
from lbie_tf.configs.validation import check_choice, check_minimum, check_not_negative


@dataclasses.dataclass(frozen=True)
class ReferitConfig:
    """Data and initialisation of a ReferIt run.

    Attributes:
        data_dir: TFDS data directory holding the prepared `referit` dataset (`python -m
            lbie_tf.cli.prepare_referit --manual_dir=... --data_dir=...`).
        manual_dir: text_objseg's `exp-referit/` folder; when given and `data_dir` holds no prepared ReferIt,
            it is prepared there first.
        vgg_weights: initial VGG-16 weights: a local keras.applications notop file (.h5 / .weights.h5),
            "imagenet" (downloaded by Keras: only when asked), or empty for random initialisation.
        shuffle_buffer: expressions in the training shuffle buffer.
        shuffle_seed: seed of the training order (the same seed gives the same batches, also on resume).
        eval_split: split evaluated after training: "test" (Hu et al.'s, 60,105 expressions) or "trainval".
        eval_batch_size: expressions per evaluation batch.
        max_eval_expressions: evaluate only the first n expressions of the split (0 = all).
    """

    data_dir: str = ""
    manual_dir: str = ""
    vgg_weights: str = ""
    shuffle_buffer: int = 2000
    shuffle_seed: int = 0
    eval_split: str = "test"
    eval_batch_size: int = 16
    max_eval_expressions: int = 0

    def __post_init__(self):
        check_choice(self, "eval_split", choices.REFERIT_SPLITS)
        check_minimum(self, ("shuffle_buffer", "eval_batch_size"))
        check_not_negative(self, ("max_eval_expressions",))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)
