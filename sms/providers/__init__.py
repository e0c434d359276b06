"""Providers by name, built from settings (``SMS_PROVIDER``): console (the embedded default: writes to the
log), memory (tests), twilio, smpp. One instance per thread, reused (keep-alive sessions, SMPP binds)."""

from __future__ import annotations

import atexit
import contextlib
import threading

from django.conf import settings

from .base import Provider
from .local import ConsoleProvider, MemoryProvider

_local = threading.local()
_built: list[Provider] = []  # every thread's instances, closed when the process ends (SMPP unbinds)


def build(name: str) -> Provider:
    if name == "console":
        return ConsoleProvider()
    if name == "memory":
        return MemoryProvider()
    if name == "twilio":
        from .twilio import TwilioProvider

        return TwilioProvider(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            messaging_service_sid=settings.TWILIO_MESSAGING_SERVICE_SID,
            from_number=settings.TWILIO_FROM_NUMBER,
            api_base=settings.TWILIO_API_BASE,
        )
    if name == "smpp":
        from .smpp import SmppProvider

        return SmppProvider(
            host=settings.SMPP_HOST,
            port=settings.SMPP_PORT,
            system_id=settings.SMPP_SYSTEM_ID,
            password=settings.SMPP_PASSWORD,
            source_addr=settings.SMPP_SOURCE_ADDR,
        )
    raise ValueError(f"Unknown SMS_PROVIDER {name!r}: use console, memory, twilio or smpp.")


def current_name() -> str:
    return settings.SMS_PROVIDER


def get() -> Provider:
    """This thread's instance of the configured provider (rebuilt when its settings change, as in tests)."""
    name = current_name()
    key = (name, settings.TWILIO_API_BASE, settings.TWILIO_ACCOUNT_SID, settings.SMPP_HOST, settings.SMPP_PORT)
    cached = getattr(_local, "providers", None)
    if cached is None:
        cached = _local.providers = {}
    if key not in cached:
        cached[key] = build(name)
        _built.append(cached[key])
    return cached[key]


@atexit.register
def close_all() -> None:
    while _built:
        with contextlib.suppress(Exception):  # a provider that cannot say goodbye still lets the process end
            _built.pop().close()
