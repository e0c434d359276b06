"""Checks a complaint's attachment by its content, never its name: pure code (Pillow), no Django.

Accepted: JPEG and PNG pictures (the pixel count is read from the header and refused above the limit before
any pixel is decoded, then the whole picture is decoded, so a truncated or hostile file is refused) and PDF
documents (the header and an end-of-file marker). ``check`` raises ``Refused`` with a stable code."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from dataclasses import dataclass

from PIL import Image

JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
_PILLOW_FORMATS = {JPEG: {"JPEG", "MPO"}, PNG: {"PNG"}}
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error, zlib.error)


class Refused(Exception):
    def __init__(self, code: str, **data):
        super().__init__(code)
        self.code = code
        self.data = data


@dataclass(frozen=True)
class Checked:
    content_type: str
    size: int
    sha256: str


def sniff(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def check(data: bytes, *, max_bytes: int, max_pixels: int) -> Checked:
    if not data:
        raise Refused("empty")
    if len(data) > max_bytes:
        raise Refused("too_large", size=len(data), max_bytes=max_bytes)
    content_type = sniff(data)
    if content_type is None:
        raise Refused("wrong_type")
    if content_type == PDF:
        if b"%%EOF" not in data[-2048:]:
            raise Refused("unreadable")
    else:
        _decode(data, content_type, max_pixels)
    return Checked(content_type, len(data), hashlib.sha256(data).hexdigest())


def _decode(data: bytes, content_type: str, max_pixels: int) -> None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in _PILLOW_FORMATS[content_type]:
                raise Refused("wrong_type")
            width, height = image.size
            if width < 1 or height < 1 or width * height > max_pixels:
                raise Refused("too_many_pixels", width=width, height=height, max_pixels=max_pixels)
            image.load()
    except Image.DecompressionBombError as exc:
        raise Refused("too_many_pixels", max_pixels=max_pixels) from exc
    except _DECODE_ERRORS as exc:
        raise Refused("unreadable") from exc
