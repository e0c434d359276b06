"""HTTP helpers shared by the apps' views: conditional GETs, and CSV cells a spreadsheet will not run."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import parse_etags


def if_none_match(request: HttpRequest, etag: str) -> bool:
    """Does the request's If-None-Match name ``etag`` (a quoted tag; weak tags match too, as RFC 9110 says)?"""
    sent = {tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))}
    return etag in sent or "*" in sent


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A value for a CSV export; a cell a spreadsheet would run as a formula is kept as text with a leading
    apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
