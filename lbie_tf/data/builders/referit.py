"""TFDS builder for ReferIt as Hu et al. (text_objseg) split and prepared it: `trainval` and `test`.

    tfds build datasets/referit --manual_dir=/path/to/text_objseg/exp-referit --data_dir=~/tensorflow_datasets
    python -m lbie_tf.cli.prepare_referit --manual_dir=... --data_dir=...   (the same without apache-beam)

One example per object (a referred image region): the photo, the object's mask at the photo's resolution, and
the object's referring expressions with their word ids (Hu et al.'s tokenisation, 20 ids, left-padded).
Training and evaluation pipelines (`lbie_tf.data.referit`) turn them into one example per expression. The
reading, tokenisation and the counted skips of bad input are in `lbie_tf.data.referit_source`.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from lbie_tf.data import referit_source


class Referit(tfds.core.GeneratorBasedBuilder):
    """ReferIt (ImageCLEF / SAIAPR TC-12 photos, ReferItGame expressions) with Hu et al.'s split."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Hu et al. (ECCV 2016) trainval / test split, per-object examples."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        "Give --manual_dir=<text_objseg>/exp-referit laid out as text_objseg prepares it: "
        + "; ".join(f"{path}: {holds}" for path, holds in referit_source.layout().items())
        + ". See docs/referit.md.")

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=__doc__.strip().splitlines()[0],
            metadata=tfds.core.MetadataDict(),  # vocabulary_size, filled in _split_generators
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(None, None, 3)),
                "mask": tfds.features.Image(shape=(None, None, 1), encoding_format="png"),
                "tokens": tfds.features.Tensor(shape=(None, referit_source.MAX_WORDS), dtype=np.int32),
                "expressions": tfds.features.Sequence(tfds.features.Text()),
                "image_id": tfds.features.Text(),
                "object_id": tfds.features.Text(),
            }),
            homepage="https://github.com/ronghanghu/text_objseg",
            citation="Hu, Rohrbach, Darrell. Segmentation from Natural Language Expressions. ECCV 2016.",
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        manual_dir = str(dl_manager.manual_dir)
        referit_source.check_layout(manual_dir)
        vocabulary = referit_source.load_vocabulary(os.path.join(manual_dir, referit_source.VOCABULARY_FILE))
        self.info.metadata["vocabulary_size"] = max(vocabulary.values()) + 1
        return {split: self._generate_examples(manual_dir, split) for split in referit_source.SPLITS}

    def _generate_examples(self, manual_dir: str, split: str):
        skips = referit_source.SkipCounter()
        kept = 0
        for object_id, record in referit_source.iter_objects(manual_dir, split, skips):
            kept += 1
            yield object_id, record
        logging.warning("ReferIt %s: %s", split, skips.summary(kept))
