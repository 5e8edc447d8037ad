"""Caption text: the command line's reader (`captions`) and the serving graph's tokenizer forgive the same
variants, give the same token ids, and refuse the same captions naming the same unknown words."""

import re

import numpy as np
import pytest
import tensorflow as tf

from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.errors import DataError
from lbie_tf.serving import captions
from lbie_tf.serving.caption_tokenizer import CaptionTokenizer
from lbie_tf.serving.graph_checks import error_line

CAPTION = ("circle is red. triangle is blue. diamond is yellow. rectangle is grey. blue above circle. "
           "red left triangle. black below diamond. grey right half fat ellipse. yellow above fat ellipse")
TOKENS = vocab.encode_caption(CAPTION.split(". "))

ACCEPTED = [  # each reads as CAPTION
    CAPTION,
    CAPTION + ".",
    CAPTION.upper(),
    "  " + CAPTION.replace(". ", " ;\n  ") + " .\n",
    CAPTION.replace("grey", "gray").replace("red.", "Red."),
    CAPTION.replace("circle is", "The circle is").replace("above circle", "above a circle"),
    CAPTION.replace("triangle is", "a triangle is").replace("right half", "right the half"),
    CAPTION.replace("circle is red", "circle colour is red").replace("triangle is blue", "triangle color is blue"),
    CAPTION.replace("diamond is yellow", "diamond is coloured yellow").replace("grey.", "colored GRAY."),
    CAPTION.replace("half fat", "half-fat").replace(". ", "..  ;; "),
    CAPTION.replace("circle is red", "the circle, is red!"),
]
REFUSED = [  # (caption, unknown words the reader names; () when the error is about the caption's shape)
    (CAPTION.replace("red.", "purple."), ("purple",)),
    (CAPTION.replace("circle is red", "the red is circle"), ("the",)),  # "the" only before a shape
    (CAPTION.replace("circle is red", "circle is colour red"), ("colour",)),
    (CAPTION.replace("circle is red", "an circle is red"), ("an",)),
    (CAPTION.replace("circle is red", "circle is rouge"), ("rouge",)),
    (CAPTION.replace("circle is red", "círculo is red"), ("círculo",)),
    (CAPTION.replace("circle is red", "circle is red circle"), ()),
    (CAPTION + ". circle is red", ()),
    (" . ;\n", ()),
]


@pytest.fixture(scope="module")
def tokenize():
    tokenizer = CaptionTokenizer()
    return tf.function(tokenizer, input_signature=[tf.TensorSpec([None], tf.string)])


def _graph(tokenize, text: str):
    """Token ids, or the set of unknown words / the error message of the serving graph."""
    try:
        return tokenize(tf.constant([text.encode("utf-8", "surrogateescape")])).numpy()[0]
    except tf.errors.InvalidArgumentError as error:
        line = error_line(error)
        match = re.match(r"unknown word\(s\) in the caption: (.*) the CoSaL vocabulary is", line)
        return set(match.group(1).split()) if match else line


def _reader(text: str):
    """Token ids, or the set of unknown words / the error message of the command line's reader."""
    try:
        return captions.encode_text(text)[1]
    except DataError as error:
        match = re.match(r"unknown word\(s\) (.*?) in '", str(error))
        return set(re.findall(r"'([^']*)'", match.group(1))) if match else str(error)


@pytest.mark.parametrize("text", ACCEPTED)
def test_both_readers_accept_the_variants(tokenize, text):
    np.testing.assert_array_equal(_reader(text), TOKENS)
    np.testing.assert_array_equal(_graph(tokenize, text), TOKENS)


@pytest.mark.parametrize("text, unknown", REFUSED)
def test_both_readers_refuse_the_same_captions(tokenize, text, unknown):
    reader, graph = _reader(text), _graph(tokenize, text)
    assert isinstance(reader, (set, str)) and isinstance(graph, (set, str))
    if unknown:
        assert reader == graph == set(unknown)
    else:
        assert isinstance(reader, str) and isinstance(graph, str)


def test_normalised_sentences():
    assert captions.split_caption("The Circle colour is GRAY.\n\nblue above a half-fat ellipse ;") == [
        "circle is grey", "blue above half fat ellipse"]
    assert captions.normalise_sentence(" , ! ") == ""
    assert captions.spaced(["is", "red"]) == " is  red "


@pytest.mark.parametrize("text, message", [
    (CAPTION.replace("red", "red\udcff", 1), "the caption is not UTF-8 text (undecodable byte at character 14)"),
    ("", "the caption is empty"),
    (CAPTION.replace("circle is red", "circle is red blue"), "exactly 3 tokens"),
    (". ".join(CAPTION.split(". ")[:8]), "the caption has 8 sentence(s)"),
])
def test_reader_errors(text, message):
    with pytest.raises(DataError) as info:
        captions.encode_text(text)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("text, message", [
    (b"circle is red\xff", "caption text is not valid UTF-8"),
    (b" \n ", "caption text is empty"),
    (CAPTION.replace("circle is red", "circle is red blue").encode(), "these do not: circle is red blue"),
    (". ".join(CAPTION.split(". ")[:8]).encode(), "sentences per caption: 8"),
    (CAPTION.replace("half fat ellipse", "half fat ellipse red").encode(), "these do not: grey right half fat "
                                                                          "ellipse red"),
])
def test_graph_errors(tokenize, text, message):
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        tokenize(tf.constant([text]))
    assert message in error_line(info.value)
