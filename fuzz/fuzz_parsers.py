"""Coverage-guided fuzzing (atheris, libFuzzer) of what the console reads from strangers.

Not part of the test run: the hypothesis tests (tests/imports/test_frames_fuzzed.py, tests/console/test_fuzz_parsers.py) run in CI with a bounded
number of examples; this harness runs for as long as you give it and follows coverage.

    .venv/bin/pip install -r fuzz/requirements.txt
    .venv/bin/python fuzz/fuzz_parsers.py iccid 120      # target, seconds
    .venv/bin/python fuzz/fuzz_parsers.py csv 120
    .venv/bin/python fuzz/fuzz_parsers.py frame 120

Targets:
  iccid  bytes of an uploaded ICCID file: decode_text + file_line_verdicts, and the streaming
         reader (open_text), and pasted_verdicts on the text. Allowed: ImportInputError.
  csv    bytes of a usage CSV: UsageCsv(...).rows() and the per-record checks ingestion makes
         (problem_with, the usage day, the stored form). Allowed: UsageFileError.
  frame  bytes of a scanner frame: load_frame. Allowed: FrameError. Checked: a decoded image is
         never bigger than the size its header declared (the header check is what keeps a
         small file from decoding into gigabytes).

A crash (any other exception, or a broken check) stops the run and leaves the input in
fuzz/crashes/. The corpus grows in fuzz/corpus/<target>/ (not committed). At the end the
harness prints the executions, the edges covered and the crashes.
"""

import io
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
os.environ.setdefault("SECRET_KEY", "fuzzing-only-not-a-secret")
os.environ.setdefault("SCAN_MAX_FRAME_PIXELS", str(640 * 480))  # small frames: more executions a second

import atheris  # noqa: E402
import django  # noqa: E402

django.setup()

with atheris.instrument_imports(include=["sims", "imports"]):
    from imports import frames  # noqa: E402
    from imports import input as import_input  # noqa: E402
    from sims import usage, usage_csv, usage_fields  # noqa: E402

import datetime as _dt  # noqa: E402

NOW = _dt.datetime(2026, 6, 1, tzinfo=_dt.UTC)
STORED = (lambda value: value.astimezone(_dt.UTC).replace(tzinfo=None).isoformat(" ") if isinstance(value, _dt.datetime) else value.isoformat())


def fuzz_iccid(data: bytes) -> None:
    try:
        text = import_input.decode_text(data)
    except import_input.ImportInputError as error:
        assert str(error)
        text = None
    if text is not None:
        parsed = import_input.summarise(import_input.file_line_verdicts(text))
        assert parsed.lines == len(parsed.iccids) + parsed.invalid + parsed.duplicates + parsed.ignored
        for iccid in parsed.iccids:
            assert import_input.validate_iccid(iccid) == iccid
        for verdict in import_input.pasted_verdicts(text):
            assert verdict.verdict in (import_input.VALID, import_input.INVALID, import_input.DUPLICATE)
    try:
        streamed = import_input.open_text(io.BytesIO(data)).read()
    except import_input.NotText:
        return
    import_input.summarise(import_input.file_line_verdicts(streamed))


def fuzz_csv(data: bytes) -> None:
    try:
        reader = usage_csv.UsageCsv(io.BytesIO(data))
    except usage_csv.UsageFileError as error:
        assert str(error)
        return
    for row in reader.rows():
        assert row.iccid and row.started_at.tzinfo is _dt.UTC and row.ended_at.tzinfo is _dt.UTC
        usage.problem_with(row, NOW)
        day = usage._usage_day(row.started_at)
        STORED(row.started_at), STORED(row.ended_at), STORED(day), STORED(day.replace(day=1))
    for rejection in reader.rejected:
        assert rejection.reason


def fuzz_frame(data: bytes) -> None:
    try:
        image = frames.load_frame(data)
    except frames.FrameError as error:
        assert str(error)
        return
    header = frames.read_header(data)
    assert image.shape[0] * image.shape[1] <= header.width * header.height, (image.shape, header)


TARGETS = {"iccid": fuzz_iccid, "csv": fuzz_csv, "frame": fuzz_frame}
SEEDS = {
    "iccid": [b"89012600000000000011\n8901 2600 0000 0000 011\r\n", b"\xef\xbb\xbf8901260000000000001\r\n", "8901260000000000001\n".encode("utf-16")],
    "csv": [
        b"record_id,iccid,start,end,bytes_up,bytes_down,sms,country\n"
        b"r1,89012600000000000011,2026-01-01T00:00:00Z,2026-01-01T01:00:00+01:00,1,2,0,DE\n"
        b'"r,2",8901260000000000001,2026-01-01T00:00:00,2026-01-01T00:00:00,9,9,9,\n'
    ],
}


def main() -> None:
    target, seconds = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 60
    corpus = HERE / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    crashes = HERE / "crashes"
    crashes.mkdir(exist_ok=True)
    for number, seed in enumerate(SEEDS.get(target, [])):
        (corpus / f"seed-{number}").write_bytes(seed)
    if target == "frame":
        import cv2
        import numpy as np

        card = np.full((120, 160), 200, dtype=np.uint8)
        for extension in (".jpg", ".png", ".webp"):
            (corpus / f"seed{extension}").write_bytes(cv2.imencode(extension, card)[1].tobytes())
    fuzz_one = TARGETS[target]
    started = time.monotonic()
    print(f"fuzzing {target} for {seconds} s; corpus {corpus}", flush=True)
    atheris.Setup(
        [sys.argv[0], f"-max_total_time={seconds}", f"-artifact_prefix={crashes}/{target}-", "-max_len=65536",
         "-print_final_stats=1", "-timeout=20", "-rss_limit_mb=4096", str(corpus)],
        fuzz_one,
    )
    try:
        atheris.Fuzz()
    finally:
        print(f"{target}: stopped after {time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()
