"""TFDS builder: Oxford-102 Flowers joined with the Reed et al. (CVPR 2016) captions, read from a manual dir.

Build it with `python -m lbie_tf.cli.build_flowers --manual_dir=DIR --data_dir=DATA`, with
`tfds build datasets/oxford_flowers_captions --manual_dir=DIR` (the tfds 4.9.10 command line needs apache-beam
installed), or from Python through `lbie_tf.data.flowers.load_builder`. The manual dir holds the files as
downloaded (layout, URLs and splits: docs/flowers.md):

    DIR/102flowers.tgz         or DIR/jpg/image_00001.jpg ...   (Oxford: the 8,189 photos)
    DIR/imagelabels.mat        (Oxford: `labels`, 1-based class of every image)
    DIR/setid.mat              (Oxford: `trnid`, `valid`, `tstid`; only the `official` config needs it)
    DIR/cvpr2016_flowers/      or DIR/cvpr2016_flowers.tar.gz, or its contents directly in DIR:
        text_c10/class_00001/image_00001.txt ...   (10 captions per image, one per line)
        trainclasses.txt  valclasses.txt  testclasses.txt   (Reed's class split, 62 / 20 / 20 classes)

Configs (splits):
- `class_disjoint` (the paper's, default): train = Reed's 62 train classes, validation = its 20 val classes
  (together the paper's 82 training classes), test = its 20 test classes.
- `official`: Oxford's `setid.mat` split, train 1,020 / validation 1,020 / test 6,149 images.

Every example is one image with all its captions. Images are stored as JPEG, always RGB: RGB JPEGs are kept
byte for byte; grey, RGBA, palette, CMYK, 16-bit or non-JPEG files are converted to RGB
(`lbie_tf.serving.images.to_rgb`) and re-encoded. A file that cannot be decoded, or an image without
(non-blank) captions,
is skipped with a warning naming it, and the number skipped is logged at the end of each split. Empty caption
lines are dropped (the released code's extract_cap.py keeps only non-empty lines).
"""

from __future__ import annotations

import collections
import io
import os
import re
import tarfile
from collections.abc import Iterator

import numpy as np
import scipy.io
import tensorflow_datasets as tfds
from absl import logging
from PIL import Image

from lbie_tf.errors import DataError
from lbie_tf.serving.images import to_rgb

NUM_CLASSES = 102
CLASS_SPLITS = ("train", "val", "test")  # Reed's class split; train + val = the paper's 82 training classes
OXFORD_URL = "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/"
CAPTIONS_URL = "https://github.com/reedscot/icml2016 (README: Oxford-102 captions, cvpr2016_flowers.tar.gz)"
CAPTIONS_FOLDER = "cvpr2016_flowers"
_CLASS_SPLIT_FILES = {name: f"{name}classes.txt" for name in CLASS_SPLITS}
_IMAGE_NAME = re.compile(r"(?:^|/)(image_(\d{5}))\.(jpg|txt)$")
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError)  # what Pillow raises on a broken stream


class OxfordFlowersCaptions(tfds.core.GeneratorBasedBuilder):
    """Oxford-102 Flowers photos with the 10 Reed et al. captions of each, class-disjoint or official split."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    BUILDER_CONFIGS = [
        tfds.core.BuilderConfig(name="class_disjoint",
                                description="Reed et al.'s zero-shot class split (the paper's 82 / 20 classes)."),
        tfds.core.BuilderConfig(name="official", description="Oxford's setid.mat split (1,020 / 1,020 / 6,149)."),
    ]
    MANUAL_DOWNLOAD_INSTRUCTIONS = (
        f"Put into the manual dir: 102flowers.tgz (or its jpg/ folder), imagelabels.mat and, for the official "
        f"split, setid.mat, all from {OXFORD_URL}; and the captions ({CAPTIONS_FOLDER}/ with text_c10/ and "
        f"trainclasses.txt, valclasses.txt, testclasses.txt, or {CAPTIONS_FOLDER}.tar.gz) from {CAPTIONS_URL}. "
        "Details: docs/flowers.md."
    )

    def _info(self) -> tfds.core.DatasetInfo:
        return tfds.core.DatasetInfo(
            builder=self,
            description=__doc__.split("\n\n")[0],
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(None, None, 3), encoding_format="jpeg"),
                "label": tfds.features.ClassLabel(num_classes=NUM_CLASSES),  # imagelabels.mat - 1
                "class_split": tfds.features.ClassLabel(names=CLASS_SPLITS),
                "captions": tfds.features.Sequence(tfds.features.Text()),
                "file_name": tfds.features.Text(),  # image_NNNNN.jpg
                "image_number": np.int64,  # NNNNN
            }),
            supervised_keys=("image", "label"),
            homepage="https://www.robots.ox.ac.uk/~vgg/data/flowers/102/",
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        sources = find_sources(os.fspath(dl_manager.manual_dir), self.builder_config.name)
        labels = read_labels(sources["labels"])
        class_split = read_class_split(sources["captions"])
        if self.builder_config.name == "official":
            members = read_official_split(sources["setid"])
            beyond = sorted(n for numbers in members.values() for n in numbers if not 1 <= n <= len(labels))
            if beyond:
                raise DataError(f"{sources['setid']} lists image {beyond[0]}, but {sources['labels']} labels "
                                f"images 1..{len(labels)} only")
        else:
            members = {split: {n for n, label in enumerate(labels, 1) if class_split[label] == short}
                       for split, short in (("train", "train"), ("validation", "val"), ("test", "test"))}
        captions = read_captions(sources["captions"])
        return {split: self._generate_examples(sources["images"], numbers, labels, class_split, captions)
                for split, numbers in members.items()}

    def _generate_examples(self, images_source: str, numbers: set[int], labels: np.ndarray,
                           class_split: dict[int, str], captions: dict[int, list[str]]):
        skipped = collections.Counter()
        found = set()
        for name, number, data in iter_files(images_source, ".jpg", numbers):
            found.add(number)
            if number not in captions:
                logging.warning("skipping %s: no caption file text_c10/class_%05d/image_%05d.txt", name,
                                labels[number - 1], number)
                skipped["no captions"] += 1
                continue
            if not captions[number]:
                logging.warning("skipping %s: its caption file has only blank lines", name)
                skipped["no captions"] += 1
                continue
            try:
                image = rgb_jpeg(data, name)
            except DataError as error:
                logging.warning("skipping %s", error)
                skipped["unreadable image"] += 1
                continue
            yield number, {
                "image": image,
                "label": int(labels[number - 1]) - 1,
                "class_split": class_split[int(labels[number - 1])],
                "captions": captions[number],
                "file_name": f"image_{number:05d}.jpg",
                "image_number": number,
            }
        skipped["missing image file"] = len(numbers - found)
        if skipped["missing image file"]:
            logging.warning("%d images of this split are listed in imagelabels.mat but missing from %s, e.g. "
                            "image_%05d.jpg", skipped["missing image file"], images_source, min(numbers - found))
        if sum(skipped.values()):
            logging.warning("skipped %d of %d images: %s", sum(skipped.values()), len(numbers),
                            ", ".join(f"{count} {why}" for why, count in sorted(skipped.items()) if count))


def find_sources(manual_dir: str, config_name: str) -> dict[str, str]:
    """Locates the downloaded files in the manual dir.

    Returns:
        {"images": tgz or jpg/ folder, "labels": imagelabels.mat, "captions": folder or tar holding text_c10/
         and the class split files, "setid": setid.mat (official config only)}.

    Raises:
        DataError: one line listing every missing file and where to download it.
    """
    def first_existing(*names: str) -> str | None:
        return next((os.path.join(manual_dir, n) for n in names if os.path.exists(os.path.join(manual_dir, n))),
                    None)

    sources = {
        "images": first_existing("102flowers.tgz", "jpg"),
        "labels": first_existing("imagelabels.mat"),
        "captions": first_existing(CAPTIONS_FOLDER, f"{CAPTIONS_FOLDER}.tar.gz", f"{CAPTIONS_FOLDER}.tgz",
                                   "text_c10"),
    }
    if sources["captions"] and os.path.basename(sources["captions"]) == "text_c10":
        sources["captions"] = manual_dir
    wanted = {"images": f"102flowers.tgz or jpg/ (from {OXFORD_URL}102flowers.tgz)",
              "labels": f"imagelabels.mat (from {OXFORD_URL}imagelabels.mat)",
              "captions": f"{CAPTIONS_FOLDER}/ with text_c10/ (from {CAPTIONS_URL})"}
    if config_name == "official":
        sources["setid"] = first_existing("setid.mat")
        wanted["setid"] = f"setid.mat (from {OXFORD_URL}setid.mat)"
    missing = [wanted[key] for key, path in sources.items() if path is None]
    if sources["captions"] and os.path.isdir(sources["captions"]):
        missing += [f"{os.path.join(sources['captions'], name)} (part of the captions archive, {CAPTIONS_URL})"
                    for name in ["text_c10", *_CLASS_SPLIT_FILES.values()]
                    if not os.path.exists(os.path.join(sources["captions"], name))]
    if not os.path.isdir(manual_dir):
        raise DataError(f"the Flowers manual dir {manual_dir} does not exist; put into it: "
                        + "; ".join(wanted.values()))
    if missing:
        raise DataError(f"the Flowers manual dir {manual_dir} lacks: " + "; ".join(missing))
    return sources


def iter_files(source: str, suffix: str, numbers: set[int] | None = None) -> Iterator[tuple[str, int, bytes]]:
    """Yields `(path, image number, contents)` of every `image_NNNNN<suffix>` file in a folder or tar archive
    (only those whose number is in `numbers`, if given; the others are not read).

    `path` names the file for messages (`archive.tgz:jpg/image_00001.jpg` for a tar member). Files are read
    one at a time, in sorted order for a folder and in archive order for a tar.
    """
    if os.path.isdir(source):
        for root, _, files in sorted(os.walk(source)):
            for file_name in sorted(files):
                match = _IMAGE_NAME.search(file_name)
                if match and file_name.endswith(suffix) and (numbers is None or int(match.group(2)) in numbers):
                    path = os.path.join(root, file_name)
                    with open(path, "rb") as f:
                        yield path, int(match.group(2)), f.read()
        return
    try:
        with tarfile.open(source) as archive:
            for member in archive:
                match = _IMAGE_NAME.search(member.name)
                if (member.isfile() and match and member.name.endswith(suffix)
                        and (numbers is None or int(match.group(2)) in numbers)):
                    yield f"{source}:{member.name}", int(match.group(2)), archive.extractfile(member).read()
    except (tarfile.TarError, EOFError, OSError) as error:
        raise DataError(f"cannot read the archive {source} ({error}); download it again") from None


def rgb_jpeg(data: bytes, name: str) -> bytes | np.ndarray:
    """An image file's bytes as TFDS wants them: the bytes of an RGB JPEG as they are, otherwise uint8
    `[height, width, 3]` RGB pixels (re-encoded by TFDS).

    Raises:
        DataError: the file is empty, not an image, truncated or corrupt (the whole image is decoded).
    """
    if not data:
        raise DataError(f"{name} is empty (0 bytes)")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.format == "JPEG" and image.mode == "RGB":
                return data
            return to_rgb(image)
    except _DECODE_ERRORS as error:
        first_line = (str(error).splitlines() or [type(error).__name__])[0]
        raise DataError(f"{name} is not a readable image ({first_line})") from None


def read_labels(path: str) -> np.ndarray:
    """`imagelabels.mat` -> int64 `[num_images]`, the 1-based class of image_00001, image_00002, ...

    Raises:
        DataError: unreadable, no `labels` variable, or a label outside 1..102.
    """
    labels = np.asarray(_load_mat(path, "labels"), np.int64).reshape(-1)
    if labels.size and (labels.min() < 1 or labels.max() > NUM_CLASSES):
        raise DataError(f"{path}: labels must lie in 1..{NUM_CLASSES}, got {labels.min()}..{labels.max()}")
    return labels


def read_official_split(path: str) -> dict[str, set[int]]:
    """`setid.mat` -> {"train": trnid, "validation": valid, "test": tstid} as sets of image numbers."""
    return {split: {int(n) for n in np.asarray(_load_mat(path, key)).reshape(-1)}
            for split, key in (("train", "trnid"), ("validation", "valid"), ("test", "tstid"))}


def read_class_split(captions_source: str) -> dict[int, str]:
    """Reed's class split files -> {1-based class: "train" | "val" | "test"}.

    Raises:
        DataError: a split file is missing, a class is listed twice, or not all 102 classes are listed.
    """
    texts = _read_small_files(captions_source, set(_CLASS_SPLIT_FILES.values()))
    class_split: dict[int, str] = {}
    for split, file_name in _CLASS_SPLIT_FILES.items():
        if file_name not in texts:
            raise DataError(f"{captions_source} lacks {file_name} (part of the captions archive, {CAPTIONS_URL})")
        # One class per line, as its folder name (`class_00001`) or its number; the first number counts.
        for number in (int(m.group()) for m in map(re.compile(r"\d+").search, texts[file_name].splitlines()) if m):
            if number in class_split:
                raise DataError(f"{captions_source}: class {number} is in both {split} and {class_split[number]}")
            class_split[number] = split
    unlisted = sorted(set(range(1, NUM_CLASSES + 1)) - set(class_split))
    if unlisted:
        raise DataError(f"{captions_source}: classes {unlisted[:5]}{'...' if len(unlisted) > 5 else ''} are in "
                        f"none of {', '.join(_CLASS_SPLIT_FILES.values())}")
    return class_split


def read_captions(captions_source: str) -> dict[int, list[str]]:
    """`text_c10/class_XXXXX/image_NNNNN.txt` -> {NNNNN: non-empty lines, stripped}."""
    captions = {}
    for _, number, data in iter_files(captions_source, ".txt"):
        lines = data.decode("utf-8", errors="replace").splitlines()
        captions[number] = [line.strip() for line in lines if line.strip()]
    return captions


def _read_small_files(source: str, names: set[str]) -> dict[str, str]:
    """The text of the named top-level files of a folder, or of the members of a tar with those base names."""
    if os.path.isdir(source):
        texts = {}
        for name in names & set(os.listdir(source)):
            with open(os.path.join(source, name), encoding="utf-8") as f:
                texts[name] = f.read()
        return texts
    with tarfile.open(source) as archive:
        return {os.path.basename(m.name): archive.extractfile(m).read().decode("utf-8")
                for m in archive if m.isfile() and os.path.basename(m.name) in names}


def _load_mat(path: str, key: str) -> np.ndarray:
    try:
        contents = scipy.io.loadmat(path)
    except (OSError, ValueError, NotImplementedError) as error:
        raise DataError(f"cannot read {path} ({error}); download it again from {OXFORD_URL}") from None
    if key not in contents:
        raise DataError(f"{path} has no variable {key!r} (it has {sorted(k for k in contents if k[0] != '_')})")
    return contents[key]
