"""`read_image_file` (lbie-edit's reader): file checks before opening, the Pillow header check, the EXIF
orientation, and the same pixels as the serving graph's decoding."""

import io
import os

import numpy as np
import pytest
from PIL import Image, ImageOps

from lbie_tf.errors import DataError
from lbie_tf.serving import image_preprocessing
from lbie_tf.serving.image_files import read_file_bytes, read_image_file
from tests.serving.image_fixtures import encoded, header_only_png

RGBA = np.zeros((3, 4, 4), np.uint8)
RGBA[1, 1:3] = (200, 10, 10, 255)


def _message(path, **kwargs):
    with pytest.raises(DataError) as info:
        read_image_file(str(path), **kwargs)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_pixels_are_those_of_the_serving_decoder(tmp_path):
    data = encoded(Image.fromarray(RGBA))
    (tmp_path / "x.png").write_bytes(data)
    np.testing.assert_array_equal(read_image_file(str(tmp_path / "x.png")),
                                  image_preprocessing.decode_image(data).numpy())


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (5, 9, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    data = encoded(Image.fromarray(pixels), exif=exif)
    (tmp_path / "turned.png").write_bytes(data)
    image = read_image_file(str(tmp_path / "turned.png"))
    assert image.shape == (9, 5, 3)
    np.testing.assert_array_equal(image, np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data)))))


def test_files_that_are_not_regular_are_refused_before_opening(tmp_path):
    assert _message(tmp_path / "nope.png") == f"image file not found: {tmp_path / 'nope.png'}"
    assert _message(tmp_path) == f"image file {tmp_path} is a directory"
    os.mkfifo(tmp_path / "fifo.png")  # opening it would block until a writer comes
    assert "is not a regular file (a FIFO, socket or device)" in _message(tmp_path / "fifo.png")
    (tmp_path / "empty.png").write_bytes(b"")
    assert "is empty (0 bytes)" in _message(tmp_path / "empty.png")
    with pytest.raises(DataError, match="--text_file .* is a directory"):
        read_file_bytes(str(tmp_path), "--text_file")


@pytest.mark.parametrize("data, message", [
    (b"circle is red\n", "is not a PNG, JPEG, GIF or BMP image"),
    (encoded(Image.fromarray(RGBA[..., :3]), "TIFF"), "is a TIFF image; lbie-edit and the serving graph read PNG"),
    (encoded(Image.fromarray(RGBA[..., :3]), "WEBP"), "is a WEBP image"),
    (header_only_png(7000, 7000), "is too large (7000 x 7000 = 49.0 megapixels); the limit is 40 megapixels"),
    (header_only_png(30000, 30000), "is too large; the limit is 40 megapixels"),  # above Pillow's own limit
    (header_only_png(5, 5), "bad.png: Invalid PNG"),  # a sound header and no pixels: TF's decoder says so
], ids=["text", "tiff", "webp", "over_the_limit", "over_pillows_limit", "no_pixel_data"])
def test_bad_files_give_one_line(tmp_path, data, message):
    (tmp_path / "bad.png").write_bytes(data)
    assert message in _message(tmp_path / "bad.png")


def test_truncated_png_is_refused_by_the_decoder(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = encoded(Image.fromarray(noise))
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    assert _message(tmp_path / "t.png").startswith(f"{tmp_path / 't.png'}: ")


def test_limit_is_read_from_the_header(tmp_path):
    (tmp_path / "x.png").write_bytes(encoded(Image.fromarray(np.zeros((30, 40, 3), np.uint8))))
    assert "40 x 30 = 0.0 megapixels" in _message(tmp_path / "x.png", max_pixels=1000)
    assert read_image_file(str(tmp_path / "x.png"), max_pixels=1200).shape == (30, 40, 3)
