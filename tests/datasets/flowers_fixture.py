"""A tiny Oxford-102 Flowers + Reed captions manual dir in the real download layout, written by the tests.

Six classes hold images (`images_per_class` each, image n has class `FIXTURE_CLASSES[(n - 1) % 6]`): Reed's
class split puts classes 1-3 in train, 4 in val and 5-6 in test (the other 96 classes are listed but have no
images). Every image is a small JPEG of a flower of its class's colour (`CLASS_COLOURS`) on green, and has
10 caption lines naming that colour, except that image 1's third line is blank (dropped by the builder) and
the last line of the first test-class image is made of words that occur nowhere in training ("all
unknown").
"""

from __future__ import annotations

import io
import os
import tarfile

import numpy as np
import scipy.io
from PIL import Image

FIXTURE_CLASSES = (1, 2, 3, 4, 5, 6)
CLASS_SPLIT = {1: "train", 2: "train", 3: "train", 4: "val", 5: "test", 6: "test"}
CLASS_COLOURS = {1: ("red", (220, 30, 30)), 2: ("yellow", (235, 220, 40)), 3: ("blue", (40, 60, 220)),
                 4: ("purple", (140, 50, 200)), 5: ("orange", (240, 140, 20)), 6: ("pink", (240, 120, 190))}
UNKNOWN_CAPTION = "zyzzyva quux frobnicated"
_TEMPLATES = (
    "this flower has {c} petals and a yellow center.",
    "The petals are {c} with rounded edges",
    "",  # replaced by a blank line in image 1 only
    "a {c} flower with many layered petals",
    "this flower is {c} in color, with petals that are wavy.",
    "the {c}-colored petals surround green stamen",
    "petals {c} and long, stamen thin",
    "this {c} flower has a large pistil",
    "the flower has {c} petals that droop down",
    "a flower with {c} petals",
)
# Image sizes vary so that resizing is exercised; height x width.
_SIZES = ((40, 52), (48, 36), (44, 44))


def fixture_image(number: int, scale: int = 1) -> np.ndarray:
    """The uint8 `[height, width, 3]` RGB pixels of fixture image `number` (1-based), `scale` times the
    base size (scale 12 is about the size of the real photos, 500 x 600)."""
    height, width = (scale * side for side in _SIZES[number % len(_SIZES)])
    _, colour = CLASS_COLOURS[FIXTURE_CLASSES[(number - 1) % len(FIXTURE_CLASSES)]]
    rows, cols = np.mgrid[0:height, 0:width]
    flower = (rows - height / 2) ** 2 + (cols - width / 2) ** 2 < (min(height, width) / 2.6) ** 2
    image = np.empty((height, width, 3), np.uint8)
    image[...] = (40, 120, 40)
    image[flower] = colour
    return image


def fixture_captions(number: int, num_images: int) -> list[str]:
    """The 10 caption lines of fixture image `number` as written (image 1's third line is blank)."""
    label = FIXTURE_CLASSES[(number - 1) % len(FIXTURE_CLASSES)]
    name, _ = CLASS_COLOURS[label]
    lines = [template.format(c=name) for template in _TEMPLATES]
    lines[2] = "" if number == 1 else f"the {name} petals are thin and pointed"
    first_test_image = next(n for n in range(1, num_images + 1)
                            if CLASS_SPLIT[FIXTURE_CLASSES[(n - 1) % len(FIXTURE_CLASSES)]] == "test")
    if number == first_test_image:
        lines[-1] = UNKNOWN_CAPTION
    return lines


def write_flowers_fixture(root: str, *, images_per_class: int = 2, image_layout: str = "tgz",
                          caption_layout: str = "folder", official_split: bool = True, scale: int = 1) -> str:
    """Writes a manual dir in the downloaded layout and returns its path (`root/manual`).

    Args:
        root: an existing directory (e.g. pytest's `tmp_path`).
        images_per_class: images of each of the 6 fixture classes; 6 × this images in all.
        image_layout: "tgz" (`102flowers.tgz` with `jpg/image_NNNNN.jpg` members) or "folder" (`jpg/`).
        caption_layout: "folder" (`cvpr2016_flowers/`) or "tgz" (`cvpr2016_flowers.tar.gz`).
        official_split: also write `setid.mat` (first third of the images train, next third validation,
            the rest test).
        scale: image size multiplier (`fixture_image`).

    Returns:
        The manual dir, ready for `--manual_dir`.
    """
    manual = os.path.join(root, "manual")
    os.makedirs(manual, exist_ok=True)
    num_images = images_per_class * len(FIXTURE_CLASSES)
    numbers = range(1, num_images + 1)
    files = {}
    for number in numbers:
        buffer = io.BytesIO()
        Image.fromarray(fixture_image(number, scale)).save(buffer, format="JPEG", quality=95)
        files[f"jpg/image_{number:05d}.jpg"] = buffer.getvalue()
    _write_tree(manual, files, "102flowers.tgz" if image_layout == "tgz" else None)

    labels = np.array([[FIXTURE_CLASSES[(n - 1) % len(FIXTURE_CLASSES)] for n in numbers]], np.uint8)
    scipy.io.savemat(os.path.join(manual, "imagelabels.mat"), {"labels": labels})
    if official_split:
        third = num_images // 3
        scipy.io.savemat(os.path.join(manual, "setid.mat"), {
            "trnid": np.arange(1, third + 1)[None], "valid": np.arange(third + 1, 2 * third + 1)[None],
            "tstid": np.arange(2 * third + 1, num_images + 1)[None]})

    captions = {}
    for number in numbers:
        label = FIXTURE_CLASSES[(number - 1) % len(FIXTURE_CLASSES)]
        text = "\n".join(fixture_captions(number, num_images)) + "\n"
        captions[f"cvpr2016_flowers/text_c10/class_{label:05d}/image_{number:05d}.txt"] = text.encode()
    other_classes = [c for c in range(1, 103) if c not in CLASS_SPLIT]
    split_classes = {"train": other_classes[:59], "val": other_classes[59:78], "test": other_classes[78:]}
    for split in ("train", "val", "test"):
        listed = sorted([c for c, s in CLASS_SPLIT.items() if s == split] + split_classes[split])
        captions[f"cvpr2016_flowers/{split}classes.txt"] = "".join(f"class_{c:05d}\n" for c in listed).encode()
    _write_tree(manual, captions, "cvpr2016_flowers.tar.gz" if caption_layout == "tgz" else None)
    return manual


def _write_tree(manual: str, files: dict[str, bytes], archive_name: str | None) -> None:
    """Writes `files` (relative path -> bytes) under `manual`, or as members of the tar `manual/archive_name`."""
    if archive_name is None:
        for relative, data in files.items():
            path = os.path.join(manual, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        return
    with tarfile.open(os.path.join(manual, archive_name), "w:gz") as archive:
        for relative, data in files.items():
            info = tarfile.TarInfo(relative)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
