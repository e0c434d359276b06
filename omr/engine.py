"""The OMR engine: reads an answer sheet's image. Pure code (numpy, OpenCV, zxing-cpp, Pillow for image
headers), no Django.

``decode(data)`` turns the bytes of a JPEG, PNG or TIFF (several pages for a multi-page TIFF) into grey images,
after checking the size in the header (a 20,000 × 20,000 image is refused before anything is decoded).
``read_sheet(image, layouts)`` reads one page:

1. **Fiducials.** On a copy halved to at most 640 pixels long: the paper's local white (a grey dilation, wider than a
   fiducial) and the pixels darker than 60 % of it; connected components that are solid squares (pixel count
   against the minimum-area rectangle) are candidates, and the four whose centres form the layout's rectangle
   (aspect, size against their distance, opposite sides alike, convex) are the fiducials. Each centre is refined
   on the full image (Otsu in a small window, centroid). Fewer than four: refused (a cut or folded corner).
2. **Orientation.** For each of the four ways of matching the fiducials to the page's corners, the homography
   page → image is computed; the ones that stretch the page (a 90° mismatch) are dropped; the solid orientation
   square beside the top-left fiducial must be dark on every sample point at exactly one of the others. That
   gives upright, upside-down and any rotation in between; the QR code's position confirms it.
3. **Geometry.** Every fiducial's measured size must match the size the homography predicts at its corner, and
   the homography's scale must not vary much across the page (a strong perspective or a fold): else refused.
4. **QR code** (zxing-cpp) in the layout's QR box, then in the whole image: the layout, the sheet's id and the
   pre-printed roll. Its centre must be where the homography puts it.
5. **Bubbles.** For every bubble, sample points mapped through the homography (no full-page warp): 91 in a
   disc of 0.7 r (the fill), 48 on three circles around r (the printed outline) and 16 at 1.32 r (the paper
   right beside it). A bubble's fill is ``(1 − inside / paper) / (1 − fiducial black / paper)``: 0 for white
   paper, 1 for a mark as dark as the printer's black, whatever the lighting and the scanner's levels.
6. **Registration check.** The printed outline must be where the layout says on (nearly) every bubble: a
   crumpled, folded or warped sheet, on which the homography is wrong somewhere, is refused; a question whose
   outline is missed is sent to review.
7. **Classification**, with thresholds from this sheet's own figures: the empty level (30th percentile of all
   fills) and its spread, and the level of the marks on it (75th percentile of the clearly marked bubbles).
   ``blank`` below ``empty + max(0.10, 5 σ, 0.2 × (marks − empty))``, ``definite`` from
   ``empty + 0.6 × (marks − empty)``, ``marginal`` between. A bubble's confidence is its distance from the
   nearest threshold; a question is "answered" (one definite), "multiple", "blank" or "uncertain" (a marginal
   or low-confidence bubble, or a missed outline): uncertain questions, and a roll number or series that is not
   one definite bubble per column, send the sheet to review. Nothing below confidence is ever read silently.

Refusals raise nothing: ``read_sheet`` returns a ``SheetRead`` with status "refused" and a code (``decode``
raises ``Refused`` for bytes that are not a usable image).
"""

from __future__ import annotations

import functools
import io
import itertools
import math
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np
import zxingcpp
from PIL import Image, UnidentifiedImageError

from omr.layout import Layout, QrData, build_layout, parse_qr

__all__ = [
    "BubbleRead",
    "QuestionRead",
    "Refused",
    "SheetRead",
    "decode",
    "overlay",
    "read_sheet",
]

MAX_PIXELS = 60_000_000
MAX_PAGES = 200
WORK_SIZE = 640  # the fiducials are looked for on a copy halved until its long side is at most this
DARK = 0.6  # a pixel darker than this share of the local paper white is ink (fiducial search)
FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "TIFF": "tiff"}

# Sample pattern, in bubble radii: the fill disc, the outline rings, the paper just outside.
_DISC_RADII = ((0.0, 1), (0.14, 6), (0.28, 12), (0.42, 18), (0.56, 24), (0.7, 30))  # 91 points: thin strokes count
_RING_RADII = (0.86, 1.0, 1.14)
_RING_N = 16
_OUT_RADIUS = 1.32


class Refused(Exception):
    """The input cannot be read: ``code`` (stable, for tests and counts) and a message for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class BubbleRead:
    field: str  # "roll", "series", "q"
    index: int
    value: str
    fill: float  # 0 = paper, 1 = as dark as the fiducials
    mark: str  # "definite", "marginal", "blank"
    confidence: float
    outline: bool  # the printed outline was found where the layout puts it
    x: float  # centre in the image (pixels)
    y: float


@dataclass
class QuestionRead:
    status: str  # "answered", "multiple", "blank", "uncertain"
    letters: tuple[str, ...]  # definite marks
    confidence: float


@dataclass
class SheetRead:
    status: str  # "read", "review", "refused"
    refusal_code: str = ""
    refusal_message: str = ""
    qr_text: str | None = None
    qr: QrData | None = None
    layout_code: str = ""
    layout_version: int = 0
    sheet_id: str = ""
    roll: str | None = None
    roll_status: str = ""  # "ok", "blank", "uncertain", "mismatch" (grid against the pre-printed roll)
    printed_roll: str = ""
    series: str | None = None
    series_status: str = ""  # "ok" (or no series field), "blank", "multiple", "uncertain"
    answers: dict[int, tuple[str, ...]] = field(default_factory=dict)
    questions: dict[int, QuestionRead] = field(default_factory=dict)
    bubbles: list[BubbleRead] = field(default_factory=list)
    confidence: float = 0.0
    review_reasons: list[str] = field(default_factory=list)
    rotation: int = 0  # degrees the page was turned in the image, to the nearest 90
    homography: list[list[float]] | None = None  # page points → image pixels
    thresholds: dict[str, float] = field(default_factory=dict)
    image_size: tuple[int, int] = (0, 0)  # (width, height)
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (the event log): every bubble's figures included."""
        data = asdict(self)
        data["questions"] = {str(q): v for q, v in data["questions"].items()}
        data["answers"] = {str(q): list(v) for q, v in data["answers"].items()}
        return data


# ---------------------------------------------------------------------------------------------------------------
# Bytes → images
# ---------------------------------------------------------------------------------------------------------------
def decode(data: bytes, *, max_pixels: int = MAX_PIXELS) -> list[np.ndarray]:
    """The pages of a JPEG, PNG or TIFF as grey uint8 images. Refuses (``Refused``) empty data, anything else
    (PDFs are rasterised elsewhere), images whose header announces more than ``max_pixels`` pixels (checked
    before decoding), and data that does not decode."""
    if not data:
        raise Refused("empty", "the file is empty")
    if data[:5] == b"%PDF-":
        raise Refused("pdf", "a PDF: rasterise its pages first")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                kind = FORMATS.get(im.format or "")
                if kind is None:
                    raise Refused("unsupported_format", f"{im.format} images are not read; send JPEG, PNG or TIFF")
                pages = getattr(im, "n_frames", 1) if kind == "tiff" else 1
                if pages > MAX_PAGES:
                    raise Refused("too_many_pages", f"{pages} pages in one file (at most {MAX_PAGES})")
                for page in range(pages):
                    if page:
                        im.seek(page)
                    width, height = im.size
                    if width * height > max_pixels:
                        raise Refused(
                            "too_large", f"{width} × {height} pixels is more than {max_pixels:,} (page {page + 1})"
                        )
    except Image.DecompressionBombError as exc:
        raise Refused("too_large", f"the image is far too large ({exc})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise Refused("not_an_image", "not a JPEG, PNG or TIFF image") from None
    buf = np.frombuffer(data, np.uint8)
    if kind == "tiff":
        ok, images = cv2.imdecodemulti(buf, cv2.IMREAD_GRAYSCALE)
        if ok and images:
            return [np.ascontiguousarray(img) for img in images]
        return _pillow_pages(data)
    img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise Refused("not_an_image", "the image data is damaged and does not decode")
    return [img]


def _pillow_pages(data: bytes) -> list[np.ndarray]:
    pages = []
    try:
        with Image.open(io.BytesIO(data)) as im:
            for i in range(getattr(im, "n_frames", 1)):
                im.seek(i)
                pages.append(np.asarray(im.convert("L")))
    except (OSError, ValueError) as exc:
        raise Refused("not_an_image", f"the TIFF does not decode ({exc})") from None
    return pages


# ---------------------------------------------------------------------------------------------------------------
# Geometry helpers
# ---------------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _standard() -> Layout:
    """The geometry every layout of build_layout shares (page, fiducials, orientation square)."""
    return build_layout(code="-", questions=1)


def _apply(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Map (…, 2) points through the homography h."""
    flat = pts.reshape(-1, 2).astype(np.float64)
    out = flat @ h[:, :2].T + h[:, 2]
    return (out[:, :2] / out[:, 2:3]).reshape(pts.shape)


def _jacobian(h: np.ndarray, p: tuple[float, float]) -> np.ndarray:
    e = 1.0
    x, y = p
    q = _apply(h, np.array([[x, y], [x + e, y], [x, y + e]]))
    return np.stack([(q[1] - q[0]) / e, (q[2] - q[0]) / e], 1)


def _sample(img: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear samples of img at image points (…, 2); outside the image reads as white."""
    shape = pts.shape[:-1]
    flat = pts.reshape(-1, 2).astype(np.float32)
    width = 4096
    n = flat.shape[0]
    rows = -(-n // width)
    padded = np.zeros((rows * width, 2), np.float32)
    padded[:n] = flat
    mapx = padded[:, 0].reshape(rows, width)
    mapy = padded[:, 1].reshape(rows, width)
    out = cv2.remap(img, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    return out.reshape(-1)[:n].astype(np.float32).reshape(shape)


def _order_clockwise(pts: np.ndarray) -> np.ndarray:
    c = pts.mean(0)
    angles = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    return np.argsort(angles)


@dataclass
class _Fiducial:
    x: float
    y: float
    side: float
    black: float  # mean grey inside
    white: float  # paper grey around


class _Fail(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _find_fiducials(img: np.ndarray, geometry: Layout) -> list[_Fiducial]:
    small, f = img, 1.0
    while max(small.shape) > WORK_SIZE:  # halving: INTER_AREA's fast path, a fraction of a millisecond
        sh, sw = small.shape
        small = cv2.resize(small[: sh - sh % 2, : sw - sw % 2], (sw // 2, sh // 2), interpolation=cv2.INTER_AREA)
        f /= 2
    sh, sw = small.shape
    long_side = max(sh, sw)
    k = max(3, round(long_side / 20) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    paper = cv2.blur(cv2.dilate(small, kernel), (k, k))
    binary = (small.astype(np.float32) < DARK * paper.astype(np.float32)).astype(np.uint8)
    if binary.mean() < 0.0005 or float(np.percentile(paper, 50)) < 30:
        raise _Fail("blank_page", "the image is blank (no printing found)")
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    page_w, page_h = geometry.page
    fid_rel = geometry.fiducials[0].w / max(page_w, page_h)  # fiducial side / page long side
    smin, smax = 0.4 * fid_rel * long_side, 1.35 * fid_rel * long_side
    x, y, bw, bh, area = (stats[1:, i] for i in range(5))
    keep = (area >= smin * smin * 0.6) & (area <= smax * smax * 1.2) & (bw <= 2 * bh) & (bh <= 2 * bw)
    keep &= area >= 0.45 * bw * bh
    biggest = 1 + np.flatnonzero(keep)[np.argsort(-area[keep], kind="stable")][:16]  # fiducials: the big squares
    candidates = []
    for i in biggest:
        x, y, bw, bh, area = stats[i]
        mask = (labels[y : y + bh, x : x + bw] == i).astype(np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            continue
        (_cx, _cy), (rw, rh), _angle = cv2.minAreaRect(max(contours, key=cv2.contourArea))
        rw, rh = rw + 1, rh + 1
        if min(rw, rh) / max(rw, rh) < 0.72 or area / (rw * rh) < 0.7:
            continue
        candidates.append((float(centroids[i][0]), float(centroids[i][1]), math.sqrt(area)))
    candidates.sort(key=lambda c: -c[2])
    candidates = candidates[:8]
    span_w = geometry.fiducials[1].center[0] - geometry.fiducials[0].center[0]
    span_h = geometry.fiducials[3].center[1] - geometry.fiducials[0].center[1]
    side = geometry.fiducials[0].w
    want_aspect = min(span_w, span_h) / max(span_w, span_h)
    want_long = max(span_w, span_h) / side
    best: tuple[float, list[int]] | None = None
    for combo in itertools.combinations(range(len(candidates)), 4):
        c = np.array([candidates[i] for i in combo])
        if c[:, 2].max() / c[:, 2].min() > 1.6:
            continue
        order = _order_clockwise(c[:, :2])
        pts = c[order, :2]
        sides = np.linalg.norm(pts - np.roll(pts, -1, 0), axis=1)
        if min(sides[0], sides[2]) / max(sides[0], sides[2]) < 0.75:
            continue
        if min(sides[1], sides[3]) / max(sides[1], sides[3]) < 0.75:
            continue
        a, b = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
        aspect = min(a, b) / max(a, b)
        size = max(a, b) / c[:, 2].mean()
        d_aspect, d_size = abs(math.log(aspect / want_aspect)), abs(math.log(size / want_long))
        if d_aspect > 0.2 or d_size > 0.35:
            continue
        v = pts - np.roll(pts, 1, 0)
        cross = v[:, 0] * np.roll(v, -1, 0)[:, 1] - v[:, 1] * np.roll(v, -1, 0)[:, 0]
        if not (np.all(cross > 0) or np.all(cross < 0)):
            continue
        score = d_aspect + d_size + math.log(c[:, 2].max() / c[:, 2].min())
        if best is None or score < best[0]:
            best = (score, [combo[i] for i in order])
    if best is None:
        if _three_corners(candidates, want_aspect, want_long):
            raise _Fail("fiducial_missing", "only three corner marks found: a corner is cut, folded or covered")
        if candidates:
            raise _Fail("no_fiducials", "the four corner marks were not found: not an answer sheet, or damaged")
        raise _Fail("no_fiducials", "no corner marks found: not an answer sheet")
    found = []
    for i in best[1]:
        cx, cy, s = candidates[i]
        found.append(_refine(img, cx / f, cy / f, s / f))
    return found


def _three_corners(candidates: list[tuple[float, float, float]], want_aspect: float, want_long: float) -> bool:
    for combo in itertools.combinations(candidates, 3):
        c = np.array(combo)
        if c[:, 2].max() / c[:, 2].min() > 1.6:
            continue
        for k in range(3):
            p, q, r = c[k, :2], c[(k + 1) % 3, :2], c[(k + 2) % 3, :2]
            u, v = q - p, r - p
            lu, lv = np.linalg.norm(u), np.linalg.norm(v)
            if lu == 0 or lv == 0:
                continue
            if abs(float(u @ v) / (lu * lv)) > 0.2:
                continue
            aspect = min(lu, lv) / max(lu, lv)
            size = max(lu, lv) / c[:, 2].mean()
            if abs(math.log(aspect / want_aspect)) < 0.2 and abs(math.log(size / want_long)) < 0.35:
                return True
    return False


def _refine(img: np.ndarray, cx: float, cy: float, side: float) -> _Fiducial:
    """The fiducial's centre, side, black and paper levels, on the full image."""
    h, w = img.shape
    half = max(4, round(side))
    x0, y0 = max(0, round(cx) - half), max(0, round(cy) - half)
    x1, y1 = min(w, round(cx) + half + 1), min(h, round(cy) + half + 1)
    crop = img[y0:y1, x0:x1]
    t, binary = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count < 2:
        return _Fiducial(cx, cy, side, float(crop.min()), float(crop.max()))
    local = np.array([cx - x0, cy - y0])
    dist = np.linalg.norm(centroids[1:] - local, axis=1)
    score = stats[1:, cv2.CC_STAT_AREA] / (1 + dist)
    i = 1 + int(np.argmax(score))
    mx, my = centroids[i]
    area = stats[i, cv2.CC_STAT_AREA]
    s = math.sqrt(area)
    inner = max(1, round(0.3 * s))
    ix, iy = round(mx), round(my)
    black = float(crop[max(0, iy - inner) : iy + inner + 1, max(0, ix - inner) : ix + inner + 1].mean())
    outside = crop[labels == 0]
    white = float(np.percentile(outside, 75)) if outside.size else float(crop.max())
    return _Fiducial(x0 + float(mx), y0 + float(my), s, black, white)


# ---------------------------------------------------------------------------------------------------------------
# Sample patterns (cached per layout)
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Pattern:
    keys: list[tuple[str, int, str]]
    centres: np.ndarray  # (N, 2) page points
    points: np.ndarray  # (N, K, 2) page points
    disc: slice
    ring: slice
    out: slice
    radius: float


@functools.lru_cache(maxsize=32)
def _pattern(layout: Layout) -> _Pattern:
    bubbles = layout.bubbles()
    offsets = []
    for radius, n in _DISC_RADII:
        for j in range(n):
            a = 2 * math.pi * j / n + (math.pi / n if radius > 0.3 else 0)
            offsets.append((radius * math.cos(a), radius * math.sin(a)))
    n_disc = len(offsets)
    for radius in _RING_RADII:
        for j in range(_RING_N):
            a = 2 * math.pi * j / _RING_N
            offsets.append((radius * math.cos(a), radius * math.sin(a)))
    for j in range(_RING_N):
        a = 2 * math.pi * (j + 0.5) / _RING_N
        offsets.append((_OUT_RADIUS * math.cos(a), _OUT_RADIUS * math.sin(a)))
    off = np.array(offsets) * layout.bubble_radius
    centres = np.array([(b.x, b.y) for b in bubbles])
    points = centres[:, None, :] + off[None, :, :]
    n_ring = len(_RING_RADII) * _RING_N
    return _Pattern(
        keys=[(b.field, b.index, b.value) for b in bubbles],
        centres=centres,
        points=points,
        disc=slice(0, n_disc),
        ring=slice(n_disc, n_disc + n_ring),
        out=slice(n_disc + n_ring, n_disc + n_ring + _RING_N),
        radius=layout.bubble_radius,
    )


# ---------------------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------------------
Layouts = Layout | Callable[[str, int], Layout | None]


def read_sheet(image: np.ndarray, layouts: Layouts) -> SheetRead:
    """Read one page (grey or BGR). ``layouts``: the layout to read with, or a function (code, version) →
    Layout | None that the QR code's layout is looked up with."""
    t0 = time.perf_counter()
    read = SheetRead(status="refused")
    try:
        _read(image, layouts, read, t0)
    except _Fail as fail:
        read.status = "refused"
        read.refusal_code = fail.code
        read.refusal_message = fail.message
    read.timings["total"] = round((time.perf_counter() - t0) * 1000, 2)
    return read


def _read(image: np.ndarray, layouts: Layouts, read: SheetRead, t0: float) -> None:
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        raise _Fail("not_an_image", "not an image array")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    if image.dtype != np.uint8:
        lo, hi = float(image.min()), float(image.max())
        image = np.clip((image.astype(np.float64) - lo) * 255 / max(hi - lo, 1e-9), 0, 255).astype(np.uint8)
    h, w = image.shape
    read.image_size = (w, h)
    if min(h, w) < 200:
        raise _Fail("too_small", f"{w} × {h} pixels is too small to read")
    given = layouts if isinstance(layouts, Layout) else None
    geometry = given or _standard()

    # 1–3: fiducials, orientation, geometry
    fids = _find_fiducials(image, geometry)
    pts = np.array([(f.x, f.y) for f in fids])
    order = _order_clockwise(pts)
    fids = [fids[i] for i in order]
    pts = pts[order]
    ink = 1 - float(np.median([f.black / max(f.white, 1) for f in fids]))
    if ink < 0.35:
        raise _Fail("low_contrast", "the corner marks are too faint: the scan has too little contrast")
    page_pts = np.array([b.center for b in geometry.fiducials])
    centre = (geometry.page[0] / 2, geometry.page[1] / 2)
    hypotheses = []
    for k in range(4):
        hom = cv2.getPerspectiveTransform(page_pts.astype(np.float32), np.roll(pts, -k, 0).astype(np.float32))
        sv = np.linalg.svd(_jacobian(hom, centre), compute_uv=False)
        if sv[0] / sv[1] > 1.3:
            continue
        darkness = _orientation_darkness(image, hom, geometry, fids[k].white, ink)
        hypotheses.append((darkness, k, hom))
    if not hypotheses:
        raise _Fail("geometry", "the corner marks do not form the sheet's rectangle (warped or folded sheet)")
    hypotheses.sort(key=lambda t: -t[0])
    dark = [t for t in hypotheses if t[0] >= 0.5]
    qr_found = None
    if len(dark) == 1:
        _, k, hom = dark[0]
    else:  # not clear from the square: the QR code decides
        qr_found = _qr_anywhere(image)
        if qr_found is None:
            raise _Fail("orientation", "cannot tell which way up the sheet is (orientation mark and QR code unseen)")
        qx, qy = qr_found[1]
        best = None
        for _d, kk, hh in hypotheses:
            px, py = _apply(hh, np.array([geometry.qr.center]))[0]
            dist = math.hypot(px - qx, py - qy)
            if best is None or dist < best[0]:
                best = (dist, kk, hh)
        assert best is not None
        _, k, hom = best
    # the page's turn in the image: the angle of its top edge
    top = _apply(hom, page_pts[:2])
    angle = math.degrees(math.atan2(top[1, 1] - top[0, 1], top[1, 0] - top[0, 0]))
    read.rotation = int(round(angle / 90) * 90) % 360
    fids = fids[k:] + fids[:k]
    dets = []
    for fid, (px, py) in zip(fids, page_pts, strict=True):
        jac = _jacobian(hom, (px, py))
        scale = math.sqrt(abs(np.linalg.det(jac)))
        dets.append(scale)
        expected = geometry.fiducials[0].w * scale
        if not 0.72 <= fid.side / expected <= 1.4:
            raise _Fail(
                "geometry",
                f"a corner mark is {fid.side / expected:.0%} of the size the others imply (warped or damaged sheet)",
            )
    if max(dets) / min(dets) > 2.0:
        raise _Fail("geometry", "the page is too strongly tilted or folded to be read")
    read.timings["locate"] = round((time.perf_counter() - t0) * 1000, 2)

    # 4: QR code
    t1 = time.perf_counter()
    found = _qr_in_box(image, hom, geometry) or qr_found or _qr_anywhere(image)
    layout = given
    if found is not None:
        text, (qx, qy) = found
        read.qr_text = text
        px, py = _apply(hom, np.array([geometry.qr.center]))[0]
        scale = float(np.mean(dets))
        if math.hypot(px - qx, py - qy) > 6 * 72 / 25.4 * scale:
            raise _Fail("geometry", "the QR code is not where the layout puts it (another form, or a warped sheet)")
        qr = parse_qr(text)
        if qr is None:
            raise _Fail("foreign_qr", "the QR code is not one of ours")
        read.qr = qr
        read.sheet_id, read.printed_roll = qr.sheet, qr.roll
        if given is not None:
            if (qr.layout_code, qr.layout_version) != (given.code, given.version):
                raise _Fail(
                    "unknown_layout",
                    f"the sheet is of layout {qr.layout_code} v{qr.layout_version}, not {given.code} v{given.version}",
                )
        else:
            assert callable(layouts)
            layout = layouts(qr.layout_code, qr.layout_version)
            if layout is None:
                raise _Fail("unknown_layout", f"unknown layout {qr.layout_code} v{qr.layout_version}")
    elif given is None:
        raise _Fail("qr_unreadable", "the QR code cannot be read, so the sheet's layout is unknown")
    else:
        read.review_reasons.append("QR code unreadable: the sheet's id is unknown")
    assert layout is not None
    read.layout_code, read.layout_version = layout.code, layout.version
    if layout is not geometry and any(
        abs(a.x - b.x) > 0.01 or abs(a.y - b.y) > 0.01
        for a, b in zip(layout.fiducials, geometry.fiducials, strict=True)
    ):
        layout_pts = np.array([b.center for b in layout.fiducials])
        hom = cv2.getPerspectiveTransform(
            layout_pts.astype(np.float32), np.array([(f.x, f.y) for f in fids], np.float32)
        )
    read.homography = hom.tolist()
    read.timings["qr"] = round((time.perf_counter() - t1) * 1000, 2)

    # 5–7: bubbles
    t2 = time.perf_counter()
    _read_bubbles(image, layout, hom, ink, read)
    read.timings["bubbles"] = round((time.perf_counter() - t2) * 1000, 2)


def _orientation_darkness(img: np.ndarray, hom: np.ndarray, geometry: Layout, white: float, ink: float) -> float:
    """How dark the orientation square's place is under this hypothesis: the lightest of 25 points spread over
    its inner 70 %, as a share of the fiducials' black (1 = a solid mark; text or paper is far lower)."""
    box = geometry.orientation
    g = np.linspace(-0.35, 0.35, 5)
    xs, ys = np.meshgrid(box.x + box.w * (0.5 + g), box.y + box.h * (0.5 + g))
    values = _sample(img, _apply(hom, np.stack([xs.ravel(), ys.ravel()], 1)))
    lightest = float(np.sort(values)[-2])
    return (1 - lightest / max(white, 1)) / ink


def _qr_read(crop: np.ndarray, fast: bool) -> list[Any]:
    return zxingcpp.read_barcodes(
        crop,
        formats=zxingcpp.BarcodeFormat.QRCode,  # type: ignore[arg-type]
        try_rotate=not fast,
        try_downscale=not fast,
        try_invert=False,
    )


def _centre(barcode: Any) -> tuple[float, float]:
    p = barcode.position
    xs = [p.top_left.x, p.top_right.x, p.bottom_right.x, p.bottom_left.x]
    ys = [p.top_left.y, p.top_right.y, p.bottom_right.y, p.bottom_left.y]
    return (sum(xs) / 4, sum(ys) / 4)


def _qr_in_box(img: np.ndarray, hom: np.ndarray, geometry: Layout) -> tuple[str, tuple[float, float]] | None:
    box = geometry.qr
    m = 3 * 72 / 25.4
    corners = np.array(
        [[box.x - m, box.y - m], [box.x + box.w + m, box.y - m], [box.x + box.w + m, box.y + box.h + m],
         [box.x - m, box.y + box.h + m]]
    )  # fmt: skip
    q = _apply(hom, corners)
    h, w = img.shape
    x0, y0 = max(0, int(q[:, 0].min())), max(0, int(q[:, 1].min()))
    x1, y1 = min(w, int(q[:, 0].max()) + 1), min(h, int(q[:, 1].max()) + 1)
    if x1 - x0 < 20 or y1 - y0 < 20:
        return None
    crop = np.ascontiguousarray(img[y0:y1, x0:x1])
    for fast in (True, False):
        for barcode in _qr_read(crop, fast):
            cx, cy = _centre(barcode)
            return barcode.text, (x0 + cx, y0 + cy)
    # last try on the box warped upright at 3 pixels a point
    size = round((box.w + 2 * m) * 3)
    dst = np.array([[0, 0], [size, 0], [size, size], [0, size]], np.float32)
    to_img = cv2.getPerspectiveTransform(dst, q.astype(np.float32))
    upright = cv2.warpPerspective(
        img, to_img, (size, size), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR, borderValue=255
    )
    for barcode in _qr_read(upright, False):
        cx, cy = _centre(barcode)
        x, y = _apply(to_img, np.array([[cx, cy]]))[0]
        return barcode.text, (float(x), float(y))
    return None


def _qr_anywhere(img: np.ndarray) -> tuple[str, tuple[float, float]] | None:
    for barcode in _qr_read(img, False):
        if parse_qr(barcode.text) is not None:
            return barcode.text, _centre(barcode)
    return None


def _read_bubbles(img: np.ndarray, layout: Layout, hom: np.ndarray, ink: float, read: SheetRead) -> None:
    pat = _pattern(layout)
    img_pts = _apply(hom, pat.points)
    v = _sample(img, img_pts)
    paper = np.maximum(np.median(v[:, pat.out], axis=1), 1.0)
    inside = v[:, pat.disc].mean(axis=1)
    fill = (1 - inside / paper) / ink
    ring = v[:, pat.ring].reshape(len(v), len(_RING_RADII), _RING_N)
    ring_dark = (1 - ring.min(axis=1) / paper[:, None]).mean(axis=1) / ink
    # -- thresholds from this sheet's figures
    empty = float(np.percentile(fill, 30))
    low = fill[fill < empty + 0.15]
    spread = 1.4826 * float(np.median(np.abs(low - np.median(low)))) if low.size else 0.05
    marked = fill[fill > empty + max(0.25, 6 * spread)]
    marks_level = float(np.percentile(marked, 75)) if marked.size >= 3 else 0.85
    marks_level = max(marks_level, empty + 0.45)
    t_blank = empty + max(0.10, 5 * spread, 0.2 * (marks_level - empty))
    t_def = empty + max(0.6 * (marks_level - empty), t_blank - empty + 0.12)
    band = t_def - t_blank
    read.thresholds = {
        "empty": round(empty, 4),
        "spread": round(spread, 4),
        "marks": round(marks_level, 4),
        "blank": round(t_blank, 4),
        "definite": round(t_def, 4),
        "ink": round(ink, 4),
    }
    if empty > 0.3:
        raise _Fail("too_dark", "most bubbles look filled: not a usable scan of an answer sheet")
    mark = np.where(fill >= t_def, 2, np.where(fill <= t_blank, 0, 1))
    dist = np.where(mark == 2, (fill - t_def) / band, (t_blank - fill) / band)
    conf = np.where(mark == 1, 0.0, np.clip(0.5 + dist, 0, 1))
    # -- registration: the printed outline where the layout puts it
    blank_rings = ring_dark[mark == 0]
    ring_level = float(np.percentile(blank_rings, 90)) if blank_rings.size else 1.0
    outline_ok = ring_dark >= max(0.08, 0.5 * ring_level)
    share = float(outline_ok.mean())
    read.thresholds["outline"] = round(ring_level, 4)
    read.thresholds["outline_found"] = round(share, 4)
    if ring_level < 0.08:
        read.review_reasons.append("bubble outlines not visible: registration unchecked")
        outline_ok[:] = True
    elif share < 0.9:
        raise _Fail(
            "misregistered",
            f"only {share:.0%} of the bubbles are where the layout puts them: crumpled, folded or warped sheet",
        )
    centres = _apply(hom, pat.centres)
    names = ("blank", "marginal", "definite")
    read.bubbles = [
        BubbleRead(f, i, val, fl, names[mk], c, ok, x, y)
        for (f, i, val), fl, mk, c, ok, x, y in zip(
            pat.keys,
            np.round(fill, 4).tolist(),
            mark.tolist(),
            np.round(conf, 3).tolist(),
            outline_ok.tolist(),
            np.round(centres[:, 0], 1).tolist(),
            np.round(centres[:, 1], 1).tolist(),
            strict=True,
        )
    ]
    groups: dict[tuple[str, int], list[BubbleRead]] = {}
    for b in read.bubbles:
        groups.setdefault((b.field, b.index), []).append(b)

    def judge(bubbles: list[BubbleRead]) -> tuple[str, tuple[str, ...], float]:
        definite = tuple(b.value for b in bubbles if b.mark == "definite")
        confidence = min(b.confidence for b in bubbles)
        if any(b.mark == "marginal" or not b.outline for b in bubbles) or confidence < 0.55:
            return "uncertain", definite, round(confidence, 3)
        if not definite:
            return "blank", definite, round(confidence, 3)
        return ("answered" if len(definite) == 1 else "multiple"), definite, round(confidence, 3)

    confidences = []
    uncertain = []
    for block in layout.blocks:
        for q in range(block.first, block.first + block.count):
            status, letters, c = judge(groups[("q", q)])
            read.questions[q] = QuestionRead(status, letters, c)
            confidences.append(c)
            if status == "uncertain":
                uncertain.append(q)
            else:
                read.answers[q] = letters
    if uncertain:
        shown = ", ".join(str(q) for q in uncertain[:12]) + (" …" if len(uncertain) > 12 else "")
        read.review_reasons.append(f"unclear marks in question(s) {shown}")
    # roll number: one definite bubble a column
    digits, roll_ok, any_mark = [], True, False
    for d in range(layout.roll_digits):
        status, values, c = judge(groups[("roll", d)])
        confidences.append(c)
        any_mark = any_mark or bool(values) or status == "uncertain"
        if status == "answered":
            digits.append(values[0])
        else:
            roll_ok = False
    if roll_ok:
        read.roll, read.roll_status = "".join(digits), "ok"
        if read.printed_roll and read.roll != read.printed_roll:
            read.roll_status = "mismatch"
            read.review_reasons.append(f"roll number {read.roll} marked, {read.printed_roll} printed")
    elif not any_mark and read.printed_roll:
        read.roll, read.roll_status = read.printed_roll, "ok"
    elif not any_mark:
        read.roll_status = "blank"
        read.review_reasons.append("roll number not marked")
    else:
        read.roll_status = "uncertain"
        read.review_reasons.append("roll number: a column without exactly one clear mark")
    if layout.series:
        status, values, c = judge(groups[("series", 0)])
        confidences.append(c)
        if status == "answered":
            read.series, read.series_status = values[0], "ok"
        else:
            read.series_status = status
            read.review_reasons.append(f"booklet series {status}")
    else:
        read.series_status = "ok"
    read.confidence = round(min(confidences) * min(1.0, share / 0.98), 3) if confidences else 0.0
    read.status = "review" if read.review_reasons else "read"


# ---------------------------------------------------------------------------------------------------------------
# Review overlay
# ---------------------------------------------------------------------------------------------------------------
GREEN, AMBER, RED, BLUE, GREY = (40, 170, 40), (0, 170, 255), (40, 40, 220), (200, 120, 0), (150, 150, 150)


def overlay(image: np.ndarray, read: SheetRead) -> np.ndarray:
    """The sheet (BGR) with what was read drawn over it: definite marks green (red in a question with several),
    marginal marks amber, the bubbles of unclear questions outlined grey, the fiducials' frame blue."""
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    if read.homography is None:
        cv2.putText(out, f"refused: {read.refusal_code}", (20, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, RED, 2)
        return out
    hom = np.array(read.homography)
    layout_r = _standard().bubble_radius
    scale = math.sqrt(abs(np.linalg.det(_jacobian(hom, (300.0, 420.0)))))
    r = max(3, round(layout_r * scale * 1.25))
    thick = max(1, round(r / 6))
    corners = _apply(hom, np.array([b.center for b in _standard().fiducials]))
    cv2.polylines(out, [np.round(corners).astype(np.int32)], True, BLUE, thick, cv2.LINE_AA)
    for b in read.bubbles:
        centre = (round(b.x), round(b.y))
        q = read.questions.get(b.index) if b.field == "q" else None
        if b.mark == "definite":
            colour = RED if q is not None and q.status == "multiple" else GREEN
            cv2.circle(out, centre, r, colour, thick + 1, cv2.LINE_AA)
        elif b.mark == "marginal" or not b.outline:
            cv2.circle(out, centre, r, AMBER, thick + 1, cv2.LINE_AA)
        elif q is not None and q.status == "uncertain":
            cv2.circle(out, centre, r, GREY, 1, cv2.LINE_AA)
    label = f"{read.status}  conf {read.confidence:.2f}  roll {read.roll or '?'}"
    cv2.putText(out, label, (20, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, BLUE, 2, cv2.LINE_AA)
    return out


def stored_overlay(image: np.ndarray, reading: Mapping[str, Any]) -> np.ndarray:
    """``overlay`` from what a sheet keeps of its read (omr.services' ``reading``: bubbles with their image
    centres, the questions, the homography), for the review screen."""
    missing = {tuple(b) for b in reading.get("outlines_missing", [])}
    bubbles = [
        BubbleRead(f, int(i), v, fill, mark, conf, (f, int(i), v) not in missing, x, y)
        for f, i, v, fill, mark, conf, x, y in reading.get("bubbles", [])
    ]
    questions = {
        int(q): QuestionRead(status, tuple(letters), conf)
        for q, (status, letters, conf) in reading.get("questions", {}).items()
    }
    read = SheetRead(
        status=reading.get("status", ""),
        bubbles=bubbles,
        questions=questions,
        confidence=float(reading.get("confidence", 0.0)),
        roll=reading.get("roll"),
        homography=reading.get("homography"),
        refusal_code=reading.get("refusal_code", ""),
    )
    return overlay(image, read)
