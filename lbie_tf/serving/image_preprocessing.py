"""The one image preprocessing of `lbie-edit` and of the exported `serving_default` signature, in TF ops.

    image = decode_image(data)                          # encoded bytes -> uint8 [H, W, 3] RGB
    pixels = model_input(image, 48)                     # -> float32 [48, 48, 3]: what the model sees
    inputs, sizes = prepare_images(image_bytes, 48)     # string [batch] -> [batch, 48, 48, 3], int32 [batch, 2]
    class_maps = resize_class_maps(predicted, sizes)    # int32 [batch, 48, 48] -> [batch, H, W] (-1 padded)

`lbie-edit` calls `decode_image` and `model_input` on a file's bytes; the serving graph calls them (through
`prepare_images`) on each request's bytes; both map the predicted class map back with `resize_class_maps`. So
a request and the command line give the same class map by construction.

Formats are recognised from their first bytes, not a file name:

| input | becomes |
|---|---|
| PNG RGB, grey (1, 2, 4 or 8 bits) | RGB; grey repeated in R, G and B |
| PNG palette | the palette colours; a palette with transparency (tRNS) is composited as below |
| PNG RGBA, grey + alpha | composited onto white: round((c · a + 255 · (255 − a)) / 255) per channel |
| PNG 16-bit | every sample (alpha too) reduced to 8 bits, round(v / 257), then as above |
| PNG grey or RGB with a tRNS colour key | the key is ignored (TensorFlow's PNG decoder does not expand it) |
| JPEG grey, RGB, CMYK | RGB (TensorFlow's JPEG decoder); a truncated JPEG is refused |
| GIF | the first frame, RGB; GIF transparency is not applied (those pixels keep their palette colour) |
| BMP 24- or 32-bit, uncompressed | RGB; the fourth byte of 32-bit pixels is ignored, as most readers do |
| BMP 8-bit | the colours of its colour table |
| anything else (TIFF, WebP, BMP of 1, 4 or 16 bits, RLE BMP, ...) | refused |

Limits: width × height of the header at most `limits.MAX_PIXELS` (a GIF: the pixels of all its frames), checked
before any pixel is decoded, from the PNG IHDR chunk, the JPEG frame header (`tf.io.extract_jpeg_shape`), the
GIF screen and image descriptors and the BMP info header.

EXIF orientation: `decode_image(data, orientation)` turns the image upright for an EXIF orientation tag
(1..8; other values mean 1). `lbie-edit` passes the file's tag; the serving graph reads no EXIF (it passes 1),
so a client applies the orientation before sending, e.g. with `PIL.ImageOps.exif_transpose`.

Resizing: `model_input` squashes the image (no crop) to the model's square with `tf.image.resize(...,
"bilinear", antialias=True)` and rounds to integers 0..255; `resize_class_maps` maps back by nearest
neighbour: output pixel (i, j) of an H × W image takes the model cell (⌊(2i + 1) · S / 2H⌋, ⌊(2j + 1) · S / 2W⌋).

Every failure is a `tf.errors.InvalidArgumentError` whose message says what is wrong (`graph_checks.error_line`
reads it as one line).
"""

from __future__ import annotations

import tensorflow as tf

from lbie_tf.serving.graph_checks import in_order
from lbie_tf.serving.limits import FORMATS, MAX_PIXELS

PNG, JPEG, GIF, BMP = (FORMATS.index(name) for name in ("PNG", "JPEG", "GIF", "BMP"))
SIGNATURES = ((PNG, b"\x89PNG\r\n\x1a\n"), (JPEG, b"\xff\xd8\xff"), (GIF, b"GIF87a"), (GIF, b"GIF89a"), (BMP, b"BM"))
MAX_GIF_BLOCKS = 200_000  # GIF blocks and data sub-blocks read to count the frames' pixels (about 2 s on a CPU)
_HEAD_BYTES = 64  # the header fields read below all lie in the first 64 bytes
_BMP_INFO_HEADER_BYTES = 40  # BITMAPINFOHEADER; the older 12-byte OS/2 header is refused


def decode_image(data, orientation=1, max_pixels: int = MAX_PIXELS) -> tf.Tensor:
    """Encoded image bytes → upright RGB pixels (see the module docstring for formats, modes and limits).

    Args:
        data: string scalar, the bytes of a PNG, JPEG, GIF or BMP file.
        orientation: int scalar, the EXIF orientation to apply (1 = as stored).
        max_pixels: refuse images with more pixels than this, read from the header before decoding.

    Returns:
        uint8 `[height, width, 3]`.

    Raises:
        tf.errors.InvalidArgumentError: empty, unknown format, truncated or corrupt, or too many pixels.
    """
    data = tf.convert_to_tensor(data, tf.string)
    head = _bytes(data, 0, _HEAD_BYTES)
    kind = _format(head)
    with tf.control_dependencies(in_order([
        (tf.strings.length(data) > 0, "the image is empty (0 bytes)"),
        (kind >= 0, "the bytes are not a PNG, JPEG, GIF or BMP image (TIFF, WebP and other formats are not "
                    "read: convert the image to PNG)"),
    ])):
        height, width, pixels = tf.switch_case(tf.maximum(kind, 0), [
            lambda: _png_size(data, head), lambda: _jpeg_size(data), lambda: _gif_size(data, head, max_pixels),
            lambda: _bmp_size(data, head)])
    with tf.control_dependencies(in_order([
        (tf.logical_and(height > 0, width > 0), tf.strings.join([
            "the image has no pixels: its header says ", tf.strings.as_string(width), " x ",
            tf.strings.as_string(height)])),
        (pixels <= max_pixels, _too_many_pixels(kind, height, width, pixels, max_pixels)),
    ])):
        image = tf.switch_case(tf.maximum(kind, 0), [
            lambda: _decode_png(data, head), lambda: tf.io.decode_jpeg(data, channels=3),
            lambda: tf.io.decode_image(data, channels=3, expand_animations=False), lambda: _decode_bmp(data, head)])
    return orient(tf.ensure_shape(image, [None, None, 3]), orientation)


def orient(image: tf.Tensor, orientation) -> tf.Tensor:
    """`image` `[H, W, C]` turned as an EXIF orientation tag says (the transposes of `PIL.ImageOps.exif_transpose`):
    2 mirror, 3 rotate 180°, 4 flip, 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90°
    counter-clockwise; 1 and any other value leave it as it is."""
    orientation = tf.cast(orientation, tf.int32)
    index = tf.where(tf.logical_and(orientation >= 1, orientation <= 8), orientation - 1, 0)
    return tf.switch_case(index, [
        lambda: image,
        lambda: image[:, ::-1],
        lambda: image[::-1, ::-1],
        lambda: image[::-1],
        lambda: tf.transpose(image, [1, 0, 2]),
        lambda: tf.transpose(image[::-1], [1, 0, 2]),
        lambda: tf.transpose(image[::-1, ::-1], [1, 0, 2]),
        lambda: tf.transpose(image[:, ::-1], [1, 0, 2]),
    ])


def model_input(image: tf.Tensor, size: int) -> tf.Tensor:
    """RGB pixels squashed to the model's square input.

    Args:
        image: uint8 `[H, W, 3]`.
        size: the model's input side S.

    Returns:
        float32 `[S, S, 3]`, integers 0..255 (antialiased bilinear resize, rounded).
    """
    resized = tf.image.resize(tf.cast(image, tf.float32), [size, size], method="bilinear", antialias=True)
    return tf.clip_by_value(tf.round(resized), 0.0, 255.0)


def prepare_images(image_bytes: tf.Tensor, size: int, max_pixels: int = MAX_PIXELS,
                   pixels=None) -> tuple[tf.Tensor, tf.Tensor]:
    """A batch of encoded images → model inputs and each image's size (the serving graph's preprocessing).

    Args:
        image_bytes: string `[batch]`, at least one image.
        size: the model's input side S.
        max_pixels: the per-image pixel limit of `decode_image`.
        pixels: uint8 `[H, W, 3]` → float32 `[S, S, 3]`, how a decoded image becomes the model's input
            (default `model_input` at `size`; a Flowers colorizer's is `colorizer_inputs.FlowersInputs.pixels`).

    Returns:
        `(inputs, image_sizes)`: float32 `[batch, S, S, 3]` and int32 `[batch, 2]` (height, width).
    """
    pixels = pixels or (lambda image: model_input(image, size))

    def one(data):
        image = decode_image(data, 1, max_pixels)
        return pixels(image), tf.shape(image)[:2]

    with tf.control_dependencies(in_order([(tf.size(image_bytes) > 0, "the request holds no images")])):
        image_bytes = tf.identity(image_bytes)
    return tf.map_fn(one, image_bytes, fn_output_signature=(tf.TensorSpec([size, size, 3], tf.float32),
                                                            tf.TensorSpec([2], tf.int32)))


def resize_class_maps(class_maps: tf.Tensor, image_sizes: tf.Tensor) -> tf.Tensor:
    """Model-sized class maps → each image's own size, nearest neighbour (see the module docstring).

    Args:
        class_maps: int `[batch, S, S]`.
        image_sizes: int32 `[batch, 2]`, (height, width) of each image.

    Returns:
        int32 `[batch, max height, max width]`; image b fills `[:height_b, :width_b]`, the rest is -1.
    """
    class_maps = tf.cast(class_maps, tf.int32)
    image_sizes = tf.cast(image_sizes, tf.int64)
    rows = _nearest(image_sizes[:, 0], tf.shape(class_maps, out_type=tf.int64)[1])
    cols = _nearest(image_sizes[:, 1], tf.shape(class_maps, out_type=tf.int64)[2])
    resized = tf.gather(tf.gather(class_maps, tf.maximum(rows, 0), axis=1, batch_dims=1), tf.maximum(cols, 0),
                        axis=2, batch_dims=1)
    inside = tf.logical_and((rows >= 0)[:, :, None], (cols >= 0)[:, None, :])
    return tf.where(inside, resized, -1)


def colour_class_maps(class_maps: tf.Tensor, palette) -> tf.Tensor:
    """int `[..., H, W]` class maps (-1 = padding) → uint8 `[..., H, W, 3]` in `palette` colours (padding black)."""
    colours = tf.gather(tf.constant(palette, tf.uint8), tf.maximum(class_maps, 0))
    return tf.where((class_maps >= 0)[..., None], colours, tf.zeros_like(colours))


def _nearest(lengths: tf.Tensor, model_length: tf.Tensor) -> tf.Tensor:
    """int64 `[batch, max length]`: the model cell ⌊(2i + 1) · S / 2L⌋ of each output index i < L, -1 beyond L."""
    index = tf.range(tf.reduce_max(lengths))[None, :]
    lengths = lengths[:, None]
    cells = tf.minimum((2 * index + 1) * model_length // (2 * tf.maximum(lengths, 1)), model_length - 1)
    return tf.where(index < lengths, cells, -1)


def _bytes(data: tf.Tensor, start, length: int) -> tf.Tensor:
    """int64 `[length]`: `data[start:start + length]` as numbers, zero-padded past the end of `data`."""
    piece = tf.strings.substr(data, tf.minimum(tf.cast(start, tf.int32), tf.strings.length(data)), length)
    padded = tf.strings.join([piece, b"\0" * length])
    return tf.cast(tf.io.decode_raw(tf.strings.substr(padded, 0, length), tf.uint8), tf.int64)


def _number(head: tf.Tensor, start: int, length: int, big_endian: bool = False) -> tf.Tensor:
    """The unsigned integer of `head[start:start + length]` (int64)."""
    weights = [256 ** i for i in range(length)]
    return tf.reduce_sum(head[start:start + length] * tf.constant(weights[::-1] if big_endian else weights, tf.int64))


def _signed32(value: tf.Tensor) -> tf.Tensor:
    return tf.where(value >= 2 ** 31, value - 2 ** 32, value)


def _format(head: tf.Tensor) -> tf.Tensor:
    """int32 scalar: PNG, JPEG, GIF or BMP from the first bytes, -1 for anything else."""
    kind = tf.constant(-1)
    for index, signature in SIGNATURES:
        matches = tf.reduce_all(tf.equal(head[:len(signature)], tf.constant(list(signature), tf.int64)))
        kind = tf.where(matches, index, kind)
    return kind


def _png_size(data: tf.Tensor, head: tf.Tensor) -> tuple:
    with tf.control_dependencies(in_order([
        (tf.logical_and(tf.strings.length(data) >= 33,
                        tf.reduce_all(tf.equal(head[12:16], tf.constant(list(b"IHDR"), tf.int64)))),
         "the PNG is truncated or corrupt: it has no IHDR header"),
    ])):
        height, width = _number(head, 20, 4, big_endian=True), _number(head, 16, 4, big_endian=True)
    return height, width, height * width


def _jpeg_size(data: tf.Tensor) -> tuple:
    shape = tf.io.extract_jpeg_shape(data, output_type=tf.int64)
    return shape[0], shape[1], shape[0] * shape[1]


def _bmp_size(data: tf.Tensor, head: tf.Tensor) -> tuple:
    bits, compression = _number(head, 28, 2), _number(head, 30, 4)
    with tf.control_dependencies(in_order([
        (tf.logical_and(tf.strings.length(data) >= 54, _number(head, 14, 4) >= _BMP_INFO_HEADER_BYTES),
         "the BMP is truncated or has an OS/2 header: save it as PNG"),
        (tf.reduce_any(tf.equal(bits, [8, 24, 32])), tf.strings.join([
            "BMP images of ", tf.strings.as_string(bits), " bits per pixel are not read (8, 24 or 32 are): "
            "save it as PNG"])),
        (tf.logical_or(tf.equal(compression, 0), tf.logical_and(tf.equal(compression, 3), tf.equal(bits, 32))),
         "compressed BMP images are not read: save it as PNG"),
    ])):
        height, width = tf.abs(_signed32(_number(head, 22, 4))), _signed32(_number(head, 18, 4))
    return height, width, height * width


def _gif_size(data: tf.Tensor, head: tf.Tensor, max_pixels: int) -> tuple:
    """Screen height and width, and the pixels of all frames, read by walking the GIF's blocks."""
    with tf.control_dependencies(in_order([(tf.strings.length(data) >= 13, "the GIF is truncated")])):
        height, width = _number(head, 8, 2), _number(head, 6, 2)
    return height, width, tf.maximum(_gif_frame_pixels(data, head, max_pixels), height * width)


def _gif_frame_pixels(data: tf.Tensor, head: tf.Tensor, max_pixels: int) -> tf.Tensor:
    """int64: width × height summed over the GIF's image descriptors; the walk stops past `max_pixels`."""
    stream = tf.cast(tf.io.decode_raw(data, tf.uint8), tf.int64)
    size = tf.size(stream, out_type=tf.int64)

    def byte(position):
        return tf.gather(stream, tf.minimum(position, size - 1))

    def colour_table(packed):  # bytes of a colour table announced by a packed-fields byte
        return tf.where(packed >= 128, 3 * tf.bitwise.left_shift(tf.constant(2, tf.int64), packed % 8), 0)

    def walk(position, in_sub_blocks, pixels, blocks):
        value = byte(position)
        image = tf.equal(value, 0x2C)
        frame_pixels = (byte(position + 5) + 256 * byte(position + 6)) * (byte(position + 7) + 256 * byte(position + 8))
        next_block = tf.where(image, position + 11 + colour_table(byte(position + 9)),
                              tf.where(tf.equal(value, 0x21), position + 2, size))  # else: trailer or garbage
        return (tf.where(in_sub_blocks, position + 1 + value, next_block),
                tf.logical_or(tf.logical_and(in_sub_blocks, value > 0), tf.logical_not(in_sub_blocks)),
                pixels + tf.where(tf.logical_and(image, tf.logical_not(in_sub_blocks)), frame_pixels, 0),
                blocks + 1)

    def more(position, in_sub_blocks, pixels, blocks):
        return tf.logical_and(tf.logical_and(position < size, pixels <= max_pixels), blocks < MAX_GIF_BLOCKS)

    _, _, pixels, blocks = tf.while_loop(more, walk, (13 + colour_table(head[10]), tf.constant(False),
                                                      tf.constant(0, tf.int64), tf.constant(0)))
    with tf.control_dependencies(in_order([
        (blocks < MAX_GIF_BLOCKS, f"the GIF has more than {MAX_GIF_BLOCKS:,} blocks: save it as PNG"),
    ])):
        return tf.identity(pixels)


def _too_many_pixels(kind, height, width, pixels, max_pixels: int) -> tf.Tensor:
    """The message for an image over the limit (a GIF: its frames together)."""
    megapixels = tf.strings.as_string(tf.cast(pixels, tf.float64) / 1e6, precision=1)
    limit = f"; the limit is {max_pixels / 1e6:g} megapixels: shrink the image first"
    return tf.where(tf.logical_and(tf.equal(kind, GIF), pixels > height * width),
                    tf.strings.join(["the frames of the GIF hold ", megapixels, " megapixels together (TensorFlow "
                                     "decodes every frame to return the first)", limit]),
                    tf.strings.join(["the image is ", tf.strings.as_string(width), " x ",
                                     tf.strings.as_string(height), " pixels (", megapixels, " megapixels)", limit]))


def _decode_png(data: tf.Tensor, head: tf.Tensor) -> tf.Tensor:
    sixteen_bit = tf.equal(head[24], 16)
    samples = tf.cond(sixteen_bit, lambda: _to_eight_bits(tf.io.decode_png(data, dtype=tf.uint16)),
                      lambda: tf.io.decode_png(data))
    return _rgb_on_white(samples)


def _to_eight_bits(samples: tf.Tensor) -> tf.Tensor:
    """uint16 → uint8, round(v / 257)."""
    return tf.cast((2 * tf.cast(samples, tf.int32) + 257) // 514, tf.uint8)


def _rgb_on_white(samples: tf.Tensor) -> tf.Tensor:
    """uint8 `[H, W, C]` with C = 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) → uint8 `[H, W, 3]`."""
    channels = tf.shape(samples)[-1]
    has_alpha = tf.equal(channels % 2, 0)
    colour = tf.gather(samples, tf.minimum(tf.range(3), channels - 1 - tf.cast(has_alpha, tf.int32)), axis=-1)

    def composite():
        alpha = tf.cast(samples[..., -1:], tf.uint16)
        blended = tf.cast(colour, tf.uint16) * alpha + 255 * (255 - alpha) + 127  # at most 65,152: no overflow
        return tf.cast(blended // 255, tf.uint8)

    return tf.cond(has_alpha, composite, lambda: colour)


def _decode_bmp(data: tf.Tensor, head: tf.Tensor) -> tf.Tensor:
    return tf.cond(tf.equal(_number(head, 28, 2), 8), lambda: _decode_bmp_palette(data, head),
                   lambda: tf.io.decode_bmp(data, channels=3))


def _decode_bmp_palette(data: tf.Tensor, head: tf.Tensor) -> tf.Tensor:
    """An 8-bit BMP: colour indices looked up in its colour table (blue, green, red, 0 per entry)."""
    used = _number(head, 46, 4)
    entries = tf.where(tf.logical_and(used > 0, used <= 256), used, 256)
    start = 14 + _number(head, 14, 4)
    with tf.control_dependencies(in_order([
        (tf.cast(tf.strings.length(data), tf.int64) >= start + 4 * entries, "the BMP's colour table is truncated"),
    ])):
        table = tf.reshape(tf.io.decode_raw(tf.strings.substr(data, tf.cast(start, tf.int32),
                                                              tf.cast(4 * entries, tf.int32)), tf.uint8), [-1, 4])
    indices = tf.cast(tf.io.decode_bmp(data, channels=0)[..., 0], tf.int64)
    with tf.control_dependencies(in_order([
        (tf.reduce_all(indices < entries), "a pixel of the BMP names a colour beyond its colour table"),
    ])):
        return tf.gather(tf.reverse(table[:, :3], axis=[1]), indices)
