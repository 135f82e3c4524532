"""Hostile uploads (sims.uploads and the views behind it): refused early, with a clear message, in bounded memory.

A 1 GB body is made as it is read (`Body`), so a test can tell how much of it the console read.
Memory is measured with tracemalloc around the request: Python's and numpy's allocations.
"""

import gzip
import io
import json
import tracemalloc
import zipfile
import struct
import zlib

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import reverse

from imports.models import ImportJob
from tests.conftest import make_iccid

GB = 1024**3
MB = 1024**2
BOUNDARY = "hostile-boundary"
LINE = (make_iccid() + "\n").encode()


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()


class Body(io.RawIOBase):
    """A multipart body with one file field of `size` bytes, made as it is read; counts what was read."""

    def __init__(self, field: str, filename: str, size: int) -> None:
        self.head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.length = len(self.head) + size + len(self.tail)
        self.position = 0
        self.size = size

    def readable(self) -> bool:
        return True

    def read(self, count: int = -1) -> bytes:
        if count is None or count < 0:
            count = self.length - self.position
        count = min(count, self.length - self.position)
        out = bytearray()
        while len(out) < count:
            at = self.position + len(out)
            if at < len(self.head):
                piece = self.head[at : at + count - len(out)]
            elif at < len(self.head) + self.size:
                offset = (at - len(self.head)) % len(LINE)
                want = min(count - len(out), len(self.head) + self.size - at)
                piece = (LINE * (want // len(LINE) + 2))[offset : offset + want]
            else:
                start = at - len(self.head) - self.size
                piece = self.tail[start : start + count - len(out)]
            out += piece
        self.position += len(out)
        return bytes(out)

    def readline(self, limit: int = -1) -> bytes:
        return self.read(limit if limit and limit > 0 else 65536)


def post_body(client: Client, path: str, body: Body, *, declared: int | None = None, **extra):
    """POST `body`, measuring the peak of memory allocated meanwhile; returns (response, peak bytes)."""
    tracemalloc.start()
    try:
        response = client.request(
            REQUEST_METHOD="POST",
            PATH_INFO=path,
            CONTENT_TYPE=f"multipart/form-data; boundary={BOUNDARY}",
            CONTENT_LENGTH=str(body.length if declared is None else declared),
            **{"wsgi.input": body},
            **extra,
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return response, peak


def measured(call):
    tracemalloc.start()
    try:
        result = call()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def text_of(response) -> str:
    return response.content.decode()


# --- a 1 GB upload ---


def test_a_1_gb_iccid_file_is_refused_before_a_byte_of_it_is_read(owner_client, product):
    body = Body("file", "huge.txt", GB)
    response, peak = post_body(owner_client, reverse("import_file", args=[product.slug]), body)
    assert response.status_code == 413
    assert "The file is over 64 MB: the limit is 64 MB. Split it into smaller files." in text_of(response)
    assert body.position == 0  # nothing read: nothing in memory, nothing on disk
    assert peak < 5 * MB
    assert not ImportJob.objects.exists()


def test_a_file_past_the_limit_is_not_read_past_it_even_when_its_length_was_not_declared_over(owner_client, product, settings):
    """The declared length is within the allowance for the form's other fields; the file is not."""
    settings.IMPORT_MAX_UPLOAD_MB = 1
    body = Body("file", "huge.txt", MB + 40_000)
    response, peak = post_body(owner_client, reverse("import_file", args=[product.slug]), body)
    assert response.status_code == 413 and "the limit is 1 MB" in text_of(response)
    assert body.position <= MB + 3 * 65536  # stopped within a chunk or two of the limit
    assert peak < 8 * MB
    assert not ImportJob.objects.exists()


def test_a_file_at_the_limit_is_still_read(owner_client, product, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    size = MB // len(LINE) * len(LINE)
    body = Body("file", "full.txt", size)
    response, _ = post_body(owner_client, reverse("import_file", args=[product.slug]), body)
    assert response.status_code == 200, text_of(response)
    assert f"{size // len(LINE):,} lines" in text_of(response)


def test_a_1_gb_frame_is_refused_before_a_byte_of_it_is_read(owner_client, product):
    body = Body("frame", "frame.jpg", GB)
    response, peak = post_body(owner_client, reverse("import_scan", args=[product.slug]), body)
    assert response.status_code == 413
    assert "The frame is too large: the limit is 4,000,000 bytes" in text_of(response)
    assert body.position == 0 and peak < 5 * MB


def test_an_outsider_is_refused_a_big_upload_without_learning_anything(outsider_client, product):
    body = Body("file", "huge.txt", GB)
    response, _ = post_body(outsider_client, reverse("import_file", args=[product.slug]), body)
    assert response.status_code == 413 and body.position == 0
    assert product.name not in text_of(response)


def test_uploads_still_need_a_csrf_token(owner, product):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    url = reverse("import_file", args=[product.slug])
    refused = client.post(url, {"file": SimpleUploadedFile("sims.txt", LINE)})
    assert refused.status_code == 403
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    accepted = client.post(url, {"file": SimpleUploadedFile("sims.txt", LINE)}, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200
    frame = client.post(reverse("import_scan", args=[product.slug]), {"frame": SimpleUploadedFile("f.jpg", b"x")})
    assert frame.status_code == 403


# --- compressed bombs: never decompressed ---


def _deflated_gigabyte() -> tuple[bytes, int, int]:
    """Raw deflate of 1 GB of ICCID lines, and its CRC-32, in about a second: one megabyte is
    compressed once with a full flush (a block that needs nothing before it) and repeated."""
    chunk = LINE * (MB // len(LINE))
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    copies = GB // len(chunk)
    crc = 0
    for _ in range(copies):
        crc = zlib.crc32(chunk, crc)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty last block
    return block * copies + final, crc, copies * len(chunk)


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """About 1 MB of gzip that inflates to 1 GB of ICCID lines."""
    deflated, crc, size = _deflated_gigabyte()
    data = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + deflated + struct.pack("<II", crc, size % 2**32)
    assert zlib.decompressobj(31).decompress(data, 1000).startswith(LINE)
    return data


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """The same gigabyte as the one member of a .zip."""
    deflated, crc, size = _deflated_gigabyte()
    name = b"sims.txt"
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(deflated), size, len(name), 0) + name
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(deflated), size, len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(deflated), 0)
    data = local + deflated + central + end
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        (member,) = archive.infolist()
        assert member.file_size == size > GB * 0.99
        assert archive.open(member).read(len(LINE)) == LINE
    return data


@pytest.mark.parametrize("bomb", ["gzip_bomb", "zip_bomb"])
def test_a_compressed_iccid_file_is_refused_as_not_text_without_inflating_it(owner_client, product, bomb, request):
    data = request.getfixturevalue(bomb)
    assert len(data) < 4 * MB
    url = reverse("import_file", args=[product.slug])
    response, peak = measured(lambda: owner_client.post(url, {"file": SimpleUploadedFile("sims.txt.gz", data)}))
    assert response.status_code == 400
    assert "This file is not text (it holds binary data)" in text_of(response)
    assert peak < 6 * len(data)  # copies of the upload, never the 1 GB it would inflate to
    assert not ImportJob.objects.exists()


def test_a_compressed_frame_is_refused_without_inflating_it(owner_client, product, gzip_bomb):
    url = reverse("import_scan", args=[product.slug])
    small = gzip_bomb[: 1 * MB]
    response, peak = measured(lambda: owner_client.post(url, {"frame": SimpleUploadedFile("frame.jpg.gz", small)}))
    assert response.status_code == 400 and "not a JPEG, PNG or WebP" in text_of(response)
    assert peak < 6 * MB


def test_a_gzip_content_encoding_is_not_undone_so_the_body_is_just_unreadable(owner_client, product):
    """Django does not decode a request's Content-Encoding: a gzipped body is bytes that are not a form."""
    form = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="sims.txt"\r\n\r\n'.encode()
        + LINE * 100_000
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    squeezed = gzip.compress(form)
    url = reverse("import_file", args=[product.slug])
    response, peak = measured(
        lambda: owner_client.generic(
            "POST", url, squeezed, content_type=f"multipart/form-data; boundary={BOUNDARY}", headers={"Content-Encoding": "gzip"}
        )
    )
    assert response.status_code == 400
    assert peak < len(form)  # the 2 MB it would inflate to was never made
    assert not ImportJob.objects.exists()


# --- the carrier push ---

TOKEN = "t0ken-for-the-hostile-upload-tests-0123456789"


def test_a_1_gb_push_is_refused_before_it_is_read(client, settings, db):
    settings.CARRIER_PUSH_TOKEN = TOKEN
    body = Body("x", "x", GB)
    tracemalloc.start()
    try:
        response = client.request(
            REQUEST_METHOD="POST",
            PATH_INFO="/carrier/usage/",
            CONTENT_TYPE="application/json",
            CONTENT_LENGTH=str(body.length),
            HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
            **{"wsgi.input": body},
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    assert response.json()["error"] == "The body is over 8 MB: push the records in smaller batches."
    assert body.position == 0 and peak < 5 * MB


def test_a_gzipped_push_is_not_inflated_and_gets_400(client, settings, db):
    settings.CARRIER_PUSH_TOKEN = TOKEN
    squeezed = gzip.compress(json.dumps({"records": [{"record_id": "r"}] * 100_000}).encode())
    response = client.post(
        "/carrier/usage/", squeezed, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_CONTENT_ENCODING="gzip",
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["error"].startswith("The body is not JSON")


def test_the_worst_json_under_the_push_limit_costs_a_bounded_multiple_of_it(client, settings, db):
    """Empty objects cost the most memory per byte of JSON (~64 bytes for 3): about 25 x the body,
    so at most about 200 MB for a push at the default 8 MB limit (measured: 201 MB)."""
    settings.CARRIER_PUSH_TOKEN = TOKEN
    records = 256 * 1024 // 3
    body = b'{"records":[' + b",".join([b"{}"] * records) + b"]}"
    response, peak = measured(
        lambda: client.post("/carrier/usage/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    )
    assert response.status_code == 400
    assert response.json()["problem_count"] == records and len(response.json()["problems"]) == 50
    assert peak < 30 * len(body)
