"""SMS character encoding and segment counting, the way carriers count: pure helpers, no Django.

A text goes out as **GSM-7** when every character is in the GSM 03.38 default alphabet or its
basic extension table, otherwise as **UCS-2** (every Urdu message is UCS-2).

- GSM-7 counts septets. An extension character (``^ { } \\ [ ~ ] | €`` and form feed) is sent
  as ESC + character, so it costs two.
- UCS-2 counts UTF-16 code units. A character outside the Basic Multilingual Plane (an emoji)
  is a surrogate pair, so it costs two.
- One message holds 160 septets or 70 units. A longer text is sent in parts, each carrying a
  concatenation header, so a part holds 153 septets or 67 units.
- A part never ends between ESC and its character, nor between the two halves of a surrogate
  pair: such a character moves whole to the next part, which leaves that part a unit short.
  The split is greedy, as handsets and gateways do it; ``segments(t) == len(split(t))``.
- The empty text is 0 segments and ``split("") == []`` (there is nothing to send); its
  ``per_segment`` and ``remaining`` are 160, what a live counter shows before the first key.

Python strings are expected to be properly decoded text; a lone surrogate code point (never
produced by decoding UTF-8) counts as one UCS-2 unit.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import asdict, dataclass

GSM7 = "GSM-7"
UCS2 = "UCS-2"

GSM7_SINGLE = 160
GSM7_MULTI = 153
UCS2_SINGLE = 70
UCS2_MULTI = 67

# GSM 03.38 default alphabet in code order, 0x00–0x7F; 0x1B is the escape to the extension table.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"  # 15 characters: 0x1B, the escape, sits between Ξ and Æ
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# The basic extension table: each is sent as ESC + character (two septets).
GSM7_EXTENSION = "\f^{}\\[~]|€"

_GSM7_ALL = frozenset(GSM7_BASIC + GSM7_EXTENSION)
_GSM7_EXTENSION_ASCII = tuple(c for c in GSM7_EXTENSION if c.isascii())
_GSM7_EXTENSION_RE = re.compile(f"[{re.escape(GSM7_EXTENSION)}]")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")  # a surrogate pair in UTF-16


@dataclass(frozen=True)
class SmsInfo:
    encoding: str  # GSM7 or UCS2
    characters: int  # len of the text in Python characters (code points)
    units: int  # septets (GSM-7, extension chars count 2) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int  # 160/153 or 70/67 as applies to this text (160 or 70 when it fits in one)
    remaining: int  # units still free in the last segment


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 default alphabet or its extension table."""
    return _GSM7_ALL.issuperset(text)


def analyse(text: str) -> SmsInfo:
    """Encoding, size and segment count of ``text`` as the network will send it."""
    encoding, units, has_wide = _measure(text)
    single, multi = _limits(encoding)
    if units <= single:
        return SmsInfo(encoding, len(text), units, 1 if text else 0, single, single - units)
    if has_wide:
        parts, last_units = _split_greedy(text, multi, _wide_pattern(encoding))
        count = len(parts)
    else:
        count = -(-units // multi)
        last_units = units - (count - 1) * multi
    return SmsInfo(encoding, len(text), units, count, multi, multi - last_units)


def split(text: str) -> list[str]:
    """The parts as sent, in order; ``"".join(split(text)) == text`` and ``split("") == []``."""
    encoding, units, has_wide = _measure(text)
    single, multi = _limits(encoding)
    if not text:
        return []
    if units <= single:
        return [text]
    if has_wide:
        return _split_greedy(text, multi, _wide_pattern(encoding))[0]
    return [text[i : i + multi] for i in range(0, len(text), multi)]


def segments(text: str) -> int:
    """How many messages the network bills for ``text`` (0 for the empty text)."""
    return analyse(text).segments


def as_dict(info: SmsInfo) -> dict[str, str | int]:
    """JSON-safe form for a live counter: encoding, characters, units, segments, per_segment, remaining."""
    return asdict(info)


def _measure(text: str) -> tuple[str, int, bool]:
    """(encoding, units, whether some character costs two units)."""
    if _GSM7_ALL.issuperset(text):
        if text.isascii():
            extra = sum(text.count(c) for c in _GSM7_EXTENSION_ASCII)
        else:
            extra = sum(text.count(c) for c in GSM7_EXTENSION)
        return GSM7, len(text) + extra, extra > 0
    if text.isascii():  # e.g. a backtick or a tab: one unit a character, no need to encode
        return UCS2, len(text), False
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    return UCS2, units, units != len(text)


def _limits(encoding: str) -> tuple[int, int]:
    return (GSM7_SINGLE, GSM7_MULTI) if encoding == GSM7 else (UCS2_SINGLE, UCS2_MULTI)


def _wide_pattern(encoding: str) -> re.Pattern[str]:
    return _GSM7_EXTENSION_RE if encoding == GSM7 else _ASTRAL_RE


def _split_greedy(text: str, limit: int, wide_pattern: re.Pattern[str]) -> tuple[list[str], int]:
    """Longest parts of at most ``limit`` units, never cutting a two-unit character; (parts, units in the last).

    Works on the positions of the two-unit characters (bisect), not character by character.
    """
    wide = [m.start() for m in wide_pattern.finditer(text)]

    def units(start: int, end: int) -> int:
        return end - start + bisect_left(wide, end) - bisect_left(wide, start)

    parts: list[str] = []
    start, length = 0, len(text)
    while True:
        # The longest prefix of text[start:] that fits; units() grows with the end, so bisect on it.
        low, high = start, min(start + limit, length)
        if units(start, high) <= limit:  # no two-unit character in the way: a full part
            low = high
        while low < high:
            middle = (low + high + 1) // 2
            if units(start, middle) <= limit:
                low = middle
            else:
                high = middle - 1
        parts.append(text[start:low])
        if low == length:
            return parts, units(start, low)
        start = low
