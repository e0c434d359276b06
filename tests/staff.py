"""Helpers for tests of staff screens: a signed-in staff client, and reading a rendered page."""

from __future__ import annotations

import re

from django.test import Client


def signed_in(user) -> Client:
    """A staff session: a demo account may skip the second factor while OTP_DEMO_SKIP is on (the test module
    turns it on)."""
    user.is_demo_account = True
    user.save(update_fields=["is_demo_account"])
    client = Client()
    client.force_login(user)
    return client


def html_of(response) -> str:
    return response.content.decode()


def field_errors(html: str, field: str) -> str:
    """The text of the error list beside ``field`` (its id without "id_"; empty when there is none)."""
    found = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', html, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""
