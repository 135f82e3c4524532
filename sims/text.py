"""Bytes that should be text (an uploaded ICCID list, a usage CSV) as text: UTF-8 or UTF-16, with
or without a byte-order mark, a Windows-1252 fallback, and binary data refused."""

import codecs
import io
from typing import BinaryIO, TextIO

SNIFF_BYTES = 65536


class UnreadableText(Exception):
    """The input as a whole cannot be read as text."""


class NotText(UnreadableText):
    """Binary data where text was expected."""


def decode_text(data: bytes) -> str:
    """Bytes of an uploaded file as text: UTF-8 or UTF-16 (with or without a byte-order mark)."""
    encoding = sniff_encoding(data)
    if encoding is None:
        raise UnreadableText("This file is not text (it holds binary data). Export the ICCIDs as a .txt file, one per line.")
    if encoding == "utf-8-sig":
        return _decode(data[len(codecs.BOM_UTF8) :], "utf-8")
    if encoding != "utf-8":
        return _decode(data, encoding)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Spreadsheet exports in Windows-1252 still carry plain ASCII digits.
        return data.decode("cp1252", errors="replace")


def sniff_encoding(head: bytes) -> str | None:
    """The encoding of a file that starts with `head` (None: binary, not text). "utf-8" means
    UTF-8 with a Windows-1252 fallback for bytes that are not UTF-8."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _looks_like_utf16(head):
        return "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
    if b"\x00" in head[:SNIFF_BYTES]:
        return None
    return "utf-8"


def open_text(stream: BinaryIO) -> TextIO:
    """A binary stream as text, decoded as `decode_text` would, without reading it all into memory.

    Raises NotText for binary data. A byte the encoding cannot decode becomes a replacement
    character (UTF-16) or its Windows-1252 character (UTF-8), so a bad line is reported as a bad
    line instead of failing the whole file halfway through.
    """
    head = stream.read(SNIFF_BYTES)
    encoding = sniff_encoding(head)
    if encoding is None:
        raise NotText("This file is not text (it holds binary data).")
    errors = CP1252_FALLBACK if encoding in ("utf-8", "utf-8-sig") else "replace"
    replayed = io.BufferedReader(_Replay(head, stream), buffer_size=1 << 20)
    return io.TextIOWrapper(replayed, encoding=encoding, errors=errors, newline="")


class _Replay(io.RawIOBase):
    """The bytes already read to sniff the encoding, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("cp1252", errors="replace"), error.end


CP1252_FALLBACK = "sims.cp1252-fallback"
codecs.register_error(CP1252_FALLBACK, _cp1252_fallback)


def _looks_like_utf16(data: bytes) -> bool:
    sample = data[:4096]
    return len(sample) >= 4 and (sample[1::2].count(0) > len(sample) * 0.4 or sample[0::2].count(0) > len(sample) * 0.4)


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise UnreadableText(f"This file is not valid {encoding.upper()} text ({error.reason}). Save it as UTF-8 text.") from error
