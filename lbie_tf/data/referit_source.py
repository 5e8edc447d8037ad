"""The raw ReferIt data as text_objseg lays it out (`exp-referit/`), read into per-object records.

Layout of the `--manual_dir` (Hu et al., ronghanghu/text_objseg; docs/referit.md, "The data"):

    referit-dataset/images/<image id>.jpg        the photos
    referit-dataset/mask/<image id>_<k>.mat      one mask per object: variable `segimg_t`, object pixels == 0
    data/referit_query_<split>.json               {"<image id>_<k>": [expression, ...]}   (trainval, test)
    data/referit_imcrop.json                      {"<image id>.jpg": ["<image id>_<k>", ...]}
    data/vocabulary_referit.txt                   one word per line, the line number is its id; <pad>, <unk>

Text is prepared as Hu et al.'s `text_processing.preprocess_sentence`: split on the regex `(\\W+)` keeping
the separators as tokens (punctuation such as "," or "'"; stripped of spaces, blank ones dropped),
lower-case, drop a final ".", unknown words → `<unk>`, keep the first 20 tokens, left-pad with `<pad>`.

Bad input is skipped and counted (`SkipCounter`), never silently: a query whose object is not in
`referit_imcrop.json`, a missing or unreadable image, a missing or unreadable mask, a mask whose size differs
from its image, an empty mask, an empty expression, an expression whose words are all unknown, and an object
left with no usable expression. Grayscale, CMYK and other non-RGB images are converted to RGB (grey tiled to
three channels as in Hu et al.) and counted as conversions. A missing file or folder of the layout is a
`DataError` naming it and what it should hold.
"""

from __future__ import annotations

import collections
import json
import os
import re
from collections.abc import Iterator

import numpy as np
import scipy.io
from PIL import Image

from lbie_tf.configs.choices import REFERIT_SPLITS
from lbie_tf.errors import DataError
from lbie_tf.serving.images import read_image

SPLITS = REFERIT_SPLITS
MAX_WORDS = 20
PAD, UNK = "<pad>", "<unk>"
_SPLIT_REGEX = re.compile(r"(\W+)")

IMAGES_DIR = "referit-dataset/images"
MASKS_DIR = "referit-dataset/mask"
IMCROP_FILE = "data/referit_imcrop.json"
VOCABULARY_FILE = "data/vocabulary_referit.txt"


def query_file(split: str) -> str:
    return f"data/referit_query_{split}.json"


def layout(splits=SPLITS) -> dict[str, str]:
    """Relative path → what it should hold, for every file and folder the reader needs."""
    entries = {
        IMAGES_DIR: "the ReferIt photos, <image id>.jpg (text_objseg's download_referit_dataset.sh unpacks them)",
        MASKS_DIR: "one mask per object, <image id>_<k>.mat with the variable segimg_t (object pixels == 0)",
        IMCROP_FILE: 'the objects of each image, {"<image id>.jpg": ["<image id>_<k>", ...]}',
        VOCABULARY_FILE: "the vocabulary, one word per line (line n = id n-1), with <pad> and <unk>",
    }
    for split in splits:
        entries[query_file(split)] = f'the {split} expressions, {{"<image id>_<k>": ["expression", ...]}}'
    return entries


def check_layout(manual_dir: str, splits=SPLITS) -> None:
    """Raise `DataError` naming the first missing file or folder of the layout and what it should hold."""
    if not os.path.isdir(manual_dir):
        raise DataError(f"ReferIt manual_dir {manual_dir} does not exist; give text_objseg's exp-referit/ "
                        f"folder (see docs/referit.md)")
    for relative, holds in layout(splits).items():
        path = os.path.join(manual_dir, relative)
        exists = os.path.isdir(path) if "." not in os.path.basename(relative) else os.path.isfile(path)
        if not exists:
            raise DataError(f"{path} is missing: it should hold {holds}")


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as error:
        raise DataError(f"{path} is not valid JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path} should hold a JSON object (a dict), got {type(data).__name__}")
    return data


def load_vocabulary(path: str) -> dict[str, int]:
    """Word → id from a vocabulary file (one word per line; the first line is id 0)."""
    with open(path, encoding="utf-8") as f:
        words = [line.rstrip("\n").rstrip("\r") for line in f]
    while words and not words[-1]:
        words.pop()
    vocabulary = {word: index for index, word in reversed(list(enumerate(words)))}  # first occurrence wins
    for special in (PAD, UNK):
        if special not in vocabulary:
            raise DataError(f"{path} lacks the word {special} (text_objseg's vocabulary_referit.txt starts with "
                            f"<pad>, <go>, <eos>, <unk>)")
    return vocabulary


def split_words(text: str) -> list[str]:
    """Hu et al.'s word split: `(\\W+)` with separators kept as tokens (stripped; blank ones dropped), lower
    case, a final "." dropped."""
    words = [w.strip().lower() for w in _SPLIT_REGEX.split(text.strip()) if w.strip()]
    if words and words[-1] == ".":
        words = words[:-1]
    return words


def encode_expression(text: str, vocabulary: dict[str, int], max_words: int = MAX_WORDS) -> tuple[list[int], int]:
    """Word ids of an expression, left-padded to `max_words`, and how many of its words are known.

    Returns:
        `(ids, known)`: ids (length `max_words`, `<pad>` first, `<unk>` for unknown words; the first
        `max_words` words are kept) and the number of known words among the kept ones.
    """
    words = split_words(text)[:max_words]
    ids = [vocabulary.get(w, vocabulary[UNK]) for w in words]
    known = sum(1 for w in words if w in vocabulary and w not in (PAD, UNK))
    return [vocabulary[PAD]] * (max_words - len(ids)) + ids, known


def read_mask(path: str) -> np.ndarray:
    """bool `[height, width]` object mask from a ReferIt `.mat` file (variable `segimg_t`, object == 0)."""
    try:
        data = scipy.io.loadmat(path)
    except (ValueError, OSError, TypeError, scipy.io.matlab.MatReadError) as error:
        raise DataError(f"{path} is not a readable .mat file ({error})") from None
    if "segimg_t" not in data:
        raise DataError(f"{path} has no variable segimg_t (it has {sorted(k for k in data if not k.startswith('__'))})")
    mask = np.asarray(data["segimg_t"])
    if mask.ndim != 2:
        raise DataError(f"{path}: segimg_t has shape {list(mask.shape)}, expected [height, width]")
    return mask == 0


class SkipCounter(collections.Counter):
    """Counts skipped items and image conversions by reason; `summary()` is one line for the build log."""

    def summary(self, kept: int, what: str = "objects") -> str:
        details = ", ".join(f"{reason}: {count}" for reason, count in sorted(self.items()))
        return f"kept {kept} {what}" + (f"; {details}" if details else "; nothing skipped")


def _image_pixels_and_mode(path: str):
    """(RGB uint8 pixels or the original JPEG bytes, Pillow mode): RGB JPEGs are kept as their file bytes."""
    try:
        with Image.open(path) as image:
            mode, image_format, (width, height) = image.mode, image.format, image.size
    except OSError:
        raise DataError(f"{path} is not an image file Pillow can read") from None
    if mode == "RGB" and image_format == "JPEG":
        with open(path, "rb") as f:
            return f.read(), (height, width), mode
    pixels = read_image(path)
    return pixels, pixels.shape[:2], mode


def iter_objects(manual_dir: str, split: str, skips: SkipCounter,
                 max_words: int = MAX_WORDS) -> Iterator[tuple[str, dict]]:
    """Per-object records of one split, grouped by image (images and objects in sorted order).

    Yields `(object_id, record)` with record keys `image` (the JPEG bytes of an RGB JPEG, else uint8
    `[h, w, 3]`), `mask` uint8 `[h, w, 1]` (1 = object), `tokens` int32 `[n, max_words]`, `expressions`
    (n strings), `image_id`, `object_id`. Skips and conversions are added to `skips`.
    """
    if split not in SPLITS:
        raise DataError(f"unknown ReferIt split {split!r}; expected one of {', '.join(SPLITS)}")
    check_layout(manual_dir, (split,))
    vocabulary = load_vocabulary(os.path.join(manual_dir, VOCABULARY_FILE))
    queries = _read_json(os.path.join(manual_dir, query_file(split)))
    image_of = {obj: name for name, objects in _read_json(os.path.join(manual_dir, IMCROP_FILE)).items()
                for obj in objects}
    unlisted = [obj for obj in queries if obj not in image_of]
    if unlisted:
        skips["object not in referit_imcrop.json"] += len(unlisted)
    cached_image = (None, None)
    for object_id in sorted((obj for obj in queries if obj in image_of), key=lambda obj: (image_of[obj], obj)):
        image_name = image_of[object_id]
        image_path = os.path.join(manual_dir, IMAGES_DIR, image_name)
        if cached_image[0] != image_path:
            cached_image = (image_path, _load_image(image_path, skips))
        if cached_image[1] is None:
            continue
        image, size, _ = cached_image[1]
        mask = _load_mask(os.path.join(manual_dir, MASKS_DIR, f"{object_id}.mat"), size, skips)
        if mask is None:
            continue
        tokens, texts = [], []
        for text in queries[object_id]:
            if not isinstance(text, str) or not split_words(text):
                skips["empty expression"] += 1
                continue
            ids, known = encode_expression(text, vocabulary, max_words)
            if not known:
                skips["expression with only unknown words"] += 1
                continue
            tokens.append(ids)
            texts.append(text)
        if not tokens:
            skips["object without a usable expression"] += 1
            continue
        yield object_id, {"image": image, "mask": mask[..., None].astype(np.uint8),
                          "tokens": np.asarray(tokens, np.int32), "expressions": texts,
                          "image_id": os.path.splitext(image_name)[0], "object_id": object_id}


def _load_image(path: str, skips: SkipCounter):
    """`(pixels or bytes, (h, w), mode)`, or None (counted) when the image is missing or unreadable."""
    if not os.path.isfile(path):
        skips["missing image"] += 1
        return None
    try:
        loaded = _image_pixels_and_mode(path)
    except (DataError, OSError):
        skips["unreadable image"] += 1
        return None
    if loaded[2] != "RGB":
        skips[f"{loaded[2]} image converted to RGB"] += 1
    return loaded


def _load_mask(path: str, size, skips: SkipCounter):
    """bool `[h, w]` mask, or None (counted) when missing, unreadable, of another size, or empty."""
    if not os.path.isfile(path):
        skips["missing mask"] += 1
        return None
    try:
        mask = read_mask(path)
    except DataError:
        skips["unreadable mask"] += 1
        return None
    if mask.shape != tuple(size):
        skips["mask size differs from image"] += 1
        return None
    if not mask.any():
        skips["empty mask"] += 1
        return None
    return mask
