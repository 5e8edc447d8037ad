"""What a colorizer reads, by the data set it was trained on: the side of its square input, how an image
becomes that input and how caption text becomes its word ids. `lbie-edit` and the exported graph take these
same functions, so a request and the command line give the same colours.

    inputs = colorizer_inputs(model)       # CosalInputs or FlowersInputs
    pixels = inputs.pixels(image)          # uint8 [H, W, 3] -> float32 [S, S, 3], 0..255
    ids = inputs.ids(tf.constant([text]))  # string [batch] -> int32 [batch, inputs.words]

- CoSaL (a model without a `vocabulary`): 48 × 48, `image_preprocessing.model_input` (antialiased bilinear,
  rounded), the in-graph `CaptionTokenizer` (9 sentences of 3 CoSaL tokens) laid out as training lays them
  out (`cosal_colorization.caption_ids`: 27 words, ids + 2).
- Flowers (a model loaded from a run with a `vocabulary.json`, `flowers_vocabulary`): the run's image size,
  the test split's area resize (`flowers.test_rgb`), the in-graph `FlowersCaptionTokenizer`.
"""

from __future__ import annotations

import tensorflow as tf

from lbie_tf.configs.cosal import CosalConfig
from lbie_tf.data import cosal_vocabulary, flowers
from lbie_tf.data.flowers_vocabulary import FlowersVocabulary
from lbie_tf.serving.caption_tokenizer import CaptionTokenizer
from lbie_tf.serving.flowers_tokenizer import FlowersCaptionTokenizer
from lbie_tf.serving.image_preprocessing import model_input
from lbie_tf.tasks import cosal_colorization

COSAL_IMAGE_SIZE = CosalConfig().image_size  # CoSaL colorizers are trained at CoSaL's native size


class CosalInputs(tf.Module):
    """A CoSaL colorizer's inputs (module docstring); `tokenizer` holds the vocabulary table to export."""

    size = COSAL_IMAGE_SIZE
    words = cosal_colorization.WORDS

    def __init__(self):
        super().__init__(name="cosal_colorizer_inputs")
        self.tokenizer = CaptionTokenizer()

    def pixels(self, image) -> tf.Tensor:
        """uint8 `[H, W, 3]` → float32 `[S, S, 3]`, 0..255."""
        return model_input(image, self.size)

    def ids(self, text: tf.Tensor) -> tf.Tensor:
        """string `[batch]` → int32 `[batch, 27]`; a caption the tokenizer refuses raises `InvalidArgumentError`."""
        return cosal_colorization.caption_ids(self.tokenizer(text))

    def words_of(self, ids) -> list[str]:
        """The vocabulary tokens of one caption's ids `[27]` (for `--explain`)."""
        return [cosal_vocabulary.VOCABULARY[int(i) - cosal_colorization.TOKEN_OFFSET] for i in ids]


class FlowersInputs(tf.Module):
    """A Flowers colorizer's inputs (module docstring).

    Args:
        vocabulary: the run's `FlowersVocabulary`.
    """

    def __init__(self, vocabulary: FlowersVocabulary):
        super().__init__(name="flowers_colorizer_inputs")
        self.size = vocabulary.image_size
        self.words = vocabulary.max_words
        self.vocabulary = vocabulary
        self.tokenizer = FlowersCaptionTokenizer(vocabulary)

    def pixels(self, image) -> tf.Tensor:
        """uint8 `[H, W, 3]` → float32 `[S, S, 3]`, 0..255 (`flowers.test_rgb` × 255)."""
        return flowers.test_rgb(image, self.size) * 255.0

    def ids(self, text: tf.Tensor) -> tf.Tensor:
        """string `[batch]` → int32 `[batch, max_words]` (`FlowersCaptionTokenizer`)."""
        return self.tokenizer(text)

    def words_of(self, ids) -> list[str]:
        """The words of one caption's ids `[max_words]`, padding included (for `--explain`)."""
        return [self.vocabulary.words[int(i)] for i in ids]


def colorizer_inputs(model) -> CosalInputs | FlowersInputs:
    """The inputs of a servable colorizer (`signatures.check_servable`): Flowers when it carries the
    `vocabulary` of its run, else CoSaL."""
    vocabulary = getattr(model, "vocabulary", None)
    return CosalInputs() if vocabulary is None else FlowersInputs(vocabulary)
