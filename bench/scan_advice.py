"""The scanner's advice on unreadable frames (imports.scan_advice.advise), against each frame's known cause.

Standalone, not part of the pytest run. bench/cards.py's make_cause_frames draws frames with one
cause each: a valid ICCID too small, out of focus, shaken, in the dark or under glare, or a
readable barcode that holds no ICCID (a product EAN-13, an 8-digit PUK, a number failing the
Luhn check, one of the wrong length) or no barcode at all. Each frame is decoded from its JPEG
as the server does (imports.scanning.scan_frame), then advised; the table says which advice each
cause got. It then checks, on those frames and on bench/scan.py's mixed frames (make_frames),
that no frame holding a valid ICCID is ever told it is not one, and times what advising adds
(the product formats in the whole-frame pass, the measures) per frame.

    .venv/bin/python bench/scan_advice.py                      # 30 frames a cause, seed 2; 300 mixed frames
    .venv/bin/python bench/scan_advice.py --per-cause 60 --seed 3 --mixed 0
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from cards import CAUSES, Frame, make_cause_frames, make_frames

from imports.scan_advice import NOT_AN_ICCID, QUALITY_ADVICE, advise
from imports.scanning import ZXING_FORMATS, _ZXING_PRODUCT, WHOLE_FRAME_WIDTH, _shrink, scan_frame

# The advice each known cause should get.
RIGHT = {
    "small": "small", "defocus": "blurred", "motion": "blurred", "dark": "dark", "glare": "glare",
    "product": "product", "puk": "pin", "luhn": "luhn", "length": "length", "none": "none",
}
COLUMNS = ["read", *QUALITY_ADVICE, *NOT_AN_ICCID]


def advised(frame: Frame) -> tuple[str, float, float]:
    """The advice's cause ("read" when the ICCID was read), ms to scan, ms to advise."""
    gray = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    start = time.perf_counter()
    scan = scan_frame(gray)
    middle = time.perf_counter()
    advice = advise(scan)
    end = time.perf_counter()
    if scan.iccid:
        return ("read" if scan.iccid == frame.expected else "WRONG"), (middle - start) * 1000, (end - middle) * 1000
    assert advice is not None
    return advice.cause, (middle - start) * 1000, (end - middle) * 1000


def product_formats_ms(frames: list[Frame]) -> tuple[float, float]:
    """Median ms of the whole-frame zxing pass without and with the product formats."""
    without, with_ = [], []
    for frame in frames:
        small = _shrink(frame.image(cv2.IMREAD_GRAYSCALE), WHOLE_FRAME_WIDTH)
        for formats, times in ((ZXING_FORMATS, without), (ZXING_FORMATS + _ZXING_PRODUCT, with_)):
            start = time.perf_counter()
            zxingcpp.read_barcodes(small, formats=zxingcpp.BarcodeFormats(formats), try_rotate=True, try_invert=False)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(without), statistics.median(with_)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-cause", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--mixed", type=int, default=300, help="bench/scan.py's mixed frames checked for false 'not an ICCID'")
    args = parser.parse_args()

    print(f"Generating {args.per_cause} frames of each of {len(CAUSES)} causes (seed {args.seed})...", flush=True)
    frames = make_cause_frames(args.per_cause, args.seed)
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; cores: {os.cpu_count()}")
    advised(frames[0])  # warm up
    results = [advised(frame) for frame in frames]

    print("\n| cause \\ advice | " + " | ".join(COLUMNS) + " | right |")
    print("| --- |" + " ---: |" * (len(COLUMNS) + 1))
    right = unreadable = 0
    for cause in CAUSES:
        got = Counter(advice for frame, (advice, _, _) in zip(frames, results, strict=True) if frame.cause == cause)
        missed = sum(n for advice, n in got.items() if advice != "read")
        ok = got[RIGHT[cause]]
        right, unreadable = right + ok, unreadable + missed
        cells = [str(got[column]) if got[column] else "." for column in COLUMNS]
        print(f"| {cause} | " + " | ".join(cells) + f" | {ok}/{missed} |")
    print(f"\nright advice: {right}/{unreadable} unreadable frames = {right / max(1, unreadable):.1%}")

    told_not_iccid = [
        (frame, advice) for frame, (advice, _, _) in zip(frames, results, strict=True) if frame.expected and advice in NOT_AN_ICCID
    ]
    mixed = make_frames(args.mixed, 1) if args.mixed else []
    mixed_results = [advised(frame) for frame in mixed]
    told_not_iccid += [(frame, advice) for frame, (advice, _, _) in zip(mixed, mixed_results, strict=True) if frame.expected and advice in NOT_AN_ICCID]
    holding = sum(1 for frame in frames + mixed if frame.expected)
    unread_holding = sum(
        1 for frame, (advice, _, _) in zip(frames + mixed, results + mixed_results, strict=True) if frame.expected and advice != "read"
    )
    print(
        f"frames holding a valid ICCID: {holding} ({unread_holding} of them unread); told 'not an ICCID': {len(told_not_iccid)}"
        + "".join(f"\n  {frame.cause or frame.level} {frame.size} -> {advice}" for frame, advice in told_not_iccid)
    )
    wrong = sum(advice == "WRONG" for advice, _, _ in results + mixed_results)
    print(f"wrong ICCIDs read: {wrong}")

    unread = [(scan_ms, advise_ms) for cause, scan_ms, advise_ms in results + mixed_results if cause != "read"]
    advise_ms = sorted(ms for _, ms in unread)
    scan_ms = sorted(ms for ms, _ in unread)
    print(
        f"\non the {len(unread)} frames without an ICCID read: advise() median {statistics.median(advise_ms):.2f} ms, "
        f"p95 {np.percentile(advise_ms, 95):.2f} ms a frame, after scan_frame's median {statistics.median(scan_ms):.1f} ms, "
        f"p95 {np.percentile(scan_ms, 95):.1f} ms"
    )
    without, with_ = product_formats_ms(frames + mixed)
    print(f"whole-frame zxing pass: median {without:.1f} ms without the product formats, {with_:.1f} ms with them")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
