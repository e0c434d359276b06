"""Twilio's Messaging API through the official ``twilio`` library (no Django import here).

One ``twilio.rest.Client`` per provider, on a pooled keep-alive HTTP session. With ``api_base``
set (the local double, ``sms.doubles.twilio_api.FakeTwilio``) the same library talks to that base
URL instead of ``https://api.twilio.com``: only the URL prefix changes, the library still builds
every request and parses every answer.

Twilio has no idempotency key for messages, so after a worker died mid-hand-over ``find()`` asks
Twilio what it already accepted: messages to the same number, sent since then, with the same body.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from sms.providers.base import (
    OutgoingSms,
    PermanentProviderError,
    ProviderError,
    SendResult,
    TransientProviderError,
)

# api.twilio.com and its regional/edge forms (api.sydney.au1.twilio.com…).
_TWILIO_API_ORIGIN = re.compile(r"^https://api(?:\.[a-z0-9-]+)*\.twilio\.com(?=/|$)")
FIND_PAGE_SIZE = 50
FIND_LIMIT = 200  # messages to one number since a crash; more than this means something else is wrong
POOL_SIZE = 16


class _RedirectingHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no type hints
    """Sends what the library addresses to https://api.twilio.com to ``api_base`` instead."""

    def __init__(self, *, api_base: str, timeout: float):
        super().__init__(pool_connections=True, timeout=timeout)
        self.api_base = api_base.rstrip("/")
        # A loopback double: never through an environment proxy; keep-alive pool for a few threads.
        self.session.trust_env = False
        self.session.mount("http://", HTTPAdapter(pool_connections=2, pool_maxsize=POOL_SIZE))
        self.session.mount("https://", HTTPAdapter(pool_connections=2, pool_maxsize=POOL_SIZE))

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Any:
        return super().request(
            method,
            _TWILIO_API_ORIGIN.sub(self.api_base, url, count=1),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


class TwilioProvider:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        messaging_service_sid: str = "",
        from_number: str = "",
        api_base: str = "",
        timeout: float = 10,
    ):
        if not messaging_service_sid and not from_number:
            raise ValueError("TwilioProvider needs a messaging_service_sid or a from_number")
        self.messaging_service_sid = messaging_service_sid
        self.from_number = from_number
        if api_base:
            self._http = _RedirectingHttpClient(api_base=api_base, timeout=timeout)
        else:
            self._http = TwilioHttpClient(pool_connections=True, timeout=timeout)
        # region/edge pinned to None: the environment's TWILIO_REGION/TWILIO_EDGE are not ours to follow silently.
        self._client = Client(account_sid, auth_token, http_client=self._http, environment={"TWILIO_REGION": ""})

    def send(self, sms: OutgoingSms) -> SendResult:
        kwargs: dict[str, Any] = {"to": sms.to, "body": sms.body}
        if sms.status_callback:
            kwargs["status_callback"] = sms.status_callback
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        try:
            message = self._client.messages.create(**kwargs)
        except (TwilioException, requests.RequestException) as exc:
            raise _provider_error(exc) from exc
        return _result(message)

    def find(self, sms: OutgoingSms, *, since: datetime) -> SendResult | None:
        # The library formats the datetime as given (strftime "…Z"), so it must be in UTC already.
        since_utc = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
        try:
            for message in self._client.messages.stream(
                to=sms.to, date_sent_after=since_utc, page_size=FIND_PAGE_SIZE, limit=FIND_LIMIT
            ):
                if message.body == sms.body and (message.direction or "").startswith("outbound"):
                    return _result(message)
        except (TwilioException, requests.RequestException) as exc:
            raise _provider_error(exc) from exc
        return None

    def close(self) -> None:
        self._http.session.close()


def _result(message: Any) -> SendResult:
    # num_segments is "0" while a Messaging Service has not picked a sender yet: unknown, not zero.
    try:
        segments = int(message.num_segments) if message.num_segments else None
    except (TypeError, ValueError):
        segments = None
    return SendResult(provider_id=message.sid, segments=segments or None)


def _provider_error(exc: TwilioException | requests.RequestException) -> ProviderError:
    """Twilio's answer or a transport failure → Transient/PermanentProviderError."""
    if isinstance(exc, TwilioRestException | TwilioServiceException):
        status = int(exc.status or 0)
        code = str(exc.code or status)
        message = str(getattr(exc, "msg", "") or getattr(exc, "detail", "") or getattr(exc, "title", ""))
        return _by_status(status, code, message)
    if isinstance(exc, requests.Timeout):
        # A read timeout may come after Twilio accepted the message: find() before sending it again.
        return TransientProviderError("network", f"timeout talking to Twilio: {exc}")
    if isinstance(exc, requests.RequestException):
        return TransientProviderError("network", f"cannot reach Twilio: {exc}")
    if isinstance(exc, TwilioException):
        # A list page that was not 200 comes back as TwilioException("Unable to fetch page", response).
        response = exc.args[1] if len(exc.args) > 1 else None
        http_status = getattr(response, "status_code", None)
        if isinstance(http_status, int):
            code, message = str(http_status), str(exc.args[0])
            try:
                payload = json.loads(getattr(response, "text", ""))
                code = str(payload.get("code") or http_status)
                message = str(payload.get("message") or message)
            except (TypeError, ValueError, AttributeError):
                pass
            return _by_status(http_status, code, message)
    return TransientProviderError("network", str(exc) or type(exc).__name__)


def _by_status(status: int, code: str, message: str) -> ProviderError:
    # 429 throttled, 5xx Twilio's own trouble: later may work. Other 4xx (21211 invalid number, 21610
    # unsubscribed, 21408 no permission for the region, 21614 not a mobile number, 20003 bad credentials…) never will.
    if status == 429 or status >= 500 or status == 0:
        return TransientProviderError(code, message)
    return PermanentProviderError(code, message)
