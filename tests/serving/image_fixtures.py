"""Image bytes the serving and command-line tests share: encoded Pillow images and hostile PNG headers."""

import io
import struct
import zlib

from PIL import Image


def encoded(image: Image.Image, image_format: str = "PNG", **options) -> bytes:
    """`image` saved in `image_format` (Pillow's save options passed on), as bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def header_only_png(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` × `height` RGB pixels but that holds no pixel data (a few bytes): a
    decompression bomb, had the reader allocated what the header says."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")
