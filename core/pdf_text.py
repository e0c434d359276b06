"""Bilingual text for reportlab PDFs: pure code (reportlab, arabic-reshaper, python-bidi; no Django).

Urdu and English on one page: ``shape`` joins Arabic-script letters (presentation forms) and keeps every other
character drawable in Helvetica; ``break_lines`` wraps in logical order; ``visual`` reorders one line for
drawing with the Unicode bidi algorithm (figures and codes kept left to right, mirrored brackets); ``draw_line``
draws it in runs, Naskh for Arabic script and Helvetica (or Courier) for the rest. Used by the results forms
(results/pdf.py) and the OMR answer sheets (omr/printing.py).
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from pathlib import Path
from typing import Any

import arabic_reshaper
from bidi import get_display
from bidi.mirror import MIRRORED
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

# ---------------------------------------------------------------------------
# Fonts
# ---------------------------------------------------------------------------
FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
NASKH, NASKH_BOLD = "ECPNaskh", "ECPNaskh-Bold"
LATIN, LATIN_BOLD, MONO = "Helvetica", "Helvetica-Bold", "Courier"
_font_lock = threading.Lock()
_fonts_ready = False


def register_fonts() -> None:
    global _fonts_ready
    if _fonts_ready:
        return
    with _font_lock:
        if not _fonts_ready:
            pdfmetrics.registerFont(TTFont(NASKH, str(FONT_DIR / "NotoNaskhArabic-Regular.ttf")))
            pdfmetrics.registerFont(TTFont(NASKH_BOLD, str(FONT_DIR / "NotoNaskhArabic-Bold.ttf")))
            _fonts_ready = True


# ---------------------------------------------------------------------------
# Text: shaping, line breaking, bidi, font runs
# ---------------------------------------------------------------------------
class _Reshaper(arabic_reshaper.ArabicReshaper):  # type: ignore[misc]
    """arabic-reshaper 3.0 rebuilds its ligature regex on every call (its cache test looks up the wrong name)."""

    @functools.cached_property
    def _ligatures_re(self) -> re.Pattern[str]:
        return super()._ligatures_re  # type: ignore[no-any-return]


_RESHAPER = _Reshaper(
    configuration={
        "delete_harakat": True,
        "support_ligatures": True,
        "ARABIC LIGATURE ALLAH": False,  # Urdu spells with heh goal; keep the letters as typed
        "ARABIC LIGATURE LAM WITH ALEF": True,
        "ARABIC LIGATURE LAM WITH ALEF WITH HAMZA ABOVE": True,
        "ARABIC LIGATURE LAM WITH ALEF WITH HAMZA BELOW": True,
        "ARABIC LIGATURE LAM WITH ALEF WITH MADDA ABOVE": True,
    }
)
ARABIC_RE = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
# A run of Latin letters, digits and the punctuation found inside figures and codes.
_TOKEN_RE = re.compile(r"[0-9A-Za-z](?:[0-9A-Za-z.,:/+\-_]*[0-9A-Za-z%])?")
_LRI, _PDI = "\u2066", "\u2069"
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")
)
_LEVEL_RE = re.compile(r"Level\(\s*(\d+),?\s*\)")


def is_arabic(ch: str) -> bool:
    o = ord(ch)
    return 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0x08A0 <= o <= 0x08FF or 0xFB50 <= o <= 0xFEFF


def _latin_safe(ch: str) -> str:
    """Helvetica (WinAnsi) can draw ``ch``, or the nearest thing it can."""
    try:
        ch.encode("cp1252")
        return ch
    except UnicodeEncodeError:
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        try:
            base.encode("cp1252")
            return base
        except UnicodeEncodeError:
            return "?"


@functools.lru_cache(maxsize=16384)
def shape(text: str) -> str:
    """Logical order; Arabic letters joined (presentation forms), other characters drawable in Helvetica."""
    text = text.replace("\r\n", "\n").replace("\t", " ")
    if ARABIC_RE.search(text):
        text = _RESHAPER.reshape(text)
    text = text.translate(_INVISIBLE)
    return "".join(ch if ch == "\n" or is_arabic(ch) else _latin_safe(ch) for ch in text)


def fonts(bold: bool, mono: bool) -> tuple[str, str]:
    if mono:
        return MONO, NASKH
    return (LATIN_BOLD, NASKH_BOLD) if bold else (LATIN, NASKH)


_ARABIC_SCALE = 1.1  # Naskh looks smaller than Helvetica at the same point size


def font_size(font: str, size: float) -> float:
    return size * _ARABIC_SCALE if font in (NASKH, NASKH_BOLD) else size


def runs(text: str, bold: bool, mono: bool) -> list[tuple[str, str]]:
    """Split into (font, text) runs: Arabic script in Naskh, the rest in the Latin face; spaces join the run."""
    latin, arabic = fonts(bold, mono)
    runs: list[tuple[str, str]] = []
    for ch in text:
        if ch == " " and runs:
            font = runs[-1][0]
        else:
            font = arabic if is_arabic(ch) else latin
        if runs and runs[-1][0] == font:
            runs[-1] = (font, runs[-1][1] + ch)
        else:
            runs.append((font, ch))
    return runs


@functools.lru_cache(maxsize=65536)
def width(text: str, size: float, bold: bool, mono: bool) -> float:
    return sum(pdfmetrics.stringWidth(t, f, font_size(f, size)) for f, t in runs(text, bold, mono))


def break_lines(shaped: str, avail: float, size: float, bold: bool, mono: bool) -> list[str]:
    """Greedy line breaking in logical order; a word wider than the line is broken between characters."""
    lines: list[str] = []
    for para in shaped.split("\n"):
        current = ""
        for word in para.split():
            candidate = f"{current} {word}" if current else word
            if width(candidate, size, bold, mono) <= avail:
                current = candidate
                continue
            if current:
                lines.append(current)
                current = ""
            while width(word, size, bold, mono) > avail and len(word) > 1:
                cut = len(word) - 1
                while cut > 1 and width(word[:cut], size, bold, mono) > avail:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines or [""]


def _isolate_figures(text: str) -> str:
    """Wrap every token holding a digit (12,345 / NA-46 / 2026-02-08 / 56.00%) in a left-to-right isolate."""

    def repl(m: re.Match[str]) -> str:
        token = m.group()
        return f"{_LRI}{token}{_PDI}" if any(c.isdigit() for c in token) else token

    return _TOKEN_RE.sub(repl, text)


def _bidi_levels(text: str, rtl: bool) -> list[int] | None:
    """Resolved embedding level of each character (python-bidi reports them per UTF-8 byte)."""
    dump = get_display(text, base_dir="R" if rtl else "L", debug=True)
    dump = dump.decode() if isinstance(dump, bytes) else dump
    if "levels:" not in dump:
        return None
    section = dump.split("levels:", 1)[1].split("paragraphs:", 1)[0]
    per_byte = [int(x) for x in _LEVEL_RE.findall(section)]
    if len(per_byte) != len(text.encode()):
        return None
    levels: list[int] = []
    pos = 0
    for ch in text:
        levels.append(per_byte[pos])
        pos += len(ch.encode())
    return levels


@functools.lru_cache(maxsize=16384)
def visual(line: str, rtl: bool) -> str:
    """One line in display (left-to-right drawing) order."""
    if not rtl and not ARABIC_RE.search(line):
        return line
    marked = _isolate_figures(line)
    levels = _bidi_levels(marked, rtl)
    if levels is None:  # python-bidi changed its debug output: reorder without mirroring
        shown = get_display(marked, base_dir="R" if rtl else "L")
        shown = shown.decode() if isinstance(shown, bytes) else shown
        return shown.translate(_INVISIBLE)
    n = len(marked)
    order = list(range(n))
    for level in range(max(levels), (min(levels) | 1) - 1, -1):  # rule L2
        i = 0
        while i < n:
            if levels[order[i]] >= level:
                j = i
                while j < n and levels[order[j]] >= level:
                    j += 1
                order[i:j] = order[i:j][::-1]
                i = j
            else:
                i += 1
    chars = [MIRRORED.get(marked[k], marked[k]) if levels[k] % 2 else marked[k] for k in order]  # rule L4
    return "".join(chars).translate(_INVISIBLE)


def draw_line(
    canv: Any,
    shaped: str,
    x: float,
    y: float,
    *,
    size: float,
    bold: bool = False,
    mono: bool = False,
    rtl: bool = False,
    align: str = "left",
) -> float:
    """Draw one shaped line anchored at x (its left, right or centre edge); returns its width."""
    parts = runs(visual(shaped, rtl), bold, mono)
    total = sum(pdfmetrics.stringWidth(t, f, font_size(f, size)) for f, t in parts)
    if align == "right":
        x -= total
    elif align == "center":
        x -= total / 2
    for font, text in parts:
        fs = font_size(font, size)
        canv.setFont(font, fs)
        canv.drawString(x, y, text)
        x += pdfmetrics.stringWidth(text, font, fs)
    return total


def metrics(size: float, urdu: bool) -> tuple[float, float]:
    """(leading, baseline offset above the bottom of the line box)."""
    if urdu:
        return size * 1.55, size * 0.5
    return size * 1.24, size * 0.29
