"""The record a Flowers colorization run stores as `<model_dir>/vocabulary.json`: how it read captions and
images, so that `lbie-edit` and `lbie-export` read a request the way training read its examples.

    {"image_size": 256, "max_words": 32, "tokenizer": "words", "words": ["<pad>", "<unk>", "petals", ...]}

- `words`: the vocabulary, index = word id (`flowers.vocabulary`: 0 = `<pad>`, 1 = `<unk>`, then the training
  captions' words);
- `tokenizer`: how a caption is split into words (`flowers.caption_words`: "words" lower-cases and keeps runs
  of letters and digits, "released" keeps case and makes each punctuation mark a word);
- `max_words`: captions are cut to this many words and right-padded with `<pad>`;
- `image_size`: the side of the square the model reads (images are resized to it as the test split is,
  `flowers.test_rgb`).

`train_colorization.py --dataset=flowers` writes it when a run starts (`tasks.flowers_colorization`) and a
resumed run must match it.
"""

from __future__ import annotations

import dataclasses

from lbie_tf.configs import choices
from lbie_tf.configs.flowers import FlowersConfig
from lbie_tf.data.flowers import PAD, UNK
from lbie_tf.errors import DataError

VOCABULARY_FILE = "vocabulary.json"


@dataclasses.dataclass(frozen=True)
class FlowersVocabulary:
    """How a Flowers run reads its inputs (the module docstring describes each field).

    Attributes:
        words: the vocabulary, index = word id; `words[0]` is `<pad>` and `words[1]` is `<unk>`.
        tokenizer: "words" or "released" (`flowers.caption_words`).
        max_words: caption length in word ids.
        image_size: the side S of the model's square input.
    """

    words: tuple[str, ...]
    tokenizer: str
    max_words: int
    image_size: int

    @classmethod
    def of_run(cls, config: FlowersConfig, words: list[str]) -> FlowersVocabulary:
        """The record of a run that reads `config`'s data with the vocabulary `words` (`flowers.vocabulary`)."""
        return cls(tuple(words), config.tokenizer, config.max_words, config.image_size)

    def to_dict(self) -> dict:
        return {"words": list(self.words), "tokenizer": self.tokenizer, "max_words": self.max_words,
                "image_size": self.image_size}

    @classmethod
    def from_dict(cls, stored: dict, path: str) -> FlowersVocabulary:
        """The record read back from `path`; a one-line `DataError` when it is not one `to_dict` wrote."""
        try:
            vocabulary = cls(tuple(stored["words"]), stored["tokenizer"], stored["max_words"], stored["image_size"])
        except (KeyError, TypeError) as error:
            raise DataError(f"{path} is not a Flowers vocabulary record (missing or bad {error}); retrain the run "
                            f"or restore the file") from None
        problems = []
        if vocabulary.words[:2] != (PAD, UNK) or not all(isinstance(word, str) and word for word in vocabulary.words):
            problems.append(f"'words' must start with {PAD!r}, {UNK!r} and hold non-empty strings")
        if vocabulary.tokenizer not in choices.FLOWERS_TOKENIZERS:
            problems.append(f"'tokenizer' {vocabulary.tokenizer!r} is not one of {choices.FLOWERS_TOKENIZERS}")
        for name in ("max_words", "image_size"):
            value = getattr(vocabulary, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(f"{name!r} must be a positive integer, not {value!r}")
        if problems:
            raise DataError(f"{path} is not a Flowers vocabulary record: {'; '.join(problems)}")
        return vocabulary
