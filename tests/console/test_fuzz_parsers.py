"""The ICCID file parser, the usage CSV parser and the carrier push, fuzzed: arbitrary bytes and
inputs that are nearly right (encodings, BOMs, NULs, huge lines, quotes, wrong column counts,
numbers and dates at their extremes). Each input gets a verdict or a clear error, never a
traceback; through the views, never a 500."""

import codecs
import io
import json
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports.input import ImportInputError, decode_text, file_line_verdicts, open_text, summarise
from sims.usage import problem_with
from sims.usage_csv import UsageCsv, UsageFileError
from sims.usage_file import ingest_usage_csv
from sims.usage_fields import FIELDS
from tests.conftest import make_iccid

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
ICCIDS = [make_iccid() for _ in range(5)]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"]
BOMS = [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE]
NEWLINES = ["\n", "\r\n", "\r", "\n\r", "\x85", "\u2028"]


def encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


# --- the ICCID file ---

iccid_like = st.one_of(
    st.sampled_from(ICCIDS),
    st.sampled_from(ICCIDS).map(lambda iccid: " ".join(iccid[i : i + 4] for i in range(0, len(iccid), 4))),
    st.sampled_from(ICCIDS).map(lambda iccid: iccid[:-1] + str((int(iccid[-1]) + 1) % 10)),  # Luhn broken
    st.text("0123456789", min_size=1, max_size=25),
    st.text("0123456789٠١٢٣٤٥٦٧٨٩²³ -", min_size=1, max_size=25),  # Arabic-Indic digits, superscripts
    st.just("8" * 5000),  # a huge line of digits
    st.text(max_size=60),
)
iccid_lines = st.lists(
    st.tuples(iccid_like, st.sampled_from(["", "\t", ",x", " ; note", "\x00", '"', "\ufeff"]), st.sampled_from(NEWLINES)),
    max_size=30,
)


@st.composite
def iccid_files(draw) -> bytes:
    text = "".join(value + extra + newline for value, extra, newline in draw(iccid_lines))
    data = draw(st.sampled_from(BOMS)) + encode(text, draw(st.sampled_from(ENCODINGS)))
    if draw(st.booleans()):  # a stray byte or a cut: not valid in any encoding any more
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=0, max_size=4)) + data[at + draw(st.integers(0, 3)) :]
    return data


def read_iccid_file(data: bytes) -> None:
    try:
        text = decode_text(data)
    except ImportInputError as error:
        assert "not" in str(error)  # "not text", "not valid UTF-16 text"
        return
    parsed = summarise(file_line_verdicts(text))
    assert parsed.lines == len(parsed.iccids) + parsed.invalid + parsed.duplicates + parsed.ignored
    assert len(set(parsed.iccids)) == len(parsed.iccids)
    for example in parsed.invalid_examples:
        assert example.reason and len(example.reason) < 300  # a huge line is not quoted whole
    try:
        streamed = open_text(io.BytesIO(data)).read()
    except ImportInputError:
        return
    summarise(file_line_verdicts(streamed))


@settings(max_examples=300, deadline=None)
@given(st.one_of(iccid_files(), st.binary(max_size=2048)))
def test_any_iccid_file_gets_a_verdict_per_line_or_a_reason(data):
    read_iccid_file(data)


def test_a_huge_line_gets_one_short_verdict():
    parsed = summarise(file_line_verdicts(decode_text(b"8" * 5_000_000 + b"\n" + ICCIDS[0].encode())))
    assert (parsed.lines, parsed.invalid, parsed.iccids) == (2, 1, [ICCIDS[0]])
    assert parsed.invalid_examples[0].reason.startswith("8888888888") and "has 5,000,000 digits" in parsed.invalid_examples[0].reason
    assert len(parsed.invalid_examples[0].reason) < 200


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(iccid_files(), st.binary(min_size=1, max_size=1024)))
def test_the_import_answers_any_file_without_a_500(owner_client, product, data):
    response = owner_client.post(reverse("import_file", args=[product.slug]), {"file": SimpleUploadedFile("sims.txt", data)})
    assert response.status_code in (200, 400), response.status_code
    assert ("form-error" in response.content.decode()) == (response.status_code == 400)


# --- the usage CSV ---

extreme_counts = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["", " 12 ", "1e5", "0x10", "1_000", "+5", "-0", "١٢", "NaN", "9" * 5000, "12.5", "\x00"]),
)
times = st.one_of(
    st.datetimes(timezones=st.sampled_from([UTC, None])).map(lambda moment: moment.isoformat()),
    st.sampled_from([
        "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59.999999Z", "2026-02-30T00:00:00Z",
        "2026-11-20", "2026-11-20T09:00:00+25:00", "20261120T090000Z", "0226-11-20T09:00:00Z", "", " 2026-11-20T09:00Z ",
        "2026-11-20T09:00:00\x00",
    ]),  # fmt: skip
    st.text(max_size=30),
)
cells = {
    "record_id": st.one_of(st.text(min_size=1, max_size=10), st.just("r" * 200), st.just("a\tb")),
    "iccid": st.one_of(st.sampled_from(ICCIDS), iccid_like),
    "start": times,
    "end": times,
    "bytes_up": extreme_counts,
    "bytes_down": extreme_counts,
    "sms": extreme_counts,
    "country": st.sampled_from(["DE", "de", "", "XX", "ß", "DEU", "\x00", " fr "]),
}


def quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@st.composite
def usage_files(draw) -> bytes:
    names = draw(st.permutations(FIELDS))
    if draw(st.booleans()):
        names = names[: draw(st.integers(0, len(names)))]  # a column (or all) missing
    header = ",".join(name.upper() if draw(st.booleans()) else name for name in names)
    lines = [header]
    for _ in range(draw(st.integers(0, 12))):
        row = [draw(cells[name]) for name in names]
        row = [quoted(value) if draw(st.booleans()) or "," in value or '"' in value else value for value in row]
        shape = draw(st.sampled_from(["right", "right", "short", "long", "blank", "open quote"]))
        if shape == "short" and row:
            row = row[:-1]
        elif shape == "long":
            row.append("extra")
        elif shape == "blank":
            row = [""] * len(row)
        elif shape == "open quote" and row:
            row[0] = '"' + row[0]
        lines.append(",".join(row))
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    return draw(st.sampled_from(BOMS[:3])) + encode(text, draw(st.sampled_from(["utf-8", "utf-16", "cp1252"])))


@settings(max_examples=300, deadline=None)
@given(st.one_of(usage_files(), st.binary(max_size=2048)))
def test_any_usage_csv_gives_rows_and_rejections_or_a_file_error(data):
    try:
        usage = UsageCsv(io.BytesIO(data))
    except UsageFileError as error:
        assert str(error)
        return
    for row in usage.rows():
        assert row.started_at.tzinfo is UTC and row.ended_at.tzinfo is UTC
        assert row.started_at.year >= 2000 and len(row.iccid) in (19, 20)
        problem_with(row, NOW)
    for rejection in usage.rejected:
        assert rejection.reason and len(rejection.reason) < 400 and len(rejection.record_id) <= 67


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=usage_files())
def test_any_usage_csv_is_ingested_or_refused_whole(product, make_sim, data):
    """Through the database too: every record is counted as ingested, a duplicate or rejected."""
    if not product.sims.exists():
        for iccid in ICCIDS:
            make_sim(product, iccid=iccid)
    try:
        report = ingest_usage_csv(io.BytesIO(data), now=NOW)
    except UsageFileError:
        return
    assert report.received == report.ingested + report.duplicates + report.rejected_count


def test_a_header_over_csvs_field_limit_is_a_file_error():
    with pytest.raises(UsageFileError, match="not a CSV header row"):
        UsageCsv(io.BytesIO(b'"' + b"a" * 200_000 + b'"\n'))


# --- the carrier push ---

TOKEN = "t0ken-for-the-fuzzed-carrier-push-0123456789"
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
records = st.fixed_dictionaries(
    {},
    optional={
        "record_id": st.one_of(st.text(max_size=80), json_values),
        "iccid": st.one_of(st.sampled_from(ICCIDS), st.text(max_size=25), json_values),
        "start": st.one_of(times, json_values),
        "end": st.one_of(times, json_values),
        "bytes_up": st.one_of(st.integers(-(2**70), 2**70), json_values),
        "bytes_down": st.integers(-(2**70), 2**70),
        "sms": st.one_of(st.integers(-(2**40), 2**40), json_values),
        "country": st.one_of(st.sampled_from(["DE", "xx", "", "ß"]), json_values),
    },
)
pushes = st.one_of(json_values, st.fixed_dictionaries({"records": st.one_of(st.lists(records, max_size=5), json_values)}))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=pushes)
def test_the_push_answers_any_json_with_a_verdict_never_a_500(client, settings, db, payload):
    settings.CARRIER_PUSH_TOKEN = TOKEN
    body = json.dumps(payload)
    response = client.post("/carrier/usage/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code in (200, 400), response.status_code
    answer = response.json()
    assert ("error" in answer) == (response.status_code == 400)
    if response.status_code == 200:
        assert answer["received"] == answer["ingested"] + answer["duplicates"] + answer["rejected_count"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=512))
def test_the_push_answers_any_bytes_without_a_500(client, settings, db, body):
    settings.CARRIER_PUSH_TOKEN = TOKEN
    response = client.post("/carrier/usage/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code in (200, 400)
