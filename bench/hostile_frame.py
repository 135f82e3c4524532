"""The cost of a hostile camera frame: a 3840 x 2160 progressive JPEG with thousands of minimal
scans (issue 13, item 8), decoded by OpenCV as the server did before, and through
imports.frames.load_frame as it does now (refused before decoding). First, what the checks cost a
normal frame (bench/cards.py's, as JPEG, PNG and WebP): imports.frames.check_frame (Pillow reading
the header) beside the whole of load_frame (the checks and cv2.imdecode).

    .venv/bin/python bench/hostile_frame.py                 # 1,000, 3,000 and 6,000 scans
    .venv/bin/python bench/hostile_frame.py --scans 6000 --repeat 3

Standalone, not part of the pytest run. The frames are built by tests/imports/test_frames_fuzzed.py's
jpeg_of_many_scans. Prints the load average: other processes skew the timings.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
os.environ.setdefault("SECRET_KEY", "benchmarking-only-" + "x" * 40)

import django  # noqa: E402

django.setup()

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from cards import make_frames  # noqa: E402

from imports.frames import FrameError, check_frame, load_frame  # noqa: E402
from tests.imports.test_frames_fuzzed import jpeg_of_many_scans  # noqa: E402


def seconds(work, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def refused(data: bytes) -> str:
    try:
        load_frame(data)
    except FrameError as error:
        return str(error)
    return "decoded"


def normal_frames(repeat: int) -> None:
    print("| frame | format | KB | check_frame ms | load_frame ms |")
    print("| --- | --- | ---: | ---: | ---: |")
    for frame in make_frames(9)[::3]:  # one of each size
        gray = frame.image(cv2.IMREAD_GRAYSCALE)
        encoded = {kind: cv2.imencode(f".{kind}", gray)[1].tobytes() for kind in ("png", "webp")}
        for kind, data in {"jpeg": frame.jpeg, **encoded}.items():
            check = seconds(lambda data=data: check_frame(data), repeat * 100) * 1000
            load = seconds(lambda data=data: load_frame(data), repeat * 10) * 1000
            print(f"| {frame.size[0]} x {frame.size[1]} | {kind} | {len(data) // 1000} | {check:.3f} | {load:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, nargs="+", default=[1_000, 3_000, 6_000])
    parser.add_argument("--repeat", type=int, default=1)
    options = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    normal_frames(options.repeat)
    print("| scans | KB | cv2.imdecode s (before) | load_frame s (now) | load_frame says |")
    print("| ---: | ---: | ---: | ---: | --- |")
    for scans in options.scans:
        data = jpeg_of_many_scans(scans)
        buffer = np.frombuffer(data, dtype=np.uint8)
        before = seconds(lambda: cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE), options.repeat)
        now = seconds(lambda: refused(data), options.repeat)
        print(f"| {scans:,} | {len(data) // 1000} | {before:.2f} | {now:.4f} | {refused(data)[:40]}... |")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
