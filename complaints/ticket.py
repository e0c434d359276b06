"""Complaint ticket numbers (issue 7): ``CMS-2026-4F7K9Q``. Pure (no Django).

- Per year: the year is in the number, and the running number starts again each year.
- Not guessable: the year's running number goes through a keyed permutation of 0 … 32⁵−1 (a four-round
  Feistel network on 26 bits, HMAC-SHA256 as its round function, walked until the value fits), so neighbouring
  tickets look unrelated and nothing follows from a database id. Unique by construction: a permutation.
- Five payload characters in Crockford's base 32 (digits and capitals without I, L, O, U), then one check
  character (Luhn mod 32), which catches every single mistyped character and all but about one in 450 swaps
  of two neighbours (measured over random tickets).
- Read back leniently, as people type it: any case, spaces or dashes anywhere, O for 0, I or L for 1.

This module is the first piece of the complaints app; filing and the desks that use it are not built yet.
"""

from __future__ import annotations

import hashlib
import hmac
import re

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32
PREFIX = "CMS"
PAYLOAD = 5
PER_YEAR = len(ALPHABET) ** PAYLOAD  # 33,554,432 tickets a year
_HALF_BITS = 13  # the Feistel network works on 26 bits; 2**26 ≥ PER_YEAR, walked until the value fits
_MASK = (1 << _HALF_BITS) - 1
_ROUNDS = 4
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SHAPE = re.compile(rf"{PREFIX}(\d{{4}})([{ALPHABET}]{{{PAYLOAD + 1}}})")


class InvalidTicket(ValueError):
    """Not a ticket number; ``reason`` is a stable code ("shape" or "check")."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _round(key: bytes, year: int, round_no: int, half: int) -> int:
    digest = hmac.new(key, f"{year}:{round_no}:{half}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") & _MASK


def _feistel(key: bytes, year: int, value: int, *, inverse: bool = False) -> int:
    left, right = value >> _HALF_BITS, value & _MASK
    rounds = range(_ROUNDS - 1, -1, -1) if inverse else range(_ROUNDS)
    for r in rounds:
        if inverse:
            left, right = right ^ _round(key, year, r, left), left
        else:
            left, right = right, left ^ _round(key, year, r, right)
    return (left << _HALF_BITS) | right


def _permute(key: bytes, year: int, value: int, *, inverse: bool = False) -> int:
    """A permutation of 0 … PER_YEAR−1: the 26-bit network applied until the result falls in range (cycle
    walking keeps it a bijection of the smaller set)."""
    value = _feistel(key, year, value, inverse=inverse)
    while value >= PER_YEAR:
        value = _feistel(key, year, value, inverse=inverse)
    return value


def check_character(payload: str) -> str:
    """Luhn mod 32 over the payload's characters."""
    total, double = 0, True
    for char in reversed(payload):
        code = ALPHABET.index(char)
        if double:
            code *= 2
            code = code // 32 + code % 32
        total += code
        double = not double
    return ALPHABET[(32 - total % 32) % 32]


def ticket_number(year: int, sequence: int, key: bytes) -> str:
    """The number of the year's ``sequence``-th ticket (0-based)."""
    if not 1000 <= year <= 9999:
        raise ValueError("The year has four digits.")
    if not 0 <= sequence < PER_YEAR:
        raise ValueError(f"A year holds at most {PER_YEAR:,} tickets.")
    value = _permute(key, year, sequence)
    payload = ""
    for _ in range(PAYLOAD):
        value, digit = divmod(value, 32)
        payload = ALPHABET[digit] + payload
    return f"{PREFIX}-{year}-{payload}{check_character(payload)}"


def normalize(text: str) -> str:
    """CMS-YYYY-XXXXXX from any typed shape, or InvalidTicket."""
    compact = re.sub(r"[\s\-–—_]+", "", (text or "").upper()).translate(_TYPED)
    if compact.startswith("CM5"):  # "S" read as "5" is still the prefix
        compact = PREFIX + compact[3:]
    match = _SHAPE.fullmatch(compact)
    if match is None:
        raise InvalidTicket("shape", "A ticket number looks like CMS-2026-4F7K9Q.")
    year, code = match[1], match[2]
    if check_character(code[:PAYLOAD]) != code[PAYLOAD]:
        raise InvalidTicket("check", "This ticket number has a mistake in it: check it against your SMS.")
    return f"{PREFIX}-{year}-{code}"


def sequence_of(ticket: str, key: bytes) -> tuple[int, int]:
    """(year, sequence) of a valid ticket number: the inverse of ticket_number."""
    number = normalize(ticket)
    year, code = int(number[4:8]), number[9 : 9 + PAYLOAD]
    value = 0
    for char in code:
        value = value * 32 + ALPHABET.index(char)
    return year, _permute(key, year, value, inverse=True)
