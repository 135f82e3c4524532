"""The frame endpoint of the webcam scanner: only sane images are decoded, bad ones get 400, never 500."""

import io
import struct
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from imports.frames import FrameError, load_frame, read_header
from sims.iccid import luhn_check_digit
from tests.imports.test_frames_fuzzed import jpeg_of_many_scans

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from cards import card_image, make_cause_frame


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()


def jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image)[1].tobytes()


def send(client, product, data: bytes, name: str = "frame.jpg"):
    return client.post(reverse("import_scan", args=[product.slug]), {"frame": SimpleUploadedFile(name, data)})


def load_frame_error(data: bytes) -> str:
    with pytest.raises(FrameError) as refused:
        load_frame(data)
    return str(refused.value)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size: enough for a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b"")


def test_a_frame_without_a_barcode_answers_with_advice(owner_client, product):
    blank = np.full((480, 640), 200, dtype=np.uint8)
    response = send(owner_client, product, jpeg(blank))
    assert response.status_code == 200
    assert response.json() == {
        "iccid": None,
        "item": None,
        "advice": {"cause": "none", "says": "Point the camera at the barcode on the card."},
    }


def test_a_frame_in_the_dark_is_told_to_find_more_light(owner_client, product):
    frame = make_cause_frame(np.random.default_rng(1), "dark", (1280, 720))
    advice = send(owner_client, product, frame.jpeg).json()["advice"]
    assert advice == {"cause": "dark", "says": "More light: the card is too dark to read."}


def test_a_product_barcode_is_answered_with_what_to_scan_instead(owner_client, product):
    frame = make_cause_frame(np.random.default_rng(1), "product", (1280, 720))
    says = send(owner_client, product, frame.jpeg).json()["advice"]["says"]
    assert says == "That is a product barcode (EAN-13), not the SIM's ICCID: scan the barcode labelled ICCID."


def test_a_read_iccid_comes_with_its_queue_item_and_no_advice(owner_client, product):
    iccid = "894410" + "123456789012" + luhn_check_digit("894410123456789012")
    frame = jpeg(card_image(iccid, "code128", (1280, 720), seed=3))
    answer = send(owner_client, product, frame).json()
    assert answer["iccid"] == iccid and answer["advice"] is None
    assert f'data-iccid="{iccid}"' in answer["item"] and "Ready to activate" in answer["item"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"just some text, not an image", "not a JPEG, PNG or WebP"),
        (b"GIF89a" + b"\x00" * 100, "not a JPEG, PNG or WebP"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "damaged"),
        (png_header(100_000, 100_000), "100000 x 100000 pixels"),
        (b"\xff\xd8\xff\xdb\x00\x04\x00\x00\xff\xc0\x00\x11\x08\x01\xe0\x02\x80" + b"\x17" * 200, "damaged"),
    ],
    ids=["text", "gif", "truncated-jpeg", "decompression-bomb", "corrupt-jpeg"],
)
def test_bad_frames_get_400_with_a_reason(owner_client, product, data, says):
    response = send(owner_client, product, data)
    assert response.status_code == 400
    assert says in response.content.decode()


@pytest.mark.parametrize("shape", [(1, 5000), (32, 12000), (31, 40000), (4000, 1)], ids=["one-pixel-high", "thin", "thinner", "one-pixel-wide"])
def test_a_sliver_of_a_frame_gets_400_saying_what_a_frame_is(owner_client, product, shape):
    sliver = cv2.imencode(".png", np.full(shape, 200, np.uint8))[1].tobytes()
    response = send(owner_client, product, sliver)
    assert response.status_code == 400
    assert f"{shape[1]} x {shape[0]} pixels: a frame must be at least 32 pixels on each side" in response.content.decode()


def test_an_oversized_frame_is_refused_before_decoding(owner_client, product, settings):
    settings.SCAN_MAX_FRAME_BYTES = 10_000
    noisy = np.random.default_rng(1).integers(0, 255, (480, 640), dtype=np.uint8)
    response = send(owner_client, product, jpeg(noisy))
    assert response.status_code == 413 and "the limit is 10,000 bytes" in response.content.decode()


def test_a_frame_is_required(owner_client, product):
    response = owner_client.post(reverse("import_scan", args=[product.slug]))
    assert response.status_code == 400 and "frame" in response.content.decode()


def test_frames_are_rate_limited_per_user(owner_client, product, settings):
    settings.SCAN_FRAMES_PER_SECOND = 3
    blank = jpeg(np.full((120, 160), 200, dtype=np.uint8))
    statuses = [send(owner_client, product, blank).status_code for _ in range(8)]
    assert 429 in statuses
    limited = send(owner_client, product, blank)
    if limited.status_code == 429:
        assert limited["Retry-After"] == "1"


def test_image_sizes_are_read_from_headers():
    image = np.zeros((37, 53, 3), dtype=np.uint8)
    assert read_header(jpeg(image))[:3] == ("jpeg", 53, 37)
    assert read_header(cv2.imencode(".png", image)[1].tobytes())[:3] == ("png", 53, 37)
    assert read_header(cv2.imencode(".webp", image)[1].tobytes())[:3] == ("webp", 53, 37)
    with pytest.raises(FrameError):
        read_header(b"\xff\xd8\xff")


def test_a_jpeg_with_stray_bytes_between_segments_is_decoded_at_the_size_its_header_says():
    """libjpeg skips bytes between segments (with a warning), and so does Pillow's reading of the header."""
    data = jpeg(np.full((37, 53), 200, dtype=np.uint8))
    at = data.index(b"\xff\xdb")
    stray = data[:at] + b"\x00\x12\x34" + data[at:]
    assert read_header(stray)[:3] == ("jpeg", 53, 37)
    assert load_frame(stray).shape == (37, 53)


def test_a_damaged_frame_says_what_to_send():
    says = load_frame_error(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    assert "damaged" in says and "Send the frame again" in says


def test_an_outsider_cannot_scan_into_our_product(outsider_client, product):
    blank = jpeg(np.full((120, 160), 200, dtype=np.uint8))
    assert send(outsider_client, product, blank).status_code == 404


def test_a_progressive_jpeg_gets_a_reason_the_scanner_shows(owner_client, product):
    """The scanner page sends baseline JPEGs (canvas.toBlob): a progressive one comes from elsewhere."""
    photo = io.BytesIO()
    Image.new("RGB", (640, 480), "gray").save(photo, "JPEG", progressive=True)
    response = send(owner_client, product, photo.getvalue())
    assert response.status_code == 400
    assert response.content.decode() == (
        "The frame is a progressive JPEG, which is decoded once per scan: send a baseline JPEG "
        "(the scanner page does), a PNG or a WebP."
    )


@pytest.fixture
def decodes(monkeypatch) -> list[int]:
    """The frames that reached OpenCV's decoder, by size."""
    calls, decode = [], cv2.imdecode

    def counting(data, flags):
        calls.append(len(data))
        return decode(data, flags)

    monkeypatch.setattr(cv2, "imdecode", counting)
    return calls


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (jpeg_of_many_scans(600), "progressive JPEG"),
        (jpeg_of_many_scans(600, progressive=False), "The frame holds 606 JPEG scans; at most 10 are accepted"),
    ],
    ids=["progressive", "marked-baseline"],
)
def test_a_jpeg_of_hundreds_of_scans_is_refused_before_it_is_decoded(owner_client, product, decodes, data, says):
    response = send(owner_client, product, data)
    assert response.status_code == 400 and says in response.content.decode()
    assert decodes == []


def test_a_frame_like_the_scanners_is_decoded_once(owner_client, product, decodes):
    frame = jpeg(np.full((480, 640, 3), 200, dtype=np.uint8))
    assert send(owner_client, product, frame).status_code == 200
    assert decodes == [len(frame)]
