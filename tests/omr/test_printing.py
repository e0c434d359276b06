"""Printed answer sheets, checked the way a scanner sees them: rasterised with pdftoppm and measured with
OpenCV and zxing-cpp. Pure tests: no database."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp

from omr.layout import MM, Box, Bubble, Layout, build_layout, qr_payload
from omr.printing import SheetSpec, TextBox, centre_pdfs, sheet_pdf, sheet_text_boxes

LAYOUTS = {
    "150x4-series": {"code": "t-150x4", "questions": 150, "options": 4, "series": ("A", "B")},
    "120x5-roll10": {"code": "t-120x5", "questions": 120, "options": 5, "roll_digits": 10, "series": tuple("ABCD")},
    "100x4-plain": {"code": "t-100x4", "questions": 100, "options": 4},
}
TITLE = "Assistant Director (BS-17) Recruitment Test 2026"
TITLE_UR = "اسسٹنٹ ڈائریکٹر (بی ایس 17) بھرتی ٹیسٹ 2026"
LONG_NAME = "Muhammad Abdul Rehman Khan Yousafzai Durrani Qureshi Siddiqui Chaudhry"
LONG_CENTRE = "Government Higher Secondary School for Boys No. 2, Peshawar Cantonment, Khyber Pakhtunkhwa"


def _layout(key: str) -> Layout:
    return build_layout(**LAYOUTS[key], title=TITLE, title_ur=TITLE_UR)


def _roll(layout: Layout) -> str:
    return "3141592653"[: layout.roll_digits]


def raster(pdf: bytes, tmp: Path, *, page: int = 1, dpi: int = 150) -> np.ndarray:
    src = tmp / "sheet.pdf"
    src.write_bytes(pdf)
    out = tmp / f"page{page}-{dpi}"
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-f", str(page), "-l", str(page), "-singlefile", src, out],
        check=True,
    )
    image = cv2.imread(f"{out}.pgm", cv2.IMREAD_GRAYSCALE)
    assert image is not None
    return image


@dataclass
class Printed:
    layout: Layout
    blank: SheetSpec
    personal: SheetSpec
    pdf: bytes
    pages: tuple[np.ndarray, np.ndarray]  # 150 DPI: the blank sheet, the personalised one
    tmp: Path


@pytest.fixture(scope="module", params=sorted(LAYOUTS))
def printed(request, tmp_path_factory) -> Printed:
    layout = _layout(request.param)
    blank = SheetSpec("B-000001")
    personal = SheetSpec("P-000002", _roll(layout), "Ayesha Khan")
    pdf = sheet_pdf(layout, [blank, personal], exam_title=None, centre="Centre 7")
    tmp = tmp_path_factory.mktemp(request.param)
    return Printed(layout, blank, personal, pdf, (raster(pdf, tmp, page=1), raster(pdf, tmp, page=2)), tmp)


SCALE = 150 / 72  # pixels per point at 150 DPI


def _disc_mean(image: np.ndarray, bubble: Bubble, fraction: float = 0.6) -> float:
    """Mean grey over a disc of ``fraction`` times the bubble's radius at its centre (pixel centres inside)."""
    cx, cy, rad = bubble.x * SCALE, bubble.y * SCALE, fraction * bubble.r * SCALE
    x0, x1 = int(cx - rad) - 1, int(cx + rad) + 2
    y0, y1 = int(cy - rad) - 1, int(cy + rad) + 2
    ys, xs = np.mgrid[y0:y1, x0:x1]
    inside = (xs + 0.5 - cx) ** 2 + (ys + 0.5 - cy) ** 2 <= rad**2
    return float(image[y0:y1, x0:x1][inside].mean())


# ---------------------------------------------------------------------------
# What the engine reads
# ---------------------------------------------------------------------------
def _solid_square_at(image: np.ndarray, box: Box) -> None:
    dark = (image < 128).astype(np.uint8)
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(dark, connectivity=8)
    ex, ey = box.center[0] * SCALE, box.center[1] * SCALE
    label = labels[int(ey), int(ex)]
    assert label != 0, "no ink at the square's centre"
    x, y, w, h, area = stats[label]
    cx, cy = centroids[label] + 0.5  # pixel centres are at i + 0.5
    side = box.w * SCALE
    assert abs(cx - ex) <= 1.5 and abs(cy - ey) <= 1.5, (cx, cy, ex, ey)
    assert abs(w - side) <= 2 and abs(h - side) <= 2, (w, h, side)
    assert area >= 0.97 * w * h  # solid, not an outline
    assert image[y : y + h, x : x + w].mean() < 40


def test_fiducials_and_orientation_square_are_solid_black_squares_at_the_layout_positions(printed):
    for image in printed.pages:
        for box in (*printed.layout.fiducials, printed.layout.orientation):
            _solid_square_at(image, box)


def test_nothing_is_printed_where_the_orientation_square_falls_on_an_upside_down_page(printed):
    layout, width, height = printed.layout, printed.layout.page[0], printed.layout.page[1]
    mark = layout.orientation
    mirror = Box(width - mark.x - mark.w - 3 * MM, height - mark.y - mark.h - 3 * MM, mark.w + 6 * MM, mark.h + 6 * MM)
    for page in printed.pages:
        x0, y0 = int(mirror.x * SCALE), int(mirror.y * SCALE)
        x1, y1 = int((mirror.x + mirror.w) * SCALE), int((mirror.y + mirror.h) * SCALE)
        assert page[y0:y1, x0:x1].min() > 200  # paper only


@pytest.mark.parametrize("dpi", [150, 300])
def test_qr_code_holds_the_sheet_id_and_roll_at_150_and_300_dpi(printed, dpi):
    layout = printed.layout
    for page, spec in ((1, printed.blank), (2, printed.personal)):
        image = printed.pages[page - 1] if dpi == 150 else raster(printed.pdf, printed.tmp, page=page, dpi=dpi)
        expected = qr_payload(layout, spec.sheet_id, spec.roll)
        assert [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)] == [
            expected
        ]
        # an independent decoder (OpenCV's) reads the same
        assert cv2.QRCodeDetector().detectAndDecode(image)[0] == expected


def test_qr_code_fills_its_box_with_a_four_module_quiet_zone_inside(printed):
    image = printed.pages[1]
    (code,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert code.ec_level in ("M", "Q")
    modules = 17 + 4 * int(code.extra["Version"])
    qr = printed.layout.qr
    step = qr.w / (modules + 8)  # points per module: the symbol plus 4 quiet modules each side fill the box
    x0, y0 = qr.x * SCALE, qr.y * SCALE
    x1, y1 = (qr.x + qr.w) * SCALE, (qr.y + qr.h) * SCALE
    around = image[int(y0) - 8 : int(y1) + 8, int(x0) - 8 : int(x1) + 8] < 128
    ys, xs = np.nonzero(around)
    # the finder patterns reach the symbol's corners, so the ink's bounding box is the symbol's
    left, top = xs.min() + int(x0) - 8, ys.min() + int(y0) - 8
    right, bottom = xs.max() + 1 + int(x0) - 8, ys.max() + 1 + int(y0) - 8
    quiet = 4 * step * SCALE
    for measured, expected in ((left, x0 + quiet), (top, y0 + quiet), (right, x1 - quiet), (bottom, y1 - quiet)):
        assert abs(measured - expected) <= 1.5, (measured, expected)


def test_blank_sheet_every_bubble_interior_is_light_letter_included(printed):
    image = printed.pages[0]
    means = [(_disc_mean(image, b), b) for b in printed.layout.bubbles()]
    dark = [(round(m), b.field, b.index, b.value) for m, b in means if m <= 200]
    assert not dark
    # the outline and the letter are there all the same: the bubble is visible
    for _mean, bubble in means[:: max(1, len(means) // 40)]:
        assert _disc_mean(image, bubble, fraction=1.15) < 250


def test_personalised_sheet_fills_the_roll_bubbles_and_nothing_else(printed):
    image = printed.pages[1]
    roll = printed.personal.roll
    for bubble in printed.layout.bubbles():
        mean = _disc_mean(image, bubble)
        if bubble.field == "roll" and roll[bubble.index] == bubble.value:
            assert mean < 80, (bubble, mean)
        else:
            assert mean > 200, (bubble, mean)


def test_personalised_sheet_writes_the_roll_in_the_boxes(printed):
    layout = printed.layout
    blank, personal = printed.pages
    # the write-in boxes sit between the grid's top and the "0" row: compare each column's box interior
    top = (layout.roll_box.y + 5) * SCALE
    bottom = (layout.roll_y - layout.bubble_radius - 11) * SCALE
    for digit in range(layout.roll_digits):
        cx = (layout.roll_x + digit * layout.option_pitch) * SCALE
        cells = [img[int(top) : int(bottom), int(cx - 8) : int(cx + 8)] for img in (blank, personal)]
        assert cells[0].mean() > 245  # empty box
        assert cells[1].mean() < cells[0].mean() - 15  # a digit in it


# ---------------------------------------------------------------------------
# Nothing printed for people gets in the engine's way
# ---------------------------------------------------------------------------
def _intersects(a: Box, b: Box, pad: float = 0.0) -> bool:
    return a.x < b.x + b.w + pad and b.x < a.x + a.w + pad and a.y < b.y + b.h + pad and b.y < a.y + a.h + pad


def _touches_disc(box: Box, bubble: Bubble, pad: float = 0.5) -> bool:
    nx = min(max(bubble.x, box.x), box.x + box.w)
    ny = min(max(bubble.y, box.y), box.y + box.h)
    return (nx - bubble.x) ** 2 + (ny - bubble.y) ** 2 < (bubble.r + pad) ** 2


def _square(bubble: Bubble) -> Box:
    return Box(bubble.x - bubble.r, bubble.y - bubble.r, 2 * bubble.r, 2 * bubble.r)


@pytest.mark.parametrize("key", sorted(LAYOUTS))
@pytest.mark.parametrize("personalised", [False, True])
def test_no_text_intrudes_into_bubbles_fiducials_qr_or_roll_grid(key, personalised):
    layout = _layout(key)
    spec = SheetSpec("S-0000001", _roll(layout), LONG_NAME) if personalised else SheetSpec("S-0000001")
    boxes = sheet_text_boxes(layout, spec, exam_title=TITLE + " — " + LONG_CENTRE, centre=LONG_CENTRE)
    bubbles = layout.bubbles()
    marks = [*layout.fiducials, layout.orientation, layout.qr]
    width, height = layout.page
    by_kind: dict[str, list[TextBox]] = {}
    for text in boxes:
        by_kind.setdefault(text.kind, []).append(text)
    assert set(by_kind) == {"header", "grid", "bubble", "footer"}
    assert len(by_kind["bubble"]) == len(bubbles)  # (a pre-filled roll bubble covers its digit)

    for text in boxes:
        b = text.box
        assert b.x > 10 and b.x + b.w < width - 10 and b.y > 10 and b.y + b.h < height - 10, text
        for mark in marks:
            assert not _intersects(b, mark, pad=1.0), (text, mark)
        if text.kind == "bubble":  # the letter sits inside its own bubble
            corners = [(b.x, b.y), (b.x + b.w, b.y), (b.x, b.y + b.h), (b.x + b.w, b.y + b.h)]
            assert any(all((x - u.x) ** 2 + (y - u.y) ** 2 < (u.r - 0.4) ** 2 for x, y in corners) for u in bubbles)
        else:
            for bubble in bubbles:
                assert not _touches_disc(b, bubble), (text, bubble)
        if text.kind in ("header", "footer"):
            assert not _intersects(b, layout.roll_box), text
            for bubble in bubbles:
                assert not _intersects(b, _square(bubble), pad=1.0), (text, bubble)

    people = by_kind["header"] + by_kind["footer"]
    for i, a in enumerate(people):
        for other in people[i + 1 :]:
            assert not _intersects(a.box, other.box), (a, other)
    # the question numbers sit left of their rows, never on another block's bubbles
    numbers = [t for t in by_kind["grid"] if t.text.isdigit() and len(t.text) <= 3 and t.box.y > layout.roll_box.y + 20]
    assert len(numbers) >= layout.questions


def test_instructions_are_in_both_languages_in_the_header():
    layout = _layout("150x4-series")
    texts = [t for t in sheet_text_boxes(layout) if t.kind == "header"]
    joined = " ".join(t.text for t in texts)
    assert "Instructions" in joined and "ہدایات" in joined
    for line in layout.instructions:
        assert line.split(".")[0].split()[-1] in joined
    urdu = [t for t in texts if re.search("[\u0600-\u06ff]", t.text) and t.box.y > layout.qr.y + layout.qr.h]
    assert len(urdu) >= len(layout.instructions_ur)
    for t in texts:
        if t.box.y > layout.roll_box.y:  # beside the grid: right of it, above the questions
            assert t.box.x > layout.roll_box.x + layout.roll_box.w
            assert t.box.y + t.box.h < min(b.y for b in layout.blocks) - layout.bubble_radius


# ---------------------------------------------------------------------------
# Urdu, documents, refusals
# ---------------------------------------------------------------------------
def test_urdu_is_drawn_with_an_embedded_naskh_font_and_extracts_as_arabic_script(printed):
    path = printed.tmp / "urdu.pdf"
    path.write_bytes(printed.pdf)
    fonts = subprocess.run(["pdffonts", path], check=True, capture_output=True, text=True).stdout
    naskh = [line for line in fonts.splitlines() if "Naskh" in line]
    assert naskh and all(" yes " in line for line in naskh)  # embedded (subset)
    text = subprocess.run(["pdftotext", "-l", "1", path, "-"], check=True, capture_output=True, text=True).stdout
    assert len(re.findall("[\u0600-\u06ff\ufb50-\ufdff\ufe70-\ufeff]", text)) > 100


def test_one_page_per_sheet_and_same_input_same_bytes(tmp_path):
    layout = _layout("100x4-plain")
    specs = [SheetSpec(f"S{i:04d}", f"{i:08d}", f"Candidate {i}") for i in range(5)] + [SheetSpec("S9999")]
    pdf = sheet_pdf(layout, specs, centre="C1")
    assert pdf == sheet_pdf(layout, specs, centre="C1")
    path = tmp_path / "s.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", path], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+6$", info, re.M)
    text = subprocess.run(["pdftotext", "-f", "3", "-l", "3", path, "-"], capture_output=True, text=True).stdout
    assert "Candidate 2" in text and "S0002" in text and "Do not fold" in text


def test_centre_pdfs_prints_one_document_per_centre_with_its_name(tmp_path):
    layout = _layout("100x4-plain")
    by_centre = {
        "Islamabad College": [SheetSpec("A1", "00000001", "Sana"), SheetSpec("A2", "00000002", "Bilal")],
        "Quetta School": [SheetSpec("B1", "00000003", "Gul")],
        "Empty hall": [],
    }
    pdfs = centre_pdfs(layout, by_centre)
    assert set(pdfs) == {"Islamabad College", "Quetta School"}
    for centre, pdf in pdfs.items():
        path = tmp_path / "c.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", path, "-"], check=True, capture_output=True, text=True).stdout
        assert text.count(centre) == len(by_centre[centre])
        assert text.count("\f") == len(by_centre[centre])


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (SheetSpec("S1", "1234567"), "not 8 digits"),  # too short
        (SheetSpec("S1", "123456789"), "not 8 digits"),  # too long
        (SheetSpec("S1", "1234567a"), "not 8 digits"),
        (SheetSpec("S1", "١٢٣٤٥٦٧٨"), "not 8 digits"),  # not ASCII digits
        (SheetSpec("S|1", "12345678"), "cannot contain"),  # would break the QR payload
        (SheetSpec(""), "needs an id"),
    ],
)
def test_refuses_sheets_it_cannot_print_honestly(spec, match):
    with pytest.raises(ValueError, match=match):
        sheet_pdf(_layout("100x4-plain"), [SheetSpec("OK"), spec])


def test_refuses_an_empty_print_run():
    with pytest.raises(ValueError, match="no sheets"):
        sheet_pdf(_layout("100x4-plain"), [])
