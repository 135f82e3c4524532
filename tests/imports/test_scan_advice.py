"""The scanner's advice (imports.scan_advice.advise) on generated frames of one known cause each.

bench/cards.py's make_cause_frame draws them; the seeds are fixed, so each frame is the same on
every run. bench/scan_advice.py scores the advice on hundreds of such frames."""

import sys
from pathlib import Path

import numpy as np
import pytest

from imports.scan_advice import NOT_AN_ICCID, advise
from imports.scanning import scan_frame
from sims.iccid import luhn_check_digit

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from cards import card_image, make_cause_frame

ICCID_19 = "894410" + "123456789012" + luhn_check_digit("894410123456789012")


def advice_on(cause: str, seed: int, size=(1280, 720)):
    frame = make_cause_frame(np.random.default_rng(seed), cause, size)
    scan = scan_frame(frame.image())
    assert scan.iccid is None, f"the {cause} frame of seed {seed} was read: it needs no advice"
    return advise(scan)


@pytest.mark.parametrize(
    ("cause", "seed", "says"),
    [
        ("small", 0, "Move closer: the barcode is too small to read."),
        ("defocus", 0, "Hold still: the barcode is blurred."),
        ("motion", 0, "Hold still: the barcode is blurred."),
        ("dark", 1, "More light: the card is too dark to read."),
        ("glare", 0, "Tilt the card away from the light: a reflection hides the barcode."),
        ("none", 0, "Point the camera at the barcode on the card."),
    ],
)
def test_an_unreadable_frame_says_what_to_do(cause, seed, says):
    assert advice_on(cause, seed).says == says


def test_a_product_barcode_is_named_and_the_iccid_asked_for():
    advice = advice_on("product", 1)
    assert advice.says == "That is a product barcode (EAN-13), not the SIM's ICCID: scan the barcode labelled ICCID."


def test_a_number_failing_the_luhn_check_says_so():
    assert advice_on("luhn", 0).says == "That number fails the ICCID check digit: scan again or type it."


def test_a_puk_barcode_is_called_a_pin_or_puk():
    assert advice_on("puk", 0).says == "That is an 8-digit number (a PIN or PUK), not the SIM's ICCID: scan the barcode labelled ICCID."


def test_a_number_of_the_wrong_length_says_how_many_digits_it_has():
    advice = advice_on("length", 0)
    assert advice.cause == "length"
    assert "digits; an ICCID has 19 or 20: scan the barcode labelled ICCID." in advice.says


def test_a_valid_iccid_is_read_and_gets_no_advice():
    scan = scan_frame(card_image(ICCID_19, "code128", (1280, 720), seed=3))
    assert scan.iccid == ICCID_19
    assert advise(scan) is None


def test_an_unread_iccid_beside_a_read_product_barcode_is_not_called_a_product_barcode():
    """Glare hides the ICCID; the EAN-13 beside it is read. The ICCID may be there: tilt, not 'not an ICCID'."""
    frame = make_cause_frame(np.random.default_rng(5), "glare", (1280, 720))
    scan = scan_frame(frame.image())
    assert frame.expected and scan.iccid is None
    assert [reading.symbology for reading in scan.others] == ["EAN-13"]
    advice = advise(scan)
    assert advice is not None and advice.cause not in NOT_AN_ICCID
    assert advice.says == "Tilt the card away from the light: a reflection hides the barcode."


def test_a_blank_frame_asks_for_the_barcode():
    advice = advise(scan_frame(np.full((720, 1280), 200, np.uint8)))
    assert advice is not None and advice.says == "Point the camera at the barcode on the card."
