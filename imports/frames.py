"""Camera frames sent by the scanner: checked before they are decoded.

Pillow reads each frame's format and size from its header, lazily: a small file that would
decompress into a huge bitmap (a decompression bomb) is refused before any pixel is decoded.
So is a JPEG that would take many passes over its bitmap (a progressive JPEG, or thousands of
scans in a small file). OpenCV then decodes the frame for the scanner.
"""

import io
from typing import NamedTuple

import cv2
import numpy as np
from django.conf import settings
from PIL import Image, ImageFile, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

# libjpeg decodes each scan of a JPEG over the whole image: 6,000 scans of 42 bytes made a 3840 x 2160
# frame take 5-10 s. A baseline JPEG has one scan per component (the scanner page's has one), and
# libjpeg reads at most 10 components.
MAX_JPEG_SCANS = 10

# Pillow's image classes, opened directly rather than through Image.open: Image.open applies Pillow's
# process-wide decompression-bomb limit (Image.MAX_IMAGE_PIXELS, a warning past 89 M pixels), and the
# frame's limit is SCAN_MAX_FRAME_PIXELS, checked in check_frame with the size in the message.
_OPENERS: dict[str, type[ImageFile.ImageFile]] = {
    "jpeg": JpegImagePlugin.JpegImageFile,
    "png": PngImagePlugin.PngImageFile,
    "webp": WebPImagePlugin.WebPImageFile,
}
# What Pillow raises on a damaged header or a file cut short (opening an image turns its parser's
# IndexError, struct.error... into SyntaxError).
_DAMAGED = (SyntaxError, OSError, ValueError)


class FrameError(Exception):
    """A frame we will not decode; the message says why and what to send instead."""


class Header(NamedTuple):
    """What a frame's header says, read without decoding a pixel."""

    format: str  # "jpeg", "png" or "webp"
    width: int
    height: int
    progressive: bool  # a progressive JPEG: decoded once per scan


def frame_format(data: bytes) -> str:
    """The image format its signature names; only JPEG, PNG and WebP are taken."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise FrameError("The frame is not a JPEG, PNG or WebP image: send a JPEG, as the scanner page does.")


def read_header(data: bytes) -> Header:
    """The frame's format and size, as Pillow reads them from its header.

    Pillow walks a JPEG's markers as libjpeg does (junk and fill bytes skipped, RST without a
    length, segments by their lengths), so the size it reads is the one libjpeg decodes; where the
    two differ (a second frame header, a reserved marker), libjpeg refuses the file. Pillow's
    verify() reads a PNG's chunks up to IEND, each within the file and matching its CRC: OpenCV
    allocates what a chunk declares before it finds the file too short (a 308-byte PNG declaring
    a 4 GB chunk, found by fuzz/fuzz_parsers.py). A WebP's canvas is allocated when Pillow opens
    it, lazily (no memory is touched), after Pillow's own bomb check.
    """
    kind = frame_format(data)
    try:
        with _OPENERS[kind](io.BytesIO(data)) as image:
            header = Header(kind, *image.size, progressive=bool(image.info.get("progressive")))
            image.verify()
    except Image.DecompressionBombError:  # a WebP past Pillow's own limit, refused before its canvas is allocated
        raise _too_many_pixels(f"has more than {2 * (Image.MAX_IMAGE_PIXELS or 0):,}") from None
    except _DAMAGED:
        raise FrameError(
            "The image is damaged: its header cannot be read. Send the frame again, as a JPEG, PNG or WebP."
        ) from None
    return header


def _too_many_pixels(size: str) -> FrameError:
    return FrameError(
        f"The frame {size} pixels; at most {settings.SCAN_MAX_FRAME_PIXELS:,} pixels are accepted. "
        "Send the region around the guide box."
    )


def _check_jpeg_cost(data: bytes, header: Header) -> None:
    """Refuses a progressive JPEG, and any JPEG of more scans than a baseline one has.

    The scan count bounds libjpeg's work (a pass over the image per scan), not the size: it is of
    every start-of-scan marker in the file, which no parser can see differently, since inside a
    scan's data a 0xFF byte is always followed by 0x00 or a marker."""
    if header.progressive:
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


def check_frame(data: bytes) -> Header:
    """The frame's header if it is cheap and safe to decode, or FrameError saying why not."""
    if len(data) > settings.SCAN_MAX_FRAME_BYTES:
        raise FrameError(
            f"The frame is {len(data) / 1_000_000:.1f} MB; the limit is {settings.SCAN_MAX_FRAME_BYTES / 1_000_000:.0f} MB. "
            "Send the region around the guide box as JPEG."
        )
    header = read_header(data)
    if header.width * header.height > settings.SCAN_MAX_FRAME_PIXELS:  # Pillow refuses a size of 0
        raise _too_many_pixels(f"is {header.width} x {header.height}")
    _check_shape(header)
    if header.format == "jpeg":
        _check_jpeg_cost(data, header)
    return header


# A camera's frame, or the region around the scanner's guide box (about 2:1), is no thinner than this:
# a sliver of a few pixels holds no barcode, and OpenCV cannot scale it to the reader's size.
MIN_FRAME_SIDE = 32
MAX_FRAME_ASPECT = 8


def _check_shape(header: Header) -> None:
    short, long = sorted((header.width, header.height))
    if short < MIN_FRAME_SIDE or long > MAX_FRAME_ASPECT * short:
        raise FrameError(
            f"The frame is {header.width} x {header.height} pixels: a frame must be at least {MIN_FRAME_SIDE} pixels "
            f"on each side and at most {MAX_FRAME_ASPECT} times as long as it is wide. Send the region around the "
            "guide box, as the scanner page does."
        )


def load_frame(data: bytes) -> np.ndarray:
    """The frame as a grayscale image, or FrameError saying why not."""
    check_frame(data)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FrameError("The image is damaged and cannot be decoded. Send the frame again.")
    return image
