"""complaints/attachments.py: an attachment is judged by its content, never its name. JPEG and PNG pictures are
decoded whole (a truncated or damaged one is refused) after their declared size is checked against the pixel
limit (so a decompression bomb is refused before any pixel is decoded); a PDF needs its header and end marker.
Pure code: no database."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from PIL import Image

from complaints.attachments import JPEG, PDF, PNG, Refused, check, sniff

MAX_BYTES = 1_000_000
MAX_PIXELS = 4_000_000


def picture(fmt: str = "PNG", size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (1, 65, 28)).save(buffer, format=fmt)
    return buffer.getvalue()


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small PNG that declares a huge picture: the header says width x height, the data is a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def refused(data: bytes, **limits) -> str:
    with pytest.raises(Refused) as caught:
        check(data, max_bytes=limits.get("max_bytes", MAX_BYTES), max_pixels=limits.get("max_pixels", MAX_PIXELS))
    return caught.value.code


@pytest.mark.parametrize(
    ("data", "content_type"), [(picture("PNG"), PNG), (picture("JPEG"), JPEG), (pdf(), PDF)], ids=["png", "jpeg", "pdf"]
)
def test_pictures_and_pdfs_pass_with_their_type_size_and_hash(data, content_type):
    checked = check(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)
    assert checked.content_type == content_type
    assert checked.size == len(data)
    assert checked.sha256 == hashlib.sha256(data).hexdigest()


def test_the_type_comes_from_the_content_not_the_name():
    assert sniff(b"just some text, saved as photo.jpg") is None
    assert refused(b"just some text, saved as photo.jpg") == "wrong_type"
    assert refused(b"GIF89a" + b"\x00" * 40) == "wrong_type"
    assert refused(b"MZ\x90\x00 an executable") == "wrong_type"


def test_an_empty_file_is_refused():
    assert refused(b"") == "empty"


def test_a_file_over_the_size_limit_is_refused_before_anything_else():
    data = picture("PNG", (200, 200))
    assert refused(data, max_bytes=len(data) - 1) == "too_large"
    assert check(data, max_bytes=len(data), max_pixels=MAX_PIXELS).size == len(data)


def test_a_picture_with_more_pixels_than_allowed_is_refused():
    data = picture("PNG", (100, 50))
    assert refused(data, max_pixels=4_999) == "too_many_pixels"
    assert check(data, max_bytes=MAX_BYTES, max_pixels=5_000).content_type == PNG


def test_a_decompression_bomb_is_refused_from_its_header():
    bomb = png_bomb()
    assert len(bomb) < 200
    assert refused(bomb) == "too_many_pixels"


def test_a_truncated_jpeg_is_refused():
    data = picture("JPEG", (300, 200))
    assert refused(data[: len(data) // 2]) == "unreadable"


def test_a_png_with_damaged_data_is_refused():
    data = bytearray(picture("PNG", (60, 60)))
    start = data.index(b"IDAT") + 4
    data[start : start + 20] = b"\x00" * 20
    assert refused(bytes(data)) == "unreadable"


def test_a_pdf_without_its_end_marker_is_refused():
    assert refused(b"%PDF-1.4\n" + b"x" * 5000) == "unreadable"
