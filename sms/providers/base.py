"""The one small interface every SMS provider implements (no Django import here).

A provider hands one message to the network and says what became of that hand-over:

- ``send(sms)`` returns a ``SendResult`` (the provider's id for the message) once the provider
  has accepted it, or raises ``TransientProviderError`` (try again later: a timeout, a 5xx, a
  throttle) or ``PermanentProviderError`` (never retry: an invalid number, a blocked sender).
- ``find(sms, since=…)`` answers, after a worker died mid-hand-over, whether the provider did
  accept that message: its ``SendResult``, or ``None`` when it never arrived (then it is safe to
  send it again). Providers that cannot be asked raise ``LookupUnsupported``; the dispatcher then
  never resends (at most once) and marks the message failed with that reason for a person to decide.

Every ``OutgoingSms`` carries our own message id to the provider (Twilio: in the status-callback
address; SMPP: as the user_message_reference), so delivery reports and retries are recognisable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class OutgoingSms:
    message_id: int  # our id (sms.Message.pk), carried to the provider
    to: str  # E.164, e.g. +923001234567
    body: str
    status_callback: str = ""  # absolute URL for delivery reports, where the provider sends them


@dataclass(frozen=True)
class SendResult:
    provider_id: str  # the provider's id for the message (Twilio SID "SM…", SMPP message_id)
    segments: int | None = None  # as counted by the provider, when it says


class ProviderError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = str(code)
        self.message = str(message)


class TransientProviderError(ProviderError):
    """Worth retrying later (network error, timeout, HTTP 5xx, 429 throttling, SMPP ESME_RTHROTTLED…)."""


class PermanentProviderError(ProviderError):
    """Retrying cannot help (invalid or unreachable number, unsubscribed, rejected content…)."""


class LookupUnsupported(Exception):
    """The provider cannot say whether it accepted a message (SMPP, console)."""


class Provider(Protocol):
    name: str

    def send(self, sms: OutgoingSms) -> SendResult: ...

    def find(self, sms: OutgoingSms, *, since: datetime) -> SendResult | None: ...

    def close(self) -> None: ...
