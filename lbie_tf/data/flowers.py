"""Oxford-102 Flowers with Reed et al. captions as tf.data pipelines for colorization (grey L in, ab out).

Reads the `oxford_flowers_captions` TFDS dataset (`datasets/oxford_flowers_captions/`), building it first from
`manual_dir` when `data_dir` does not hold it yet. Each example is one (image, caption) pair:

    "gray"       float32 [batch, S, S, 1]   L/50 - 1 of the sRGB image (D65 CIE Lab, lbie_tf.data.color_space)
    "ab"         float32 [batch, S, S, 2]   a/110, b/110 (the released code's scaling)
    "tokens"     int32   [batch, max_words] word ids, right-padded with 0 = <pad>; 1 = <unk>
    "caption"    string  [batch]            the caption as written
    "example_id" int64   [batch]            image number * 100 + caption index (image_00042, caption 3 -> 4203)

Training data (`train_dataset`) is the `train+validation` split of the chosen split scheme (class-disjoint:
the paper's 82 classes; official: Oxford's 2,040 train + validation images), endless, reshuffled every epoch
from `seed`, and position-addressable: `start_step` resumes exactly where a run that had consumed
`start_step` batches stopped. The test data (`test_dataset`) is one pass, in a fixed order, unaugmented.

Captions. `captions="all"`: every caption of every image is an example (the released code: 10 per image,
main.py:76); `"one_per_epoch"`: each image appears once per epoch with one of its captions drawn from `seed`
and the epoch (the test split then uses each image's first usable caption). `captions_per_image` keeps the
first N lines of
each caption file (paper: 5; released code: all 10). Words come from `caption_words`; the vocabulary is the
training captions' words seen at least `min_word_count` times. A caption with no known word (empty, only
punctuation, or only unknown words) cannot condition the model: it is skipped, and the number skipped per
split is logged and returned by `caption_report`. Captions longer than `max_words` are truncated (counted in
the report too).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import re

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from absl import logging

from lbie_tf.configs.flowers import CAPTION_ID_MULTIPLIER, FlowersConfig  # noqa: F401 (FlowersConfig: API)
from lbie_tf.data import color_space
from lbie_tf.data.batch_shard import WHOLE_BATCH, BatchShard
from lbie_tf.errors import ConfigError, DataError

DATASET_NAME = "oxford_flowers_captions"
DATASET_VERSION = "1.0.0"
PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1
TRAIN_SPLIT, TEST_SPLIT = "train+validation", "test"
_AUGMENT_STREAM, _CAPTION_STREAM = 1, 2


def caption_words(text: str, tokenizer: str = "words") -> list[str]:
    """The words of a caption: "words" = lower-cased runs of letters and digits ("Red-ish petals." ->
    ["red", "ish", "petals"]); "released" = case kept, each punctuation mark its own token (["Red", "-", "ish",
    "petals", "."]), as NLTK word_tokenize does for these captions."""
    if tokenizer == "words":
        return re.findall(r"[^\W_]+", text.lower())
    return re.findall(r"\w+|[^\w\s]", text)


def load_builder(config: FlowersConfig) -> tfds.core.DatasetBuilder:
    """The prepared TFDS builder of `config.split_scheme`, built from `config.manual_dir` if needed.

    Raises:
        DataError: the dataset is not prepared in data_dir and no manual dir is given, or the manual dir is
            incomplete (the message lists what is missing and where to download it).
    """
    builder = builder_module().OxfordFlowersCaptions(config=config.split_scheme, data_dir=config.data_dir)
    if not builder.is_prepared():
        if not config.manual_dir:
            raise DataError(f"no prepared Flowers dataset ({config.split_scheme}) in {config.data_dir}; pass "
                            "--manual_dir with the downloaded files to build it (docs/flowers.md)")
        builder_module().find_sources(config.manual_dir, config.split_scheme)  # one DataError listing what is missing
        builder.download_and_prepare(
            download_config=tfds.download.DownloadConfig(manual_dir=config.manual_dir))
    return builder


def vocabulary(config: FlowersConfig) -> list[str]:
    """Word list, index = token id: `<pad>` (0), `<unk>` (1), then the training captions' words seen at least
    `min_word_count` times, most frequent first (ties alphabetical)."""
    counts = collections.Counter()
    for captions in _read_split(config, TRAIN_SPLIT).captions:
        for caption in captions:
            counts.update(caption_words(caption, config.tokenizer))
    kept = sorted((w for w, c in counts.items() if c >= config.min_word_count), key=lambda w: (-counts[w], w))
    return [PAD, UNK] + kept


def caption_report(config: FlowersConfig) -> dict[str, dict[str, int]]:
    """Per split ("train", "test"): images, captions, captions skipped (no known word) and truncated."""
    return {name: dataclasses.asdict(_examples(config, split).report)
            for name, split in (("train", TRAIN_SPLIT), ("test", TEST_SPLIT))}


def train_dataset(config: FlowersConfig, batch_size: int, start_step: int = 0,
                  shard: BatchShard = WHOLE_BATCH) -> tf.data.Dataset:
    """Endless, shuffled, augmented training batches (keys and shapes: module docstring).

    Args:
        config: the data configuration.
        batch_size: examples per batch (the last partial batch of an epoch is never formed: the stream is
            endless and epochs follow each other without a gap).
        start_step: batches already consumed; the stream starts at example `start_step * batch_size`.
        shard: the rows of each global batch this input pipeline reads (`lbie_tf.data.batch_shard`; batches of
            `shard.rows(batch_size)`); the whole batch by default.
    """
    examples = _examples(config, TRAIN_SPLIT)
    positions = shard.select(tf.data.Dataset.range(start_step * batch_size, np.iinfo(np.int64).max), batch_size)
    return _batched(positions, examples.train_record, config, shard.rows(batch_size), train=True,
                    drop_remainder=True)


def test_dataset(config: FlowersConfig, batch_size: int) -> tf.data.Dataset:
    """One pass over the test split in a fixed order, unaugmented; the last batch may be smaller."""
    examples = _examples(config, TEST_SPLIT)
    positions = tf.data.Dataset.range(examples.epoch_size)
    return _batched(positions, examples.test_record, config, batch_size, train=False, drop_remainder=False)


@dataclasses.dataclass
class CaptionCounts:
    """What happened to a split's captions."""
    images: int = 0
    captions: int = 0
    skipped_no_known_word: int = 0
    truncated: int = 0


@dataclasses.dataclass(frozen=True)
class _SplitData:
    """A split in memory: encoded JPEGs `[images]`, caption lines per image, image numbers int64 `[images]`."""
    encoded: tuple[bytes, ...]
    captions: tuple[tuple[str, ...], ...]
    image_numbers: np.ndarray


class _Examples:
    """The usable (image, caption) pairs of a split and their order: per epoch for training, fixed for test.

    `train_record(position)` and `test_record(position)` return the record at a stream position:
    (encoded JPEG, tokens int32 [max_words], caption, example id, augmentation uniforms float32 [3]).
    """

    def __init__(self, config: FlowersConfig, data: _SplitData, word_ids: dict[str, int]):
        self.config, self.data = config, data
        self.report = CaptionCounts(images=len(data.encoded))
        self.tokens, self.valid = [], []  # per image: int32 [captions, max_words], bool [captions]
        for captions in data.captions:
            words = [caption_words(c, config.tokenizer) for c in captions]
            ids = np.zeros((len(captions), config.max_words), np.int32)
            for row, caption in enumerate(words):
                known = [word_ids.get(w, UNK_ID) for w in caption][:config.max_words]
                ids[row, :len(known)] = known
            valid = (ids > UNK_ID).any(axis=1)
            self.report.captions += len(captions)
            self.report.skipped_no_known_word += int((~valid).sum())
            self.report.truncated += sum(len(w) > config.max_words for w in words)
            self.tokens.append(ids)
            self.valid.append(valid)
        self.pairs = np.array([(image, caption) for image, valid in enumerate(self.valid)
                               for caption in np.flatnonzero(valid)], np.int64).reshape(-1, 2)
        self.images_with_captions = np.array([i for i, v in enumerate(self.valid) if v.any()], np.int64)
        if not len(self.pairs):
            raise DataError(f"the Flowers split has no image with a usable caption ({self.report})")
        self._epoch_cache: tuple[int, np.ndarray] | None = None

    @property
    def epoch_size(self) -> int:
        """Examples per training epoch, and in the test pass."""
        return len(self.pairs) if self.config.captions == "all" else len(self.images_with_captions)

    def _epoch_pairs(self, epoch: int) -> np.ndarray:
        """int64 `[epoch_size, 2]` (image, caption) in the order of training epoch `epoch`."""
        if self._epoch_cache is None or self._epoch_cache[0] != epoch:
            rng = np.random.default_rng([self.config.seed, _CAPTION_STREAM, epoch])
            pairs = self.pairs if self.config.captions == "all" else self._one_caption_each(rng)
            self._epoch_cache = (epoch, pairs[rng.permutation(len(pairs))])
        return self._epoch_cache[1]

    def _one_caption_each(self, rng: np.random.Generator) -> np.ndarray:
        return np.array([(image, rng.choice(np.flatnonzero(self.valid[image])))
                         for image in self.images_with_captions], np.int64)

    def _record(self, image: int, caption: int, augment: np.ndarray):
        return (self.data.encoded[image], self.tokens[image][caption],
                self.data.captions[image][caption].encode("utf-8"),
                np.int64(self.data.image_numbers[image] * CAPTION_ID_MULTIPLIER + caption), augment)

    def train_record(self, position: np.int64):
        epoch, index = divmod(int(position), self.epoch_size)
        image, caption = self._epoch_pairs(epoch)[index]
        augment = np.random.default_rng([self.config.seed, _AUGMENT_STREAM, int(position)]).random(3)
        return self._record(image, caption, augment.astype(np.float32))

    def test_record(self, position: np.int64):
        if self.config.captions == "all":
            image, caption = self.pairs[int(position)]
        else:
            image = self.images_with_captions[int(position)]
            caption = np.flatnonzero(self.valid[image])[0]
        return self._record(image, caption, np.zeros(3, np.float32))


def _batched(positions: tf.data.Dataset, record_fn, config: FlowersConfig, batch_size: int, train: bool,
             drop_remainder: bool) -> tf.data.Dataset:
    """positions -> records (Python lookup) -> decoded, resized Lab examples -> batches."""
    if batch_size < 1:
        raise ConfigError(f"TrainingConfig.batch_size must be at least 1, got {batch_size}")
    max_words = config.max_words

    def lookup(position):
        encoded, tokens, caption, example_id, augment = tf.numpy_function(
            record_fn, [position], (tf.string, tf.int32, tf.string, tf.int64, tf.float32), stateful=False)
        tokens.set_shape([max_words])
        augment.set_shape([3])
        return _preprocess(encoded, augment, config, train) | {
            "tokens": tokens, "caption": tf.reshape(caption, []), "example_id": tf.reshape(example_id, [])}

    dataset = positions.map(lookup, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def _preprocess(encoded: tf.Tensor, augment: tf.Tensor, config: FlowersConfig, train: bool) -> dict:
    """JPEG bytes -> {"gray": [S, S, 1], "ab": [S, S, 2]}; training: resize to resize_size, crop at the offsets
    given by `augment[0:2]` (uniforms in [0, 1)), flip if `augment[2] < 0.5` and `random_flip`."""
    size = config.image_size
    image = tf.io.decode_jpeg(encoded, channels=3)
    if train and config.resize_size:
        rgb = tf.image.resize(tf.image.convert_image_dtype(image, tf.float32),
                              [config.resize_size, config.resize_size], method="area")
        offsets = tf.cast(augment[:2] * (config.resize_size - size + 1), tf.int32)
        rgb = tf.image.crop_to_bounding_box(rgb, offsets[0], offsets[1], size, size)
    else:
        rgb = test_rgb(image, size)
    if train and config.random_flip:
        rgb = tf.cond(augment[2] < 0.5, lambda: tf.image.flip_left_right(rgb), lambda: rgb)
    lab = color_space.normalize_lab(color_space.rgb_to_lab(tf.clip_by_value(rgb, 0.0, 1.0)))
    lab = tf.ensure_shape(lab, [size, size, 3])
    return {"gray": lab[..., :1], "ab": lab[..., 1:]}


def test_rgb(image, size: int) -> tf.Tensor:
    """An image as the test split gives it to the model (and `lbie-edit` / the exported graph give requests):
    resized to the square (area averaging, no crop, no flip).

    Args:
        image: uint8 `[H, W, 3]` RGB.
        size: the model's input side S.

    Returns:
        float32 `[S, S, 3]`, 0..1 (before `_preprocess`'s clip to [0, 1] and Lab conversion).
    """
    return tf.image.resize(tf.image.convert_image_dtype(image, tf.float32), [size, size], method="area")


@functools.lru_cache(maxsize=8)
def _examples(config: FlowersConfig, split: str) -> _Examples:
    word_ids = {word: index for index, word in enumerate(_vocabulary_cached(_vocabulary_key(config)))}
    examples = _Examples(config, _read_split(config, split), word_ids)
    if examples.report.skipped_no_known_word or examples.report.truncated:
        logging.warning("Flowers %s split: skipped %d of %d captions with no known word; truncated %d longer "
                        "than --max_words=%d", split, examples.report.skipped_no_known_word,
                        examples.report.captions, examples.report.truncated, config.max_words)
    return examples


def _vocabulary_key(config: FlowersConfig) -> FlowersConfig:
    """The config with the fields that do not change the vocabulary set to their defaults (a cache key)."""
    return dataclasses.replace(config, image_size=256, captions="all", max_words=32, resize_size=0,
                               random_flip=True, seed=0)


@functools.lru_cache(maxsize=8)
def _vocabulary_cached(config: FlowersConfig) -> tuple[str, ...]:
    return tuple(vocabulary(config))


def _read_split(config: FlowersConfig, split: str) -> _SplitData:
    """The split's encoded images and first `captions_per_image` captions, ordered by image number."""
    return _read_split_cached(dataclasses.replace(_vocabulary_key(config), tokenizer="words", min_word_count=1),
                              split)


@functools.lru_cache(maxsize=4)
def _read_split_cached(config: FlowersConfig, split: str) -> _SplitData:
    builder = load_builder(config)
    dataset = builder.as_dataset(split=split, shuffle_files=False,
                                 decoders={"image": tfds.decode.SkipDecoding()})
    rows = sorted((int(ex["image_number"]), ex["image"], tuple(c.decode("utf-8") for c in
                   ex["captions"][:config.captions_per_image])) for ex in tfds.as_numpy(dataset))
    return _SplitData(encoded=tuple(r[1] for r in rows), captions=tuple(r[2] for r in rows),
                      image_numbers=np.array([r[0] for r in rows], np.int64))


def builder_module():
    """The Flowers TFDS builder module (`lbie_tf.data.builders.oxford_flowers_captions`, which `tfds build
    datasets/oxford_flowers_captions` runs)."""
    from lbie_tf.data.builders import oxford_flowers_captions

    return oxford_flowers_captions
