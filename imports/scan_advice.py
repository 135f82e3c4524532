"""What the person holding the card should do when a frame gives no ICCID, in words.

A frame the decoder cannot read usually says why. A barcode was read that is not an ICCID
(a product EAN, a PIN or PUK, a number failing its check digit or of the wrong length): say
which. Otherwise the frame is measured, cheaply, on a 640-pixel-wide copy of the frame the
locator saw: too dark (its bright end stays dim), glare (solid patches of clipped white),
blurred (edges several pixels wide), too small (the only barcode-like region too short to
hold an ICCID's modules, found by the locator or by a second look with finer cells), or no
barcode at all. A few milliseconds a frame: bench/scan.py.

A frame holding a valid ICCID must never be told "not an ICCID". So a barcode read that holds
none is named only when the frame is neither dark, glared nor blurred (the ICCID may be lost in
it) and no barcode-like region about as long as the one read stays unread (it may be the ICCID);
otherwise the advice is about reading that region (closer, stiller, lighter). Figures, and the
frames the thresholds were set on: bench/scan_advice.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from imports.scanning import PRODUCT_SYMBOLOGIES, Reading, Region, Scan, barcode_regions
from sims.iccid import InvalidIccid, normalise_iccid, validate_iccid

MEASURED_WIDTH = 640
DARK_BRIGHT_END = 40  # the 95th percentile of a frame under this: the white card is in the dark
CLIPPED = 250
GLARE_SHARE = 0.06  # of the frame: solid clipped patches (bars break a white label's clipping)
BLURRED_EDGE_PX = 2.7  # median width of the strongest edges, in pixels of the measured frame
SHORTEST_READABLE_PX = 200  # a Code 128 ICCID (about 150 modules) at 1.3 pixels a module
BARCODE_SHAPE = 2.0  # a barcode-like region is at least this many times longer than its bars
SHORTEST_REGION_PX = 60  # shorter regions are text or noise
AS_LONG_AS_READ = 0.6  # an unread region this long beside a barcode read may be the ICCID
BLURRED_EDGE_PX_BESIDE_A_READ = 3.0  # a frame in which a barcode was read is blurred only past this
FINE_CELL = 2  # pixels: the locator's second look, for a barcode under a pixel a module
SMALL_BARCODE_SHAPE = 4.0  # a small region is taken for a barcode when this long for its height (text: 2-3)
FINE_BARCODE_SHAPE = 3.0  # the finer cells split text into words: a shorter shape will do
FINE_SHORTEST_PX = 70


@dataclass(frozen=True)
class Advice:
    cause: str  # small, blurred, dark, glare, none, product, pin, luhn, length, prefix, other
    says: str


SCAN_THE_ICCID = "scan the barcode labelled ICCID."
QUALITY_ADVICE = {
    "small": Advice("small", "Move closer: the barcode is too small to read."),
    "blurred": Advice("blurred", "Hold still: the barcode is blurred."),
    "dark": Advice("dark", "More light: the card is too dark to read."),
    "glare": Advice("glare", "Tilt the card away from the light: a reflection hides the barcode."),
    "none": Advice("none", "Point the camera at the barcode on the card."),
}
NOT_AN_ICCID = ("luhn", "length", "prefix", "pin", "product", "other")  # the closest to an ICCID first


def advise(scan: Scan) -> Advice | None:
    """What to do to get an ICCID from the next frame; None when this one gave it."""
    if scan.iccid:
        return None
    unread = _unread_barcode_regions(scan)
    quality = _quality(scan)
    if scan.others and quality is None and not _may_be_the_iccid(scan, unread):
        return min((_not_an_iccid(reading) for reading in scan.others), key=lambda a: NOT_AN_ICCID.index(a.cause))
    return QUALITY_ADVICE[quality or _region_cause(scan, unread)]


def _may_be_the_iccid(scan: Scan, unread: list[Region]) -> bool:
    """Whether an unread barcode-like region is about as long as the barcodes read, or longer:
    an ICCID beside them (shorter regions are lines of text or the card's edges)."""
    longest_read = max(2 * reading.span for reading in scan.others)
    return any(region.length >= AS_LONG_AS_READ * longest_read for region in unread)


def _not_an_iccid(reading: Reading) -> Advice:
    text = reading.text.strip()
    if reading.symbology in PRODUCT_SYMBOLOGIES:
        return Advice(
            "product", f"That is a product barcode ({reading.symbology}), not the SIM's ICCID: {SCAN_THE_ICCID}"
        )
    digits = text.upper().removeprefix("PUK").removeprefix("PIN").strip()
    if digits.isdigit() and 4 <= len(digits) <= 8:
        article = "an" if len(digits) == 8 else "a"
        return Advice(
            "pin", f"That is {article} {len(digits)}-digit number (a PIN or PUK), not the SIM's ICCID: {SCAN_THE_ICCID}"
        )
    try:
        validate_iccid(text)
    except InvalidIccid as problem:
        if problem.code == "luhn":
            return Advice("luhn", "That number fails the ICCID check digit: scan again or type it.")
        if problem.code == "length":
            return Advice(
                "length", f"That number has {len(normalise_iccid(text))} digits; an ICCID has 19 or 20: {SCAN_THE_ICCID}"
            )
        if problem.code == "prefix":
            return Advice("prefix", f"That number does not start with 89, as every ICCID does: {SCAN_THE_ICCID}")
    shown = text if len(text) <= 24 else text[:24] + "…"
    return Advice("other", f"That barcode holds “{shown}”, not an ICCID: {SCAN_THE_ICCID}")


def _unread_barcode_regions(scan: Scan) -> list[Region]:
    """Regions shaped like a barcode that no reading accounts for, longest first."""
    unread = [
        region
        for index, region in enumerate(scan.regions)
        if index not in scan.regions_read
        and region.length >= BARCODE_SHAPE * region.height
        and region.length * scan.scale >= SHORTEST_REGION_PX
        and not any(_within(region, reading) for reading in scan.others)
    ]
    return sorted(unread, key=lambda region: -region.length)


def _within(region: Region, reading: Reading) -> bool:
    return math.dist(region.centre, reading.centre) <= max(reading.span, region.length / 2)


def _quality(scan: Scan) -> str | None:
    """dark, glare or blurred when the frame as a whole is; None when it looks fine.

    The white labels of the barcodes read are left out of the glare's clipped patches: a bright
    label is not a reflection."""
    gray = scan.shrunk
    factor = min(1.0, MEASURED_WIDTH / gray.shape[1])
    small = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1 else gray
    if _percentile(small, 95) < DARK_BRIGHT_END:
        return "dark"
    clipped = (small >= CLIPPED).astype(np.uint8)
    for reading in scan.others:
        centre = (round(reading.centre[0] * factor), round(reading.centre[1] * factor))
        cv2.circle(clipped, centre, round(reading.span * 1.3 * factor), 0, -1)
    if float(cv2.erode(clipped, np.ones((7, 7), np.uint8)).mean()) >= GLARE_SHARE:
        return "glare"
    if _edge_width(small) >= (BLURRED_EDGE_PX_BESIDE_A_READ if scan.others else BLURRED_EDGE_PX):
        return "blurred"
    return None


def _edge_width(gray: np.ndarray) -> float:
    """How many pixels the frame's strongest edges take to rise: about 1-2 when sharp.

    Across and down in turn (a shake blurs one direction only), at each of the strongest 0.5%
    of gradients: the contrast around it (5 pixels' maximum minus minimum) over the gradient
    (per pixel); a step blurred over w pixels gives about w. The wider of the two."""
    widths = []
    for dx, dy, window in ((1, 0, (5, 1)), (0, 1, (1, 5))):
        gradient = cv2.convertScaleAbs(cv2.Sobel(gray, cv2.CV_16S, dx, dy, ksize=1), alpha=0.5)  # a central difference spans two pixels
        strong = gradient >= max(_percentile(gradient, 99.5), 1)
        if not strong.any():  # a flat frame: no edge to measure
            continue
        kernel = np.ones(window[::-1], np.uint8)
        contrast = cv2.dilate(gray, kernel)[strong].astype(np.float32) - cv2.erode(gray, kernel)[strong]
        widths.append(float(np.median(contrast / gradient[strong])))
    return max(widths, default=0.0)


def _percentile(gray: np.ndarray, share: float) -> int:
    """The grey level under which share percent of the pixels lie (a histogram: no sort)."""
    counts = np.cumsum(cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel())
    return int(np.searchsorted(counts, counts[-1] * share / 100))


def _region_cause(scan: Scan, unread: list[Region]) -> str:
    """blurred when a barcode-like region long enough to be read stays unread; small when a
    shorter one has a barcode's long, thin shape (looking again with finer cells when the
    locator found none); none when there is no barcode to be seen."""
    if unread and unread[0].length * scan.scale >= SHORTEST_READABLE_PX:
        return "blurred"
    if any(region.length >= SMALL_BARCODE_SHAPE * region.height for region in unread) or _fine_regions(scan):
        return "small"
    return "none"


def _fine_regions(scan: Scan) -> list[Region]:
    """Regions of a small barcode's shape that the locator finds with finer cells, unread."""
    return [
        region
        for region in barcode_regions(scan.shrunk, cell=FINE_CELL)
        if region.length >= FINE_BARCODE_SHAPE * region.height
        and region.length * scan.scale >= FINE_SHORTEST_PX
        and not any(_within(region, reading) for reading in scan.others)
    ]
