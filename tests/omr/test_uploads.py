"""A batch upload's pages: pictures, multi-page PDFs and ZIPs of them; anything else, empty, too large, a ZIP
inside a ZIP or a ZIP bomb is one unusable item with its reason, and never stops the rest."""

from __future__ import annotations

import io
import random
import zipfile

from PIL import Image
from reportlab.pdfgen import canvas

from omr import uploads
from omr.uploads import Page, Unusable, expand


def _png(shade: int = 255) -> bytes:
    out = io.BytesIO()
    Image.new("L", (40, 30), shade).save(out, format="PNG")
    return out.getvalue()


def _pdf(pages: int) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(200, 300))
    for n in range(pages):
        pdf.drawString(20, 150, f"page {n + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_pictures_pdf_pages_and_zip_members_each_become_a_page():
    items = list(
        expand(
            [
                ("a.png", _png()),
                ("b.pdf", _pdf(3)),
                ("c.zip", _zip({"x/1.png": _png(), "x/2.pdf": _pdf(2), "readme.txt": b"hello"})),
            ]
        )
    )
    pages = [(i.source, i.page) for i in items if isinstance(i, Page)]
    assert pages == [
        ("a.png", 1), ("b.pdf", 1), ("b.pdf", 2), ("b.pdf", 3), ("c.zip/x/1.png", 1), ("c.zip/x/2.pdf", 1),
        ("c.zip/x/2.pdf", 2),
    ]  # fmt: skip
    assert [(i.source, i.code) for i in items if isinstance(i, Unusable)] == [("c.zip/readme.txt", "type")]
    assert all(uploads.kind(i.data) == "png" for i in items if isinstance(i, Page))


def test_bad_files_are_unusable_with_a_reason_and_the_rest_goes_on():
    bomb = _zip({"big.png": b"\0" * (uploads.MAX_MEMBER_BYTES + 1)})
    items = list(
        expand(
            [
                ("empty.jpg", b""),
                ("fake.jpg", b"this is text"),
                ("broken.pdf", b"%PDF-1.4 garbage"),
                ("nested.zip", _zip({"inner.zip": _zip({"a.png": _png()})})),
                ("bomb.zip", bomb),
                ("bad.zip", b"PK\x03\x04 not really"),
                ("ok.png", _png(0)),
            ]
        )
    )
    codes = [(i.source, i.code) for i in items if isinstance(i, Unusable)]
    assert codes == [
        ("empty.jpg", "empty"), ("fake.jpg", "type"), ("broken.pdf", "pdf"), ("nested.zip/inner.zip", "nested_zip"),
        ("bomb.zip/big.png", "too_large"), ("bad.zip", "type"),
    ]  # fmt: skip
    assert [i.source for i in items if isinstance(i, Page)] == ["ok.png"]


def test_the_number_of_pages_is_limited(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_PAGES", 2)
    items = list(expand([("a.png", _png()), ("b.png", _png()), ("c.png", _png()), ("d.png", _png())]))
    assert [type(i).__name__ for i in items] == ["Page", "Page", "Unusable"]
    assert items[-1].code == "too_many_pages"


def test_a_zip_may_be_larger_than_one_picture_may(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_MEMBER_BYTES", 2_000)
    archive = _zip({f"{n}.png": _png(n) + random.Random(n).randbytes(1_000) for n in range(3)})  # ~3.3 kB
    assert len(archive) > uploads.MAX_MEMBER_BYTES
    items = list(expand([("batch.zip", archive)]))
    assert [type(i).__name__ for i in items] == ["Page", "Page", "Page"]
