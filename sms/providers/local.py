"""The two providers that need no network: console (development: the message goes to the log) and memory
(tests: an in-process outbox with failure injection)."""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from core.phone import mask

from .base import LookupUnsupported, OutgoingSms, PermanentProviderError, SendResult, TransientProviderError

log = logging.getLogger("sms.console")


class ConsoleProvider:
    name = "console"
    _ids = itertools.count(1)

    def send(self, sms: OutgoingSms) -> SendResult:
        from sms.encoding import segments

        log.info("SMS #%s to %s (%s segments): %s", sms.message_id, mask(sms.to), segments(sms.body), sms.body)
        return SendResult(provider_id=f"console-{next(self._ids)}")

    def find(self, sms: OutgoingSms, *, since: datetime) -> SendResult | None:
        raise LookupUnsupported("the console provider keeps no record")

    def close(self) -> None:
        pass


@dataclass
class _Outbox:
    sent: list[OutgoingSms] = field(default_factory=list)
    ids: dict[int, str] = field(default_factory=dict)
    fail: list[Exception] = field(default_factory=list)
    permanent: dict[str, str] = field(default_factory=dict)  # phone → error code
    lock: threading.Lock = field(default_factory=threading.Lock)


OUTBOX = _Outbox()


class MemoryProvider:
    """Accepts into ``OUTBOX`` (shared by every thread of the process); ``fail_next`` and ``reject`` inject errors."""

    name = "memory"

    @staticmethod
    def reset() -> None:
        with OUTBOX.lock:
            OUTBOX.sent.clear()
            OUTBOX.ids.clear()
            OUTBOX.fail.clear()
            OUTBOX.permanent.clear()

    @staticmethod
    def fail_next(n: int = 1, *, code: str = "503", message: str = "Service unavailable") -> None:
        with OUTBOX.lock:
            OUTBOX.fail.extend(TransientProviderError(code, message) for _ in range(n))

    @staticmethod
    def reject(phone: str, code: str = "21211") -> None:
        with OUTBOX.lock:
            OUTBOX.permanent[phone] = code

    @staticmethod
    def sent() -> list[OutgoingSms]:
        with OUTBOX.lock:
            return list(OUTBOX.sent)

    def send(self, sms: OutgoingSms) -> SendResult:
        with OUTBOX.lock:
            if OUTBOX.fail:
                raise OUTBOX.fail.pop(0)
            if sms.to in OUTBOX.permanent:
                raise PermanentProviderError(OUTBOX.permanent[sms.to], "The 'To' number is not a valid phone number.")
            OUTBOX.sent.append(sms)
            provider_id = f"mem-{len(OUTBOX.sent)}"
            OUTBOX.ids[sms.message_id] = provider_id
            return SendResult(provider_id=provider_id)

    def find(self, sms: OutgoingSms, *, since: datetime) -> SendResult | None:
        with OUTBOX.lock:
            provider_id = OUTBOX.ids.get(sms.message_id)
        return SendResult(provider_id=provider_id) if provider_id else None

    def close(self) -> None:
        pass
