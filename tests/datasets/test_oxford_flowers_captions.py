"""Tests of the oxford_flowers_captions TFDS builder, built offline from fixtures in the downloaded layout."""

import logging
import os
import tarfile

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from lbie_tf.data.flowers import (
    DATASET_NAME,
    FlowersConfig,
    builder_module,
    load_builder,
)
from lbie_tf.errors import DataError
from tests.datasets.flowers_fixture import (
    CLASS_SPLIT,
    FIXTURE_CLASSES,
    fixture_captions,
    fixture_image,
    write_flowers_fixture,
)

IMAGES_PER_CLASS = 2
NUM_IMAGES = IMAGES_PER_CLASS * len(FIXTURE_CLASSES)


def _build(manual_dir, data_dir, config="class_disjoint"):
    builder = builder_module().OxfordFlowersCaptions(config=config, data_dir=str(data_dir))
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=str(manual_dir)))
    return builder


DATASETS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "datasets")


def _examples(builder, split):
    return {int(ex["image_number"]): ex for ex in tfds.as_numpy(builder.as_dataset(split=split))}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("flowers")
    manual = write_flowers_fixture(str(root), images_per_class=IMAGES_PER_CLASS)
    return manual, {config: _build(manual, root / "data", config) for config in ("class_disjoint", "official")}


def test_tfds_build_finds_the_builder_in_the_datasets_folder():
    from tensorflow_datasets.scripts.cli import (
        build,  # the module behind `tfds build datasets/<name>`
    )
    builder_cls, _ = build._get_builder_cls_and_kwargs(os.path.join(DATASETS_DIR, DATASET_NAME), has_imports=False)
    assert builder_cls.name == DATASET_NAME
    assert [c.name for c in builder_cls.BUILDER_CONFIGS] == ["class_disjoint", "official"]


def test_class_disjoint_split_holds_whole_classes(built):
    _, builders = built
    splits = {split: _examples(builders["class_disjoint"], split) for split in ("train", "validation", "test")}
    expected_split = {"train": "train", "validation": "val", "test": "test"}
    for split, examples in splits.items():
        classes = {int(ex["label"]) + 1 for ex in examples.values()}
        assert classes == {c for c, s in CLASS_SPLIT.items() if s == expected_split[split]}
        split_index = ("train", "val", "test").index(expected_split[split])
        assert {ex["class_split"] for ex in examples.values()} == {split_index}
    assert sum(len(e) for e in splits.values()) == NUM_IMAGES
    assert len(splits["train"]) == 3 * IMAGES_PER_CLASS


def test_official_split_follows_setid(built):
    _, builders = built
    third = NUM_IMAGES // 3
    expected = {"train": range(1, third + 1), "validation": range(third + 1, 2 * third + 1),
                "test": range(2 * third + 1, NUM_IMAGES + 1)}
    for split, numbers in expected.items():
        assert sorted(_examples(builders["official"], split)) == list(numbers)


def test_example_features(built):
    manual, builders = built
    examples = _examples(builders["class_disjoint"], "train")
    first = examples[1]
    assert first["file_name"] == b"image_00001.jpg"
    assert first["label"] == FIXTURE_CLASSES[0] - 1
    written = fixture_captions(1, NUM_IMAGES)
    assert [c.decode() for c in first["captions"]] == [line for line in written if line]  # blank line dropped
    assert len(first["captions"]) == 9 and len(examples[2]["captions"]) == 10
    # RGB JPEGs are stored byte for byte.
    stored = builders["class_disjoint"].as_dataset(split="train", decoders={"image": tfds.decode.SkipDecoding()})
    stored = {int(ex["image_number"]): ex["image"] for ex in tfds.as_numpy(stored)}
    with tarfile.open(os.path.join(manual, "102flowers.tgz")) as archive:
        assert stored[1] == archive.extractfile("jpg/image_00001.jpg").read()
    assert first["image"].shape == fixture_image(1).shape
    assert np.abs(first["image"].astype(int) - fixture_image(1)).mean() < 8  # TF vs Pillow JPEG decoding


def test_folder_and_tar_layouts_give_the_same_data(tmp_path, built):
    _, builders = built
    manual = write_flowers_fixture(str(tmp_path), images_per_class=IMAGES_PER_CLASS, image_layout="folder",
                                   caption_layout="tgz", official_split=False)
    other = _examples(_build(manual, tmp_path / "data"), "test")
    reference = _examples(builders["class_disjoint"], "test")
    assert sorted(other) == sorted(reference)
    for number, example in other.items():
        np.testing.assert_array_equal(example["image"], reference[number]["image"])
        assert list(example["captions"]) == list(reference[number]["captions"])


def _save(path, image, format_, mode=None):
    image = Image.fromarray(image) if mode is None else Image.fromarray(image, mode)
    image.save(path, format=format_)


def test_odd_image_modes_become_rgb(tmp_path):
    manual = write_flowers_fixture(str(tmp_path), images_per_class=1, image_layout="folder", official_split=False)
    jpg = os.path.join(manual, "jpg")
    grey = np.tile(np.arange(0, 240, 6, dtype=np.uint8), (30, 1))
    _save(f"{jpg}/image_00001.jpg", grey, "JPEG")  # class 1 (train)
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[:, :10] = (255, 0, 0, 255)  # left half opaque red, right half transparent
    _save(f"{jpg}/image_00002.jpg", rgba, "PNG")  # a PNG with a .jpg name
    sixteen = np.full((16, 16), 65535 // 2, np.uint16)
    Image.fromarray(sixteen).convert("I;16").save(f"{jpg}/image_00003.jpg", format="PNG")
    Image.fromarray(fixture_image(4)).convert("CMYK").save(f"{jpg}/image_00004.jpg", format="JPEG", quality=95)
    builder = _build(manual, tmp_path / "data")
    examples = {**_examples(builder, "train"), **_examples(builder, "validation")}
    image = examples[1]["image"]
    assert image.shape == (30, 40, 3)
    assert np.abs(image.astype(int) - grey[..., None]).max() <= 3  # JPEG re-encoding only
    np.testing.assert_array_equal(image[..., 0], image[..., 1])
    red = examples[2]["image"].astype(int)
    assert np.abs(red[:, :8] - (255, 0, 0)).max() <= 12 and np.abs(red[:, 12:] - 255).max() <= 12  # white
    assert np.abs(examples[3]["image"].astype(int) - round(32767 / 257)).max() <= 2
    assert np.abs(examples[4]["image"].astype(int) - fixture_image(4)).mean() < 8


def test_corrupt_jpeg_is_skipped_with_a_warning_naming_it(tmp_path, caplog):
    manual = write_flowers_fixture(str(tmp_path), images_per_class=1, image_layout="folder", official_split=False)
    path = os.path.join(manual, "jpg", "image_00002.jpg")
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])  # truncated
    open(os.path.join(manual, "jpg", "image_00003.jpg"), "wb").close()  # 0 bytes
    with caplog.at_level(logging.WARNING):
        builder = _build(manual, tmp_path / "data")
    assert sorted(_examples(builder, "train")) == [1]
    messages = [r.getMessage() for r in caplog.records]
    assert any("image_00002.jpg" in m and "skipping" in m for m in messages)
    assert any("image_00003.jpg" in m and "empty" in m for m in messages)
    assert any("skipped 2 of 3 images" in m and "2 unreadable image" in m for m in messages)


def test_images_without_captions_are_skipped_with_a_warning(tmp_path, caplog):
    manual = write_flowers_fixture(str(tmp_path), images_per_class=2, image_layout="folder", official_split=False)
    os.remove(os.path.join(manual, "cvpr2016_flowers", "text_c10", "class_00002", "image_00002.txt"))
    os.remove(os.path.join(manual, "jpg", "image_00003.jpg"))
    with open(os.path.join(manual, "cvpr2016_flowers", "text_c10", "class_00001", "image_00001.txt"), "w") as f:
        f.write("\n  \n")
    with caplog.at_level(logging.WARNING):
        builder = _build(manual, tmp_path / "data")
    assert sorted(_examples(builder, "train")) == [7, 8, 9]
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert "image_00002.jpg: no caption file text_c10/class_00002/image_00002.txt" in messages
    assert "image_00001.jpg: its caption file has only blank lines" in messages
    assert "missing from" in messages and "image_00003.jpg" in messages


def test_missing_manual_dir_lists_everything_and_where_to_get_it(tmp_path):
    config = FlowersConfig(data_dir=str(tmp_path / "data"), manual_dir=str(tmp_path / "nothing"))
    with pytest.raises(DataError, match=r"does not exist.*102flowers\.tgz.*robots\.ox\.ac\.uk.*imagelabels\.mat"
                                        r".*cvpr2016_flowers.*reedscot") as error:
        load_builder(config)
    assert "\n" not in str(error.value)


def test_partial_manual_dir_lists_what_is_missing(tmp_path):
    manual = write_flowers_fixture(str(tmp_path), images_per_class=1, official_split=False)
    os.remove(os.path.join(manual, "imagelabels.mat"))
    os.remove(os.path.join(manual, "cvpr2016_flowers", "testclasses.txt"))
    with pytest.raises(DataError) as error:
        _build(manual, tmp_path / "data")
    message = str(error.value)
    assert "imagelabels.mat" in message and "testclasses.txt" in message and "102flowers" not in message


def test_official_split_needs_setid(tmp_path):
    manual = write_flowers_fixture(str(tmp_path), images_per_class=1, official_split=False)
    with pytest.raises(DataError, match=r"lacks: setid\.mat \(from https://www\.robots\.ox\.ac\.uk/"):
        _build(manual, tmp_path / "data", "official")


def test_class_listed_twice_is_an_error(tmp_path):
    manual = write_flowers_fixture(str(tmp_path), images_per_class=1, official_split=False)
    with open(os.path.join(manual, "cvpr2016_flowers", "testclasses.txt"), "a") as f:
        f.write("class_00001\n")
    with pytest.raises(DataError, match="class 1 is in both"):
        _build(manual, tmp_path / "data")


def test_class_split_files_may_list_names_or_numbers(tmp_path):
    manual = write_flowers_fixture(str(tmp_path), images_per_class=1, official_split=False)
    captions = os.path.join(manual, "cvpr2016_flowers")
    with open(os.path.join(captions, "valclasses.txt")) as f:
        names = f.read().split()
    with open(os.path.join(captions, "valclasses.txt"), "w") as f:
        f.write("\r\n".join(f"{name}.t7" if i % 2 else str(int(name[6:])) for i, name in enumerate(names)) + "\r\n\n")
    split = builder_module().read_class_split(captions)
    assert sorted(c for c, s in split.items() if s == "val") == sorted(int(name[6:]) for name in names)
    assert len(split) == 102
