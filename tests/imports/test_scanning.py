"""imports.scanning.read_iccid on generated camera frames of carrier cards, and the decode_iccid command."""

import io
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.management import call_command

from imports.scanning import read_iccid
from sims.iccid import luhn_check_digit, luhn_is_valid

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from cards import SIZES, card_image

ICCID_19 = "894410" + "123456789012" + luhn_check_digit("894410123456789012")
ICCID_20 = "8933012" + "345678901234" + luhn_check_digit("8933012345678901234")
SIZE_IDS = [f"{w}x{h}" for w, h in SIZES]


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("iccid", [ICCID_19, ICCID_20])
def test_reads_code128_on_an_easy_card(size, iccid):
    assert read_iccid(card_image(iccid, "code128", size, seed=3)) == iccid


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("kind", ["qr", "datamatrix"])
def test_reads_2d_codes_on_an_easy_card(size, kind):
    assert read_iccid(card_image(ICCID_19, kind, size, seed=4)) == ICCID_19


def test_reads_a_grayscale_frame_and_a_code39_one():
    gray = cv2.cvtColor(card_image(ICCID_20, "code39", (1920, 1080), seed=5), cv2.COLOR_BGR2GRAY)
    assert read_iccid(gray) == ICCID_20


def test_reads_the_iccid_beside_an_ean13_and_a_puk_barcode():
    frame = card_image(ICCID_19, "code128", (1280, 720), seed=6, distractors=[("5901234123457", "ean13")])
    assert read_iccid(frame) == ICCID_19
    frame = card_image(ICCID_20, "code128", (1280, 720), seed=7, distractors=[("PUK12345678", "code128")])
    assert read_iccid(frame) == ICCID_20


@pytest.mark.parametrize(
    ("text", "kind", "distractors"),
    [
        (None, "none", [("5901234123457", "ean13")]),  # only a product code
        (ICCID_19[:-1] + str((int(ICCID_19[-1]) + 1) % 10), "code128", []),  # fails the Luhn check
        ("12345678", "code128", []),  # a PUK
        ("894410123456789012", "code128", []),  # 18 digits
        ("1234567890123456789", "qr", []),  # 19 digits, not starting with 89
    ],
    ids=["ean13", "luhn-invalid", "puk", "18-digits", "not-89"],
)
def test_never_returns_what_is_not_a_valid_iccid(text, kind, distractors):
    if text and text.startswith("89") and len(text) in (19, 20):
        assert not luhn_is_valid(text)
    assert read_iccid(card_image(text, kind, (1280, 720), seed=8, distractors=distractors)) is None


def test_none_for_blank_noisy_and_blurred_frames():
    assert read_iccid(np.zeros((480, 640, 3), np.uint8)) is None
    assert read_iccid(np.zeros((10, 3), np.uint8)) is None
    assert read_iccid(np.full((1080, 1920), 200, np.uint8)) is None
    noise = np.random.default_rng(0).integers(0, 256, (720, 1280), dtype=np.uint8)
    assert read_iccid(noise) is None
    blurred = cv2.GaussianBlur(card_image(ICCID_19, "code128", (1280, 720), seed=3), (0, 0), 12)
    assert read_iccid(blurred) is None


def test_decode_iccid_command_prints_path_tab_iccid_or_dash(tmp_path):
    card = tmp_path / "card.png"
    cv2.imwrite(str(card), card_image(ICCID_19, "code128", (1280, 720), seed=3))
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((480, 640), 255, np.uint8))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really a JPEG")
    missing = tmp_path / "missing.png"
    out = io.StringIO()
    call_command("decode_iccid", str(card), str(blank), str(broken), str(missing), stdout=out)
    assert out.getvalue().splitlines() == [f"{card}\t{ICCID_19}", f"{blank}\t-", f"{broken}\t-", f"{missing}\t-"]


def rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    """The whole image turned by degrees, on a canvas large enough to hold it."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    size = (int(width * cos + height * sin), int(width * sin + height * cos))
    matrix[:, 2] += (size[0] / 2 - width / 2, size[1] / 2 - height / 2)
    return cv2.warpAffine(image, matrix, size, borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("degrees", [17, 45, 100, 160, 235])
def test_finds_and_straightens_a_barcode_at_any_angle(monkeypatch, degrees):
    """With zxing-cpp's whole-frame pass off, the locator, the straightened crop and zbar read it."""
    from imports import scanning

    monkeypatch.setattr(scanning, "_zxing", lambda *args, **kwargs: [])
    frame = rotated(card_image(ICCID_19, "code128", (1280, 720), seed=3), degrees)
    assert read_iccid(frame) == ICCID_19
