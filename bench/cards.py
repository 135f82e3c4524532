"""Camera-like frames of SIM carrier cards, for bench/scan.py and tests/imports/test_scanning.py.

A card is drawn flat at a high resolution (ID-1 size, 85.6 x 54 mm: operator logo, SIM
punch-out with its chip, the ICCID barcode with its digits underneath, PIN/PUK text, and
sometimes an EAN-13 or a second Code 128 as a distractor). It is then placed into a frame
as a camera would see it: tilted in 3D (perspective), rotated, at a distance that gives
the barcode a chosen number of pixels per module, over a cluttered desk, with uneven
light, glare, defocus, motion blur, sensor noise and JPEG compression.

Difficulty is set by physical conditions, not by how any decoder copes with them:
- easy: held fairly square under the guide box, in focus, good light;
- medium: rotated and tilted, smaller, a little out of focus or shaken, dim;
- hard: any rotation, steep tilt, barely resolved modules, blurred, dark, glare.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sims.iccid import luhn_check_digit

CARD_MM = (85.6, 54.0)
SIZES = [(640, 480), (1280, 720), (1920, 1080)]
LEVELS = ["easy", "medium", "hard"]
# The card is drawn at this many pixels per millimetre: about 4 pixels per Code 128 module.
CANVAS_PX_PER_MM = 16.0
COUNTRY_ISSUERS = ["4410", "4430", "3301", "4912", "3407", "0126", "6110", "9102", "8600", "3912"]


@dataclass(frozen=True)
class Conditions:
    ppm: tuple[float, float]  # frame pixels per module of a Code 128 at 0.26 mm a module
    roll: float  # degrees either way; 180 means any rotation
    turn_chance: float  # chance of a card turned a quarter or half turn
    tilt: float  # degrees of pitch and yaw either way
    defocus: tuple[float, float]  # Gaussian sigma, in modules
    motion_chance: float
    motion: tuple[float, float]  # streak length, in modules
    light: tuple[float, float]  # gain on the scene
    noise: tuple[float, float]  # sensor noise sigma, grey levels
    glare_chance: float
    glare_on_code: float  # chance that a glare lands on the barcode
    jpeg: tuple[int, int]
    glare_peak: tuple[float, float] = (120, 320)  # grey levels added at the glare's centre
    glare_size: tuple[float, float] = (0.03, 0.1)  # its Gaussian sigma, as a share of the frame's width


CONDITIONS = {
    "easy": Conditions(
        ppm=(2.4, 4.0), roll=8, turn_chance=0.0, tilt=8, defocus=(0.0, 0.2), motion_chance=0.0, motion=(0, 0),
        light=(0.75, 1.05), noise=(1.0, 3.0), glare_chance=0.1, glare_on_code=0.0, jpeg=(80, 92),
    ),
    "medium": Conditions(
        ppm=(1.8, 3.0), roll=30, turn_chance=0.2, tilt=20, defocus=(0.15, 0.4), motion_chance=0.5, motion=(0.3, 1.0),
        light=(0.4, 0.9), noise=(2.0, 6.0), glare_chance=0.3, glare_on_code=0.3, jpeg=(65, 85),
    ),
    "hard": Conditions(
        ppm=(1.3, 2.2), roll=180, turn_chance=0.0, tilt=32, defocus=(0.3, 0.6), motion_chance=0.7, motion=(0.8, 2.0),
        light=(0.2, 0.6), noise=(4.0, 10.0), glare_chance=0.5, glare_on_code=0.5, jpeg=(45, 70),
    ),
}


@dataclass
class Frame:
    jpeg: bytes  # what the browser sends
    expected: str | None  # the ICCID on the card, None when it carries no valid one
    level: str
    size: tuple[int, int]
    symbology: str  # of the ICCID barcode, or "none"
    distractors: list[str] = field(default_factory=list)
    ppm: float = 0.0  # frame pixels per module of the ICCID symbol, at its centre
    corners: np.ndarray | None = None  # of the printed symbol (or where it would be), in the frame
    cause: str | None = None  # why it cannot be read, for the frames of make_cause_frames (CAUSES)

    def image(self, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(self.jpeg, np.uint8), flags)


# --- numbers printed on a card ---


def make_iccid(rng: np.random.Generator, length: int | None = None) -> str:
    length = length or int(rng.choice([19, 20], p=[0.6, 0.4]))
    body = "89" + str(rng.choice(COUNTRY_ISSUERS)) + "".join(rng.choice(list("0123456789"), length - 7))
    return body + luhn_check_digit(body)


def make_luhn_invalid(rng: np.random.Generator) -> str:
    iccid = make_iccid(rng)
    wrong = str((int(iccid[-1]) + int(rng.integers(1, 10))) % 10)
    return iccid[:-1] + wrong


def make_ean13(rng: np.random.Generator) -> str:
    body = str(rng.choice(["40", "50", "54", "76", "80", "84", "87"])) + "".join(rng.choice(list("0123456789"), 10))
    weights = [1, 3] * 6
    check = (10 - sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 10) % 10
    return body + str(check)


def digits(rng: np.random.Generator, count: int) -> str:
    return "".join(rng.choice(list("0123456789"), count))


# --- drawing the flat card ---

FORMATS = {
    "code128": zxingcpp.BarcodeFormat.Code128,
    "code39": zxingcpp.BarcodeFormat.Code39,
    "qr": zxingcpp.BarcodeFormat.QRCode,
    "datamatrix": zxingcpp.BarcodeFormat.DataMatrix,
    "ean13": zxingcpp.BarcodeFormat.EAN13,
}


def symbol(text: str, kind: str, module_px: int, bar_height_px: int = 0) -> np.ndarray:
    """The barcode as black on white, without quiet zones, each module module_px wide."""
    options = {"force_square": True} if kind == "datamatrix" else {}
    code = zxingcpp.create_barcode(text, FORMATS[kind], **options)
    bits = np.array(zxingcpp.write_barcode_to_image(code, add_quiet_zones=False))
    if bits.shape[0] > 1 and kind in ("code128", "code39", "ean13"):
        bits = bits[:1]
    image = cv2.resize(bits, None, fx=module_px, fy=module_px, interpolation=cv2.INTER_NEAREST)
    if bar_height_px:
        image = cv2.resize(image[:1], (image.shape[1], bar_height_px), interpolation=cv2.INTER_NEAREST)
    return image


def put_text(card: np.ndarray, text: str, at, height_px: float, color, thick=1, font=cv2.FONT_HERSHEY_SIMPLEX) -> None:
    scale = height_px / 22.0
    cv2.putText(card, text, at, font, scale, color, max(1, int(thick * scale)), cv2.LINE_AA)


def paste(card: np.ndarray, image: np.ndarray, x: int, y: int, quiet: int) -> tuple[int, int, int, int] | None:
    """Paste a symbol on a white label with its quiet zone; its box, or None if it does not fit."""
    h, w = image.shape[:2]
    if x - quiet < 0 or y - quiet < 0 or x + w + quiet > card.shape[1] or y + h + quiet > card.shape[0]:
        return None
    card[y - quiet : y + h + quiet, x - quiet : x + w + quiet] = 255
    card[y : y + h, x : x + w] = image[..., None]
    return x, y, w, h


def grouped(number: str) -> str:
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def draw_card(rng: np.random.Generator, iccid_text: str | None, kind: str, distractors: list[tuple[str, str]]):
    """The flat card (BGR) and the box of the ICCID symbol on it, in canvas pixels."""
    k = CANVAS_PX_PER_MM
    w, h = int(CARD_MM[0] * k), int(CARD_MM[1] * k)
    base = rng.integers(150, 256, 3) if rng.random() < 0.7 else rng.integers(20, 120, 3)
    card = np.empty((h, w, 3), np.uint8)
    card[:] = base
    dark = base.mean() < 128
    ink = (240, 240, 240) if dark else tuple(int(v) for v in rng.integers(0, 90, 3))
    # Operator logo and a decorative band: strong edges the locator must not take for a barcode.
    logo = str(rng.choice(["Telco", "AcmeMobile", "Nordnet", "IoT-Link", "SkyCell"]))
    put_text(card, logo, (int(4 * k), int(10 * k)), 7 * k, ink, 2, cv2.FONT_HERSHEY_DUPLEX)
    band = tuple(int(v) for v in rng.integers(0, 256, 3))
    cv2.rectangle(card, (0, int(13 * k)), (w, int(15 * k)), band, -1)
    # SIM punch-out with the chip's contact pads.
    sx, sy = int(rng.uniform(52, 58) * k), int(20 * k)
    cv2.rectangle(card, (sx, sy), (sx + int(25 * k), sy + int(15 * k)), (60, 60, 60), max(1, int(0.15 * k)))
    cx, cy = sx + int(4 * k), sy + int(3 * k)
    cv2.rectangle(card, (cx, cy), (cx + int(11 * k), cy + int(9 * k)), (60, 170, 215), -1)
    pad_line = max(1, int(0.2 * k))
    for i in range(1, 3):
        x = cx + int(i * 11 * k / 3)
        cv2.line(card, (x, cy), (x, cy + int(9 * k)), (30, 90, 120), pad_line)
    for i in range(1, 4):
        y = cy + int(i * 9 * k / 4)
        cv2.line(card, (cx, y), (cx + int(11 * k), y), (30, 90, 120), pad_line)
    # Fine print.
    fine_print = [f"PIN{n} {digits(rng, 4)}   PUK{n} {digits(rng, 8)}" for n in (1, 2)]
    fine_print.append("Keep this card in a safe place.")
    for i, line in enumerate(fine_print):
        put_text(card, line, (int(4 * k), int((20 + 4 * i) * k)), 2.2 * k, ink)

    code_box = None
    if iccid_text is not None:
        code_box = draw_iccid(rng, card, iccid_text, kind, ink)
    for text, dkind in distractors:
        draw_distractor(rng, card, text, dkind, code_box, ink)
    return card, code_box


def draw_iccid(rng: np.random.Generator, card: np.ndarray, text: str, kind: str, ink) -> tuple[int, int, int, int]:
    k = CANVAS_PX_PER_MM
    if kind in ("code128", "code39"):
        # Printed widths of 36-44 mm (Code 128) and 48-56 mm (Code 39, a longer symbology).
        modules = symbol(text, kind, 1).shape[1]
        width_mm = rng.uniform(36, 44) if kind == "code128" else rng.uniform(48, 56)
        module_px = max(1, round(width_mm * k / modules))
        image = symbol(text, kind, module_px, int(rng.uniform(7, 10) * k))
        quiet = 10 * module_px
        x, y = int(4 * k) + quiet, int(36 * k)
        box = paste(card, image, x, y, quiet)
        put_text(card, grouped(text), (x, y + image.shape[0] + int(3.2 * k)), 2.6 * k, (0, 0, 0) if box else ink)
    else:
        size_mm = rng.uniform(11, 15) if kind == "qr" else rng.uniform(9, 12)
        modules = symbol(text, kind, 1).shape[1]
        module_px = max(1, round(size_mm * k / modules))
        image = symbol(text, kind, module_px)
        quiet = (4 if kind == "qr" else 2) * module_px
        x, y = int(6 * k) + quiet, int(34 * k)
        box = paste(card, image, x, y, quiet)
        at = (x + image.shape[1] + quiet + int(2 * k), y + image.shape[0] // 2)
        put_text(card, "ICCID " + grouped(text), at, 2.4 * k, ink)
    assert box is not None
    return box


def draw_distractor(rng: np.random.Generator, card: np.ndarray, text: str, kind: str, avoid, ink) -> None:
    k = CANVAS_PX_PER_MM
    modules = symbol(text, kind, 1).shape[1]
    module_px = max(1, round((0.33 if kind == "ean13" else 0.3) * k))
    image = symbol(text, kind, module_px, int(rng.uniform(6, 9) * k))
    quiet = 10 * module_px
    # Top right when the ICCID sits bottom left; bottom left when there is no ICCID.
    x = card.shape[1] - image.shape[1] - quiet - int(3 * k) if avoid else int(4 * k) + quiet
    y = int(2 * k) + quiet if avoid else int(36 * k)
    if modules * module_px > card.shape[1] / 2 and avoid:
        y = int(39 * k)
        x = card.shape[1] - image.shape[1] - quiet - int(2 * k)
        if x < avoid[0] + avoid[2] + quiet:
            return  # no room beside the ICCID
    if paste(card, image, x, y, quiet):
        put_text(card, text, (x, min(card.shape[0] - 2, y + image.shape[0] + int(3 * k))), 2.2 * k, ink)


# --- the camera ---


def scene(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A desk: smooth shading, texture and some clutter with straight edges and text."""
    small = rng.integers(40, 200, (4, 4, 3)).astype(np.uint8)
    desk = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    grain = cv2.resize(rng.normal(0, 12, (height // 8, width // 8)).astype(np.float32), (width, height))
    desk = np.clip(desk + grain[..., None], 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(1, 5))):
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        p1 = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        p2 = (int(p1[0] + rng.integers(-width // 3, width // 3)), int(p1[1] + rng.integers(-height // 3, height // 3)))
        cv2.rectangle(desk, p1, p2, color, -1 if rng.random() < 0.5 else int(rng.integers(1, 6)))
    for _ in range(int(rng.integers(0, 3))):
        at = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        put_text(desk, "Invoice no " + digits(rng, 10), at, rng.uniform(10, 30), (20, 20, 20))
    return desk


def homography(rng: np.random.Generator, c: Conditions, frame: tuple[int, int], card_shape, box, px_per_mm: float):
    """Canvas-to-frame perspective: the card tilted in 3D, rolled, at the distance that gives px_per_mm.

    box is the symbol with its quiet zone, in canvas pixels; it is kept whole in the frame."""
    roll = math.radians(rng.uniform(-c.roll, c.roll))
    if rng.random() < c.turn_chance:
        roll += math.radians(float(rng.choice([90, 180, 270])))
    pitch, yaw = (math.radians(rng.uniform(-c.tilt, c.tilt)) for _ in range(2))
    focal = frame[0] * 1.1  # a phone or webcam's field of view, about 50 degrees across
    distance = focal / px_per_mm  # in mm: the card's centre then has px_per_mm
    k = CANVAS_PX_PER_MM
    bx, by, bw, bh = box
    centre = np.array([bx + bw / 2, by + bh / 2]) / k  # the symbol's centre, in mm on the card
    corners = np.array([[0, 0], [card_shape[1], 0], [card_shape[1], card_shape[0]], [0, card_shape[0]]], np.float32)
    symbol_corners = np.array([[bx, by], [bx + bw, by], [bx + bw, by + bh], [bx, by + bh]], np.float32)

    def rotation(axis: int, angle: float) -> np.ndarray:
        cos, sin = math.cos(angle), math.sin(angle)
        r = np.eye(3)
        i, j = [(1, 2), (0, 2), (0, 1)][axis]
        r[i, i], r[i, j], r[j, i], r[j, j] = cos, -sin, sin, cos
        return r

    rot = rotation(2, roll) @ rotation(1, yaw) @ rotation(0, pitch)

    def project(points: np.ndarray) -> np.ndarray:
        mm = np.c_[points / k - centre, np.zeros(len(points))]
        cam = mm @ rot.T + [0, 0, distance]
        return (cam[:, :2] / cam[:, 2:] * focal).astype(np.float32)

    code = project(symbol_corners)
    margin = 0.03 * min(frame)
    # Too close for the whole symbol (with its quiet zone) to fit: the user steps back.
    fit = min((frame[i] - 2 * margin) / (code[:, i].max() - code[:, i].min()) for i in range(2))
    if fit < 1:
        distance /= fit
        px_per_mm *= fit
        code = project(symbol_corners)
    lo, hi = code.min(0), code.max(0)
    # Place the symbol anywhere it stays whole in the frame.
    span = [(margin - lo[i], frame[i] - margin - hi[i]) for i in range(2)]
    shift = np.array([rng.uniform(a, b) if a < b else (a + b) / 2 for a, b in span], np.float32)
    src = corners
    dst = project(corners) + shift
    return cv2.getPerspectiveTransform(src, dst), code + shift, px_per_mm


def lighting(rng: np.random.Generator, c: Conditions, shape, code_quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A gain field (uneven light, vignetting) and an additive glare field."""
    h, w = shape
    gain = rng.uniform(*c.light)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    direction = rng.uniform(0, 2 * math.pi)
    ramp = ((xx - w / 2) * math.cos(direction) + (yy - h / 2) * math.sin(direction)) / max(h, w)
    vignette = 1 - 0.35 * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2)
    field_ = gain * (1 + rng.uniform(0, 0.5) * ramp) * vignette
    glare = np.zeros((h, w), np.float32)
    if rng.random() < c.glare_chance:
        if rng.random() < c.glare_on_code:
            gx, gy = code_quad[int(rng.integers(0, 4))] * 0.6 + code_quad.mean(0) * 0.4
        else:
            gx, gy = rng.uniform(0, w), rng.uniform(0, h)
        sigma = rng.uniform(*c.glare_size) * w
        glare = rng.uniform(*c.glare_peak) * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * sigma**2))
    return field_.astype(np.float32), glare.astype(np.float32)


def motion_kernel(length: float, angle: float) -> np.ndarray:
    size = math.ceil(length) | 1
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1, cv2.LINE_AA)
    return kernel / kernel.sum()


def photograph(rng: np.random.Generator, c: Conditions, card: np.ndarray, box, size, module_mm: float):
    """The card as a camera sees it, JPEG-compressed; the symbol's pixels per module and corners."""
    width, height = size
    ppm = rng.uniform(*c.ppm)
    px_per_mm = ppm / 0.26
    quiet = 10 * module_mm * CANVAS_PX_PER_MM  # the quiet zone a 1-D code needs (2-D codes need less)
    whole = (box[0] - quiet, box[1] - quiet / 2, box[2] + 2 * quiet, box[3] + quiet)
    H, quad, px_per_mm = homography(rng, c, size, card.shape[:2], whole, px_per_mm)
    ppm = px_per_mm * 0.26  # blur is set in modules of that reference Code 128
    x, y, w, h = box
    corners = cv2.perspectiveTransform(np.array([[[x, y], [x + w, y], [x + w, y + h], [x, y + h]]], np.float32), H)[0]
    # Against aliasing when the card shrinks: the lens and sensor would smooth it as much.
    shrink = px_per_mm / CANVAS_PX_PER_MM
    card = cv2.GaussianBlur(card, (0, 0), 0.5 / shrink)
    frame = scene(rng, width, height)
    cv2.warpPerspective(card, H, size, dst=frame, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT)
    gain, glare = lighting(rng, c, (height, width), quad)
    image = frame.astype(np.float32) * gain[..., None] + glare[..., None]
    image = np.minimum(image, 255)  # glare saturates the sensor
    symbol_ppm = module_mm * px_per_mm
    sigma = rng.uniform(*c.defocus) * ppm
    if sigma > 0.3:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    if rng.random() < c.motion_chance:
        image = cv2.filter2D(image, -1, motion_kernel(rng.uniform(*c.motion) * ppm, rng.uniform(0, math.pi)))
    image += rng.normal(0, rng.uniform(*c.noise), image.shape).astype(np.float32)
    image = np.clip(image, 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(*c.jpeg, endpoint=True))])
    assert ok
    return jpeg.tobytes(), symbol_ppm, corners


def make_frame(rng: np.random.Generator, level: str, size: tuple[int, int]) -> Frame:
    """One frame: mostly a Code 128 ICCID; some Code 39, QR or DataMatrix; 10% with no valid ICCID."""
    kind = str(rng.choice(["code128", "code39", "qr", "datamatrix"], p=[0.64, 0.12, 0.12, 0.12]))
    distractors: list[tuple[str, str]] = []
    expected: str | None = make_iccid(rng)
    printed: str | None = expected
    if rng.random() < 0.1:  # no valid ICCID on this card
        expected = None
        case = rng.integers(0, 3)
        if case == 0:
            printed, kind = make_luhn_invalid(rng), "code128"  # a misprint, or a misread of one
        elif case == 1:
            printed, kind = None, "none"
            distractors.append((make_ean13(rng), "ean13"))
        else:
            printed, kind = digits(rng, 8), "code128"  # a PUK as a barcode
    if expected and rng.random() < 0.3:
        if rng.random() < 0.6:
            distractors.append((make_ean13(rng), "ean13"))
        else:
            distractors.append((str(rng.choice(["PUK", "PIN"])) + digits(rng, 8), "code128"))
    if expected and rng.random() < 0.1:
        distractors.append((make_luhn_invalid(rng)[:18], "code128"))  # an 18-digit batch number starting 89
    jpeg, ppm, corners = shoot(rng, level, size, printed, kind, distractors)
    return Frame(jpeg, expected, level, size, kind if expected else "none", [d for _, d in distractors], ppm, corners)


def shoot(
    rng: np.random.Generator, level: str, size: tuple[int, int], printed: str | None, kind: str, distractors,
    conditions: Conditions | None = None,
):
    """Draw the card and photograph it (under conditions, by default those of level): JPEG bytes,
    the symbol's pixels per module, its corners."""
    card, box = draw_card(rng, printed, kind, list(distractors))
    if box is None:  # aim the camera at where the ICCID would be
        k = CANVAS_PX_PER_MM
        box = (int(6 * k), int(36 * k), int(30 * k), int(9 * k))
    module_mm = box[2] / CANVAS_PX_PER_MM / symbol(printed, kind, 1).shape[1] if printed else 0.26
    return photograph(rng, conditions or CONDITIONS[level], card, box, size, module_mm)


def make_frames(count: int = 300, seed: int = 1) -> list[Frame]:
    """count frames, a third of each level and of each size, the same for the same seed."""
    rng = np.random.default_rng(seed)
    return [make_frame(rng, LEVELS[i % 3], SIZES[(i // 3) % 3]) for i in range(count)]


def card_image(
    text: str | None, kind: str = "code128", size=(1280, 720), seed: int = 0, level: str = "easy", distractors=()
) -> np.ndarray:
    """A frame (decoded BGR) of a card whose main barcode holds text (None: no such barcode),
    with distractors as (text, kind) pairs, kind one of code128, code39, qr, datamatrix, ean13."""
    jpeg, _, _ = shoot(np.random.default_rng(seed), level, size, text, kind, distractors)
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)


# --- frames with one known cause of unreadability, for the scanner's advice ---

_EASY = CONDITIONS["easy"]
# A valid ICCID photographed under easy conditions but for one thing, far beyond what any decoder resolves.
QUALITY_CAUSES = {
    "small": replace(_EASY, ppm=(0.45, 0.85)),  # the card far away: under a pixel per module
    "defocus": replace(_EASY, defocus=(1.2, 2.2)),  # out of focus by more than a module
    "motion": replace(_EASY, motion_chance=1.0, motion=(3.0, 6.0)),  # shaken across several modules
    "dark": replace(_EASY, light=(0.025, 0.06), noise=(2.0, 4.0)),  # a dim room: the white card at 6-15 grey levels
    "glare": replace(
        _EASY, glare_chance=1.0, glare_on_code=1.0, glare_peak=(500, 900), glare_size=(0.08, 0.14)
    ),  # a lamp's reflection over the code, saturating it
}
# A readable barcode that holds no ICCID (or no barcode at all), under easy conditions.
NOT_ICCID_CAUSES = ["product", "puk", "luhn", "length", "none"]
CAUSES = [*QUALITY_CAUSES, *NOT_ICCID_CAUSES]


def make_cause_frame(rng: np.random.Generator, cause: str, size: tuple[int, int]) -> Frame:
    """A frame whose one cause of unreadability is cause (one of CAUSES). A quarter of the frames
    holding a valid ICCID carry a product barcode beside it, which may stay readable."""
    distractors: list[tuple[str, str]] = []
    expected: str | None = None
    kind = "code128"
    if cause in QUALITY_CAUSES:
        expected = printed = make_iccid(rng)
        if rng.random() < 0.25:
            distractors.append((make_ean13(rng), "ean13"))
    elif cause == "product":
        printed, kind = None, "none"
        distractors.append((make_ean13(rng), "ean13"))
    elif cause == "puk":
        printed = digits(rng, 8)
    elif cause == "luhn":
        printed = make_luhn_invalid(rng)
    elif cause == "length":
        body = "89" + str(rng.choice(COUNTRY_ISSUERS)) + digits(rng, int(rng.choice([10, 11, 15, 16])))
        printed = body + luhn_check_digit(body)  # 17, 18, 22 or 23 digits: passes Luhn, wrong length
    elif cause == "none":
        printed, kind = None, "none"
    else:
        raise ValueError(f"unknown cause {cause!r}: one of {', '.join(CAUSES)}")
    conditions = QUALITY_CAUSES.get(cause, _EASY)
    jpeg, ppm, corners = shoot(rng, "easy", size, printed, kind, distractors, conditions)
    return Frame(jpeg, expected, "cause", size, kind if expected else "none", [d for _, d in distractors], ppm, corners, cause)


def make_cause_frames(per_cause: int = 30, seed: int = 1) -> list[Frame]:
    """per_cause frames of each cause, over the three sizes, the same for the same seed."""
    rng = np.random.default_rng(seed)
    return [make_cause_frame(rng, cause, SIZES[i % 3]) for cause in CAUSES for i in range(per_cause)]


def cause_image(cause: str, size=(1280, 720), seed: int = 0) -> np.ndarray:
    """A frame (decoded BGR) of one cause, for tests."""
    return make_cause_frame(np.random.default_rng(seed), cause, size).image()
