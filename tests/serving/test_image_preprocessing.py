"""The shared TF image preprocessing: every format and mode of the module's table decodes to the documented RGB,
the pixel limit is read from headers before decoding, EXIF orientations match Pillow's, the resize is
antialiased and the class map goes back by the documented nearest-neighbour rule; a seeded fuzz test feeds
random and damaged bytes, each of which decodes to a valid tensor or fails with InvalidArgumentError."""

import io
import struct
import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image, ImageOps

from lbie_tf.serving import image_preprocessing as preprocessing
from lbie_tf.serving.graph_checks import error_line
from tests.serving.image_fixtures import encoded, header_only_png

RGB = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [10, 20, 30]]], np.uint8)  # [2, 2, 3]
ALPHA = np.array([[255, 0], [128, 255]], np.uint8)


@tf.function(input_signature=[tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int32)])
def _decode(data, orientation):
    return preprocessing.decode_image(data, orientation)


def decode(data: bytes, orientation: int = 1) -> np.ndarray:
    return _decode(tf.constant(data), tf.constant(orientation)).numpy()


def decode_error(data: bytes, **kwargs) -> str:
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        preprocessing.decode_image(tf.constant(data), **kwargs)
    return error_line(info.value)


def _on_white(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The documented compositing: round((c · a + 255 · (255 − a)) / 255)."""
    c, a = colour.astype(np.int64), alpha.astype(np.int64)[..., None]
    return ((c * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)


def _palette_image() -> Image.Image:
    return Image.fromarray(RGB).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)


@pytest.mark.parametrize("image_format", ["PNG", "BMP", "GIF"])
def test_lossless_rgb_formats(image_format):
    np.testing.assert_array_equal(decode(encoded(Image.fromarray(RGB), image_format)), RGB)


def test_jpeg_grey_and_cmyk():
    pixels = np.full((16, 16, 3), (200, 40, 90), np.uint8)
    for image in (Image.fromarray(pixels), Image.fromarray(pixels).convert("CMYK")):
        decoded = decode(encoded(image, "JPEG", quality=95))
        assert decoded.shape == (16, 16, 3) and np.abs(decoded.astype(int) - pixels).max() <= 3
    grey = decode(encoded(Image.fromarray(np.full((8, 8), 77, np.uint8)), "JPEG"))
    assert grey.shape == (8, 8, 3) and np.all(np.abs(grey.astype(int) - 77) <= 1)


def test_rgba_and_grey_alpha_are_composited_on_white():
    rgba = np.concatenate([RGB, ALPHA[..., None]], axis=-1)
    np.testing.assert_array_equal(decode(encoded(Image.fromarray(rgba))), _on_white(RGB, ALPHA))
    grey = RGB[..., 0]
    decoded = decode(encoded(Image.fromarray(np.stack([grey, ALPHA], -1), "LA")))
    np.testing.assert_array_equal(decoded, _on_white(np.repeat(grey[..., None], 3, -1), ALPHA))
    np.testing.assert_array_equal(decoded[0, 1], (255, 255, 255))  # fully transparent: white


def test_grey_and_bilevel_are_repeated_in_rgb():
    grey = np.array([[0, 100], [200, 255]], np.uint8)
    np.testing.assert_array_equal(decode(encoded(Image.fromarray(grey))), np.repeat(grey[..., None], 3, -1))
    bits = decode(encoded(Image.fromarray(grey >= 128)))
    np.testing.assert_array_equal(bits[..., 1], [[0, 0], [255, 255]])


def test_palette_with_and_without_transparency():
    palette = _palette_image()
    np.testing.assert_array_equal(decode(encoded(palette)), RGB)
    transparent = decode(encoded(palette, transparency=palette.getpixel((0, 0))))  # the red pixel
    np.testing.assert_array_equal(transparent[0, 0], (255, 255, 255))
    np.testing.assert_array_equal(transparent[1:], RGB[1:])


def test_sixteen_bit_grey_and_rgba_are_rounded_to_eight_bits():
    values = np.array([[0, 257], [32896, 65535]], np.uint16)
    np.testing.assert_array_equal(decode(encoded(Image.fromarray(values)))[..., 2], [[0, 1], [128, 255]])
    # 16-bit RGBA, written by TF (Pillow cannot): alpha 0 → white, 65535 → the colour rounded.
    rgba = np.zeros((1, 2, 4), np.uint16)
    rgba[0, 0] = (12850, 0, 65535, 65535)  # 12850 / 257 = 50
    rgba[0, 1] = (999, 999, 999, 0)
    decoded = decode(tf.io.encode_png(tf.constant(rgba)).numpy())
    np.testing.assert_array_equal(decoded, [[(50, 0, 255), (255, 255, 255)]])


def test_bmp_palette_and_32_bit():
    np.testing.assert_array_equal(decode(encoded(_palette_image(), "BMP")), RGB)
    rgba = np.concatenate([RGB, ALPHA[..., None]], axis=-1)
    np.testing.assert_array_equal(decode(encoded(Image.fromarray(rgba), "BMP")), RGB)  # 4th byte ignored


def test_gif_gives_its_first_frame():
    frames = [Image.fromarray(np.full((4, 4, 3), value, np.uint8)).convert("P") for value in (0, 255, 128)]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])
    np.testing.assert_array_equal(decode(data), np.zeros((4, 4, 3), np.uint8))


@pytest.mark.parametrize("orientation", range(0, 10))
def test_exif_orientation_turns_like_pillow(orientation):
    pixels = np.random.default_rng(orientation).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encoded(Image.fromarray(pixels), exif=exif)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    np.testing.assert_array_equal(decode(data, orientation), upright)


@pytest.mark.parametrize("data, message", [
    (b"", "the image is empty (0 bytes)"),
    (b"circle is red\n", "not a PNG, JPEG, GIF or BMP image"),
    (encoded(Image.fromarray(RGB), "TIFF"), "TIFF, WebP and other formats are not read"),
    (encoded(Image.fromarray(RGB), "WEBP", lossless=True), "TIFF, WebP and other formats are not read"),
    (encoded(Image.fromarray(RGB))[:20], "the PNG is truncated or corrupt"),
    (encoded(Image.fromarray(RGB[..., 0]).convert("1"), "BMP"), "BMP images of 1 bits per pixel are not read"),
    (b"GIF89a\x01", "the GIF is truncated"),
])
def test_unreadable_bytes_name_the_problem(data, message):
    assert message in decode_error(data)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "GIF", "BMP"])
def test_truncated_images_are_refused(image_format):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = encoded(Image.fromarray(noise).convert("P") if image_format == "GIF" else Image.fromarray(noise),
                    image_format)
    with pytest.raises(tf.errors.InvalidArgumentError):
        decode(data[: len(data) * 2 // 3])


def test_decompression_bomb_headers_are_refused_before_decoding():
    start = time.perf_counter()
    message = decode_error(header_only_png(100_000, 100_000))
    assert time.perf_counter() - start < 5  # 10 gigapixels were never allocated
    assert message == ("the image is 100000 x 100000 pixels (10000.0 megapixels); the limit is 40 megapixels: "
                       "shrink the image first")
    jpeg = bytearray(encoded(Image.fromarray(RGB), "JPEG"))
    start_of_frame = jpeg.index(b"\xff\xc0")
    jpeg[start_of_frame + 5:start_of_frame + 9] = struct.pack(">HH", 65000, 65000)
    assert "65000 x 65000 pixels" in decode_error(bytes(jpeg))
    bmp = bytearray(encoded(Image.fromarray(RGB), "BMP"))
    bmp[18:26] = struct.pack("<ii", 60000, -60000)  # top-down rows: a negative height
    assert "60000 x 60000 pixels" in decode_error(bytes(bmp))
    assert decode_error(header_only_png(0, 5)) == "the image has no pixels: its header says 0 x 5"


def test_pixel_limit_counts_every_gif_frame():
    frames = [Image.fromarray(np.full((10, 10, 3), value, np.uint8)).convert("P") for value in (0, 255) * 3]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])  # 6 frames of 10 x 10
    assert Image.open(io.BytesIO(data)).n_frames == 6
    np.testing.assert_array_equal(decode(data), np.zeros((10, 10, 3), np.uint8))
    assert decode_error(data, max_pixels=599) == (
        "the frames of the GIF hold 0.0 megapixels together (TensorFlow decodes every frame to return the first); "
        "the limit is 0.000599 megapixels: shrink the image first")
    assert preprocessing.decode_image(tf.constant(data), max_pixels=600).shape == (10, 10, 3)


def test_model_input_is_an_antialiased_rounded_resize():
    checkerboard = (np.indices((96, 96)).sum(axis=0) % 2 * 255).astype(np.uint8)
    image = np.repeat(checkerboard[..., None], 3, -1)
    resized = preprocessing.model_input(image, 48).numpy()
    assert resized.dtype == np.float32 and resized.shape == (48, 48, 3)
    assert np.all(np.abs(resized[2:-2, 2:-2] - 127.5) <= 0.5)  # averaged, not aliased to black or white
    np.testing.assert_array_equal(preprocessing.model_input(RGB, 2).numpy(), RGB)  # same size: unchanged
    np.testing.assert_array_equal(preprocessing.model_input(np.full((1, 9, 3), 77, np.uint8), 48).numpy(),
                                  np.full((48, 48, 3), 77))


def _nearest_reference(labels: np.ndarray, height: int, width: int) -> np.ndarray:
    rows = ((np.arange(height) + 0.5) * labels.shape[0] / height).astype(np.int64)
    cols = ((np.arange(width) + 0.5) * labels.shape[1] / width).astype(np.int64)
    return labels[rows[:, None], cols[None, :]]


def test_class_maps_go_back_by_nearest_neighbour_and_pad_a_batch():
    labels = np.random.default_rng(1).integers(0, 7, (2, 48, 48)).astype(np.int32)
    resized = preprocessing.resize_class_maps(labels, [[70, 100], [1, 333]]).numpy()
    assert resized.shape == (2, 70, 333)
    np.testing.assert_array_equal(resized[0, :, :100], _nearest_reference(labels[0], 70, 100))
    np.testing.assert_array_equal(resized[1, :1], _nearest_reference(labels[1], 1, 333))
    assert np.all(resized[0, :, 100:] == -1) and np.all(resized[1, 1:] == -1)
    np.testing.assert_array_equal(preprocessing.resize_class_maps(labels[:1], [[48, 48]])[0], labels[0])
    palette = np.array([(255, 255, 255), (0, 0, 255)], np.uint8)
    colours = preprocessing.colour_class_maps(tf.constant([[1, 0, -1]]), palette).numpy()
    np.testing.assert_array_equal(colours, [[(0, 0, 255), (255, 255, 255), (0, 0, 0)]])


def test_prepare_images_batches_and_refuses_an_empty_batch():
    data = [encoded(Image.fromarray(RGB)), encoded(Image.fromarray(np.zeros((3, 5), np.uint8)), "BMP")]
    inputs, sizes = tf.function(lambda batch: preprocessing.prepare_images(batch, 24))(tf.constant(data))
    assert inputs.shape == (2, 24, 24, 3)
    np.testing.assert_array_equal(sizes, [[2, 2], [3, 5]])
    np.testing.assert_array_equal(inputs[0], preprocessing.model_input(decode(data[0]), 24))
    with pytest.raises(tf.errors.InvalidArgumentError, match="the request holds no images"):
        preprocessing.prepare_images(tf.constant([], tf.string), 24)


def _fuzz_inputs(rng: np.random.Generator) -> list[bytes]:
    """Random bytes, truncations and byte flips of valid files of every format, and hostile headers."""
    pixels = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    rgba = np.concatenate([pixels, pixels[..., :1]], axis=-1)
    valid = [encoded(Image.fromarray(pixels)), encoded(Image.fromarray(rgba)), encoded(_palette_image()),
             encoded(Image.fromarray(pixels), "JPEG"), encoded(Image.fromarray(pixels).convert("P"), "GIF"),
             encoded(Image.fromarray(pixels), "BMP"), encoded(_palette_image(), "BMP"),
             encoded(Image.fromarray(pixels[..., 0].astype(np.uint16) * 257)),
             tf.io.encode_png(tf.constant(rgba.astype(np.uint16) * 257)).numpy()]
    inputs = list(valid)
    for _ in range(60):
        inputs.append(rng.integers(0, 256, int(rng.integers(0, 200)), dtype=np.uint8).tobytes())
    for data in valid:
        for _ in range(12):
            inputs.append(data[: int(rng.integers(0, len(data)))])
        for _ in range(12):
            damaged = bytearray(data)
            for position in rng.integers(0, len(data), int(rng.integers(1, 4))):
                damaged[position] = int(rng.integers(0, 256))
            inputs.append(bytes(damaged))
    for signature in (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM"):
        for _ in range(6):
            inputs.append(signature + rng.integers(0, 256, int(rng.integers(0, 80)), dtype=np.uint8).tobytes())
    return inputs


def test_fuzz_every_input_decodes_or_raises_invalid_argument():
    @tf.function(input_signature=[tf.TensorSpec([], tf.string)])
    def preprocess(data):
        return preprocessing.model_input(preprocessing.decode_image(data), 48)

    inputs = _fuzz_inputs(np.random.default_rng(2018))
    assert len(inputs) >= 200
    outcomes = {"decoded": 0, "refused": 0}
    for data in inputs:
        try:
            pixels = preprocess(tf.constant(data)).numpy()
        except tf.errors.InvalidArgumentError as error:
            assert error_line(error) and "\n" not in error_line(error)
            outcomes["refused"] += 1
            continue
        assert pixels.shape == (48, 48, 3) and pixels.dtype == np.float32
        assert np.all((pixels >= 0) & (pixels <= 255)) and np.all(pixels == np.round(pixels))
        outcomes["decoded"] += 1
    assert outcomes["decoded"] >= 9 and outcomes["refused"] >= 100, outcomes
