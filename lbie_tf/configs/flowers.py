"""`FlowersConfig`: which Oxford-102 Flowers data to read and how to turn it into model inputs
(`lbie_tf.data.flowers`)."""

from __future__ import annotations

import dataclasses

from lbie_tf.configs import choices
from lbie_tf.configs.validation import check_choice, check_minimum
from lbie_tf.errors import ConfigError

CAPTION_ID_MULTIPLIER = 100  # example_id = image number * 100 + caption index (at most 100 captions per image)


@dataclasses.dataclass(frozen=True)
class FlowersConfig:
    """Which Flowers data to read and how to turn it into model inputs.

    Attributes:
        data_dir: TFDS data dir holding the prepared oxford_flowers_captions dataset (or receiving it).
        manual_dir: the downloaded files (102flowers.tgz or jpg/, imagelabels.mat, setid.mat,
            cvpr2016_flowers/; docs/flowers.md); used only to build the dataset when data_dir lacks it.
        image_size: side S of the square model input and target.
        split_scheme: "class_disjoint" (paper: train on Reed's 62 + 20 classes, test on 20 unseen classes)
            or "official" (Oxford's setid.mat image split).
        captions: "all" (every caption is an example, the released code) or "one_per_epoch" (one caption
            per image per epoch, drawn from the seed).
        captions_per_image: first N caption lines kept per image (paper: 5; released code: all 10).
        tokenizer: "words" (lower-cased, split on everything but letters and digits) or "released" (the
            released code's word_tokenize: case kept, punctuation marks are tokens).
        max_words: caption length in tokens; longer captions are truncated (released code: no limit).
        min_word_count: training-caption occurrences a word needs to enter the vocabulary.
        resize_size: training images are resized to this and randomly cropped to image_size (the released
            checkpoint used 384 and 256); 0 = resize straight to image_size.
        random_flip: random horizontal flips of training images (released code's --flip, on).
        seed: shuffling, caption draws and augmentation.
    """

    data_dir: str = ""
    manual_dir: str = ""
    image_size: int = 256
    split_scheme: str = "class_disjoint"
    captions: str = "all"
    captions_per_image: int = 10
    tokenizer: str = "words"
    max_words: int = 32
    min_word_count: int = 1
    resize_size: int = 0
    random_flip: bool = True
    seed: int = 0

    def __post_init__(self):
        for name, allowed in (("split_scheme", choices.FLOWERS_SPLIT_SCHEMES), ("captions", choices.FLOWERS_CAPTIONS),
                              ("tokenizer", choices.FLOWERS_TOKENIZERS)):
            check_choice(self, name, allowed)
        check_minimum(self, ("image_size", "captions_per_image", "max_words", "min_word_count"))
        if not 0 < self.captions_per_image < CAPTION_ID_MULTIPLIER:
            raise ConfigError(f"FlowersConfig.captions_per_image must be below {CAPTION_ID_MULTIPLIER}")
        if self.resize_size and self.resize_size < self.image_size:
            raise ConfigError(f"FlowersConfig.resize_size={self.resize_size} must be 0 or at least "
                              f"FlowersConfig.image_size={self.image_size}")
        if not self.data_dir:
            raise ConfigError("FlowersConfig.data_dir (the TFDS data dir of the Flowers dataset) is required")
