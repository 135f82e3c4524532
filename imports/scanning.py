"""Read an ICCID from a camera frame of a SIM carrier card.

1. zxing-cpp on the whole frame (shrunk to 1280 wide): reads a sharp, well-framed card in a
   few milliseconds, at any rotation, and the QR and DataMatrix codes zbar cannot read.
2. Otherwise OpenCV finds the 1-D barcodes at any rotation (parallel edges: the structure
   tensor), cuts each from the full-resolution frame with its bars upright and zoomed, smooths
   it along the bars and sharpens it across them (gently, then harder: blur); zbar, then
   zxing-cpp, read each version. zbar reads clean upright bars best, zxing-cpp blurred ones.

Only a valid ICCID is returned (19-20 digits, 89..., Luhn), so a product EAN, a PUK or a
misprinted number is never taken for one. A whole-frame zbar pass read nothing the steps
above missed, for 20-25 ms a 1080p frame, so there is none. Figures: bench/scan.py.

scan_frame also keeps what the scanner saw when no ICCID was read: the barcodes read that hold
none (the whole-frame pass reads product EAN/UPC codes too, to name them) and the barcode-like
regions located; imports/scan_advice.py turns them into advice for the person holding the card.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp
from pyzbar import wrapper as zbar
from pyzbar.pyzbar import ZBarSymbol

from sims.iccid import InvalidIccid, validate_iccid

# One thread: a request's latency must not depend on how busy the other cores are.
cv2.setNumThreads(1)

WHOLE_FRAME_WIDTH = 1280  # wider frames are shrunk to this for the whole-frame pass and the locator
MIN_SIDE = 32  # a 21x21 QR code at 1.5 pixels a module: nothing smaller can be read
CELL = 4  # the locator's resolution, in pixels of the shrunk frame
MAX_CANDIDATES = 3
# Unsharp masks tried on each crop in turn: (amount, radius in pixels of the full frame).
# Blur spreads each bar into its neighbours; the stronger masks undo more of it.
SHARPENING = ((1.2, 1.0), (3.0, 1.0), (3.0, 2.0))
SAME_ORIENTATION = math.cos(math.radians(2 * 12))  # a barcode's cells agree on their edges' direction within 12 degrees
# Crops are zoomed to make the code this wide: 3 pixels a module for a Code 39 ICCID (about
# 290 modules), 5-6 for a Code 128 one (145-156 modules).
CROP_CODE_WIDTH = 870
ZBAR_SYMBOLS = (ZBarSymbol.CODE128, ZBarSymbol.CODE39)
ZXING_FORMATS = [
    zxingcpp.BarcodeFormat.Code128,
    zxingcpp.BarcodeFormat.Code39,
    zxingcpp.BarcodeFormat.QRCode,
    zxingcpp.BarcodeFormat.DataMatrix,
]
_ZXING_LINEAR = [zxingcpp.BarcodeFormat.Code128, zxingcpp.BarcodeFormat.Code39]
# Product barcodes: read by the whole-frame pass only to tell the person what they pointed at.
_ZXING_PRODUCT = [zxingcpp.BarcodeFormat.EAN13, zxingcpp.BarcodeFormat.UPCA, zxingcpp.BarcodeFormat.EAN8]
SYMBOLOGY_NAMES = {
    "EAN13": "EAN-13",
    "UPCA": "UPC-A",
    "EAN8": "EAN-8",
    "Code128": "Code 128",
    "Code39": "Code 39",
    "QRCode": "QR code",
    "DataMatrix": "Data Matrix",
}
PRODUCT_SYMBOLOGIES = {"EAN-13", "UPC-A", "EAN-8"}


@dataclass
class Reading:
    """A barcode read in a frame: its text, its symbology's name, where it is (shrunk frame)."""

    text: str
    symbology: str
    centre: tuple[float, float]
    span: float  # half its longer side, in pixels of the shrunk frame


@dataclass
class Scan:
    """What the scanner saw in a frame: the ICCID read, or why none was."""

    iccid: str | None
    shrunk: np.ndarray  # the grayscale frame the locator saw, at most WHOLE_FRAME_WIDTH wide
    scale: float  # pixels of the full frame per pixel of the shrunk one
    others: list[Reading]  # barcodes read that hold no valid ICCID
    regions: list[Region]  # barcode-like regions located (none when the whole-frame pass read the ICCID)
    regions_read: set[int]  # indexes of the regions whose crop a decoder read


def read_iccid(image: np.ndarray) -> str | None:
    """The ICCID on the card in this BGR or grayscale frame, or None."""
    return scan_frame(image).iccid


def scan_frame(image: np.ndarray) -> Scan:
    """The ICCID on the card in this BGR or grayscale frame, with what was seen when none is read."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    if min(image.shape[:2]) < MIN_SIDE:
        return Scan(None, gray, 1.0, [], [], set())
    small = _shrink(gray, WHOLE_FRAME_WIDTH)
    scale = gray.shape[1] / small.shape[1]
    readings = _zxing(small, ZXING_FORMATS + _ZXING_PRODUCT, try_rotate=True)
    found = _first_iccid(reading.text for reading in readings)
    if found:
        return Scan(found, small, scale, [], [], set())
    others = [reading for reading in readings if reading.text]
    regions = barcode_regions(small)
    regions_read: set[int] = set()
    for index, region in enumerate(regions):
        crop, zoom = _straightened(gray, region, scale)
        crop = cv2.blur(crop, (1, max(3, crop.shape[0] // 6)))  # along the bars: noise, JPEG blocks
        for amount, sigma in SHARPENING:
            sharp = _sharpened(crop, zoom * sigma, amount)
            reads = _zbar(sharp)
            found = _zbar_iccid(reads)
            if not found:
                reads += [(r.text, 1, r.symbology) for r in _zxing(sharp, _ZXING_LINEAR, try_rotate=False)]
                found = _first_iccid(text for text, _, _ in reads)
            if found:
                return Scan(found, small, scale, [], regions, regions_read | {index})
            if len({text for text, _, _ in reads}) == 1 and index not in regions_read:
                # One text, agreed on by every decoder that read one: a barcode that is not an ICCID.
                regions_read.add(index)
                others.append(Reading(reads[0][0], reads[0][2], region.centre, region.length / 2))
    return Scan(None, small, scale, others, regions, regions_read)


def _first_iccid(texts: Iterable[str]) -> str | None:
    return next(filter(None, map(_iccid, texts)), None)


def _iccid(text: str) -> str | None:
    try:
        return validate_iccid(text)
    except InvalidIccid:
        return None


def _zbar_iccid(reads: list[tuple[str, int, str]]) -> str | None:
    """The ICCID zbar reads on the most rows, unless another one comes close: that is a misread."""
    iccids = sorted(((rows, iccid) for text, rows, _ in reads if (iccid := _iccid(text))), reverse=True)
    if not iccids or (len(iccids) > 1 and iccids[1][0] * 3 > iccids[0][0]):
        return None
    return iccids[0][1]


def _shrink(gray: np.ndarray, width: int) -> np.ndarray:
    if gray.shape[1] <= width:
        return gray
    height = round(gray.shape[0] * width / gray.shape[1])
    return cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)


# --- decoders ---


def _zxing(gray: np.ndarray, formats: list[zxingcpp.BarcodeFormat], try_rotate: bool) -> list[Reading]:
    # Light bars on a dark ground are not printed on carrier cards: no inverted pass.
    barcodes = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(formats), try_rotate=try_rotate, try_invert=False)
    return [_reading(barcode) for barcode in barcodes]


def _reading(barcode: zxingcpp.Barcode) -> Reading:
    corners = barcode.position
    points = np.array([(p.x, p.y) for p in (corners.top_left, corners.top_right, corners.bottom_right, corners.bottom_left)], float)
    centre = points.mean(axis=0)
    span = float(np.linalg.norm(points - centre, axis=1).max())
    name = SYMBOLOGY_NAMES.get(barcode.format.name, barcode.format.name)
    return Reading(barcode.text, name, (float(centre[0]), float(centre[1])), span)


_Y800 = int.from_bytes(b"Y800", "little")
_ZBAR_NAMES = {ZBarSymbol.CODE128.value: "Code 128", ZBarSymbol.CODE39.value: "Code 39"}


def _zbar(crop: np.ndarray) -> list[tuple[str, int, str]]:
    """zbar on an upright crop: our 1-D symbologies, rows only (the bars stand upright).

    Each text comes with the number of rows that read it (zbar's "quality") and its symbology."""
    crop = np.ascontiguousarray(crop)
    scanner = zbar.zbar_image_scanner_create()
    image = zbar.zbar_image_create()
    try:
        zbar.zbar_image_scanner_set_config(scanner, 0, zbar.ZBarConfig.CFG_ENABLE, 0)
        for symbol in ZBAR_SYMBOLS:
            zbar.zbar_image_scanner_set_config(scanner, symbol, zbar.ZBarConfig.CFG_ENABLE, 1)
        zbar.zbar_image_scanner_set_config(scanner, 0, zbar.ZBarConfig.CFG_X_DENSITY, 0)
        zbar.zbar_image_set_format(image, _Y800)
        zbar.zbar_image_set_size(image, crop.shape[1], crop.shape[0])
        zbar.zbar_image_set_data(image, ctypes.cast(crop.ctypes.data, ctypes.c_void_p), crop.size, None)
        if zbar.zbar_scan_image(scanner, image) <= 0:
            return []
        reads = []
        symbol = zbar.zbar_image_first_symbol(image)
        while symbol:
            data = ctypes.string_at(zbar.zbar_symbol_get_data(symbol), zbar.zbar_symbol_get_data_length(symbol))
            kind = _ZBAR_NAMES.get(symbol.contents.type, "barcode")
            reads.append((data.decode("latin-1"), zbar.zbar_symbol_get_quality(symbol), kind))
            symbol = zbar.zbar_symbol_next(symbol)
        return reads
    finally:
        zbar.zbar_image_destroy(image)
        zbar.zbar_image_scanner_destroy(scanner)


# --- finding a 1-D barcode at any rotation ---


@dataclass
class Region:
    centre: tuple[float, float]  # in pixels of the shrunk frame
    angle: float  # radians: the direction across the bars, along which a scan line must run
    length: float  # across the bars, in pixels of the shrunk frame
    height: float  # along the bars


def barcode_regions(gray: np.ndarray, cell: int = CELL) -> list[Region]:
    """Up to MAX_CANDIDATES regions of many parallel edges, strongest first.

    cell is the locator's resolution, in pixels: the advice looks again with finer cells for a
    barcode too small for the decoders, which the default cells blur away.

    The structure tensor (gradient products averaged over a few modules) is rotation-free:
    its coherent part is large where all edges run one way, as in a barcode, and small in
    noise and texture. Text has coherent patches too, and touches the barcode through the
    card, so a region grows from the strongest cell only over cells of the same orientation.
    """
    # Gradients from the shrunk frame, then every other one: the products only feed averages,
    # and quarter-size arrays keep this step to a few milliseconds.
    gx = cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3)[::2, ::2].astype(np.float32)
    gy = cv2.Sobel(gray, cv2.CV_16S, 0, 1, ksize=3)[::2, ::2].astype(np.float32)
    cells = (gray.shape[1] // cell, gray.shape[0] // cell)
    jxx, jyy, jxy = (
        cv2.blur(cv2.resize(product, cells, interpolation=cv2.INTER_AREA), (5, 5))
        for product in (gx * gx, gy * gy, gx * gy)
    )
    energy = jxx + jyy
    coherent = cv2.sqrt((jxx - jyy) ** 2 + 4 * jxy**2)
    # The edges' direction as a unit vector at twice its angle (so that opposite edges agree).
    cos2, sin2 = (jxx - jyy) / (coherent + 1e-6), 2 * jxy / (coherent + 1e-6)
    floor = max(float(np.percentile(energy, 25)) * 4, 400.0)  # above the noise and texture of the frame
    candidate = (coherent > 0.7 * energy) & (energy > floor)
    score = np.where(candidate, coherent, 0)
    regions: list[Region] = []
    for _ in range(MAX_CANDIDATES * 3):
        seed = np.unravel_index(int(np.argmax(score)), score.shape)
        if score[seed] == 0 or len(regions) == MAX_CANDIDATES:
            break
        alike = cos2 * cos2[seed] + sin2 * sin2[seed] > SAME_ORIENTATION
        grown = (candidate & alike & (coherent > 0.25 * score[seed])).astype(np.uint8)
        cv2.floodFill(grown, None, (int(seed[1]), int(seed[0])), 2)
        mask = grown == 2
        score[cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = 0
        region = _region(mask, jxx, jyy, jxy, cell) if mask.sum() >= 12 else None
        if region:
            regions.append(region)
    return regions


def _region(mask: np.ndarray, jxx, jyy, jxy, cell: int) -> Region | None:
    ys, xs = np.nonzero(mask)
    angle = 0.5 * math.atan2(2 * float(jxy[ys, xs].sum()), float((jxx[ys, xs] - jyy[ys, xs]).sum()))
    cos, sin = math.cos(angle), math.sin(angle)
    xs, ys = xs + 0.5, ys + 0.5
    across, along = xs * cos + ys * sin, ys * cos - xs * sin
    length = float(across.max() - across.min() + 1) * cell
    height = float(along.max() - along.min() + 1) * cell
    if height > length:  # a barcode is longer than its bars; this is text or an edge
        return None
    mid_across, mid_along = (across.max() + across.min()) / 2, (along.max() + along.min()) / 2
    centre = ((mid_across * cos - mid_along * sin) * cell, (mid_across * sin + mid_along * cos) * cell)
    return Region(centre, angle, length, height)


# --- the crop the decoders read ---


def _straightened(gray: np.ndarray, region: Region, scale: float) -> tuple[np.ndarray, float]:
    """The region cut from the full-resolution frame, bars upright, zoomed; and the zoom."""
    length = region.length * scale
    zoom = float(np.clip(CROP_CODE_WIDTH / length, 1.0, 2.5))
    width = int(length * 1.3 * zoom)  # the quiet zones are part of the code
    height = int(max(region.height * scale * 1.1, 12) * zoom)
    cx, cy = region.centre[0] * scale, region.centre[1] * scale
    matrix = cv2.getRotationMatrix2D((cx, cy), math.degrees(region.angle), zoom)
    matrix[:, 2] += (width / 2 - cx, height / 2 - cy)  # type: ignore[arg-type]  # cv2's stub allows an integer matrix; this one is float64
    crop = cv2.warpAffine(gray, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return _bar_rows(crop), zoom


def _bar_rows(crop: np.ndarray) -> np.ndarray:
    """The longest run of rows across bars: strong edges across, weak ones along (unlike text)."""
    across = np.abs(cv2.Sobel(crop, cv2.CV_16S, 1, 0, ksize=3)).mean(axis=1)
    along = np.abs(cv2.Sobel(crop, cv2.CV_16S, 0, 1, ksize=3)).mean(axis=1)
    bars = (across > 2 * along) & (across > 0.4 * across.max())
    edges = np.flatnonzero(np.diff(np.concatenate(([0], bars.astype(np.int8), [0]))))
    starts, ends = edges[::2], edges[1::2]
    if len(starts) == 0:
        return crop
    longest = int(np.argmax(ends - starts))
    if ends[longest] - starts[longest] < 4:
        return crop
    return crop[starts[longest] : ends[longest]]


def _sharpened(crop: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    """Unsharp masking across the bars only: against defocus and motion blur."""
    soft = cv2.GaussianBlur(crop, (0, 0), sigmaX=sigma, sigmaY=0.1)
    return cv2.addWeighted(crop, 1 + amount, soft, -amount, 0)
