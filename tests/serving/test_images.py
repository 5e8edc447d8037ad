"""The dataset builders' Pillow reader: `read_image` turns every Pillow mode into RGB and refuses broken files
with one-line `DataError`s."""

import numpy as np
import pytest
from PIL import Image

from lbie_tf.errors import DataError
from lbie_tf.serving.images import read_image
from lbie_tf.serving.limits import MAX_PIXELS
from tests.serving.image_fixtures import header_only_png

RED_GREEN = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [10, 20, 30]]], np.uint8)  # [2, 2, 3]


def _save(tmp_path, image, name):
    path = str(tmp_path / name)
    image.save(path)
    return path


def _rgb_of(value):
    return np.full((2, 2, 3), value, np.uint8)


@pytest.mark.parametrize("name", ["x.png", "x.bmp", "x.tiff", "x.gif"])
def test_rgb_lossless_formats(tmp_path, name):
    path = _save(tmp_path, Image.fromarray(RED_GREEN), name)
    np.testing.assert_array_equal(read_image(path), RED_GREEN)


def test_jpeg(tmp_path):
    pixels = np.full((16, 16, 3), (200, 40, 90), np.uint8)
    image = read_image(_save(tmp_path, Image.fromarray(pixels), "x.jpg"))
    assert image.shape == (16, 16, 3) and image.dtype == np.uint8
    assert np.abs(image.astype(int) - pixels).max() <= 4


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[0, 1] = (0, 0, 0, 0)  # fully transparent
    rgba[1, :] = (0, 0, 0, 128)  # half-transparent black
    image = read_image(_save(tmp_path, Image.fromarray(rgba), "x.png"))
    np.testing.assert_array_equal(image[0, 0], (255, 0, 0))
    np.testing.assert_array_equal(image[0, 1], (255, 255, 255))
    assert np.all(np.abs(image[1].astype(int) - 127) <= 1)


def test_grey_and_grey_alpha(tmp_path):
    grey = np.array([[0, 100], [200, 255]], np.uint8)
    np.testing.assert_array_equal(read_image(_save(tmp_path, Image.fromarray(grey), "l.png")),
                                  np.repeat(grey[..., None], 3, -1))
    la = Image.fromarray(np.stack([grey, np.array([[255, 0], [255, 255]], np.uint8)], -1))
    image = read_image(_save(tmp_path, la, "la.png"))
    np.testing.assert_array_equal(image[0, 1], (255, 255, 255))
    np.testing.assert_array_equal(image[1, 0], (200, 200, 200))


def test_palette_with_and_without_transparency(tmp_path):
    palette = Image.fromarray(RED_GREEN).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    np.testing.assert_array_equal(read_image(_save(tmp_path, palette, "p.png")), RED_GREEN)
    index = palette.getpixel((0, 0))  # the red pixel's palette index
    transparent = _save(tmp_path, palette, "p.gif")
    palette.save(transparent, transparency=index)
    image = read_image(transparent)
    np.testing.assert_array_equal(image[0, 0], (255, 255, 255))
    np.testing.assert_array_equal(image[0, 1], (0, 255, 0))


def test_bilevel(tmp_path):
    bits = Image.fromarray(np.array([[0, 255], [255, 0]], np.uint8)).convert("1")
    image = read_image(_save(tmp_path, bits, "b.png"))
    np.testing.assert_array_equal(image[..., 0], [[0, 255], [255, 0]])


@pytest.mark.parametrize("mode", ["I;16", "I"])
def test_sixteen_bit_is_scaled_to_eight(tmp_path, mode):
    values = np.array([[0, 257], [32896, 65535]], np.uint16)
    image = Image.fromarray(values if mode == "I;16" else values.astype(np.int32))
    assert image.mode == mode
    read = read_image(_save(tmp_path, image, "s.png" if mode == "I;16" else "s.tiff"))
    np.testing.assert_array_equal(read[..., 0], [[0, 1], [128, 255]])
    assert np.all(read == read[..., :1])


@pytest.mark.parametrize("values, expected", [
    ([[0.0, 0.5], [1.0, 0.25]], [[0, 128], [255, 64]]),  # in [0, 1]: scaled by 255
    ([[0.0, 100.0], [300.0, -5.0]], [[0, 100], [255, 0]]),  # otherwise: 0..255, clipped
])
def test_float(tmp_path, values, expected):
    path = _save(tmp_path, Image.fromarray(np.array(values, np.float32)), "f.tiff")
    np.testing.assert_array_equal(read_image(path)[..., 1], expected)


def test_gif_first_frame(tmp_path):
    frames = [Image.fromarray(_rgb_of(v)).convert("P") for v in (0, 255)]
    path = str(tmp_path / "a.gif")
    frames[0].save(path, save_all=True, append_images=frames[1:])
    np.testing.assert_array_equal(read_image(path), _rgb_of(0))


def test_one_pixel_image(tmp_path):
    image = read_image(_save(tmp_path, Image.fromarray(np.full((1, 1, 3), 77, np.uint8)), "one.png"))
    np.testing.assert_array_equal(image, np.full((1, 1, 3), 77, np.uint8))


def _message(path, **kwargs):
    with pytest.raises(DataError) as info:
        read_image(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_and_empty_and_not_an_image(tmp_path):
    assert "not found" in _message(str(tmp_path / "nope.png"))
    (tmp_path / "empty.png").write_bytes(b"")
    assert "empty (0 bytes)" in _message(str(tmp_path / "empty.png"))
    (tmp_path / "notes.png").write_text("circle is red\n")
    assert "is not an image" in _message(str(tmp_path / "notes.png"))
    assert "is not a file" in _message(str(tmp_path))


@pytest.mark.parametrize("name", ["t.png", "t.jpg"])
def test_truncated_files_are_refused(tmp_path, name):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    path = _save(tmp_path, Image.fromarray(noise), name)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    assert "truncated or corrupt" in _message(path)


def test_limit_is_checked_before_decoding(tmp_path):
    path = _save(tmp_path, Image.fromarray(np.zeros((30, 40, 3), np.uint8)), "big.png")
    assert "40 × 30 = 0.0 megapixels" in _message(path, max_pixels=1000)
    assert read_image(path, max_pixels=1200).shape == (30, 40, 3)


@pytest.mark.parametrize("side", [7_000, 20_000])  # above the limit; 20,000² is also above Pillow's own
def test_huge_images_get_a_clear_error(tmp_path, side):
    assert side * side > MAX_PIXELS
    path = tmp_path / "huge.png"
    path.write_bytes(header_only_png(side, side))
    message = _message(str(path))
    assert "is too large" in message and "limit is 40 megapixels" in message
