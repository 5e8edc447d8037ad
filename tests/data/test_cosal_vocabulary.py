"""Tests for lbie_tf.data.cosal_vocabulary: token ids, palettes, encode / decode."""

import itertools

import numpy as np
import pytest

from lbie_tf.data import color_space
from lbie_tf.data import cosal_vocabulary as vocab


def test_token_ids_match_the_released_generator():
    assert len(vocab.VOCABULARY) == vocab.VOCAB_SIZE == 20
    assert vocab.VOCABULARY[0] == "rectangle" and vocab.VOCABULARY[8] == "circle"
    assert vocab.VOCABULARY[1] == "half fat ellipse" and vocab.VOCABULARY[6] == "half thin ellipse"
    assert vocab.VOCABULARY[9:15] == ("blue", "light green", "red", "black", "grey", "yellow")
    assert vocab.VOCABULARY[15:] == ("is", "above", "below", "left", "right")
    assert (vocab.IS_ID, vocab.ABOVE_ID, vocab.BELOW_ID, vocab.LEFT_ID, vocab.RIGHT_ID) == (15, 16, 17, 18, 19)
    assert len(vocab.SHAPE_NAMES) == 9 and len(vocab.COLOUR_NAMES) == 6 and vocab.NUM_CLASSES == 7


def test_palettes():
    assert vocab.RGB_PALETTE.shape == (7, 3) and vocab.RGB_PALETTE.dtype == np.uint8
    assert vocab.RGB_PALETTE[0].tolist() == [255, 255, 255]
    assert vocab.RGB_PALETTE[1].tolist() == [0, 0, 255] and vocab.RGB_PALETTE[6].tolist() == [255, 255, 0]
    lab = vocab.ISOLUMINANT_LAB
    assert lab.shape == (7, 3) and lab[0].tolist() == [100.0, 0.0, 0.0]
    assert np.all(lab[1:, 0] == vocab.ISOLUMINANT_LIGHTNESS)
    distances = [np.linalg.norm(lab[i, 1:] - lab[j, 1:]) for i, j in itertools.combinations(range(1, 7), 2)]
    assert min(distances) > 40.0


def test_isoluminant_palette_is_in_gamut():
    rgb = color_space.lab_to_rgb(vocab.ISOLUMINANT_LAB)  # clipped if out of gamut, so the round trip would fail
    np.testing.assert_allclose(color_space.rgb_to_lab(rgb).numpy(), vocab.ISOLUMINANT_LAB, atol=0.05)


def test_encode_sentence_matches_multi_word_tokens():
    assert vocab.encode_sentence("half fat ellipse is light green") == [1, 15, 10]
    assert vocab.encode_sentence("  Half FAT ellipse   is Light-Green. ") == [1, 15, 10]
    assert vocab.encode_sentence("red right reverse triangle") == [11, 19, 4]
    assert vocab.encode_sentence("fat ellipse, triangle; thin ellipse") == [2, 3, 5]
    assert vocab.encode_sentence("") == []


def test_unknown_words_raise_a_one_line_error_naming_them():
    with pytest.raises(vocab.UnknownTokenError) as info:
        vocab.encode_sentence("the square is purple")
    message = str(info.value)
    assert isinstance(info.value, ValueError) and "\n" not in message
    assert "'the'" in message and "'square'" in message and "'purple'" in message
    assert "half thin ellipse" in message  # lists the vocabulary
    with pytest.raises(vocab.UnknownTokenError, match="'half'"):
        vocab.encode_sentence("half is red")


def test_encode_caption():
    ids = vocab.encode_caption(["circle is red", "blue above circle"])
    assert ids.dtype == np.int32
    assert ids.tolist() == [[8, 15, 11], [9, 16, 8]]
    assert vocab.encode_caption([]).shape == (0, 3)
    with pytest.raises(ValueError, match="circle is"):
        vocab.encode_caption(["circle is red", "circle is"])


def test_decode():
    assert vocab.decode_sentence([6, 15, 13]) == "half thin ellipse is grey"
    caption = [[8, 15, 11]] + [[9, 16, 8]] * 8
    assert vocab.decode_caption(np.array(caption)) == ["circle is red"] + ["blue above circle"] * 8
    assert vocab.encode_caption(vocab.decode_caption(caption)).tolist() == caption
    with pytest.raises(ValueError, match="20"):
        vocab.decode_sentence([0, 20, 1])
    with pytest.raises(ValueError, match="-1"):
        vocab.decode_caption([[0, 15, -1]])
    with pytest.raises(ValueError, match="shape"):
        vocab.decode_caption([0, 15, 9])
