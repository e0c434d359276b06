"""Answer-sheet PDFs from a layout: pure code (reportlab), no Django.

``sheet_pdf(layout, sheets)`` prints one A4 page per ``SheetSpec``: a blank sheet (no roll number) or a
personalised one (the roll number written in the boxes, its bubbles filled solid, and carried in the QR code;
the candidate's name in the header). ``centre_pdfs`` prints one PDF per exam centre.

Everything the engine reads -- the four fiducials, the orientation square, the QR code and every bubble -- is
drawn exactly at the layout's coordinates (``omr/layout.py``: points from the page's top-left, y down; reportlab's
y grows upwards, so ``Y = page height - y``). Everything else (titles, instructions, labels, footer) is placed in
the room the layout leaves free, and each piece of text is recorded as a box (``sheet_text_boxes``) so the tests
can prove that no text touches a bubble, a fiducial, the QR code or the roll grid.

Speed: the part of the sheet that is the same on every page is drawn once per document as a PDF form XObject;
each page adds only its QR code, roll number, name and sheet id (about a millisecond a page). The QR code is
encoded with zxing-cpp's writer (error correction M, the mask chosen by the encoder; about 20 times faster than
segno, which spends its time scoring the eight masks in Python) and drawn as one filled path of rectangles, with a
quiet zone of four modules inside the layout's QR box.

Urdu is shaped and reordered by the helpers of ``results/pdf.py`` (arabic-reshaper + python-bidi, Noto Naskh
Arabic from ``static/fonts/``), which import no Django.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import zxingcpp
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from core import pdf_text
from omr.layout import MM, OPTION_LETTERS, Box, Layout, qr_payload

__all__ = ["QR_QUIET_MODULES", "SheetSpec", "TextBox", "centre_pdfs", "sheet_pdf", "sheet_text_boxes"]

QR_QUIET_MODULES = 4  # the standard quiet zone, inside the layout's QR box
QR_EC_LEVEL = "M"

# Greys (0 = black, 1 = white). Bubble outlines are thin and grey so that an empty bubble never reads as a mark;
# the letter inside is light enough that the bubble's interior stays well above the engine's "blank" level.
_BUBBLE_OUTLINE_GREY = 0.35
_BUBBLE_OUTLINE_WIDTH = 0.7
_BUBBLE_LETTER_GREY = 0.55
_BUBBLE_LETTER_SIZE = 5.5
_RULE_GREY = 0.75
_FRAME_GREY = 0.2
_LABEL_GREY = 0.15

_FORM = "omr-sheet"
_SHEET_ID_WIDTH = 170.0  # points: the footer's room for "Sheet <id> · <layout code> v<version>"
_MIN_SIZE = 5.0

LABEL_NAME = ("Candidate's name", "امیدوار کا نام")
LABEL_ROLL = ("Roll number", "رول نمبر")
LABEL_SERIES = ("Booklet series", "کتابچے کی سیریز")
LABEL_INSTRUCTIONS = ("Instructions", "ہدایات")
LABEL_CENTRE = ("Centre", "مرکز")
LABEL_SHEET = "Sheet"
LABEL_DO_NOT_FOLD = ("Do not fold", "تہ نہ کریں")
_URDU_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@dataclass(frozen=True)
class SheetSpec:
    """One sheet to print: its id (in the QR code and the footer) and, on a personalised sheet, the candidate's
    roll number (``roll_digits`` ASCII digits) and name. An empty roll makes a blank sheet."""

    sheet_id: str
    roll: str = ""
    name: str = ""


@dataclass(frozen=True)
class TextBox:
    """A piece of text as drawn, in layout coordinates (points, from the top-left). ``kind``: "header" (titles,
    name, instructions), "grid" (labels and numbers of the roll grid, series and question blocks), "bubble" (the
    letter inside a bubble), "footer"."""

    kind: str
    text: str
    box: Box


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------
def sheet_pdf(
    layout: Layout,
    sheets: Iterable[SheetSpec],
    *,
    exam_title: str | None = None,
    centre: str | None = None,
) -> bytes:
    """One PDF, one page per sheet. ``exam_title`` replaces the layout's English title when given; ``centre`` is
    printed in the footer. Same input, same bytes (reportlab's invariant mode)."""
    specs = list(sheets)
    if not specs:
        raise ValueError("no sheets to print")
    for spec in specs:
        _check(layout, spec)
    buf = io.BytesIO()
    canv = _canvas(buf, layout, exam_title)
    painter = _Painter(canv, layout)
    canv.beginForm(_FORM)
    painter.static(exam_title=exam_title, centre=centre)
    canv.endForm()
    for spec in specs:
        canv.doForm(_FORM)
        painter.dynamic(spec)
        canv.showPage()
    canv.save()
    return buf.getvalue()


def centre_pdfs(
    layout: Layout,
    candidates_by_centre: Mapping[str, Sequence[SheetSpec]],
    *,
    exam_title: str | None = None,
) -> dict[str, bytes]:
    """One PDF per exam centre (the centre's name in every footer); centres without sheets are left out."""
    return {
        centre: sheet_pdf(layout, specs, exam_title=exam_title, centre=centre)
        for centre, specs in candidates_by_centre.items()
        if specs
    }


def sheet_text_boxes(
    layout: Layout,
    sheet: SheetSpec | None = None,
    *,
    exam_title: str | None = None,
    centre: str | None = None,
) -> list[TextBox]:
    """Every piece of text ``sheet_pdf`` draws on one page, with its box (for checking that nothing overlaps)."""
    spec = sheet or SheetSpec("S0")
    _check(layout, spec)
    painter = _Painter(_canvas(io.BytesIO(), layout, exam_title), layout, record=True)
    painter.static(exam_title=exam_title, centre=centre)
    painter.dynamic(spec)
    return painter.boxes


# ---------------------------------------------------------------------------
# Drawing
# ---------------------------------------------------------------------------
def _check(layout: Layout, spec: SheetSpec) -> None:
    if not spec.sheet_id or not spec.sheet_id.strip():
        raise ValueError("every sheet needs an id")
    if spec.roll and not (spec.roll.isascii() and spec.roll.isdigit() and len(spec.roll) == layout.roll_digits):
        raise ValueError(f"roll number {spec.roll!r} is not {layout.roll_digits} digits")
    qr_payload(layout, spec.sheet_id, spec.roll)  # refuses "|"


def _canvas(buf: io.BytesIO, layout: Layout, exam_title: str | None) -> Canvas:
    pdf_text.register_fonts()
    canv = Canvas(buf, pagesize=layout.page, invariant=1, pageCompression=1)
    canv.setTitle(exam_title or layout.title or "OMR answer sheets")
    canv.setAuthor("Election Commission of Pakistan")
    canv.setSubject(f"OMR answer sheets, layout {layout.code} v{layout.version}")
    return canv


def _qr_matrix(text: str) -> np.ndarray:
    """The QR code's modules (True = dark), without quiet zone."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=QR_EC_LEVEL)
    return np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128


class _Painter:
    def __init__(self, canv: Canvas, layout: Layout, *, record: bool = False) -> None:
        self.canv = canv
        self.record = record  # keep the boxes of the text drawn (sheet_text_boxes)
        self.layout = layout
        self.height = layout.page[1]
        self.boxes: list[TextBox] = []
        self.r = layout.bubble_radius
        self.margin = layout.roll_box.x
        qr = layout.qr
        self.header_left = layout.orientation.x + layout.orientation.w + 4 * MM
        self.header_right = qr.x - 4 * MM
        self.content_right = qr.x + qr.w
        fid = layout.fiducials
        self.footer_baseline = fid[3].center[1] + 2.5

    # -- primitives -----------------------------------------------------------------------------------------------
    def pdf_y(self, y: float) -> float:
        """reportlab's y (from the bottom) for a layout y (from the top)."""
        return self.height - y

    def text(
        self,
        kind: str,
        text: str,
        x: float,
        baseline: float,
        *,
        size: float,
        bold: bool = False,
        rtl: bool = False,
        align: str = "left",
        grey: float = 0.0,
    ) -> Box:
        """Draw one line (already fitted) with its left/right/centre edge at x; return and record its box."""
        shaped = pdf_text.shape(text)
        self.canv.setFillGray(grey)
        width = pdf_text.draw_line(
            self.canv, shaped, x, self.pdf_y(baseline), size=size, bold=bold, rtl=rtl, align=align
        )
        ascent, descent = _extent(shaped, size, bold, rtl)
        left = x - width if align == "right" else x - width / 2 if align == "center" else x
        box = Box(left, baseline - ascent, width, ascent + descent)
        if self.record:
            self.boxes.append(TextBox(kind, text, box))
        return box

    def bubble(self, x: float, y: float, label: str, *, filled: bool = False) -> None:
        canv = self.canv
        if filled:
            canv.setFillGray(0)
            canv.circle(x, self.pdf_y(y), self.r, stroke=0, fill=1)
            return
        canv.setStrokeGray(_BUBBLE_OUTLINE_GREY)
        canv.setLineWidth(_BUBBLE_OUTLINE_WIDTH)
        canv.circle(x, self.pdf_y(y), self.r, stroke=1, fill=0)
        cap = 0.718 * _BUBBLE_LETTER_SIZE
        self.text("bubble", label, x, y + cap / 2, size=_BUBBLE_LETTER_SIZE, align="center", grey=_BUBBLE_LETTER_GREY)

    def frame(self, box: Box, *, grey: float, width: float) -> None:
        canv = self.canv
        canv.setStrokeGray(grey)
        canv.setLineWidth(width)
        canv.rect(box.x, self.pdf_y(box.y + box.h), box.w, box.h, stroke=1, fill=0)

    def fitted(
        self, text: str, avail: float, size: float, *, bold: bool = False, rtl: bool = False
    ) -> tuple[str, float]:
        """The text and a size (down to _MIN_SIZE) at which it fits ``avail`` points; cut with an ellipsis if not."""
        while size > _MIN_SIZE and _line_width(text, size, bold, rtl) > avail:
            size = max(_MIN_SIZE, size - 0.5)
        if _line_width(text, size, bold, rtl) <= avail:
            return text, size
        while len(text) > 1 and _line_width(text + "…", size, bold, rtl) > avail:
            text = text[:-1]
        return text.rstrip() + "…", size

    # -- the part shared by every page ----------------------------------------------------------------------------
    def static(self, *, exam_title: str | None, centre: str | None) -> None:
        self.marks()
        self.header(exam_title)
        self.roll_grid()
        series_bottom = self.series()
        self.questions()
        self.instructions(series_bottom)
        self.footer_static(centre)

    def marks(self) -> None:
        layout, canv = self.layout, self.canv
        canv.setFillGray(0)
        for box in (*layout.fiducials, layout.orientation):
            canv.rect(box.x, self.pdf_y(box.y + box.h), box.w, box.h, stroke=0, fill=1)

    def header(self, exam_title: str | None) -> None:
        layout = self.layout
        left, right = self.header_left, self.header_right
        middle = (left + right) / 2
        title = exam_title or layout.title
        # three lines above the roll grid: title, Urdu title, name (on build_layout's A4: baselines 36, 56, 77.5)
        if title:
            text, size = self.fitted(title, right - left, 13, bold=True)
            self.text("header", text, middle, self._name_baseline - 41.5, size=size, bold=True, align="center")
        if layout.title_ur:
            text, size = self.fitted(layout.title_ur, right - left, 11, bold=True, rtl=True)
            self.text(
                "header", text, middle, self._name_baseline - 21.5, size=size, bold=True, rtl=True, align="center"
            )
        english, urdu = LABEL_NAME
        self.name_label = self.text("header", f"{english} / {urdu}:", self.margin, self._name_baseline, size=8)

    @property
    def _name_baseline(self) -> float:
        return self.layout.roll_box.y - 7.5

    def roll_grid(self) -> None:
        layout, r = self.layout, self.r
        box = layout.roll_box
        self.frame(box, grey=_FRAME_GREY, width=0.8)
        pitch, row = layout.option_pitch, layout.row_pitch
        top = box.y + 2.5
        bottom = layout.roll_y - r - 8  # the write-in boxes end above the bubbles
        for digit in range(layout.roll_digits):
            x = layout.roll_x + digit * pitch
            self.frame(Box(x - pitch / 2 + 1.2, top, pitch - 2.4, bottom - top), grey=_FRAME_GREY, width=0.6)
            for value in range(10):
                self.bubble(x, layout.roll_y + value * row, str(value))
        # the label under the bubbles, inside the frame
        english, urdu = LABEL_ROLL
        last = layout.roll_y + 9 * row + r
        baseline = (last + box.y + box.h) / 2 + 2.5
        middle = layout.roll_x + (layout.roll_digits - 1) * pitch / 2
        self.text("grid", f"{english} / {urdu}", middle, baseline, size=7, bold=True, align="center", grey=_LABEL_GREY)

    def series(self) -> float:
        """Draw the booklet-series field; return its bottom (layout y), or the roll grid's top when there is none."""
        layout, r = self.layout, self.r
        if not layout.series:
            return layout.roll_box.y
        pitch = layout.option_pitch
        first, last = layout.series_x, layout.series_x + (len(layout.series) - 1) * pitch
        middle = (first + last) / 2
        english, urdu = LABEL_SERIES
        label_w = max(_line_width(english, 6.5, True, False), _line_width(urdu, 6.5, True, True))
        half = max((last - first) / 2 + r + 3 * MM, label_w / 2 + 2 * MM)
        top = layout.roll_box.y
        ascent, descent = _extent(pdf_text.shape(urdu), 6.5, True, True)
        urdu_baseline = layout.series_y + r + 1.5 + ascent  # clear of the bubbles by 1.5 pt, font box and all
        bottom = urdu_baseline + descent + 2
        self.frame(Box(middle - half, top, 2 * half, bottom - top), grey=_FRAME_GREY, width=0.8)
        self.text("grid", english, middle, (top + layout.series_y - r) / 2 + 2.5, size=6.5, bold=True, align="center")
        self.text("grid", urdu, middle, urdu_baseline, size=6.5, bold=True, rtl=True, align="center")
        for i, letter in enumerate(layout.series):
            self.bubble(first + i * pitch, layout.series_y, letter)
        return bottom

    def questions(self) -> None:
        layout, r, canv = self.layout, self.r, self.canv
        pitch, row = layout.option_pitch, layout.row_pitch
        number_size = 7.5
        for block in layout.blocks:
            right = block.x + (block.options - 1) * pitch + r + 2
            left = block.x - 8 * MM + 1
            canv.setStrokeGray(_RULE_GREY)
            canv.setLineWidth(0.4)
            for k in range(5, block.count, 5):  # a light rule after every fifth question
                y = self.pdf_y(block.y + (k - 0.5) * row)
                canv.line(left, y, right, y)
            for i in range(block.count):
                y = block.y + i * row
                baseline = y + 0.718 * number_size / 2
                self.text(
                    "grid",
                    str(block.first + i),
                    block.x - r - 2.5,
                    baseline,
                    size=number_size,
                    bold=True,
                    align="right",
                )
                for option in range(block.options):
                    self.bubble(block.x + option * pitch, y, OPTION_LETTERS[option])

    def instructions(self, series_bottom: float) -> None:
        """English then Urdu instructions, in the free rectangle right of the roll grid, under the QR code and the
        series field, above the question blocks; the type shrinks until they fit."""
        layout = self.layout
        if not (layout.instructions or layout.instructions_ur):
            return
        gap = 3 * MM
        left = layout.roll_box.x + layout.roll_box.w + 4 * MM
        right = self.content_right
        top = max(layout.qr.y + layout.qr.h, series_bottom) + gap
        bottom = min((b.y for b in layout.blocks), default=layout.page[1] - 30 * MM) - self.r - gap
        width = right - left
        english = [f"{i}. {line}" for i, line in enumerate(layout.instructions, 1)]
        urdu = [f"{str(i).translate(_URDU_DIGITS)}۔ {line}" for i, line in enumerate(layout.instructions_ur, 1)]
        en_head, ur_head = LABEL_INSTRUCTIONS
        for size in (7.5, 7.0, 6.5, 6.0, 5.5, _MIN_SIZE):
            # rows of (text, x, align, bold, rtl, size) on one baseline; a float is a space between rows
            rows: list[list[tuple[str, float, str, bool, bool, float]] | float] = [
                [(en_head, left, "left", True, False, size + 0.5), (ur_head, right, "right", True, True, size + 0.5)],
                size * 0.35,
            ]
            for i, line in enumerate(english):
                rows += [
                    [(ln, left, "left", False, False, size)]
                    for ln in pdf_text.break_lines(pdf_text.shape(line), width, size, False, False)
                ]
                rows.append(size * 0.25 if i < len(english) - 1 else size * 0.6)
            for line in urdu:
                rows += [
                    [(ln, right, "right", False, True, size)]
                    for ln in pdf_text.break_lines(pdf_text.shape(line), width, size, False, False)
                ]
            if _rows_height(rows) <= bottom - top:
                break
        y = top
        for row in rows:
            if isinstance(row, float):
                y += row
                continue
            ascent, descent = _row_extent(row)
            for text, x, align, bold, rtl, fs in row:
                self.text("header", text, x, y + ascent, size=fs, bold=bold, rtl=rtl, align=align)
            y += ascent + descent

    def footer_static(self, centre: str | None) -> None:
        """Right: "Do not fold" in both languages; left of it the sheet id (per page, at most _SHEET_ID_WIDTH);
        left: the exam centre, cut to the room that is left."""
        english, urdu = LABEL_DO_NOT_FOLD
        warning = self.text(
            "footer",
            f"{english} · {urdu}",
            self.layout.footer_right,
            self.footer_baseline,
            size=7.5,
            bold=True,
            align="right",
        )
        self.sheet_id_right = warning.x - 4 * MM
        if centre:
            label = f"{LABEL_CENTRE[0]} / {LABEL_CENTRE[1]}: {centre}"
            room = self.sheet_id_right - _SHEET_ID_WIDTH - 4 * MM - self.margin
            text, size = self.fitted(label, room, 7.5)
            self.text("footer", text, self.margin, self.footer_baseline, size=size)

    # -- what changes from page to page ---------------------------------------------------------------------------
    def dynamic(self, spec: SheetSpec) -> None:
        layout, canv = self.layout, self.canv
        self.qr(qr_payload(layout, spec.sheet_id, spec.roll))
        # name
        start = self.name_label.x + self.name_label.w + 4
        if spec.name:
            text, size = self.fitted(spec.name, self.header_right - start, 9, bold=True)
            self.text("header", text, start, self._name_baseline, size=size, bold=True)
        else:
            canv.setStrokeGray(0.3)
            canv.setLineWidth(0.5)
            y = self.pdf_y(self._name_baseline + 1.5)
            canv.line(start, y, self.header_right, y)
        # roll number: written in the boxes, its bubbles filled
        if spec.roll:
            top = layout.roll_box.y + 2.5
            bottom = layout.roll_y - self.r - 8
            baseline = (top + bottom) / 2 + 0.718 * 11 / 2
            for digit, value in enumerate(spec.roll):
                x = layout.roll_x + digit * layout.option_pitch
                self.text("grid", value, x, baseline, size=11, bold=True, align="center")
                self.bubble(x, layout.roll_y + int(value) * layout.row_pitch, value, filled=True)
        # the sheet id, left of "Do not fold"
        sheet = f"{LABEL_SHEET} {spec.sheet_id} · {layout.code} v{layout.version}"
        text, size = self.fitted(sheet, _SHEET_ID_WIDTH, 7.5)
        self.text("footer", text, self.sheet_id_right, self.footer_baseline, size=size, align="right")

    def qr(self, payload: str) -> None:
        """The QR code filling the layout's box, quiet zone inside: one filled path of rectangles (a run of dark
        modules each), written in module units under a scaling transform so the page stream stays small."""
        modules = _qr_matrix(payload)
        n = modules.shape[0]
        box = self.layout.qr
        step = box.w / (n + 2 * QR_QUIET_MODULES)
        padded = np.zeros((n, n + 2), dtype=np.int8)
        padded[:, 1:-1] = modules
        rows, cols = np.nonzero(np.diff(padded, axis=1))  # run starts and ends, row by row, in order
        ops = [f"{a} {row} {b - a} 1 re" for row, a, b in zip(rows[::2], cols[::2], cols[1::2], strict=True)]
        canv = self.canv
        canv.saveState()
        canv.setFillGray(0)
        # module (0, 0) at the box's top-left corner inside the quiet zone; module y grows downwards
        canv.transform(step, 0, 0, -step, box.x + QR_QUIET_MODULES * step, self.pdf_y(box.y + QR_QUIET_MODULES * step))
        canv.addLiteral("\n".join(ops) + "\nf")
        canv.restoreState()


# ---------------------------------------------------------------------------
# Text measurement (the same runs and sizes as core.pdf_text.draw_line)
# ---------------------------------------------------------------------------
def _line_width(text: str, size: float, bold: bool, rtl: bool) -> float:
    runs = pdf_text.runs(pdf_text.visual(pdf_text.shape(text), rtl), bold, False)
    return float(sum(pdfmetrics.stringWidth(t, f, pdf_text.font_size(f, size)) for f, t in runs))


def _row_extent(row: Sequence[tuple[str, float, str, bool, bool, float]]) -> tuple[float, float]:
    extents = [_extent(pdf_text.shape(text), size, bold, rtl) for text, _x, _align, bold, rtl, size in row]
    return max(a for a, _ in extents), max(d for _, d in extents)


def _rows_height(rows: Sequence[Sequence[tuple[str, float, str, bool, bool, float]] | float]) -> float:
    return sum(row if isinstance(row, float) else sum(_row_extent(row)) for row in rows)


def _extent(shaped: str, size: float, bold: bool, rtl: bool) -> tuple[float, float]:
    """(ascent, descent) of a drawn line: the tallest of its fonts' ascents and deepest descents, in points."""
    ascent = descent = 0.0
    for font, _text in pdf_text.runs(pdf_text.visual(shaped, rtl), bold, False):
        face: Any = pdfmetrics.getFont(font).face
        fs = pdf_text.font_size(font, size)
        ascent = max(ascent, face.ascent * fs / 1000)
        descent = max(descent, -face.descent * fs / 1000)
    return ascent, descent
