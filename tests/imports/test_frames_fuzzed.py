"""The scanner's frames, fuzzed: any bytes get a decoded image no bigger than its header says, or a
FrameError; through the endpoint, a 204, a queue item or a 400/413, never a 500. Hostile frames that
once decoded into gigabytes are refused from their headers, with the memory to prove it."""

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from imports.frames import FrameError, load_frame, read_header

ROOT = Path(__file__).resolve().parents[2]
CARD = np.full((48, 64), 200, dtype=np.uint8)
CARD[10:38, 8:56:4] = 0  # some bars: the decoders have something to do
SEEDS = [cv2.imencode(extension, CARD)[1].tobytes() for extension in (".jpg", ".png", ".webp")]
MAGIC = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"RIFF\x00\x00\x00\x00WEBPVP8X"]


@st.composite
def mutated_images(draw) -> bytes:
    """A real small JPEG, PNG or WebP with bytes flipped, inserted, deleted or cut off."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "cut"]))
        at = draw(st.integers(0, len(data) - 1)) if data else 0
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[at] = draw(st.sampled_from([0x00, 0xFF, 0x7F, 0x80, 0xD0, 0xC0, 0xDA]))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 32))]
        else:
            del data[at:]
    return bytes(data)


any_frame = st.one_of(
    mutated_images(),
    st.builds(lambda magic, rest: magic + rest, st.sampled_from(MAGIC), st.binary(max_size=2048)),
    st.binary(max_size=512),
)


def check(data: bytes) -> None:
    try:
        image = load_frame(data)
    except FrameError as error:
        assert str(error)
        return
    header = read_header(data)
    assert image.shape[0] * image.shape[1] <= header.width * header.height


@settings(max_examples=400, deadline=None)
@given(any_frame)
def test_any_frame_decodes_within_its_header_or_is_refused(data):
    check(data)


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=any_frame)
def test_the_endpoint_answers_any_frame_without_a_500(owner_client, product, data):
    cache.clear()  # the per-user frame rate limit
    url = reverse("import_scan", args=[product.slug])
    response = owner_client.post(url, {"frame": SimpleUploadedFile("frame.jpg", data)})
    assert response.status_code in (200, 204, 400), response.status_code
    if response.status_code == 400:
        assert response.content


# --- hostile frames, each small, each declaring or hiding a huge bitmap ---


def _segments(jpeg: bytes) -> list[tuple[int, bytes]]:
    position, found = 2, []
    while True:
        marker = jpeg[position + 1]
        length = struct.unpack(">H", jpeg[position + 2 : position + 4])[0]
        found.append((marker, jpeg[position : position + 2 + length]))
        if marker == 0xDA:
            found.append((-1, jpeg[position + 2 + length :]))
            return found
        position += 2 + length


def jpeg_hiding_a_huge_frame(width: int, height: int) -> bytes:
    """libjpeg reads RST0 as a marker without a length and then a huge frame header; a walk over
    segment lengths takes FF C0 for RST0's length and lands on a small frame header, hidden from
    libjpeg inside a comment. Before the fix: 66 KB decoding into 20000 x 20000, 760 MB."""
    segments = _segments(cv2.imencode(".jpg", CARD)[1].tobytes())
    sof = next(segment for marker, segment in segments if marker == 0xC0)
    huge = bytearray(sof)
    struct.pack_into(">HH", huge, 5, height, width)
    out = bytearray(b"\xff\xd8\xff\xd0") + huge
    land = 4 + 0xFFC0
    comment = land + len(sof) + 16 - (len(out) + 2)
    out += b"\xff\xfe" + struct.pack(">H", comment)
    out += b"\x00" * (land - len(out)) + sof + b"\x00" * 16
    for marker, segment in segments:
        if marker != 0xC0:
            out += segment
    return bytes(out)


def jpeg_declaring(width: int, height: int) -> bytes:
    data = bytearray(cv2.imencode(".jpg", CARD)[1].tobytes())
    at = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1_000_000, 9)  # rows of zeros: a megabyte in a kilobyte
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def jpeg_with_two_frame_headers(width: int, height: int) -> bytes:
    """A huge frame header, then the real one: Pillow reads the last, libjpeg refuses the second."""
    data = cv2.imencode(".jpg", CARD)[1].tobytes()
    at = data.index(b"\xff\xc0")
    length = struct.unpack(">H", data[at + 2 : at + 4])[0]
    return data[:at] + jpeg_declaring(width, height)[at : at + 2 + length] + data[at:]


def png_with_two_headers(width: int, height: int) -> bytes:
    """A huge IHDR, then a small one: Pillow reads the last, libpng refuses the second."""
    small = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 48, 8, 0, 0, 0, 0))
    huge = png_declaring(width, height)
    return huge[:33] + small + huge[33:]


def png_with_a_chunk_longer_than_the_file() -> bytes:
    """What the atheris harness found: OpenCV 5 allocated the 4 GB this chunk declares (14 s)."""
    ihdr = struct.pack(">IIBBBBB", 160, 120, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + struct.pack(">I", 0xFFDBF749) + b"IDAT" + b"\x78\x01" * 100


def webp_declaring(width: int, height: int) -> bytes:
    vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_of(width: int, height: int) -> bytes:
    """A real WebP of one colour, under a KB: Pillow opens it (its canvas allocated, untouched)."""
    out = io.BytesIO()
    Image.new("L", (width, height), 0).save(out, "WEBP", lossless=True)
    return out.getvalue()


def jpeg_of_many_scans(scans: int, *, progressive: bool = True) -> bytes:
    """A 3840 x 2160 progressive JPEG with `scans` more scans before its end, each 42 bytes and a
    pass over the whole image for libjpeg: 6,000 of them made cv2.imdecode take 5-10 s, not 0.1 s.
    Not progressive: the same scans under a baseline frame header, which Pillow calls baseline."""
    out = io.BytesIO()
    Image.new("L", (3840, 2160), 128).save(out, "JPEG", progressive=True)
    data = out.getvalue()
    ac_scan = b"\xff\xda" + data.split(b"\xff\xda")[2]  # coefficients 1-5, and the next Huffman table
    data = data[:-2] + ac_scan * scans + data[-2:]
    return data if progressive else data.replace(b"\xff\xc2", b"\xff\xc0", 1)


HOSTILE = {
    "jpeg hiding 20000 x 20000": jpeg_hiding_a_huge_frame(20_000, 20_000),
    "jpeg 65500 x 65500": jpeg_declaring(65_500, 65_500),
    "jpeg with fill bytes": b"\xff\xd8\xff\xff\xff" + jpeg_declaring(30_000, 30_000)[3:],
    "jpeg with a length under 2": b"\xff\xd8\xff\xe0\x00\x00" + jpeg_declaring(30_000, 30_000)[2:],
    "png 100000 x 100000": png_declaring(100_000, 100_000),
    "png with a 4 GB chunk": png_with_a_chunk_longer_than_the_file(),
    "webp 16384 x 16384": webp_declaring(16_384, 16_384),
    "webp 4000 x 4000, a real image": webp_of(4_000, 4_000),
    "jpeg with two frame headers, 20000 x 20000 first": jpeg_with_two_frame_headers(20_000, 20_000),
    "png with two headers, 100000 x 100000 first": png_with_two_headers(100_000, 100_000),
    "progressive jpeg of 6,000 scans": jpeg_of_many_scans(6_000),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_frames_are_refused_at_the_endpoint(owner_client, product, name):
    data = HOSTILE[name]
    assert len(data) < 300_000
    response = owner_client.post(reverse("import_scan", args=[product.slug]), {"frame": SimpleUploadedFile("f", data)})
    assert response.status_code == 400
    assert any(reason in response.content.decode() for reason in ("pixels are accepted", "damaged", "progressive"))


MEASURE = """
import json, os, resource, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
os.environ.setdefault("SECRET_KEY", "measuring-only")
import django
django.setup()
from imports.frames import FrameError, load_frame
load_frame(open(sys.argv[1], "rb").read())  # warm up: the decoders' own allocations
figures = {}
for path in sys.argv[2:]:
    before, started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, time.monotonic()
    try:
        load_frame(open(path, "rb").read())
        verdict = "decoded"
    except FrameError as error:
        verdict = str(error)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    figures[os.path.basename(path)] = [verdict, grown // 1024, round(time.monotonic() - started, 2)]
print(json.dumps(figures))
"""


def test_hostile_frames_cost_no_memory_and_no_time(tmp_path):
    """In a process of its own: the peak resident memory (ru_maxrss) grows by under 20 MB and
    each frame is refused in under half a second."""
    paths = []
    for number, data in enumerate(HOSTILE.values()):
        paths.append(tmp_path / f"{number}")
        paths[-1].write_bytes(data)
    warm = tmp_path / "warm.jpg"
    warm.write_bytes(SEEDS[0])
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(warm), *map(str, paths)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for name, (verdict, grown_mb, seconds) in zip(HOSTILE, figures.values(), strict=True):
        assert verdict != "decoded", name
        assert grown_mb < 20 and seconds < 0.5, (name, grown_mb, seconds)
