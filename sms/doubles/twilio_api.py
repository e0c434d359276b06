"""A local double of Twilio's Messaging REST API, spoken over loopback HTTP.

The real ``twilio`` library can be pointed at it (``TwilioProvider(api_base=fake.base_url)``): it
answers the same paths, form fields, JSON shapes, HTTP status codes and Twilio error codes as
``https://api.twilio.com/2010-04-01`` for what this project uses:

- ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` — create (201, a Message resource);
- ``GET  /2010-04-01/Accounts/{AccountSid}/Messages.json`` — list, newest first, with the
  ``To``, ``From``, ``DateSent``, ``DateSent<``, ``DateSent>``, ``PageSize``, ``Page`` and
  ``PageToken`` parameters the library sends, and Twilio's paging shape;
- ``GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json`` — fetch.

Every request needs HTTP Basic auth with the account SID and auth token (401, code 20003).
With ``callbacks=True`` the double posts delivery reports to each message's ``StatusCallback``
the way Twilio does: form fields ``MessageSid``, ``MessageStatus``, ``To``, ``From``… signed with
``X-Twilio-Signature`` (``RequestValidator(auth_token)``), in ``callback_order``.

It is built for throughput (thousands of requests a second on one core): one asyncio event loop
in a background thread, a minimal HTTP/1.1 parser with keep-alive, and delivery reports sent over
a small pool of keep-alive connections. Run it on its own for demos and benchmarks::

    python -m sms.doubles.twilio_api --port 8765 --callbacks

Where Twilio's behaviour is unknowable or random the double picks one plain rule and says so:
a message's status moves on at once when ``callbacks`` is off (to its last status), or as each
report is posted when it is on; ``DateSent`` filters compare with the message's send time, or its
creation time while it has not been sent (so a message accepted just before a crash is found).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import email.utils
import hmac
import json
import math
import re
import secrets
import signal
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "feedface" * 4
SERVICE_SENDER = "+15005550006"  # the number a Messaging Service "picks" for the messages it sends
MAX_BODY_CHARS = 1600
UNDELIVERED_ERROR_CODE = 30003  # Unreachable destination handset

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/]+?))?\.json$")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-f]{32}$")
_STATUS_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "failed": 4,
    "undelivered": 4,
    "delivered": 4,
    "read": 5,
}
_ERROR_CODE_FOR_STATUS = {429: 20429, 500: 20500, 502: 20500, 503: 20503, 504: 20504}
_ERROR_MESSAGE_FOR_STATUS = {
    429: "Too Many Requests",
    500: "An internal server error has occurred",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_MAX_REQUEST_BYTES = 1 << 20
_MAX_HEAD_BYTES = 64 << 10

# GSM 03.38: the basic table (one septet) and the extension table (escape + one septet).
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


def count_segments(body: str) -> int:
    """SMS segments for ``body``: GSM-7 (160, or 153 a part) unless a character needs UCS-2 (70, or 67)."""
    septets = 0
    for char in body:
        if char in _GSM7_BASIC:
            septets += 1
        elif char in _GSM7_EXTENSION:
            septets += 2
        else:
            units = len(body.encode("utf-16-le")) // 2
            return 1 if units <= 70 else math.ceil(units / 67)
    return 1 if septets <= 160 else math.ceil(septets / 153)


def _rfc2822(moment: datetime | None) -> str | None:
    return None if moment is None else email.utils.format_datetime(moment)


def _parse_date_filter(value: str) -> tuple[datetime, bool]:
    """A ``DateSent`` value as the library sends it: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SSZ`` (UTC)."""
    if len(value) == 10:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC), True
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), False


class _Reject(Exception):
    """An answer in Twilio's error shape."""

    def __init__(self, status: int, code: int, message: str, **extra: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def payload(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
            **self.extra,
        }


@dataclass(slots=True)
class _Message:
    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status: str
    status_callback: str
    segments: int
    created: datetime  # whole seconds, UTC, as Twilio reports it
    updated: datetime
    received_at: datetime
    date_sent: datetime | None = None
    error_code: int | None = None


class FakeTwilio:
    """Twilio's Messaging REST API on ``base_url``; start it, point the real library at it, inspect ``creates``."""

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        host: str = "127.0.0.1",
        port: int = 0,
        callbacks: bool = False,
        callback_order: Iterable[str] = ("sent", "delivered"),
        undeliverable: Iterable[str] = (),
        invalid: Iterable[str] = (),
        unsubscribed: Iterable[str] = (),
        callback_delay: float = 0.0,
        callback_timeout: float = 10.0,
        callback_retries: int = 3,
        callback_concurrency: int = 16,
    ):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.host = host
        self.port = port
        self.callbacks = callbacks
        self.callback_order = tuple(callback_order)
        self.undeliverable = frozenset(undeliverable)
        self.invalid = frozenset(invalid)
        self.unsubscribed = frozenset(unsubscribed)
        self.callback_delay = callback_delay
        self.callback_timeout = callback_timeout
        self.callback_retries = callback_retries
        self.callback_concurrency = callback_concurrency
        # Counters, written only by the event loop's thread.
        self.requests_total = 0
        self.callbacks_sent = 0  # answered 2xx
        self.callbacks_rejected = 0  # answered with another status (Twilio logs a warning and moves on)
        self.callbacks_failed = 0  # not reached after retries, dropped
        self.errors: collections.Counter[int] = collections.Counter()  # Twilio error codes answered

        self._credentials = f"{account_sid}:{auth_token}"
        self._expected_auth = "Basic " + base64.b64encode(self._credentials.encode()).decode()
        self._validator = RequestValidator(auth_token)
        self._lock = threading.Lock()
        self._creates: list[dict[str, Any]] = []
        self._messages: list[_Message] = []
        self._by_sid: dict[str, _Message] = {}
        self._by_to: dict[str, list[_Message]] = {}
        self._fail_remaining = 0
        self._fail_status = 503
        self._fail_code: int | None = None
        self._pending_reports = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.Transport] = set()
        self._idle: dict[tuple[str, str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = {}
        self._slots: asyncio.Semaphore | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._ssl_context: ssl.SSLContext | None = None

    # ---- lifecycle -------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> FakeTwilio:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(ready, failure), name="fake-twilio", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving; delivery reports not yet posted are dropped (``wait_idle()`` first to keep them)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(self._shutdown)
        thread.join()
        self._thread = None
        self._loop = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            self._slots = asyncio.Semaphore(self.callback_concurrency)
            self._server = loop.run_until_complete(
                loop.create_server(lambda: _HttpProtocol(self), self.host, self.port, backlog=1024)
            )
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:  # handed to start(), which raises it
            failure.append(exc)
            loop.close()
            ready.set()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for transport in list(self._transports):
            transport.close()
        for connections in self._idle.values():
            for _, writer in connections:
                writer.close()
        self._idle.clear()
        assert self._loop is not None
        self._loop.stop()

    # ---- controls and inspection (any thread) ----------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503, code: int | None = None) -> None:
        """The next ``n`` creates answer ``status`` with Twilio's error JSON (429 → 20429, 503 → 20503…)."""
        with self._lock:
            self._fail_remaining = n
            self._fail_status = status
            self._fail_code = code

    @property
    def creates(self) -> list[dict[str, Any]]:
        """Accepted creates, oldest first: sid, to, from, messaging_service_sid, body, status_callback, received_at."""
        with self._lock:
            return list(self._creates)

    def count_by_callback(self) -> collections.Counter[str]:
        with self._lock:
            return collections.Counter(record["status_callback"] for record in self._creates)

    def message(self, sid: str) -> dict[str, Any] | None:
        """The Message resource as a fetch would show it now."""
        with self._lock:
            found = self._by_sid.get(sid)
            return None if found is None else self._resource(found)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every delivery report has been posted (or given up on); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._pending_reports:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    # ---- the REST API (event loop thread) --------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, str]:
        """One request → (HTTP status, JSON payload or None, extra header lines)."""
        self.requests_total += 1
        path, _, query = target.partition("?")
        try:
            match = _MESSAGES_PATH.match(path)
            if match is None:
                raise _Reject(404, 20404, f"The requested resource {path} was not found")
            if not self._authorised(headers.get("authorization", "")):
                raise _Reject(
                    401,
                    20003,
                    "Authentication Error - invalid username",
                    detail="Your AccountSid or AuthToken was incorrect.",
                )
            if match["account"] != self.account_sid:
                raise _Reject(404, 20404, f"The requested resource {path} was not found")
            sid = match["sid"]
            if sid is None and method == "POST":
                form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                return 201, self._create(form), ""
            if sid is None and method == "GET":
                return 200, self._list(path, dict(parse_qsl(query, keep_blank_values=True))), ""
            if sid is not None and method == "GET":
                with self._lock:
                    found = self._by_sid.get(sid)
                    if found is None:
                        raise _Reject(404, 20404, f"The requested resource {path} was not found")
                    return 200, self._resource(found), ""
            raise _Reject(405, 20004, "Method not allowed")
        except _Reject as reject:
            self.errors[reject.code] += 1
            extra = 'WWW-Authenticate: Basic realm="Twilio API"\r\n' if reject.status == 401 else ""
            return reject.status, reject.payload(), extra
        except (UnicodeDecodeError, ValueError):
            self.errors[20001] += 1
            return 400, _Reject(400, 20001, "Invalid request").payload(), ""

    def _authorised(self, header: str) -> bool:
        if header == self._expected_auth:
            return True
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            credentials = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(credentials.encode(), self._credentials.encode())

    def _create(self, form: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            if self._fail_remaining > 0:
                self._fail_remaining -= 1
                failing = self._fail_status
                code = self._fail_code or _ERROR_CODE_FOR_STATUS.get(failing, failing * 100)
                raise _Reject(failing, code, _ERROR_MESSAGE_FOR_STATUS.get(failing, _reason(failing)))
        to = form.get("To", "")
        from_ = form.get("From", "")
        service = form.get("MessagingServiceSid", "")
        body = form.get("Body", "")
        callback = form.get("StatusCallback", "")
        if not to:
            raise _Reject(400, 21604, "A 'To' phone number is required.")
        if not from_ and not service:
            raise _Reject(400, 21603, "A 'From' phone number is required.")
        if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
            raise _Reject(400, 21602, "Message body is required.")
        if service and not _MESSAGING_SERVICE_SID.match(service):
            raise _Reject(400, 21701, f"The Messaging Service Sid {service} is invalid.")
        if from_ and not service and not (_E164.match(from_) or _ALPHANUMERIC_SENDER.match(from_)):
            raise _Reject(
                400,
                21212,
                f"The 'From' number {from_} is not a valid phone number, shortcode, or alphanumeric sender ID.",
            )
        if to in self.invalid or not _E164.match(to):
            raise _Reject(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if to in self.unsubscribed:
            raise _Reject(400, 21610, "Attempt to send to unsubscribed recipient")
        if len(body) > MAX_BODY_CHARS:
            raise _Reject(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if callback and urlsplit(callback).scheme not in ("http", "https"):
            raise _Reject(400, 21609, "Invalid StatusCallback url")

        now = datetime.now(UTC)
        created = now.replace(microsecond=0)
        message = _Message(
            sid="SM" + secrets.token_hex(16),
            to=to,
            from_=None if service else from_,
            messaging_service_sid=service or None,
            body=body,
            status="accepted" if service else "queued",
            status_callback=callback,
            segments=count_segments(body),
            created=created,
            updated=created,
            received_at=now,
        )
        with self._lock:
            self._messages.append(message)
            self._by_sid[message.sid] = message
            self._by_to.setdefault(to, []).append(message)
            self._creates.append(
                {
                    "sid": message.sid,
                    "to": to,
                    "from": from_ or None,
                    "messaging_service_sid": service or None,
                    "body": body,
                    "status_callback": callback,
                    "received_at": now,
                }
            )
            resource = self._resource(message)
        statuses = self._statuses_for(to)
        if self.callbacks and callback:
            self._pending_reports += 1
            task = asyncio.get_running_loop().create_task(self._report(message, statuses))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            with self._lock:
                for status, error_code in statuses:
                    self._advance(message, status, error_code)
        return resource

    def _statuses_for(self, to: str) -> list[tuple[str, int | None]]:
        if to in self.undeliverable:
            return [
                ("undelivered", UNDELIVERED_ERROR_CODE) if status == "delivered" else (status, None)
                for status in self.callback_order
            ]
        return [(status, None) for status in self.callback_order]

    def _advance(self, message: _Message, status: str, error_code: int | None) -> None:
        """Move the resource on (never back: a late 'sent' report does not undo 'delivered'). Holds _lock."""
        if _STATUS_RANK.get(status, 0) < _STATUS_RANK.get(message.status, 0):
            return
        now = datetime.now(UTC).replace(microsecond=0)
        message.status = status
        message.updated = now
        if error_code is not None:
            message.error_code = error_code
        if _STATUS_RANK.get(status, 0) >= _STATUS_RANK["sent"] and message.date_sent is None:
            message.date_sent = now
            if message.from_ is None:
                message.from_ = SERVICE_SENDER

    def _resource(self, message: _Message) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{message.sid}"
        # A Messaging Service picks the sender when it sends; until then 'from' is null and segments "0".
        segments = "0" if message.from_ is None else str(message.segments)
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": message.body,
            "date_created": _rfc2822(message.created),
            "date_sent": _rfc2822(message.date_sent),
            "date_updated": _rfc2822(message.updated),
            "direction": "outbound-api",
            "error_code": message.error_code,
            "error_message": None,
            "from": message.from_,
            "messaging_service_sid": message.messaging_service_sid,
            "num_media": "0",
            "num_segments": segments,
            "price": None,
            "price_unit": "USD",
            "sid": message.sid,
            "status": message.status,
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": message.to,
            "uri": f"{uri}.json",
        }

    def _list(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            page_size = max(1, min(int(params.get("PageSize", "50")), 1000))
            page = max(0, int(params.get("Page", "0")))
            on = _parse_date_filter(params["DateSent"]) if params.get("DateSent") else None
            before = _parse_date_filter(params["DateSent<"]) if params.get("DateSent<") else None
            after = _parse_date_filter(params["DateSent>"]) if params.get("DateSent>") else None
        except ValueError as exc:
            raise _Reject(400, 20001, f"Invalid parameter: {exc}") from exc
        to = params.get("To", "")
        sender = params.get("From", "")
        # DateSent<: on or before that day (a date) or that second (a time).
        until = None if before is None else before[0] + (timedelta(days=1) if before[1] else timedelta(seconds=1))
        with self._lock:
            pool = self._by_to.get(to, []) if to else self._messages
            matching: list[_Message] = []
            for message in reversed(pool):  # newest first, as Twilio lists them
                moment = message.date_sent or message.created
                if sender and message.from_ != sender:
                    continue
                if after and moment < after[0]:
                    continue
                if until and moment >= until:
                    continue
                if on and not (moment.date() == on[0].date() if on[1] else moment == on[0]):
                    continue
                matching.append(message)
            token = params.get("PageToken", "")
            index = {message.sid: i for i, message in enumerate(matching)} if token else {}
            if token.startswith("PA"):
                start = index.get(token[2:], len(matching) - 1) + 1
            elif token.startswith("PB"):
                start = max(0, index.get(token[2:], 0) - page_size)
            else:
                start = page * page_size
            chunk = matching[start : start + page_size]
            records = [self._resource(message) for message in chunk]

        filters = {key: params[key] for key in ("To", "From", "DateSent", "DateSent<", "DateSent>") if params.get(key)}

        def page_uri(number: int, page_token: str = "") -> str:
            query = {**filters, "PageSize": page_size, "Page": number}
            if page_token:
                query["PageToken"] = page_token
            return f"{path}?{urlencode(query)}"

        has_next = start + page_size < len(matching)
        return {
            "end": start + len(chunk) - 1 if chunk else 0,
            "first_page_uri": page_uri(0),
            "messages": records,
            "next_page_uri": page_uri(page + 1, "PA" + chunk[-1].sid) if has_next and chunk else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1, "PB" + chunk[0].sid) if page > 0 and chunk else None,
            "start": start,
            "uri": page_uri(page, params.get("PageToken", "")),
        }

    # ---- delivery reports (event loop thread) ----------------------------------------------------

    async def _report(self, message: _Message, statuses: list[tuple[str, int | None]]) -> None:
        try:
            if self.callback_delay:
                await asyncio.sleep(self.callback_delay)
            for status, error_code in statuses:
                with self._lock:
                    self._advance(message, status, error_code)
                    sender = message.from_ or SERVICE_SENDER
                fields = {
                    "SmsSid": message.sid,
                    "SmsStatus": status,
                    "MessageStatus": status,
                    "To": message.to,
                    "MessageSid": message.sid,
                    "AccountSid": self.account_sid,
                    "From": sender,
                    "ApiVersion": API_VERSION,
                }
                if message.messaging_service_sid:
                    fields["MessagingServiceSid"] = message.messaging_service_sid
                if error_code is not None:
                    fields["ErrorCode"] = str(error_code)
                await self._deliver(message.status_callback, fields)
        finally:
            self._pending_reports -= 1

    async def _deliver(self, url: str, fields: dict[str, str]) -> None:
        body = urlencode(fields).encode()
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = (
            f"POST {target} HTTP/1.1\r\n"
            f"Host: {parts.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"X-Twilio-Signature: {self._validator.compute_signature(url, fields)}\r\n"
            f"I-Twilio-Idempotency-Token: {secrets.token_hex(16)}\r\n"
            "User-Agent: TwilioProxy/1.1\r\n"
            "Accept: */*\r\n"
            "Connection: keep-alive\r\n\r\n"
        )
        try:
            request = head.encode("latin-1") + body
        except UnicodeEncodeError:
            self.callbacks_failed += 1
            return
        https = parts.scheme == "https"
        origin = (parts.scheme, parts.hostname or "", parts.port or (443 if https else 80))
        assert self._slots is not None
        for attempt in range(self.callback_retries + 1):
            if attempt:
                await asyncio.sleep(min(0.2 * 2 ** (attempt - 1), 2.0))
            try:
                async with self._slots:
                    status = await asyncio.wait_for(self._post(origin, request), self.callback_timeout)
            except (OSError, EOFError, TimeoutError, asyncio.LimitOverrunError, ValueError):
                continue
            if status in (502, 503, 504):  # a proxy in front of the app did not reach it
                continue
            if 200 <= status < 300:
                self.callbacks_sent += 1
            else:
                self.callbacks_rejected += 1
            return
        self.callbacks_failed += 1

    async def _post(self, origin: tuple[str, str, int], request: bytes) -> int:
        idle = self._idle.setdefault(origin, [])
        while True:
            reused = bool(idle)
            if reused:
                reader, writer = idle.pop()
            else:
                if origin[0] == "https" and self._ssl_context is None:
                    self._ssl_context = ssl.create_default_context()
                reader, writer = await asyncio.open_connection(
                    origin[1], origin[2], ssl=self._ssl_context if origin[0] == "https" else None
                )
            try:
                writer.write(request)
                await writer.drain()
                status, keep_alive = await _read_response(reader)
            except (OSError, EOFError) as exc:
                writer.close()
                if reused and not isinstance(exc, TimeoutError):
                    continue  # the server closed a kept-alive connection: once more on a fresh one
                raise
            except BaseException:
                writer.close()
                raise
            if keep_alive:
                idle.append((reader, writer))
            else:
                writer.close()
            return status


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.x response; (status, whether the connection may be reused)."""
    while True:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        lines = head.split("\r\n")
        version, status_text = lines[0].split(" ", 2)[:2]
        status = int(status_text)
        if status >= 200:
            break
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size = int((await reader.readline()).split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            await reader.readexactly(size + 2)
    elif "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif status not in (204, 304):
        await reader.read()
        keep_alive = False
    return status, keep_alive


class _HttpProtocol(asyncio.Protocol):
    """Minimal HTTP/1.1 server side: Content-Length bodies, keep-alive, pipelining."""

    def __init__(self, app: FakeTwilio):
        self.app = app
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.app._transports.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.app._transports.discard(self.transport)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > _MAX_HEAD_BYTES:
                    self._write(431, None, "", keep_alive=False)
                return
            lines = self.buffer[:end].decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3:
                self._write(400, None, "", keep_alive=False)
                return
            method, target, version = parts
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self._write(411, None, "", keep_alive=False)
                return
            try:
                length = int(headers.get("content-length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= _MAX_REQUEST_BYTES:
                self._write(413 if length > 0 else 400, None, "", keep_alive=False)
                return
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            body = bytes(self.buffer[end + 4 : total])
            del self.buffer[:total]
            connection = headers.get("connection", "").lower()
            keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
            status, payload, extra = self.app.handle(method, target, headers, body)
            self._write(status, payload, extra, keep_alive=keep_alive)

    def _write(self, status: int, payload: Any, extra: str, *, keep_alive: bool) -> None:
        assert self.transport is not None
        content = b"" if payload is None else json.dumps(payload).encode()
        head = (
            f"HTTP/1.1 {status} {_reason(status)}\r\n"
            "Content-Type: application/json; charset=utf-8\r\n"
            f"Content-Length: {len(content)}\r\n"
            f"Twilio-Request-Id: RQ{secrets.token_hex(16)}\r\n"
            f"{extra}"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
        )
        self.transport.write(head.encode("latin-1") + content)
        if not keep_alive:
            self.transport.close()
            self.transport = None


_REASONS: dict[int, str] = {}


def _reason(status: int) -> str:
    reason = _REASONS.get(status)
    if reason is None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        _REASONS[status] = reason
    return reason


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a local double of Twilio's Messaging REST API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--callbacks", action="store_true", help="post signed delivery reports to StatusCallback")
    parser.add_argument("--callback-order", default="sent,delivered", help="statuses reported, in order")
    parser.add_argument("--callback-delay", type=float, default=0.0, help="seconds before the first report")
    parser.add_argument("--undeliverable", action="append", default=[], help="a number reported 'undelivered'")
    parser.add_argument("--invalid", action="append", default=[], help="a number refused with 21211")
    parser.add_argument("--unsubscribed", action="append", default=[], help="a number refused with 21610")
    args = parser.parse_args(argv)

    fake = FakeTwilio(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        host=args.host,
        port=args.port,
        callbacks=args.callbacks,
        callback_order=[status.strip() for status in args.callback_order.split(",") if status.strip()],
        callback_delay=args.callback_delay,
        undeliverable=args.undeliverable,
        invalid=args.invalid,
        unsubscribed=args.unsubscribed,
    )
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    with fake:
        print(f"FakeTwilio listening on {fake.base_url}", flush=True)
        print(f"TWILIO_API_BASE={fake.base_url}", flush=True)
        print(f"TWILIO_ACCOUNT_SID={fake.account_sid}", flush=True)
        print(f"TWILIO_AUTH_TOKEN={fake.auth_token}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            done.wait()
        print(
            f"creates={len(fake.creates)} requests={fake.requests_total} errors={dict(fake.errors)} "
            f"callbacks_sent={fake.callbacks_sent} callbacks_rejected={fake.callbacks_rejected} "
            f"callbacks_failed={fake.callbacks_failed}",
            flush=True,
        )


if __name__ == "__main__":
    main()
