"""What a scan batch upload holds, page by page: pure code (no Django).

An operator uploads pictures (JPEG, PNG, TIFF — a TIFF may hold many pages), PDFs (many pages: rasterised with
pdftoppm) or ZIP files of those. ``expand`` turns the files into ``Page`` items (one scanned sheet each, as
image bytes the engine decodes) and ``Unusable`` items (a file or member that is not a sheet, with the reason):
one bad file never stops the batch. Limits keep a hostile upload small: the number of pages, the size of each
member and the total unpacked size of a ZIP (a ZIP bomb is refused, not unpacked), and no ZIP inside a ZIP.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

PDF_DPI = 200
MAX_PAGES = 5_000  # per upload
MAX_MEMBER_BYTES = 60 * 1024 * 1024  # one picture or PDF (a file, or a member of a ZIP)
MAX_ZIP_BYTES = 1024 * 1024 * 1024  # an uploaded ZIP (a scanner's 1,000-sheet batch is a few hundred MB)
MAX_ZIP_TOTAL = 2 * 1024 * 1024 * 1024
PDFTOPPM_SECONDS = 120
PDFTOPPM = shutil.which("pdftoppm") or "/usr/bin/pdftoppm"  # poppler-utils (Makefile / .ci/run install it)


@dataclass(frozen=True)
class Page:
    source: str  # the file's name (and the ZIP member's)
    page: int  # from 1 within the source
    data: bytes  # image bytes (JPEG, PNG or TIFF; a multi-page TIFF stays one item, its pages split by the engine)


@dataclass(frozen=True)
class Unusable:
    source: str
    code: str  # "type", "empty", "too_large", "zip_bomb", "nested_zip", "pdf", "too_many_pages"
    detail: str = ""


def kind(data: bytes) -> str:
    """The file's type by its first bytes: jpeg, png, tiff, pdf, zip or "" (unknown)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    return ""


def expand(files: list[tuple[str, bytes]]) -> Iterator[Page | Unusable]:
    """Every page of every file, in order; at most MAX_PAGES pages in all."""
    count = 0
    for name, data in files:
        for item in _one(name, data, inside_zip=False):
            if isinstance(item, Page):
                count += 1
                if count > MAX_PAGES:
                    yield Unusable(item.source, "too_many_pages", str(MAX_PAGES))
                    return
            yield item


def _one(name: str, data: bytes, *, inside_zip: bool) -> Iterator[Page | Unusable]:
    if not data:
        yield Unusable(name, "empty")
        return
    found = kind(data)
    limit = MAX_ZIP_BYTES if found == "zip" and not inside_zip else MAX_MEMBER_BYTES
    if len(data) > limit:
        yield Unusable(name, "too_large", str(limit))
        return
    if found in ("jpeg", "png", "tiff"):
        yield Page(name, 1, data)
    elif found == "pdf":
        yield from _pdf(name, data)
    elif found == "zip":
        if inside_zip:
            yield Unusable(name, "nested_zip")
        else:
            yield from _zip(name, data)
    else:
        yield Unusable(name, "type")


def _zip(name: str, data: bytes) -> Iterator[Page | Unusable]:
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        yield Unusable(name, "type", str(exc)[:200])
        return
    declared = sum(m.file_size for m in members)
    if declared > MAX_ZIP_TOTAL:
        yield Unusable(name, "zip_bomb", str(declared))
        return
    with archive:
        for member in sorted(members, key=lambda m: m.filename):
            source = f"{name}/{member.filename}"
            if member.file_size > MAX_MEMBER_BYTES:
                yield Unusable(source, "too_large", str(MAX_MEMBER_BYTES))
                continue
            try:
                with archive.open(member) as handle:
                    content = handle.read(MAX_MEMBER_BYTES + 1)  # never more than declared-and-allowed
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:  # damaged or encrypted
                yield Unusable(source, "type", str(exc)[:200])
                continue
            yield from _one(source, content, inside_zip=True)


def _pdf(name: str, data: bytes) -> Iterator[Page | Unusable]:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "upload.pdf")
        with open(path, "wb") as out:
            out.write(data)
        try:
            subprocess.run(  # noqa: S603 — a fixed program, our own temporary paths
                [
                    PDFTOPPM,
                    "-r",
                    str(PDF_DPI),
                    "-gray",
                    "-png",
                    "-l",
                    str(MAX_PAGES),
                    path,
                    os.path.join(folder, "p"),
                ],
                check=True,
                capture_output=True,
                timeout=PDFTOPPM_SECONDS,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            yield Unusable(name, "pdf", str(getattr(exc, "stderr", b"") or exc)[:200])
            return
        pages = sorted(p for p in os.listdir(folder) if p.startswith("p-") and p.endswith(".png"))
        if not pages:
            yield Unusable(name, "pdf", "no pages")
            return
        for number, page in enumerate(pages, start=1):
            with open(os.path.join(folder, page), "rb") as handle:
                yield Page(name, number, handle.read())
