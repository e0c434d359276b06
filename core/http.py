"""HTTP helpers shared by the apps' views."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import parse_etags


def if_none_match(request: HttpRequest, etag: str) -> bool:
    """Does the request's If-None-Match name ``etag`` (a quoted tag; weak tags match too, as RFC 9110 says)?"""
    sent = {tag.removeprefix("W/") for tag in parse_etags(request.headers.get("If-None-Match", ""))}
    return etag in sent or "*" in sent
