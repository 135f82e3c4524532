"""Camera frames sent by the scanner: checked before they are decoded.

The size of an image is read from its header, so a small file that would
decompress into a huge bitmap (a decompression bomb) is refused before any
pixel is decoded. So is a JPEG that would take many passes over its bitmap
(a progressive JPEG, or thousands of scans in a small file).
"""

import io
import struct

import cv2
import numpy as np
from django.conf import settings
from PIL import Image, UnidentifiedImageError

# libjpeg decodes each scan of a JPEG over the whole image: 6,000 scans of 42 bytes made a 3840 x 2160
# frame take 5-10 s. A baseline JPEG has one scan per component (the scanner page's has one), and
# libjpeg reads at most 10 components.
MAX_JPEG_SCANS = 10


class FrameError(Exception):
    """A frame we will not decode; the message says why and what to send instead."""


def frame_format(data: bytes) -> str:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise FrameError("The frame is not a JPEG, PNG or WebP image.")


def image_size(data: bytes, kind: str) -> tuple[int, int]:
    """(width, height) from the image's header, without decoding it."""
    try:
        if kind == "png":
            return _png_size(data)
        if kind == "webp":
            return _webp_size(data)
        return _jpeg_size(data)
    except (struct.error, IndexError, ValueError):
        raise FrameError("The image is damaged: its header cannot be read.") from None


def _png_size(data: bytes) -> tuple[int, int]:
    """The size in the IHDR chunk, which libpng requires first; and every chunk must fit in the file.

    OpenCV 5 reads each chunk into a buffer of the length the chunk declares, before it finds the
    file too short: a 308-byte PNG declaring a 4 GB chunk made it allocate 4 GB (found by
    fuzz/fuzz_parsers.py). So a chunk longer than what is left of the file, or a file that ends
    before its IEND chunk, is damaged.
    """
    if data[12:16] != b"IHDR":
        raise ValueError("no IHDR chunk first")
    width, height = struct.unpack(">II", data[16:24])
    position = 8
    while True:
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        position += 12 + length  # length, type, data, CRC
        if position > len(data):
            raise ValueError("a chunk longer than the file")
        if kind == b"IEND":
            return width, height


# Segments that may come before the frame header, each skipped by its length by libjpeg as by
# us: APPn (EXIF...), COM, DQT, DHT, DAC, DRI.
_JPEG_SKIPPED = frozenset([*range(0xE0, 0xF0), 0xFE, 0xDB, 0xC4, 0xCC, 0xDD])


def _jpeg_size(data: bytes) -> tuple[int, int]:
    """The size in the first start-of-frame header, found the way libjpeg finds it.

    Anything libjpeg would read differently from a plain walk over segment lengths is refused:
    a marker without a length (RST, TEM), bytes between segments, an unknown marker, a length
    under 2. Otherwise a file could show this walk a small frame header while libjpeg decodes
    another, huge one (a 66 KB file decoding into 20000 x 20000 pixels, 760 MB).
    """
    position = 2
    while position + 9 < len(data):
        if data[position] != 0xFF:
            raise ValueError("bytes between segments")
        while data[position + 1] == 0xFF:  # fill bytes before a marker
            position += 1
        marker = data[position + 1]
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        # Start-of-frame markers carry the size; C4, C8 and CC are other tables.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        if marker not in _JPEG_SKIPPED or length < 2:
            raise ValueError("a marker libjpeg would not skip by its length")
        position += 2 + length
    raise ValueError("no frame header")


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    raise ValueError("unknown WebP chunk")


def _check_jpeg_scans(data: bytes) -> None:
    """Refuses a progressive JPEG (Pillow reads its frame header), and any JPEG of more scans than
    a baseline one has. The count is of every start-of-scan marker in the file, which no parser can
    see differently: inside a scan's data a 0xFF byte is always followed by 0x00 or a marker."""
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            progressive = bool(image.info.get("progressive"))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError, struct.error):
        raise FrameError("The image is damaged: its header cannot be read.") from None
    if progressive:
        raise FrameError(
            "The frame is a progressive JPEG, which is decoded once per scan: send a baseline JPEG "
            "(the scanner page does), a PNG or a WebP."
        )
    scans = data.count(b"\xff\xda")
    if scans > MAX_JPEG_SCANS:
        raise FrameError(
            f"The frame holds {scans:,} JPEG scans; at most {MAX_JPEG_SCANS} are accepted. "
            "Send a baseline JPEG, as the scanner page does."
        )


def load_frame(data: bytes) -> np.ndarray:
    """The frame as a grayscale image, or FrameError saying why not."""
    if len(data) > settings.SCAN_MAX_FRAME_BYTES:
        raise FrameError(
            f"The frame is {len(data) / 1_000_000:.1f} MB; the limit is {settings.SCAN_MAX_FRAME_BYTES / 1_000_000:.0f} MB. "
            "Send the region around the guide box as JPEG."
        )
    kind = frame_format(data)
    width, height = image_size(data, kind)
    if width * height > settings.SCAN_MAX_FRAME_PIXELS or width == 0 or height == 0:
        raise FrameError(
            f"The frame is {width} x {height} pixels; at most {settings.SCAN_MAX_FRAME_PIXELS:,} pixels are accepted."
        )
    if kind == "jpeg":
        _check_jpeg_scans(data)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FrameError("The image is damaged and cannot be decoded.")
    return image
