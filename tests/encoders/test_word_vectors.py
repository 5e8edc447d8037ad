"""Pretrained word vectors from a text file: header skipped, missing words zero, one-line errors."""

import numpy as np
import pytest

from lbie_tf.encoders.word_vectors import load_word_vectors
from lbie_tf.errors import DataError

VOCABULARY = ["<pad>", "<unk>", "red", "petals", "stamen"]


def test_vectors_fill_their_rows_and_the_rest_stay_zero(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("3 2\nred 1 2\nblue 5 5\npetals -1.5 0.25\n", encoding="utf-8")
    matrix, found = load_word_vectors(str(path), VOCABULARY, 2)
    assert found == 2
    np.testing.assert_array_equal(matrix, [[0, 0], [0, 0], [1, 2], [-1.5, 0.25], [0, 0]])


@pytest.mark.parametrize("text, message", [
    ("red 1 2 3\n", "has 3 values"),
    ("red 1 x\n", "not a number"),
])
def test_malformed_files_give_one_line_errors(tmp_path, text, message):
    path = tmp_path / "vectors.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message) as error:
        load_word_vectors(str(path), VOCABULARY, 2)
    assert "\n" not in str(error.value)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot read word vectors"):
        load_word_vectors(str(tmp_path / "absent.txt"), VOCABULARY, 2)
