"""Answer-sheet layouts: pure code, no Django.

A layout is data (``Layout``, stored as JSON in the database): the page, the four corner fiducials, the QR code
that names the sheet, the roll-number grid, the optional booklet-series field and the question blocks, every
position in PDF points (1/72 inch) measured from the page's TOP-LEFT corner, y growing downwards (as in an
image). The same layout drives printing (``omr/printing.py``) and reading (``omr/engine.py``), so the two
cannot drift apart. ``build_layout`` turns an exam's parameters into a layout.

Geometry, top to bottom on an A4 page:

- fiducials: four solid black squares centred 10 mm in from each corner (9 mm sides); the engine finds them and
  warps the scan onto the layout. The top-left one has a small solid square beside it (``orientation``) so
  the engine tells an upside-down page from an upright one even before reading the QR code;
- header: the title and the bilingual instructions (printing only), the QR code at the top right;
- the roll-number grid: one column per digit, rows 0–9, with boxes above for writing the digits;
- the booklet-series field (A–D) when the exam has series;
- the question blocks: columns of up to ``ROWS_PER_BLOCK`` questions, each with 4 or 5 option bubbles.

The QR code's text is ``ECP-OMR|<layout code>|<layout version>|<sheet id>|<roll or ->`` (``qr_payload`` /
``parse_qr``): the engine learns which layout to read with, and which sheet (and, on personalised sheets,
which candidate) it holds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA = 1
MM = 72 / 25.4  # points per millimetre
A4 = (595.28, 841.89)

FIDUCIAL_SIDE = 9 * MM
FIDUCIAL_INSET = 10 * MM  # from each page edge to the fiducial's centre
ORIENTATION_SIDE = 4 * MM
BUBBLE_RADIUS = 2.1 * MM
OPTION_PITCH = 5.5 * MM  # centre to centre, along a question's row
ROW_PITCH = 5.5 * MM  # centre to centre, between questions (and roll digits)
ROWS_PER_BLOCK = 30
QR_SIDE = 22 * MM
MAX_QUESTIONS = 150  # 5 columns of 30 with 4 options (4 columns, 120, with 5)
QR_PREFIX = "ECP-OMR"
OPTION_LETTERS = "ABCDE"
SERIES_LETTERS = "ABCD"


@dataclass(frozen=True)
class Box:
    """A rectangle: top-left corner (x, y) and size, in points."""

    x: float
    y: float
    w: float
    h: float

    @property
    def center(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)


@dataclass(frozen=True)
class Bubble:
    """One bubble: what it means (``field``: "roll", "series" or "q"; ``index``: the roll digit's position
    (0 = leftmost), 0 for the series, or the question number from 1; ``value``: the digit 0–9, or the option
    letter), and where (centre and radius, points)."""

    field: str
    index: int
    value: str
    x: float
    y: float
    r: float


@dataclass(frozen=True)
class QuestionBlock:
    first: int  # number of the block's first question (from 1)
    count: int
    options: int  # 4 or 5
    x: float  # centre of the first option bubble of the first question
    y: float


@dataclass(frozen=True)
class Layout:
    code: str  # e.g. "exam-2026-ps-a4-100x4"
    version: int
    title: str
    title_ur: str
    page: tuple[float, float]
    fiducials: tuple[Box, Box, Box, Box]  # top-left, top-right, bottom-right, bottom-left
    orientation: Box  # the small square beside the top-left fiducial
    qr: Box
    roll_digits: int
    roll_x: float  # centre of the leftmost digit's column
    roll_y: float  # centre of the "0" row
    roll_box: Box  # the whole grid with its write-in boxes (printing)
    series: tuple[str, ...]  # booklet series letters, empty when the exam has none
    series_x: float
    series_y: float
    blocks: tuple[QuestionBlock, ...]
    instructions: tuple[str, ...] = ()
    instructions_ur: tuple[str, ...] = ()
    bubble_radius: float = BUBBLE_RADIUS
    option_pitch: float = OPTION_PITCH
    row_pitch: float = ROW_PITCH
    schema: int = SCHEMA

    @property
    def footer_right(self) -> float:
        """Where footer text must end: 3 mm short of the spot the orientation square takes on an upside-down
        page (beside the bottom-right fiducial), so nothing printed there can pass for it."""
        return self.page[0] - (self.orientation.x + self.orientation.w) - 3 * MM

    @property
    def questions(self) -> int:
        return sum(block.count for block in self.blocks)

    @property
    def options(self) -> int:
        return max((block.options for block in self.blocks), default=0)

    def bubbles(self) -> list[Bubble]:
        """Every bubble of the sheet: the roll grid (digit by digit, 0–9), the series, then the questions."""
        r = self.bubble_radius
        found: list[Bubble] = []
        for digit in range(self.roll_digits):
            for value in range(10):
                found.append(
                    Bubble(
                        "roll",
                        digit,
                        str(value),
                        self.roll_x + digit * self.option_pitch,
                        self.roll_y + value * self.row_pitch,
                        r,
                    )
                )
        for i, letter in enumerate(self.series):
            found.append(Bubble("series", 0, letter, self.series_x + i * self.option_pitch, self.series_y, r))
        for block in self.blocks:
            for row in range(block.count):
                for option in range(block.options):
                    found.append(
                        Bubble(
                            "q",
                            block.first + row,
                            OPTION_LETTERS[option],
                            block.x + option * self.option_pitch,
                            block.y + row * self.row_pitch,
                            r,
                        )
                    )
        return found

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | dict[str, Any]) -> Layout:
        data = json.loads(text) if isinstance(text, str) else dict(text)
        if data.get("schema") != SCHEMA:
            raise ValueError(f"unknown layout schema {data.get('schema')!r}")
        boxes = {name: Box(**data[name]) for name in ("orientation", "qr", "roll_box")}
        return cls(
            **{
                **data,
                **boxes,
                "page": tuple(data["page"]),
                "fiducials": tuple(Box(**b) for b in data["fiducials"]),
                "series": tuple(data["series"]),
                "blocks": tuple(QuestionBlock(**b) for b in data["blocks"]),
                "instructions": tuple(data.get("instructions", ())),
                "instructions_ur": tuple(data.get("instructions_ur", ())),
            }
        )


INSTRUCTIONS = (
    "Use a black or blue ball-point pen, or a dark pencil. Fill the circle completely.",
    "Fill one circle per question. To change an answer, erase it completely.",
    "Write your roll number in the boxes and fill the matching circle under each digit.",
    "Do not fold this sheet or write outside the boxes. Keep the black corner squares clean.",
)
INSTRUCTIONS_UR = (
    "سیاہ یا نیلے بال پوائنٹ یا گہری پنسل استعمال کریں۔ دائرہ مکمل بھریں۔",
    "ہر سوال کا ایک دائرہ بھریں۔ جواب بدلنے کے لیے پہلا نشان مکمل مٹائیں۔",
    "اپنا رول نمبر خانوں میں لکھیں اور ہر ہندسے کے نیچے اسی کا دائرہ بھریں۔",
    "یہ شیٹ تہ نہ کریں اور خانوں سے باہر نہ لکھیں۔ کونوں کے سیاہ چوکور صاف رکھیں۔",
)


def build_layout(
    *,
    code: str,
    questions: int,
    options: int = 4,
    roll_digits: int = 8,
    series: tuple[str, ...] = (),
    title: str = "",
    title_ur: str = "",
    version: int = 1,
) -> Layout:
    """The layout for an exam: ``questions`` (1–150; 120 with 5 options) of ``options`` (4 or 5) each, a roll number of
    ``roll_digits`` (4–10) digits, and booklet ``series`` (letters among A–D, or none)."""
    if not 1 <= questions <= MAX_QUESTIONS:
        raise ValueError(f"questions must be 1–{MAX_QUESTIONS}, not {questions}")
    if options not in (4, 5):
        raise ValueError(f"options must be 4 or 5, not {options}")
    if not 4 <= roll_digits <= 10:
        raise ValueError(f"roll_digits must be 4–10, not {roll_digits}")
    if any(s not in SERIES_LETTERS for s in series) or len(set(series)) != len(series):
        raise ValueError(f"series must be distinct letters among {SERIES_LETTERS}")
    width, height = A4
    inset, side = FIDUCIAL_INSET, FIDUCIAL_SIDE
    fiducials = tuple(
        Box(cx - side / 2, cy - side / 2, side, side)
        for cx, cy in ((inset, inset), (width - inset, inset), (width - inset, height - inset), (inset, height - inset))
    )
    orientation = Box(inset + side / 2 + 3 * MM, inset - ORIENTATION_SIDE / 2, ORIENTATION_SIDE, ORIENTATION_SIDE)
    margin = 18 * MM  # content starts inside the fiducials
    qr = Box(width - margin - QR_SIDE, 16 * MM, QR_SIDE, QR_SIDE)

    # Roll-number grid under the title, at the left; the series beside it; instructions and QR to the right.
    grid_top = 30 * MM
    write_in = 7 * MM  # the boxes for writing the digits, above the bubbles
    roll_x = margin + 8 * MM
    roll_y = grid_top + write_in + 5 * MM
    roll_box = Box(
        margin, grid_top, 8 * MM + roll_digits * OPTION_PITCH + 2 * MM, write_in + 5 * MM + 10 * ROW_PITCH + 2 * MM
    )
    series_x = roll_box.x + roll_box.w + 12 * MM
    series_y = roll_y

    # Question blocks: columns across the page under the grid.
    top = roll_box.y + roll_box.h + 8 * MM
    bottom = height - margin
    rows = min(ROWS_PER_BLOCK, int((bottom - top) // ROW_PITCH))
    column_width = 8 * MM + options * OPTION_PITCH + 3 * MM  # number, bubbles, gap
    columns_fit = int((width - 2 * margin) // column_width)
    blocks_needed = -(-questions // rows)
    if blocks_needed > columns_fit:
        raise ValueError(f"{questions} questions of {options} options do not fit on one page")
    blocks = []
    for b in range(blocks_needed):
        first = b * rows + 1
        blocks.append(
            QuestionBlock(
                first=first,
                count=min(rows, questions - first + 1),
                options=options,
                x=margin + b * column_width + 8 * MM,
                y=top,
            )
        )
    return Layout(
        code=code,
        version=version,
        title=title,
        title_ur=title_ur,
        page=(width, height),
        fiducials=fiducials,  # type: ignore[arg-type]
        orientation=orientation,
        qr=qr,
        roll_digits=roll_digits,
        roll_x=roll_x,
        roll_y=roll_y,
        roll_box=roll_box,
        series=tuple(series),
        series_x=series_x,
        series_y=series_y,
        blocks=tuple(blocks),
        instructions=INSTRUCTIONS,
        instructions_ur=INSTRUCTIONS_UR,
    )


@dataclass(frozen=True)
class QrData:
    layout_code: str
    layout_version: int
    sheet: str  # the sheet's id (printed once per sheet)
    roll: str = ""  # pre-printed roll number on personalised sheets
    extra: dict = field(default_factory=dict)


def qr_payload(layout: Layout, sheet: str, roll: str = "") -> str:
    for part in (sheet, roll):
        if "|" in part:
            raise ValueError("sheet ids and roll numbers cannot contain '|'")
    return f"{QR_PREFIX}|{layout.code}|{layout.version}|{sheet}|{roll or '-'}"


def parse_qr(text: str) -> QrData | None:
    """The QR code's content, or None when it is not one of ours."""
    parts = (text or "").split("|")
    if len(parts) != 5 or parts[0] != QR_PREFIX or not parts[2].isdigit():
        return None
    return QrData(parts[1], int(parts[2]), parts[3], "" if parts[4] == "-" else parts[4])
