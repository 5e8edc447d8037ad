"""The raw ReferIt reader: Hu et al.'s tokenisation, the layout checks and the counted skips of bad input."""

import os
import shutil

import numpy as np
import pytest
import scipy.io

from lbie_tf.data import referit_source
from lbie_tf.errors import DataError
from tests.data import referit_fixture

VOCAB = {word: index for index, word in enumerate(referit_fixture.VOCABULARY)}


@pytest.mark.parametrize("text, words", [
    ("The man's hat.", ["the", "man", "'", "s", "hat"]),
    ("left , right", ["left", ",", "right"]),  # separators are tokens
    ("  sky .", ["sky"]),
    ("...", ["..."]),
    (" . ", []),
    ("", []),
])
def test_split_words_as_hu_et_al(text, words):
    assert referit_source.split_words(text) == words


def test_encode_expression_left_pads_truncates_and_marks_unknown_words():
    ids, known = referit_source.encode_expression("The RED zebra", VOCAB, max_words=5)
    assert ids == [0, 0, VOCAB["the"], VOCAB["red"], VOCAB["<unk>"]] and known == 2
    long_text = " ".join(["sky"] * 25)
    ids, known = referit_source.encode_expression(long_text, VOCAB)
    assert ids == [VOCAB["sky"]] * 20 and known == 20
    assert referit_source.encode_expression("zzz", VOCAB)[1] == 0


def test_reader_skips_and_counts_bad_input(tmp_path):
    manual = referit_fixture.write_referit_fixture(str(tmp_path))
    skips = referit_source.SkipCounter()
    records = dict(referit_source.iter_objects(manual, "trainval", skips))
    assert list(records) == referit_fixture.TRAINVAL_OBJECTS
    assert dict(skips) == referit_fixture.TRAINVAL_SKIPS
    assert sum(len(r["expressions"]) for r in records.values()) == referit_fixture.TRAINVAL_EXPRESSIONS
    assert "kept 5 objects; " in skips.summary(len(records)) and "missing image: 1" in skips.summary(5)
    # Object pixels are the zeros of segimg_t; the mask has the image's size.
    mask = records["1_1"]["mask"][..., 0]
    assert mask.shape == (40, 60) and mask.dtype == np.uint8
    assert mask[5:35, 0:30].all() and mask.sum() == 30 * 30
    assert records["1_1"]["tokens"].shape == (2, 20) and records["1_1"]["tokens"].dtype == np.int32
    assert records["1_2"]["expressions"] == ["right thing .", "the red thing on the right"]
    assert isinstance(records["1_1"]["image"], bytes)  # RGB JPEGs keep their bytes
    for converted in ("3_1", "4_1"):  # grayscale and CMYK become RGB pixels
        assert records[converted]["image"].shape[2] == 3 and records[converted]["image"].dtype == np.uint8


@pytest.mark.parametrize("relative, holds", [
    ("referit-dataset/images", "photos"),
    ("referit-dataset/mask", "segimg_t"),
    ("data/referit_query_trainval.json", "trainval expressions"),
    ("data/referit_imcrop.json", "objects of each image"),
    ("data/vocabulary_referit.txt", "vocabulary"),
])
def test_missing_layout_entry_is_named(tmp_path, relative, holds):
    manual = referit_fixture.write_referit_fixture(str(tmp_path))
    path = os.path.join(manual, relative)
    shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    with pytest.raises(DataError, match=f"{relative} is missing: it should hold .*{holds}"):
        referit_source.check_layout(manual)


def test_malformed_files_are_one_line_errors(tmp_path):
    manual = referit_fixture.write_referit_fixture(str(tmp_path))
    with pytest.raises(DataError, match="does not exist"):
        referit_source.check_layout(str(tmp_path / "nowhere"))
    vocabulary = os.path.join(manual, referit_source.VOCABULARY_FILE)
    with open(vocabulary, "w", encoding="utf-8") as f:
        f.write("the\nsky\n")
    with pytest.raises(DataError, match="lacks the word <pad>"):
        referit_source.load_vocabulary(vocabulary)
    with open(vocabulary, "w", encoding="utf-8") as f:
        f.write("\n".join(referit_fixture.VOCABULARY))
    with open(os.path.join(manual, "data", "referit_query_test.json"), "w", encoding="utf-8") as f:
        f.write("{not json")
    with pytest.raises(DataError, match="is not valid JSON"):
        list(referit_source.iter_objects(manual, "test", referit_source.SkipCounter()))
    with pytest.raises(DataError, match="unknown ReferIt split 'val'"):
        list(referit_source.iter_objects(manual, "val", referit_source.SkipCounter()))
    wrong = str(tmp_path / "wrong.mat")
    scipy.io.savemat(wrong, {"mask": np.zeros((2, 2))})
    with pytest.raises(DataError, match="has no variable segimg_t"):
        referit_source.read_mask(wrong)


def test_unreadable_and_empty_masks_are_counted(tmp_path):
    manual = referit_fixture.write_referit_fixture(str(tmp_path))
    masks = os.path.join(manual, referit_source.MASKS_DIR)
    with open(os.path.join(masks, "6_1.mat"), "wb") as f:
        f.write(b"garbage")
    scipy.io.savemat(os.path.join(masks, "6_2.mat"), {"segimg_t": np.ones((36, 48), np.uint8)})
    os.remove(os.path.join(masks, "1_2.mat"))
    skips = referit_source.SkipCounter()
    assert list(dict(referit_source.iter_objects(manual, "test", skips))) == []
    assert dict(skips) == {"unreadable mask": 1, "empty mask": 1, "missing mask": 1}
