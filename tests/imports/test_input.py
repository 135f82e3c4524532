import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from imports.input import (
    DUPLICATE,
    IGNORED,
    INVALID,
    VALID,
    ImportInputError,
    decode_text,
    file_line_verdicts,
    pasted_verdicts,
    summarise,
    summarise_file,
)
from tests.conftest import make_iccid

A, B, C = make_iccid(), make_iccid(), make_iccid()


def verdicts_of(text: str) -> list[str]:
    return [v.verdict for v in file_line_verdicts(text)]


@pytest.mark.parametrize(
    "data",
    [
        f"{A}\n{B}\n".encode(),
        codecs.BOM_UTF8 + f"{A}\r\n{B}\r\n".encode(),
        codecs.BOM_UTF16_LE + f"{A}\r\n{B}".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + f"{A}\n{B}".encode("utf-16-be"),
        f"{A}\n{B}".encode("utf-16-le"),  # no byte-order mark
        f"{A}\r{B}\n".encode(),  # old Mac line ends, mixed
    ],
    ids=["utf8", "utf8-bom-crlf", "utf16le-bom", "utf16be-bom", "utf16le-bare", "mixed-line-ends"],
)
def test_common_encodings_and_line_ends_read_the_same(data):
    parsed = summarise(file_line_verdicts(decode_text(data)))
    assert parsed.iccids == [A, B]


def test_a_binary_file_is_refused_with_a_reason():
    with pytest.raises(ImportInputError, match="not text"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))


def test_other_data_on_a_line_is_ignored_and_lines_without_an_iccid_too():
    text = f"ICCID,status\n{A},active\n  {B[:4]} {B[4:8]}-{B[8:]}  # card 2\nshipped 2026-11-01\n"
    verdicts = list(file_line_verdicts(text))
    assert [v.verdict for v in verdicts] == [IGNORED, VALID, VALID, IGNORED]
    assert [v.iccid for v in verdicts if v.iccid] == [A, B]


def test_each_bad_line_says_why_and_repeats_are_counted_once():
    text = f"{A}\n{A[:-1]}{(int(A[-1]) + 1) % 10}\n890126\n{A}\n{B}1234\n"
    verdicts = list(file_line_verdicts(text))
    assert [v.verdict for v in verdicts] == [VALID, INVALID, INVALID, DUPLICATE, INVALID]
    assert "Luhn" in verdicts[1].reason
    assert "has 6 digits" in verdicts[2].reason
    assert "has 23 digits" in verdicts[4].reason


def test_pasted_text_splits_on_any_separator():
    pasted = f"{A}, {B};{C}\t{A}\n{B} {C}"
    verdicts = list(pasted_verdicts(pasted))
    assert [v.iccid for v in verdicts if v.verdict == VALID] == [A, B, C]
    assert [v.verdict for v in verdicts].count(DUPLICATE) == 3


def test_a_million_junk_lines_give_a_verdict_each():
    parsed = summarise(file_line_verdicts("junk line\n" * 100_000 + f"{A}\n"))
    assert (parsed.lines, parsed.ignored, parsed.iccids) == (100_001, 100_000, [A])


@given(st.binary(max_size=400))
def test_any_bytes_either_read_as_text_or_are_refused_with_a_reason(data):
    try:
        text = decode_text(data)
    except ImportInputError as error:
        assert str(error)
        return
    for verdict in file_line_verdicts(text):
        assert verdict.verdict in (VALID, INVALID, DUPLICATE, IGNORED)
        assert verdict.verdict != INVALID or verdict.reason


@given(st.lists(st.sampled_from([A, B, f" {C}", f"{A[:-1]}0", f"{A[:-1]}1", A + "5", "8901", "ICCID", "", "x\r"]), max_size=30))
def test_a_files_summary_is_its_verdicts_summed(lines):
    text = "\n".join(lines)
    assert summarise_file(text, {B}) == summarise(file_line_verdicts(text, {B}))


@given(st.text(max_size=300))
def test_any_pasted_text_gives_verdicts_without_crashing(text):
    for verdict in pasted_verdicts(text):
        assert verdict.verdict != VALID or len(verdict.iccid) in (19, 20)


@given(st.text(alphabet="ab\r\n", max_size=40), st.integers(min_value=1, max_value=8))
def test_lines_split_in_blocks_are_the_lines_of_the_whole_text(text, block):
    from imports import input as import_input

    whole = [m.group(1) if m.group(1) is not None else m.group(2) for m in import_input._LINE.finditer(text)]
    original, import_input._BLOCK = import_input._BLOCK, block
    try:
        assert list(import_input._lines(text)) == whole
    finally:
        import_input._BLOCK = original


def test_a_registration_code_after_the_iccid_is_kept_typed_or_in_a_file():
    from imports.input import file_line_verdicts, pasted_verdicts
    from tests.conftest import make_iccid

    first, second, third = make_iccid(), make_iccid(), make_iccid()
    typed = list(pasted_verdicts(f"{first},KX7P2Q\n{second}\t9931\n{third}"))
    assert [(v.iccid, v.verdict, v.code) for v in typed] == [(first, "valid", "KX7P2Q"), (second, "valid", "9931"), (third, "valid", "")]
    # Two ICCIDs on a line stay two ICCIDs, never an ICCID and its "code".
    assert [(v.iccid, v.code) for v in pasted_verdicts(f"{first}, {second}")] == [(first, ""), (second, "")]
    lines = list(file_line_verdicts(f"{first};KX7P2Q\nSIM {second} shipped\n{third}\n"))
    assert [(v.iccid, v.code) for v in lines] == [(first, "KX7P2Q"), (second, ""), (third, "")]
