"""CNIC (Computerised National Identity Card number): pure helpers, no Django.

A CNIC is 13 digits, shown as ``12345-1234567-1``. People type it with or
without dashes and spaces, and on Urdu keyboards with Urdu (۰–۹) or Arabic-Indic
(٠–٩) digits; all of those are accepted and stored as the 13 ASCII digits.
Nothing is derived from the digits (not gender, not province).
"""

from __future__ import annotations

import hashlib
import hmac
import re

CNIC_LENGTH = 13

# Urdu/Persian (U+06F0–U+06F9) and Arabic-Indic (U+0660–U+0669) digits → ASCII.
_DIGITS = {ord(c): str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")} | {ord(c): str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}
# Separators people type between the groups: spaces, ASCII hyphen, the various dashes, the Arabic hyphen-like tatweel.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—−ـ]+")
_THIRTEEN_DIGITS = re.compile(r"[0-9]{13}")


class InvalidCNIC(ValueError):
    """The text is not a CNIC; ``reason`` is a stable code, str() a sentence."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def to_ascii_digits(text: str) -> str:
    """Replace Urdu and Arabic-Indic digits by ASCII digits; leave the rest."""
    return text.translate(_DIGITS)


def normalize(text: str) -> str:
    """Return the 13 ASCII digits of a CNIC typed in any accepted shape, or raise InvalidCNIC."""
    if text is None:
        raise InvalidCNIC("empty", "Enter a CNIC: 13 digits, for example 12345-1234567-1.")
    compact = _SEPARATORS.sub("", to_ascii_digits(text.strip()))
    if not compact:
        raise InvalidCNIC("empty", "Enter a CNIC: 13 digits, for example 12345-1234567-1.")
    if not compact.isascii() or not compact.isdigit():
        raise InvalidCNIC("not_digits", "A CNIC has digits only (dashes and spaces are allowed between the groups).")
    if len(compact) != CNIC_LENGTH:
        raise InvalidCNIC("length", f"A CNIC has 13 digits; this has {len(compact)}.")
    if compact[0] == "0":
        raise InvalidCNIC("leading_zero", "A CNIC does not start with 0.")
    if len(set(compact)) == 1:
        raise InvalidCNIC("repeated", "A CNIC is not one digit repeated.")
    return compact


def is_valid(text: str) -> bool:
    try:
        normalize(text)
    except InvalidCNIC:
        return False
    return True


def format_cnic(cnic: str) -> str:
    """12345-1234567-1 from any accepted shape."""
    d = normalize(cnic)
    return f"{d[:5]}-{d[5:12]}-{d[12]}"


def mask(cnic: str, fill: str = "•") -> str:
    """Show only what identifies the card to its holder: 12345-•••••••-1."""
    d = normalize(cnic)
    return f"{d[:5]}-{fill * 7}-{d[12]}"


def log_token(cnic: str, key: bytes | str) -> str:
    """A keyed hash to put in logs instead of the CNIC (same CNIC → same token, not reversible)."""
    if isinstance(key, str):
        key = key.encode()
    d = normalize(cnic)
    return "cnic:" + hmac.new(key, d.encode(), hashlib.sha256).hexdigest()[:16]


_CNIC_RUN = re.compile(r"(?<![0-9])([0-9]{5})[\s\-‐‑‒–—−ـ]?[0-9]{7}[\s\-‐‑‒–—−ـ]?([0-9])(?![0-9])")


def redact(text: str, fill: str = "•") -> str:
    """The text with every CNIC-shaped run masked as 12345-•••••••-1 (Urdu digits made ASCII), for storing
    messages that people send with their CNIC in them."""
    return _CNIC_RUN.sub(lambda m: f"{m[1]}-{fill * 7}-{m[2]}", to_ascii_digits(text))


def find_in_text(text: str) -> list[str]:
    """Every 13-digit run (after digit and separator normalisation) in free text; for redaction."""
    return _THIRTEEN_DIGITS.findall(_SEPARATORS.sub("", to_ascii_digits(text)))
