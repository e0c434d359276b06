"""Synthetic answer sheets with a known truth, for the tests and the benchmark: pure code (numpy, OpenCV,
zxing-cpp), no Django.

``make_sheet(layout, truth, dpi, seed=…, degradations=…)`` renders a sheet straight from the layout (no PDF):
white paper, the four fiducials and the orientation square, grey bubble outlines with a light letter inside, the
QR code (4-module quiet zone inside ``layout.qr``, error correction M, as ``omr/printing.py`` draws it), a little
text, and optionally the pre-printed roll number (its bubbles filled solid, as on personalised sheets). Positions
are exact: a point (x, y) of the layout is the pixel coordinate (x·dpi/72, y·dpi/72), pixel i covering [i, i+1)
as when ``pdftoppm`` rasterises the PDF.

Then it fills the truth's answers with marks of the kind ``marks`` asks ("clean": full fills in pen or pencil;
"hard": also partial fills, light pencil, ticks and crosses, erased answers and stray marks), and applies the
degradations, each a separate seedable option: ``rotate``, ``upside_down``, ``perspective`` (a phone photo on a
table), ``lighting`` (a gradient and a soft shadow), ``blur``, ``noise``, ``speckle``, ``jpeg``, ``cut`` (a
corner torn off with its fiducial) and ``crumple`` (a strong non-rigid warp).

The truth that comes back says, for every bubble, which readings are right (``expect``: e.g. a full fill must
read "definite", a tick "marginal" (→ review), an erased mark "blank" or "marginal", a partial fill or light
pencil "definite" or "marginal") and which sheet outcomes are right (``expect_status``: a sheet with a cut corner
must be refused, a crumpled one refused or sent to review). ``compare(truth, read)`` scores an engine's read
against it, and counts the silent errors: a bubble read wrong in a question that was not sent to review.

``write_set(folder, n, layout, preset="clean"|"hard")`` writes PNG or JPEG files with a JSON truth beside each.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import zxingcpp

from omr.layout import MM, OPTION_LETTERS, Layout, qr_payload

__all__ = [
    "DEGRADATIONS",
    "MARK_KINDS",
    "Truth",
    "compare",
    "make_sheet",
    "random_truth",
    "render_blank",
    "truth_from_json",
    "write_set",
]

# Greys as omr/printing.py draws them (0 = black, 255 = white).
INK = 0
OUTLINE_GREY = round(0.35 * 255)
OUTLINE_WIDTH = 0.7  # points
LETTER_GREY = round(0.55 * 255)
LETTER_SIZE = 5.5  # points
QR_QUIET_MODULES = 4

DEGRADATIONS = (
    "crumple",
    "cut",
    "rotate",
    "upside_down",
    "perspective",
    "lighting",
    "blur",
    "noise",
    "speckle",
    "jpeg",
)
MARK_KINDS = ("fill", "partial", "light", "tick", "cross", "erased")
# What a bubble may read as, by the kind of mark in it (the ground truth's intent).
EXPECT = {
    "none": ("blank",),
    "fill": ("definite",),
    "printed": ("definite",),
    "partial": ("definite", "marginal"),
    "light": ("definite", "marginal"),
    "tick": ("marginal",),
    "cross": ("marginal",),
    "erased": ("blank", "marginal"),
}
BubbleKey = tuple[str, int, str]  # (field, index, value) as in Layout.bubbles()


@dataclass(frozen=True)
class Truth:
    """What a sheet holds. ``answers``: question → the letters marked (empty = blank). ``marks``: bubble →
    kind of mark (filled in by ``make_sheet``; bubbles not listed are empty). ``expect_status``: the sheet
    outcomes that are right."""

    roll: str
    series: str = ""
    answers: Mapping[int, str] = field(default_factory=dict)
    sheet_id: str = "S0"
    printed_roll: str = ""  # pre-printed (personalised sheet): in the QR code and filled solid
    marks: Mapping[BubbleKey, str] = field(default_factory=dict)
    expect_status: tuple[str, ...] = ("read",)
    degradations: tuple[str, ...] = ()

    def expect(self, key: BubbleKey) -> tuple[str, ...]:
        return EXPECT[self.marks.get(key, "none")]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["answers"] = {str(q): letters for q, letters in sorted(self.answers.items())}
        data["marks"] = [[f, i, v, kind] for (f, i, v), kind in sorted(self.marks.items())]
        return data


def truth_from_json(data: Mapping[str, Any]) -> Truth:
    return Truth(
        roll=data["roll"],
        series=data.get("series", ""),
        answers={int(q): letters for q, letters in data.get("answers", {}).items()},
        sheet_id=data.get("sheet_id", "S0"),
        printed_roll=data.get("printed_roll", ""),
        marks={(f, int(i), v): kind for f, i, v, kind in data.get("marks", [])},
        expect_status=tuple(data.get("expect_status", ("read",))),
        degradations=tuple(data.get("degradations", ())),
    )


def random_truth(
    layout: Layout,
    seed: int,
    blank_rate: float = 0.05,
    multi_rate: float = 0.02,
    *,
    sheet_id: str | None = None,
) -> Truth:
    """A candidate's sheet: a random roll number, a series (when the layout has some), and per question one
    letter, or none (``blank_rate``), or two or more (``multi_rate``)."""
    rng = np.random.default_rng([seed, 1])
    roll = "".join(str(d) for d in rng.integers(0, 10, layout.roll_digits))
    series = str(rng.choice(list(layout.series))) if layout.series else ""
    answers: dict[int, str] = {}
    for block in layout.blocks:
        letters = OPTION_LETTERS[: block.options]
        for q in range(block.first, block.first + block.count):
            u = rng.random()
            if u < blank_rate:
                answers[q] = ""
            elif u < blank_rate + multi_rate:
                k = int(rng.integers(2, 4))
                answers[q] = "".join(sorted(rng.choice(list(letters), k, replace=False)))
            else:
                answers[q] = str(rng.choice(list(letters)))
    return Truth(roll=roll, series=series, answers=answers, sheet_id=sheet_id or f"S{seed:08d}")


# ---------------------------------------------------------------------------------------------------------------
# The printed sheet
# ---------------------------------------------------------------------------------------------------------------
def _fx(v: float, s: float) -> int:
    """A layout coordinate (points) as a cv2 fixed-point pixel-centre coordinate (shift 4)."""
    return round((v * s - 0.5) * 16)


def _text(img: np.ndarray, text: str, x: float, baseline: float, size: float, s: float, grey: int, align="left"):
    scale = size * 0.72 * s / 22  # cap height of Hershey simplex at scale 1 is about 22 px
    (w, _h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    px = x * s - (w if align == "right" else w / 2 if align == "center" else 0)
    cv2.putText(img, text, (round(px), round(baseline * s)), cv2.FONT_HERSHEY_SIMPLEX, scale, grey, 1, cv2.LINE_AA)


def _coverage(a: float, b: float) -> tuple[int, np.ndarray]:
    """How much of each pixel [i, i+1) the interval [a, b) covers: (first pixel, shares)."""
    i0, i1 = math.floor(a), math.ceil(b)
    edges = np.arange(i0, i1 + 1, dtype=np.float64)
    return i0, np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0, 1)


def _fill_rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> None:
    """A solid black rectangle (pixel coordinates, edges), each pixel darkened by the share it covers (exact)."""
    cx, wx = _coverage(x0, x1)
    cy, wy = _coverage(y0, y1)
    cover = wy[:, None] * wx[None, :]
    patch = img[cy : cy + len(wy), cx : cx + len(wx)]
    patch[:] = np.round(patch * (1 - cover) + INK * cover).astype(np.uint8)


@functools.lru_cache(maxsize=8)
def _template(layout: Layout, dpi: int) -> np.ndarray:
    s = dpi / 72
    width, height = round(layout.page[0] * s), round(layout.page[1] * s)
    img = np.full((height, width), 255, np.uint8)
    for box in (*layout.fiducials, layout.orientation):
        _fill_rect(img, box.x * s, box.y * s, (box.x + box.w) * s, (box.y + box.h) * s)
    # text and frames (not read by the engine; there so that the page is not empty around the bubbles)
    _text(img, (layout.title or "ECP answer sheet")[:60], layout.orientation.x + 12 * MM, 14 * MM, 11, s, 0)
    rb = layout.roll_box
    cv2.rectangle(img, (_fx(rb.x, s), _fx(rb.y, s)), (_fx(rb.x + rb.w, s), _fx(rb.y + rb.h, s)), 50, 1, cv2.LINE_AA, 4)
    for d in range(layout.roll_digits):
        x = layout.roll_x + d * layout.option_pitch
        top, bottom = rb.y + 2.5, layout.roll_y - layout.bubble_radius - 8
        cv2.rectangle(
            img,
            (_fx(x - layout.option_pitch / 2 + 1.2, s), _fx(top, s)),
            (_fx(x + layout.option_pitch / 2 - 1.2, s), _fx(bottom, s)),
            50,
            1,
            cv2.LINE_AA,
            4,
        )
    _text(img, "Roll number", rb.x + rb.w / 2, rb.y + rb.h - 1.5, 6.5, s, 40, "center")
    if layout.series:
        _text(img, "Series", layout.series_x + (len(layout.series) - 1) * layout.option_pitch / 2,
              layout.series_y - 4 * MM, 6.5, s, 40, "center")  # fmt: skip
    left = max(layout.series_x + len(layout.series) * layout.option_pitch + 6 * MM, rb.x + rb.w + 8 * MM)
    y = layout.qr.y + layout.qr.h + 6 * MM
    for line in layout.instructions:
        words, current = line.split(), ""
        for word in words:
            if len(current) + len(word) > 52:
                _text(img, current, left, y, 6.5, s, 30)
                y += 9
                current = ""
            current = f"{current} {word}".strip()
        if current:
            _text(img, current, left, y, 6.5, s, 30)
            y += 11
    for block in layout.blocks:
        for row in range(block.count):
            yq = block.y + row * layout.row_pitch
            _text(img, str(block.first + row), block.x - 4.2 * MM, yq + 2.2, 7, s, 20, "right")
    footer = layout.fiducials[3].center[1] + 2.5
    _text(img, "Do not fold", layout.footer_right, footer, 7.5, s, 0, "right")
    # bubbles
    r = layout.bubble_radius
    thickness = max(1, round(OUTLINE_WIDTH * s))
    letter_scale = LETTER_SIZE * 0.718 * s / 22
    for b in layout.bubbles():
        cv2.circle(img, (_fx(b.x, s), _fx(b.y, s)), round(r * s * 16), OUTLINE_GREY, thickness, cv2.LINE_AA, 4)
        (w, h), _ = cv2.getTextSize(b.value, cv2.FONT_HERSHEY_SIMPLEX, letter_scale, 1)
        org = (round(b.x * s - 0.5 - w / 2), round(b.y * s - 0.5 + h / 2))
        cv2.putText(img, b.value, org, cv2.FONT_HERSHEY_SIMPLEX, letter_scale, LETTER_GREY, 1, cv2.LINE_AA)
    img.setflags(write=False)
    return img


def _draw_qr(img: np.ndarray, layout: Layout, payload: str, s: float) -> None:
    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    modules = np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128
    n = modules.shape[0]
    box = layout.qr
    step = box.w / (n + 2 * QR_QUIET_MODULES)
    x0, y0 = box.x + QR_QUIET_MODULES * step, box.y + QR_QUIET_MODULES * step
    c0, c1 = math.floor(x0 * s), math.ceil((x0 + n * step) * s)
    r0, r1 = math.floor(y0 * s), math.ceil((y0 + n * step) * s)
    cols = np.floor(((np.arange(c0, c1) + 0.5) / s - x0) / step).astype(int)
    rows = np.floor(((np.arange(r0, r1) + 0.5) / s - y0) / step).astype(int)
    ok_c, ok_r = (cols >= 0) & (cols < n), (rows >= 0) & (rows < n)
    patch = img[r0:r1, c0:c1]
    dark = modules[np.clip(rows, 0, n - 1)][:, np.clip(cols, 0, n - 1)] & ok_r[:, None] & ok_c[None, :]
    patch[dark] = INK


def render_blank(layout: Layout, dpi: int = 150, *, sheet_id: str = "S0", roll: str = "") -> np.ndarray:
    """The printed sheet, unmarked (grey uint8): what a perfect scan of ``sheet_pdf`` looks like."""
    if not 72 <= dpi <= 600:
        raise ValueError("dpi must be 72–600")
    img = _template(layout, dpi).copy()
    s = dpi / 72
    _draw_qr(img, layout, qr_payload(layout, sheet_id, roll), s)
    if roll:
        r = layout.bubble_radius
        for d, value in enumerate(roll):
            x = layout.roll_x + d * layout.option_pitch
            y = layout.roll_y + int(value) * layout.row_pitch
            cv2.circle(img, (_fx(x, s), _fx(y, s)), round(r * s * 16), INK, -1, cv2.LINE_AA, 4)
            _text(img, value, x, layout.roll_y - r - 10, 11, s, 0, "center")
    return img


# ---------------------------------------------------------------------------------------------------------------
# Marks
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Pen:
    darkness: float  # 1 = as black as the printer's ink
    width: float  # stroke width, points
    pencil: bool


def _pen(rng: np.random.Generator) -> _Pen:
    if rng.random() < 0.5:
        return _Pen(float(rng.uniform(0.80, 0.92)), float(rng.uniform(0.9, 1.4)), False)
    return _Pen(float(rng.uniform(0.62, 0.78)), float(rng.uniform(0.8, 1.3)), True)


def _apply(R: np.ndarray, cx: float, cy: float, half: int, mask: np.ndarray, darkness: float, texture: bool, rng):
    """Darken the reflectance R around (cx, cy) (pixel-centre coordinates) by ``mask`` (0–1) × darkness."""
    x0, y0 = round(cx) - half, round(cy) - half
    h, w = mask.shape
    ys, xs = slice(max(0, y0), min(R.shape[0], y0 + h)), slice(max(0, x0), min(R.shape[1], x0 + w))
    m = mask[ys.start - y0 : ys.stop - y0, xs.start - x0 : xs.stop - x0]
    if m.size == 0:
        return
    d = m * darkness
    if texture:  # graphite grain
        d = d * (1 - 0.35 * rng.random(d.shape, dtype=np.float32))
    R[ys, xs] *= 1 - d


def _patch(half: int) -> tuple[np.ndarray, float]:
    return np.zeros((2 * half + 1, 2 * half + 1), np.uint8), float(half)


def _blob(half: int, centre: tuple[float, float], radius: float, rng: np.random.Generator) -> np.ndarray:
    """A hand-filled disc: irregular outline around ``radius`` (pixels), anti-aliased, as 0–1."""
    img, _ = _patch(half)
    angles = np.linspace(0, 2 * np.pi, 28, endpoint=False)
    wobble = 1 + 0.05 * np.sin(angles * rng.integers(2, 5) + rng.uniform(0, 6.3)) + 0.03 * rng.standard_normal(28)
    pts = np.stack([centre[0] + radius * wobble * np.cos(angles), centre[1] + radius * wobble * np.sin(angles)], 1)
    cv2.fillPoly(img, [np.round(pts * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    return img.astype(np.float32) / 255


def _strokes(half: int, lines: Sequence[np.ndarray], width: float) -> np.ndarray:
    """Pen strokes, drawn 4× larger and reduced (so that a stroke can be 1.5 pixels wide), as 0–1."""
    size = 2 * half + 1
    big = np.zeros((4 * size, 4 * size), np.uint8)
    for line in lines:
        pts = np.round(((line + 0.5) * 4 - 0.5) * 16).astype(np.int32)
        cv2.polylines(big, [pts], False, 255, max(1, round(width * 4)), cv2.LINE_AA, 4)
    return cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def _disc_mean(mask: np.ndarray, half: int, radius: float) -> float:
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1]
    inside = xx * xx + yy * yy <= radius * radius
    return float(mask[inside].mean())


def _mark(R: np.ndarray, kind: str, x: float, y: float, layout: Layout, s: float, pen: _Pen, rng) -> None:
    """Draw one mark of ``kind`` on the bubble centred at layout point (x, y)."""
    r = layout.bubble_radius * s
    half = math.ceil(r * 1.8)
    cx, cy = x * s - 0.5, y * s - 0.5
    frac = (cx - round(cx), cy - round(cy))
    c = (half + frac[0], half + frac[1])
    darkness, texture = pen.darkness, pen.pencil
    if kind in ("fill", "partial", "light", "erased"):
        jitter = rng.uniform(-0.1, 0.1, 2) * r
        mask = _blob(half, (c[0] + jitter[0], c[1] + jitter[1]), r * rng.uniform(0.98, 1.1), rng)
        if kind == "partial":  # a chord cuts off 5–40 % of the disc
            cover = rng.uniform(0.62, 0.95)
            theta = rng.uniform(0, 2 * np.pi)
            # offset t (in r) of the chord so that the kept part has area fraction `cover`
            lo, hi = -1.0, 1.0
            for _ in range(30):
                t = (lo + hi) / 2
                kept = (math.acos(t) - t * math.sqrt(1 - t * t)) / math.pi  # segment beyond t, as a fraction
                lo, hi = (t, hi) if kept > cover else (lo, t)
            yy, xx = np.mgrid[0 : 2 * half + 1, 0 : 2 * half + 1]
            along = ((xx - c[0]) * math.cos(theta) + (yy - c[1]) * math.sin(theta)) / r
            mask = mask * np.clip((along - t) * r + 0.5, 0, 1).astype(np.float32)
            darkness = max(darkness, 0.72)
        if kind == "light":
            darkness, texture = float(rng.uniform(0.40, 0.52)), True
        if kind == "erased":  # what an eraser leaves: a faint smudge and a few flecks
            smudge = cv2.GaussianBlur(mask, (0, 0), r * 0.25)
            flecks = (rng.random(mask.shape) < 0.02).astype(np.float32) * mask * 0.25
            _apply(R, cx, cy, half, smudge * rng.uniform(0.03, 0.06) + flecks, 1.0, False, rng)
            return
        _apply(R, cx, cy, half, mask, darkness, texture, rng)
        return
    # ticks and crosses: strokes of the pen, covering 20–40 % of the bubble's inner disc
    angle = rng.uniform(-0.3, 0.3)
    rot = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    if kind == "tick":
        shape = [np.array([[-0.6, -0.05], [-0.15, 0.55], [0.75, -0.75]])]
    else:
        shape = [np.array([[-0.75, -0.75], [0.75, 0.75]]), np.array([[-0.75, 0.75], [0.75, -0.75]])]
    lines = [np.asarray(c) + (p @ rot.T) * r for p in shape]
    target = rng.uniform(0.30, 0.48)  # the strokes cover 30–48 % of the inner disc: 30–48 % of a full fill's figure
    width = 0.25 * r
    mask = _strokes(half, lines, width)
    for _ in range(6):
        got = _disc_mean(mask, half, 0.7 * r)
        if abs(got - target) < 0.03:
            break
        width = float(np.clip(width * target / max(got, 0.02), 0.5, 0.9 * r))
        mask = _strokes(half, lines, width)
    _apply(R, cx, cy, half, mask, darkness, texture, rng)


def _strays(R: np.ndarray, layout: Layout, s: float, pen: _Pen, rng, count: int) -> None:
    """Scribbles and dots away from every bubble (at least 1.2 mm from any outline) and from the fiducials,
    the orientation square and the QR code."""
    centres = np.array([(b.x, b.y) for b in layout.bubbles()])
    keep_out = layout.bubble_radius + 1.2 * MM
    boxes = [*layout.fiducials, layout.orientation, layout.qr]
    width, height = layout.page
    drawn = tries = 0
    while drawn < count and tries < 50 * count:
        tries += 1
        start = rng.uniform([15 * MM, 15 * MM], [width - 15 * MM, height - 15 * MM])
        steps = rng.normal(0, 2.5 * MM, (int(rng.integers(1, 5)), 2))
        pts = np.vstack([start, start + np.cumsum(steps, 0)])
        dense = (
            np.vstack([pts[i] + (pts[i + 1] - pts[i]) * t for i in range(len(pts) - 1) for t in np.linspace(0, 1, 12)])
            if len(pts) > 1
            else pts
        )
        d = np.sqrt(((dense[:, None, :] - centres[None, :, :]) ** 2).sum(-1)).min()
        if d < keep_out:
            continue
        if any(
            (dense[:, 0] > b.x - 3 * MM).any() and ((dense[:, 0] > b.x - 3 * MM) & (dense[:, 0] < b.x + b.w + 3 * MM)
            & (dense[:, 1] > b.y - 3 * MM) & (dense[:, 1] < b.y + b.h + 3 * MM)).any()
            for b in boxes
        ):  # fmt: skip
            continue
        line = np.round((pts * s - 0.5) * 16).astype(np.int32)
        canvas = np.zeros(R.shape, np.uint8)
        cv2.polylines(canvas, [line], False, 255, max(1, round(pen.width * s * 0.6)), cv2.LINE_AA, 4)
        R *= 1 - canvas.astype(np.float32) / 255 * pen.darkness
        drawn += 1


# ---------------------------------------------------------------------------------------------------------------
# Degradations
# ---------------------------------------------------------------------------------------------------------------
def _crumple(img: np.ndarray, rng: np.random.Generator, p: Mapping[str, Any], s: float) -> np.ndarray:
    h, w = img.shape
    amplitude = float(p.get("amplitude_mm", rng.uniform(1.5, 3.0))) * MM * s
    grid = np.clip(rng.normal(0, 0.6, (2, 8, 6)), -1, 1).astype(np.float32)
    dx = cv2.resize(grid[0], (w, h), interpolation=cv2.INTER_CUBIC) * amplitude
    dy = cv2.resize(grid[1], (w, h), interpolation=cv2.INTER_CUBIC) * amplitude
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    out = cv2.remap(img, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    # creases: shading along the warp's slopes
    shade = 1 - 0.25 * np.clip(np.abs(cv2.Sobel(dx, cv2.CV_32F, 1, 0, ksize=3)) / 8, 0, 1)
    return np.clip(out.astype(np.float32) * shade, 0, 255).astype(np.uint8)


def _cut(img: np.ndarray, rng: np.random.Generator, p: Mapping[str, Any], s: float) -> np.ndarray:
    h, w = img.shape
    corner = int(p.get("corner", rng.integers(0, 4)))  # 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left
    a = float(p.get("size_mm", rng.uniform(38, 60))) * MM * s  # the cut line's intercepts on the two edges
    b = a * rng.uniform(0.8, 1.25)
    corners = [(0, 0), (w, 0), (w, h), (0, h)]
    cx, cy = corners[corner]
    sx, sy = (1 if cx == 0 else -1), (1 if cy == 0 else -1)
    tri = np.array([[cx, cy], [cx + sx * a, cy], [cx, cy + sy * b]], np.int32)
    out = img.copy()
    cv2.fillPoly(out, [tri], int(p.get("background", rng.choice([255, 250, 60]))))
    return out


def _rotate(img: np.ndarray, angle: float, background: int) -> np.ndarray:
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(img, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=background)


def _perspective(img: np.ndarray, rng: np.random.Generator, p: Mapping[str, Any]) -> np.ndarray:
    h, w = img.shape
    pad = int(0.1 * max(h, w))
    strength = float(p.get("strength", rng.uniform(0.03, 0.06)))
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    moves = rng.uniform(-1, 1, (4, 2)) * strength * np.array([w, h])
    dst = (src + pad + moves).astype(np.float32)
    size = (w + 2 * pad, h + 2 * pad)
    m = cv2.getPerspectiveTransform(src, dst)
    # a table: dark, a little texture
    table = rng.uniform(50, 140)
    coarse = (table + rng.normal(0, 8, (size[1] // 8 + 1, size[0] // 8 + 1))).astype(np.float32)
    background = cv2.resize(coarse, size, interpolation=cv2.INTER_LINEAR)
    page = cv2.warpPerspective(img, m, size, flags=cv2.INTER_LINEAR, borderValue=0)
    inside = cv2.warpPerspective(np.full((h, w), 255, np.uint8), m, size, flags=cv2.INTER_LINEAR, borderValue=0)
    a = inside.astype(np.float32) / 255
    return np.clip(page * a + background[: size[1], : size[0]] * (1 - a), 0, 255).astype(np.uint8)


def _lighting(img: np.ndarray, rng: np.random.Generator, p: Mapping[str, Any]) -> np.ndarray:
    h, w = img.shape
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = (xx * math.cos(theta) + yy * math.sin(theta)) / max(h, w)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    low = float(p.get("low", rng.uniform(0.6, 0.85)))
    gain = low + (1 - low) * t
    # a soft shadow (a hand or the phone) over part of the page
    spot = np.zeros((h, w), np.float32)
    centre = rng.uniform([0, 0], [w, h])
    axes = (int(rng.uniform(0.15, 0.4) * w), int(rng.uniform(0.1, 0.3) * h))
    cv2.ellipse(spot, (int(centre[0]), int(centre[1])), axes, rng.uniform(0, 180), 0, 360, 1.0, -1)
    shadow = cv2.GaussianBlur(spot, (0, 0), max(h, w) * 0.03)
    gain *= 1 - float(p.get("shadow", rng.uniform(0.15, 0.35))) * shadow
    return np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def _noise(img: np.ndarray, rng: np.random.Generator, p: Mapping[str, Any]) -> np.ndarray:
    sigma = float(p.get("sigma", rng.uniform(4, 14)))
    return np.clip(img + rng.normal(0, sigma, img.shape).astype(np.float32), 0, 255).astype(np.uint8)


def _speckle(img: np.ndarray, rng: np.random.Generator, p: Mapping[str, Any]) -> np.ndarray:
    out = img.copy()
    h, w = img.shape
    density = float(p.get("density", rng.uniform(0.0002, 0.001)))
    n = int(h * w * density)
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    radius = rng.integers(0, 2, n)
    for x, y, r, v in zip(xs, ys, radius, rng.choice([0, 30, 255], n, p=[0.4, 0.3, 0.3]), strict=True):
        cv2.circle(out, (int(x), int(y)), int(r), int(v), -1)
    return out


def _degrade(img: np.ndarray, name: str, params: Mapping[str, Any], rng: np.random.Generator, s: float):
    if name == "crumple":
        return _crumple(img, rng, params, s)
    if name == "cut":
        return _cut(img, rng, params, s)
    if name == "rotate":
        angle = float(params.get("angle", rng.uniform(-10, 10)))
        return _rotate(img, angle, int(params.get("background", rng.integers(235, 256))))
    if name == "upside_down":
        return np.ascontiguousarray(img[::-1, ::-1])
    if name == "perspective":
        return _perspective(img, rng, params)
    if name == "lighting":
        return _lighting(img, rng, params)
    if name == "blur":
        return cv2.GaussianBlur(img, (0, 0), float(params.get("sigma", rng.uniform(0.6, 1.4))) * s / (150 / 72))
    if name == "noise":
        return _noise(img, rng, params)
    if name == "speckle":
        return _speckle(img, rng, params)
    if name == "jpeg":
        quality = int(params.get("quality", rng.integers(30, 91)))
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    raise ValueError(f"unknown degradation {name!r}; known: {', '.join(DEGRADATIONS)}")


Degradation = str | tuple[str, Mapping[str, Any]]


def _normalise(degradations: Iterable[Degradation]) -> list[tuple[str, dict[str, Any]]]:
    found: dict[str, dict[str, Any]] = {}
    for item in degradations:
        name, params = (item, {}) if isinstance(item, str) else (item[0], dict(item[1]))
        if name not in DEGRADATIONS:
            raise ValueError(f"unknown degradation {name!r}; known: {', '.join(DEGRADATIONS)}")
        found[name] = params
    return [(name, found[name]) for name in DEGRADATIONS if name in found]  # a fixed, sensible order


# ---------------------------------------------------------------------------------------------------------------
# Sheets
# ---------------------------------------------------------------------------------------------------------------
HARD_MARKS = {"partial": 0.06, "light": 0.02, "tick": 0.003, "cross": 0.003}  # share of marked question bubbles
HARD_ERASED = 0.03  # share of questions with an erased earlier answer
HARD_STRAYS = (0, 5)


def make_sheet(
    layout: Layout,
    truth: Truth,
    dpi: int = 150,
    *,
    seed: int = 0,
    degradations: Iterable[Degradation] = (),
    marks: str = "clean",
    printed_roll: bool = False,
) -> tuple[np.ndarray, Truth]:
    """The sheet as scanned (grey uint8) and its truth (with every mark's kind and the expected outcome).
    ``marks``: "clean" (full fills, pen or pencil) or "hard" (also partial, light, ticks, crosses, erasures,
    strays). ``degradations``: names, or (name, params) pairs, e.g. ``[("rotate", {"angle": 8}), "jpeg"]``."""
    image, truth, _quality = _make(layout, truth, dpi, seed, degradations, marks, printed_roll)
    return image, truth


def _make(
    layout: Layout,
    truth: Truth,
    dpi: int,
    seed: int,
    degradations: Iterable[Degradation],
    marks: str,
    printed_roll: bool,
) -> tuple[np.ndarray, Truth, int | None]:
    if marks not in ("clean", "hard"):
        raise ValueError("marks must be 'clean' or 'hard'")
    steps = _normalise(degradations)
    s = dpi / 72
    rng = np.random.default_rng([seed, 2])
    roll_printed = truth.roll if printed_roll else ""
    R = render_blank(layout, dpi, sheet_id=truth.sheet_id, roll=roll_printed).astype(np.float32) / 255
    pen = _pen(rng)
    kinds: dict[BubbleKey, str] = {}
    options = {b.index: b for b in layout.bubbles() if b.field == "q"}
    per_q: dict[tuple[str, int], list[Any]] = {}
    for b in layout.bubbles():
        per_q.setdefault((b.field, b.index), []).append(b)

    def kind_for(field_: str) -> str:
        if marks == "clean":
            return "fill"
        u = rng.random()
        for kind, share in HARD_MARKS.items():
            if kind in ("tick", "cross") and field_ != "q":
                continue
            if u < share:
                return kind
            u -= share
        return "fill"

    if not roll_printed:
        for d, value in enumerate(truth.roll):
            kinds[("roll", d, value)] = kind_for("roll")
    else:
        for d, value in enumerate(truth.roll):
            kinds[("roll", d, value)] = "printed"
    if truth.series:
        kinds[("series", 0, truth.series)] = kind_for("series")
    for q, letters in truth.answers.items():
        if q not in options:
            raise ValueError(f"question {q} is not on the layout")
        for letter in letters:
            kinds[("q", q, letter)] = kind_for("q")
        if marks == "hard" and rng.random() < HARD_ERASED:
            free = [b.value for b in per_q[("q", q)] if b.value not in letters]
            if free:
                kinds[("q", q, str(rng.choice(free)))] = "erased"
    by_key = {(b.field, b.index, b.value): b for b in layout.bubbles()}
    for key, kind in kinds.items():
        if kind == "printed":
            continue
        b = by_key[key]
        _mark(R, kind, b.x, b.y, layout, s, pen, rng)
    if marks == "hard":
        _strays(R, layout, s, pen, rng, int(rng.integers(*HARD_STRAYS)))
    img = np.clip(R * 255 + 0.5, 0, 255).astype(np.uint8)
    quality = None
    for i, (name, params) in enumerate(steps):
        step_rng = np.random.default_rng([seed, 100 + i, DEGRADATIONS.index(name)])
        if name == "jpeg":
            quality = int(params.get("quality", step_rng.integers(30, 91)))
            params = {**params, "quality": quality}
        img = _degrade(img, name, params, step_rng, s)
    names = tuple(name for name, _ in steps)
    if "cut" in names:
        expect: tuple[str, ...] = ("refused",)
    elif "crumple" in names:
        expect = ("refused", "review")
    elif any(EXPECT[k] == ("marginal",) for k in kinds.values()):
        expect = ("review",)
    elif marks == "clean" and not set(names) & {"perspective", "lighting", "crumple", "cut"}:
        expect = ("read",)
    else:
        expect = ("read", "review")
    out = replace(truth, printed_roll=roll_printed, marks=kinds, expect_status=expect, degradations=names)
    return img, out, quality


PRESETS: dict[str, dict[str, float]] = {
    "clean": {},
    # each degradation's probability on a "hard" sheet
    "hard": {
        "crumple": 0.02,
        "cut": 0.02,
        "rotate": 0.5,
        "upside_down": 0.15,
        "perspective": 0.25,
        "lighting": 0.3,
        "blur": 0.35,
        "noise": 0.5,
        "speckle": 0.25,
        "jpeg": 0.5,
    },
}


def preset_degradations(preset: str, seed: int) -> tuple[str, ...]:
    chances = PRESETS[preset]
    rng = np.random.default_rng([seed, 3])
    chosen = [name for name in DEGRADATIONS if name in chances and rng.random() < chances[name]]
    if "crumple" in chosen and "cut" in chosen:
        chosen.remove("crumple")
    return tuple(chosen)


def write_set(
    folder: str | Path,
    n: int,
    layout: Layout,
    preset: str = "clean",
    dpi: int = 150,
    seed: int = 0,
) -> list[Path]:
    """``n`` sheets as image files (PNG; JPEG when the sheet's degradations include ``jpeg``, at that quality)
    with ``<name>.json`` beside each: the truth (``Truth.to_json``) and the layout's code. Returns the images."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(n):
        sheet_seed = seed * 1_000_003 + i
        truth = random_truth(
            layout,
            sheet_seed,
            blank_rate=0.05,
            multi_rate=0.02 if preset == "hard" else 0.01,
            sheet_id=f"S{seed:03d}-{i:06d}",
        )
        degradations = preset_degradations(preset, sheet_seed)
        printed = preset == "hard" and (i % 10 == 0)
        img, truth, quality = _make(layout, truth, dpi, sheet_seed, degradations, preset, printed)
        name = f"sheet-{i:06d}"
        if quality is not None:
            path = folder / f"{name}.jpg"
            cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, quality])
        else:
            path = folder / f"{name}.png"
            cv2.imwrite(str(path), img, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        data = {"image": path.name, "layout": layout.code, "version": layout.version, "dpi": dpi, "seed": sheet_seed}
        data.update(truth.to_json())
        (folder / f"{name}.json").write_text(json.dumps(data))
        written.append(path)
    return written


# ---------------------------------------------------------------------------------------------------------------
# Scoring a read against the truth
# ---------------------------------------------------------------------------------------------------------------
def compare(truth: Truth, read: Any) -> dict[str, Any]:
    """Score an engine's ``SheetRead`` against the truth. Returns counts: ``bubbles`` and ``bubbles_right``
    (the bubble's class is one its mark allows), ``silent`` (bubbles read wrong in a question, roll or series
    that was not flagged for review, on a sheet that was not refused), the lists of wrong and silent bubbles,
    whether the status is one of those expected, and ``sheet_right`` (right status and every bubble right)."""
    status_ok = read.status in truth.expect_status
    result: dict[str, Any] = {"status": read.status, "status_ok": status_ok, "wrong": [], "silent": []}
    if read.status == "refused":
        result.update(bubbles=0, bubbles_right=0, sheet_right=status_ok)
        return result
    total = right = 0
    for b in read.bubbles:
        key = (b.field, b.index, b.value)
        total += 1
        if b.mark in truth.expect(key):
            right += 1
            continue
        result["wrong"].append((key, b.mark, truth.marks.get(key, "none"), round(b.fill, 3)))
        if b.field == "q":
            flagged = read.questions[b.index].status == "uncertain"
        elif b.field == "roll":
            flagged = read.roll_status != "ok"
        else:
            flagged = read.series_status != "ok"
        if not flagged:
            result["silent"].append(key)
    result.update(bubbles=total, bubbles_right=right, sheet_right=status_ok and right == total)
    return result
