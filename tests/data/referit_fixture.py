"""A tiny ReferIt in text_objseg's `exp-referit/` layout, written by the tests (the real data cannot be
downloaded here): JPEGs of different sizes and aspect ratios (one grayscale, one CMYK), `.mat` masks with
`segimg_t` (object pixels == 0), query / imcrop JSONs and a vocabulary, plus one case of each bad input the
reader must skip and count."""

from __future__ import annotations

import json
import os

import numpy as np
import scipy.io
from PIL import Image

VOCABULARY = ("<pad>", "<go>", "<eos>", "<unk>", "the", "left", "right", "red", "blue", "thing", "on", "sky",
              ",", "man", "'", "s", "hat")

# image id -> (height, width, Pillow mode)
IMAGES = {"1": (40, 60, "RGB"), "2": (50, 30, "RGB"), "3": (32, 32, "L"), "4": (24, 36, "CMYK"),
          "6": (36, 48, "RGB"), "7": (30, 30, "RGB")}

# object id -> (row slice, column slice) of the object in its image
OBJECTS = {
    "1_1": (slice(5, 35), slice(0, 30)), "1_2": (slice(0, 40), slice(40, 60)),
    "2_1": (slice(0, 25), slice(0, 30)), "2_2": (slice(30, 50), slice(5, 25)), "2_3": (slice(0, 10), slice(0, 10)),
    "3_1": (slice(8, 24), slice(8, 24)), "4_1": (slice(0, 12), slice(0, 18)),
    "6_1": (slice(0, 18), slice(0, 24)), "6_2": (slice(18, 36), slice(24, 48)),
    "7_1": (slice(10, 20), slice(10, 20)),
}

TRAINVAL = {
    "1_1": ["the left thing", "left"], "1_2": ["right thing .", "the red thing on the right"],
    "2_1": ["the blue sky", "sky"], "2_2": ["", "   "], "2_3": ["zzz qqq"],
    "3_1": ["the man's hat"], "4_1": ["blue thing"],
    "5_1": ["left"],  # its image 5.jpg is missing
    "7_1": ["thing"],  # its mask has another size than the image
    "8_1": ["sky"],  # not in referit_imcrop.json
}
TEST = {"6_1": ["the left thing", "blue sky"], "6_2": ["right"], "1_2": ["red thing"]}

# What the reader must report for TRAINVAL.
TRAINVAL_SKIPS = {"missing image": 1, "mask size differs from image": 1, "object not in referit_imcrop.json": 1,
                  "empty expression": 2, "expression with only unknown words": 1,
                  "object without a usable expression": 2, "L image converted to RGB": 1,
                  "CMYK image converted to RGB": 1}
TRAINVAL_OBJECTS = ["1_1", "1_2", "2_1", "3_1", "4_1"]
TRAINVAL_EXPRESSIONS = 8
TEST_EXPRESSIONS = 4


def _pixels(image_id: str, height: int, width: int) -> np.ndarray:
    """A textured background with each object painted in its own colour (learnable from the image)."""
    rng = np.random.default_rng(int(image_id))
    pixels = rng.integers(0, 80, (height, width, 3), dtype=np.uint8)
    for object_id, (rows, cols) in OBJECTS.items():
        if object_id.split("_")[0] == image_id:
            pixels[rows, cols] = (200, 60 + 40 * int(object_id[-1]), 40)
    return pixels


def write_referit_fixture(root: str) -> str:
    """Write the fixture under `root` and return its `exp-referit` directory (the TFDS manual_dir)."""
    manual = os.path.join(root, "exp-referit")
    images = os.path.join(manual, "referit-dataset", "images")
    masks = os.path.join(manual, "referit-dataset", "mask")
    data = os.path.join(manual, "data")
    for folder in (images, masks, data):
        os.makedirs(folder, exist_ok=True)
    for image_id, (height, width, mode) in IMAGES.items():
        Image.fromarray(_pixels(image_id, height, width)).convert(mode).save(
            os.path.join(images, f"{image_id}.jpg"), quality=95)
    for object_id, (rows, cols) in OBJECTS.items():
        height, width, _ = IMAGES[object_id.split("_")[0]]
        if object_id == "7_1":
            height, width = height + 4, width  # the size mismatch case
        segimg = np.full((height, width), 3, np.uint8)
        segimg[rows, cols] = 0
        scipy.io.savemat(os.path.join(masks, f"{object_id}.mat"), {"segimg_t": segimg})
    imcrop = {f"{image_id}.jpg": sorted(o for o in OBJECTS if o.split("_")[0] == image_id) for image_id in IMAGES}
    imcrop["5.jpg"] = ["5_1"]
    for name, content in (("referit_query_trainval.json", TRAINVAL), ("referit_query_test.json", TEST),
                          ("referit_imcrop.json", imcrop)):
        with open(os.path.join(data, name), "w", encoding="utf-8") as f:
            json.dump(content, f)
    with open(os.path.join(data, "vocabulary_referit.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(VOCABULARY) + "\n")
    return manual
