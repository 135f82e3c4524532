"""ICCID barcode reading on camera-like frames: imports.scanning.read_iccid beside zxing-cpp alone.

Standalone, not part of the pytest run. It generates a seeded set of carrier-card frames
(bench/cards.py: easy, medium and hard; 640x480, 1280x720, 1920x1080; about 10% carrying no
valid ICCID), then for each decoder decodes every frame from its JPEG bytes, as the server
does (imports.frames.load_frame: cv2.imdecode to grayscale), and times JPEG decoding plus reading.

    .venv/bin/python bench/scan.py                          # 300 frames, seed 1
    .venv/bin/python bench/scan.py --count 600 --seed 7 --save-dir /tmp/scan-frames

It then times the advice (imports.scan_advice.advise) on the frames read_iccid did not read: what
the scanner adds to such a frame to tell the person why (bench/scan_advice.py scores the advice).

A frame counts as read when the decoder returns its ICCID; "wrong" is any other ICCID
returned (on a card with no valid ICCID, any ICCID at all). --save-dir writes every frame
(the decoded JPEG, as PNG), named with its index, level, size, symbology and each decoder's outcome.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

from cards import LEVELS, Frame, make_frames

from imports.scan_advice import advise
from imports.scanning import ZXING_FORMATS, read_iccid, scan_frame
from sims.iccid import is_valid_iccid, normalise_iccid

TARGETS = {"easy": 0.99, "medium": 0.90}
TARGET_P95_1080P_MS = 60.0


def zxing_alone(gray: np.ndarray) -> str | None:
    """zxing-cpp on the whole frame, its defaults, the same symbologies and ICCID rules."""
    for barcode in zxingcpp.read_barcodes(gray, formats=ZXING_FORMATS):
        if is_valid_iccid(barcode.text):
            return normalise_iccid(barcode.text)
    return None


DECODERS: dict[str, Callable[[np.ndarray], str | None]] = {"read_iccid": read_iccid, "zxing-cpp alone": zxing_alone}


@dataclass
class Outcome:
    frame: Frame
    found: str | None
    ms: float

    @property
    def read(self) -> bool:
        return self.frame.expected is not None and self.found == self.frame.expected

    @property
    def wrong(self) -> bool:
        return self.found is not None and self.found != self.frame.expected

    @property
    def mark(self) -> str:
        if self.wrong:
            return "WRONG"
        return "ok" if self.read else "none" if self.frame.expected is None else "miss"


@dataclass
class Bucket:
    outcomes: list[Outcome] = field(default_factory=list)

    def row(self, name: str) -> str:
        with_iccid = [o for o in self.outcomes if o.frame.expected]
        read = sum(o.read for o in with_iccid)
        wrong = sum(o.wrong for o in self.outcomes)
        times = sorted(o.ms for o in self.outcomes)
        rate = read / len(with_iccid) if with_iccid else 0.0
        return (
            f"| {name} | {len(self.outcomes)} | {read}/{len(with_iccid)} = {rate:.0%} | {wrong} "
            f"| {statistics.median(times):.1f} | {percentile(times, 95):.1f} |"
        )

    def rate(self) -> float:
        with_iccid = [o for o in self.outcomes if o.frame.expected]
        return sum(o.read for o in with_iccid) / max(1, len(with_iccid))


def percentile(sorted_values: list[float], pct: float) -> float:
    return float(np.percentile(sorted_values, pct)) if sorted_values else 0.0


def run(decoder: Callable[[np.ndarray], str | None], frames: list[Frame]) -> list[Outcome]:
    decoder(cv2.imdecode(np.frombuffer(frames[0].jpeg, np.uint8), cv2.IMREAD_GRAYSCALE))  # warm up
    outcomes = []
    for frame in frames:
        start = time.perf_counter()
        gray = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
        found = decoder(gray)
        outcomes.append(Outcome(frame, found, (time.perf_counter() - start) * 1000))
    return outcomes


def advice_time(frames: list[Frame]) -> tuple[list[float], list[float]]:
    """ms that advising adds to each frame giving no ICCID (the scan itself is timed above), on
    the clock and in CPU time (which other processes inflate less); bench/scan_advice.py says
    whether the advice is right."""
    wall, cpu = [], []
    for frame in frames:
        scan = scan_frame(cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE))
        if scan.iccid is None:
            start, start_cpu = time.perf_counter(), time.process_time()
            advise(scan)
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
    return sorted(wall), sorted(cpu)


def report(name: str, outcomes: list[Outcome]) -> dict[str, Bucket]:
    buckets = {level: Bucket([o for o in outcomes if o.frame.level == level]) for level in LEVELS}
    buckets["overall"] = Bucket(outcomes)
    print(f"\n{name}\n")
    print("| bucket | frames | ICCIDs read | wrong | median ms | p95 ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for level, bucket in buckets.items():
        print(bucket.row(level))
    for size in sorted({o.frame.size for o in outcomes}):
        times = sorted(o.ms for o in outcomes if o.frame.size == size)
        print(f"{size[0]}x{size[1]}: median {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms")
    kinds = sorted({o.frame.symbology for o in outcomes if o.frame.expected})
    by_kind = [[o for o in outcomes if o.frame.symbology == kind] for kind in kinds]
    counts = [f"{kind} {sum(o.read for o in group)}/{len(group)}" for kind, group in zip(kinds, by_kind, strict=True)]
    print("by symbology: " + ", ".join(counts))
    return buckets


def save(frames: list[Frame], results: dict[str, list[Outcome]], directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        marks = "_".join(f"{name.split()[0]}-{out[i].mark}" for name, out in results.items())
        name = f"{i:04d}_{frame.level}_{frame.size[0]}_{frame.symbology}_ppm{frame.ppm:.1f}_{marks}.png"
        cv2.imwrite(str(directory / name), frame.image())  # the decoded JPEG, pixel for pixel


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save-dir", type=Path)
    args = parser.parse_args()

    print(f"Generating {args.count} frames (seed {args.seed})...", flush=True)
    frames = make_frames(args.count, args.seed)
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; cores: {os.cpu_count()}")
    results = {name: run(decoder, frames) for name, decoder in DECODERS.items()}
    buckets = {name: report(name, outcomes) for name, outcomes in results.items()}
    wall, cpu = advice_time(frames)
    print(f"\nadvice on the {len(wall)} frames without an ICCID read (imports.scan_advice.advise, after scan_frame): "
          f"median {statistics.median(wall):.2f} ms, p95 {percentile(wall, 95):.2f} ms a frame "
          f"(CPU: median {statistics.median(cpu):.2f} ms, p95 {percentile(cpu, 95):.2f} ms)"
          if wall else "\nno frame without an ICCID read: advice not timed")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")

    ours, theirs = buckets["read_iccid"], buckets["zxing-cpp alone"]
    times_1080 = sorted(o.ms for o in results["read_iccid"] if o.frame.size == (1920, 1080))
    p95_1080 = percentile(times_1080, 95) if times_1080 else float("nan")  # nan: not measured, not met
    checks = [(f"{level} read >= {target:.0%}", ours[level].rate() >= target) for level, target in TARGETS.items()]
    checks.append(("no wrong ICCID", sum(o.wrong for o in results["read_iccid"]) == 0))
    checks.append(("overall >= zxing-cpp alone", ours["overall"].rate() >= theirs["overall"].rate()))
    checks.append((f"p95 1080p {p95_1080:.1f} ms < {TARGET_P95_1080P_MS:.0f} ms", p95_1080 < TARGET_P95_1080P_MS))
    print("\ntargets: " + ", ".join(f"{text}: {'met' if ok else 'NOT met'}" for text, ok in checks))
    if args.save_dir:
        save(frames, results, args.save_dir)
        print(f"frames written to {args.save_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
