"""TwilioProvider with the real ``twilio`` library against FakeTwilio on loopback (no database)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import pytest
from twilio.request_validator import RequestValidator

from sms.doubles.twilio_api import FakeTwilio, count_segments
from sms.providers import twilio as twilio_provider
from sms.providers.base import OutgoingSms, PermanentProviderError, SendResult, TransientProviderError
from sms.providers.twilio import TwilioProvider

SERVICE_SID = "MG" + "ab" * 16
FROM_NUMBER = "+15005550006"
TO = "+923001234567"
URDU_80 = "آپ کا پولنگ اسٹیشن گورنمنٹ بوائز اسکول ہے۔ ووٹ ڈالنے کے لیے اصل شناختی کارڈ ساتھ لائیں۔"  # 84 chars


def make_provider(fake: FakeTwilio, **overrides: object) -> TwilioProvider:
    options: dict[str, object] = {
        "account_sid": fake.account_sid,
        "auth_token": fake.auth_token,
        "from_number": FROM_NUMBER,
        "api_base": fake.base_url,
        "timeout": 5,
    }
    options.update(overrides)
    return TwilioProvider(**options)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(invalid={"+923000000000"}, unsubscribed={"+923009999999"}) as server:
        yield server


@pytest.fixture
def provider(fake: FakeTwilio) -> Iterator[TwilioProvider]:
    instance = make_provider(fake)
    yield instance
    instance.close()


class Receiver:
    """A tiny status-callback endpoint: records (url, form fields, X-Twilio-Signature) in arrival order."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                url = f"http://{self.headers['Host']}{self.path}"
                with receiver.lock:
                    receiver.received.append((url, dict(parse_qsl(body.decode())), self.headers["X-Twilio-Signature"]))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def wait_for(self, count: int, timeout: float = 5) -> list[tuple[str, dict[str, str], str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} callbacks, got {self.received}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    instance = Receiver()
    instance.thread.start()
    yield instance
    instance.server.shutdown()
    instance.server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- send -------------------------------------------------------------------------------------------


def test_send_through_a_messaging_service_arrives_with_to_body_and_callback(fake):
    provider = make_provider(fake, messaging_service_sid=SERVICE_SID, from_number="")
    sms = OutgoingSms(
        message_id=42,
        to=TO,
        body="Your polling station is GBHS No. 1",
        status_callback="https://ecp.example/sms/status/42",
    )

    result = provider.send(sms)
    provider.close()

    [record] = fake.creates
    assert record["to"] == TO
    assert record["body"] == sms.body
    assert record["status_callback"] == "https://ecp.example/sms/status/42"
    assert record["messaging_service_sid"] == SERVICE_SID
    assert record["from"] is None
    assert result.provider_id == record["sid"] and result.provider_id.startswith("SM")
    # Twilio reports num_segments "0" until the service has picked a sender: unknown, not zero.
    assert result.segments is None


def test_send_from_a_number_returns_the_sid_and_segments(fake, provider):
    result = provider.send(OutgoingSms(message_id=1, to=TO, body="Polling is from 8am to 5pm."))

    [record] = fake.creates
    assert record["from"] == FROM_NUMBER and record["messaging_service_sid"] is None
    assert record["status_callback"] == ""
    assert result == SendResult(provider_id=record["sid"], segments=1)


def test_urdu_text_counts_ucs2_segments(fake, provider):
    assert len(URDU_80) > 70

    result = provider.send(OutgoingSms(message_id=2, to=TO, body=URDU_80))

    assert result.segments == 2
    assert fake.creates[0]["body"] == URDU_80


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # an extension character takes two septets
        ("€" * 81, 2),
        ("ب" * 70, 1),
        ("ب" * 71, 2),
        ("ب" * 134, 2),
        ("ب" * 135, 3),
        ("a" * 159 + "ب", 3),  # one Urdu letter turns the whole message into UCS-2
    ],
)
def test_segments_follow_gsm7_and_ucs2_limits(body, segments):
    assert count_segments(body) == segments


def test_wrong_auth_token_is_permanent_20003_and_nothing_is_recorded(fake):
    provider = make_provider(fake, auth_token="0" * 32)

    with pytest.raises(PermanentProviderError) as caught:
        provider.send(OutgoingSms(message_id=3, to=TO, body="hello"))
    provider.close()

    assert caught.value.code == "20003"
    assert fake.creates == []


def test_a_503_is_transient_and_the_next_send_goes_through(fake, provider):
    fake.fail_next(1, status=503)

    with pytest.raises(TransientProviderError) as caught:
        provider.send(OutgoingSms(message_id=4, to=TO, body="hello"))
    assert caught.value.code == "20503"
    assert fake.creates == []

    result = provider.send(OutgoingSms(message_id=4, to=TO, body="hello"))
    assert [record["sid"] for record in fake.creates] == [result.provider_id]


def test_throttling_429_is_transient(fake, provider):
    fake.fail_next(2, status=429)

    for _ in range(2):
        with pytest.raises(TransientProviderError) as caught:
            provider.send(OutgoingSms(message_id=5, to=TO, body="hello"))
        assert caught.value.code == "20429"
    assert fake.creates == []


@pytest.mark.parametrize(
    ("to", "code"),
    [
        ("+923000000000", "21211"),  # listed as invalid
        ("03001234567", "21211"),  # not E.164
        ("+923009999999", "21610"),  # replied STOP
    ],
)
def test_refused_numbers_are_permanent_with_twilio_codes(fake, provider, to, code):
    with pytest.raises(PermanentProviderError) as caught:
        provider.send(OutgoingSms(message_id=6, to=to, body="hello"))

    assert caught.value.code == code
    assert fake.creates == []


def test_an_unreachable_api_is_a_transient_network_error():
    provider = TwilioProvider(
        account_sid="AC" + "0" * 32,
        auth_token="x",
        from_number=FROM_NUMBER,
        api_base=f"http://127.0.0.1:{free_port()}",
        timeout=2,
    )

    with pytest.raises(TransientProviderError) as caught:
        provider.send(OutgoingSms(message_id=7, to=TO, body="hello"))
    provider.close()

    assert caught.value.code == "network"


def test_only_the_api_origin_is_redirected_to_the_double():
    rewrite = twilio_provider._TWILIO_API_ORIGIN.sub
    base = "http://127.0.0.1:8765"
    assert rewrite(base, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json") == (
        f"{base}/2010-04-01/Accounts/AC1/Messages.json"
    )
    assert rewrite(base, "https://api.dublin.ie1.twilio.com/2010-04-01/x.json") == f"{base}/2010-04-01/x.json"
    assert rewrite(base, "https://api.twilio.com.evil.example/x") == "https://api.twilio.com.evil.example/x"


# ---- find -------------------------------------------------------------------------------------------


def test_find_returns_the_message_twilio_accepted_since_then(fake, provider):
    since = datetime.now(UTC) - timedelta(seconds=1)
    sms = OutgoingSms(message_id=8, to=TO, body="Your result slip is ready.", status_callback="http://x/8")
    provider.send(OutgoingSms(message_id=9, to=TO, body="something else"))
    sent = provider.send(sms)

    assert provider.find(sms, since=since) == sent
    assert provider.find(OutgoingSms(message_id=10, to=TO, body="never sent"), since=since) is None
    assert provider.find(OutgoingSms(message_id=8, to="+923001111111", body=sms.body), since=since) is None
    assert provider.find(sms, since=datetime.now(UTC) + timedelta(hours=1)) is None


def test_find_takes_a_local_time_as_the_same_instant(fake, provider):
    karachi = datetime.now(UTC).astimezone(ZoneInfo("Asia/Karachi"))
    sms = OutgoingSms(message_id=11, to=TO, body="hello")
    sent = provider.send(sms)

    assert provider.find(sms, since=karachi - timedelta(seconds=1)) == sent
    assert provider.find(sms, since=karachi + timedelta(hours=1)) is None


def test_find_follows_twilio_paging_to_older_messages(fake, provider):
    since = datetime.now(UTC) - timedelta(seconds=1)
    first = OutgoingSms(message_id=12, to=TO, body="the oldest one")
    sent = provider.send(first)
    for n in range(twilio_provider.FIND_PAGE_SIZE + 10):
        provider.send(OutgoingSms(message_id=100 + n, to=TO, body=f"later {n}"))

    assert provider.find(first, since=since) == sent


def test_find_with_a_wrong_token_is_permanent_20003(fake):
    provider = make_provider(fake, auth_token="0" * 32)

    with pytest.raises(PermanentProviderError) as caught:
        provider.find(OutgoingSms(message_id=13, to=TO, body="x"), since=datetime.now(UTC))
    provider.close()

    assert caught.value.code == "20003"


# ---- delivery reports -------------------------------------------------------------------------------


def test_callbacks_arrive_in_the_configured_order_and_are_signed(receiver):
    with FakeTwilio(callbacks=True, callback_order=("delivered", "sent")) as fake:
        provider = make_provider(fake, messaging_service_sid=SERVICE_SID)
        url = f"{receiver.base_url}/sms/status/14?attempt=1"
        sent = provider.send(OutgoingSms(message_id=14, to=TO, body="hello", status_callback=url))
        provider.close()

        received = receiver.wait_for(2)
        assert fake.wait_idle()
        assert fake.message(sent.provider_id)["status"] == "delivered"  # a late 'sent' does not undo it
        assert (fake.callbacks_sent, fake.callbacks_failed) == (2, 0)

    assert [fields["MessageStatus"] for _, fields, _ in received] == ["delivered", "sent"]
    for called_url, fields, signature in received:
        assert called_url == url
        assert fields["MessageSid"] == fields["SmsSid"] == sent.provider_id
        assert fields["SmsStatus"] == fields["MessageStatus"]
        assert fields["To"] == TO and fields["From"]
        assert fields["AccountSid"] == fake.account_sid and fields["ApiVersion"] == "2010-04-01"
        assert fields["MessagingServiceSid"] == SERVICE_SID
        assert "ErrorCode" not in fields
        assert RequestValidator(fake.auth_token).validate(called_url, fields, signature)
        assert not RequestValidator("0" * 32).validate(called_url, fields, signature)
        assert not RequestValidator(fake.auth_token).validate(called_url, {**fields, "MessageStatus": "x"}, signature)


def test_an_undeliverable_number_reports_sent_then_undelivered_30003(receiver):
    unlucky = "+923005550000"
    with FakeTwilio(callbacks=True, undeliverable={unlucky}) as fake:
        provider = make_provider(fake)
        sent = provider.send(
            OutgoingSms(message_id=15, to=unlucky, body="hello", status_callback=f"{receiver.base_url}/cb/15")
        )
        provider.close()
        received = receiver.wait_for(2)
        assert fake.wait_idle()
        resource = fake.message(sent.provider_id)

    assert [(fields["MessageStatus"], fields.get("ErrorCode")) for _, fields, _ in received] == [
        ("sent", None),
        ("undelivered", "30003"),
    ]
    assert resource["status"] == "undelivered" and resource["error_code"] == 30003
    for url, fields, signature in received:
        assert RequestValidator(fake.auth_token).validate(url, fields, signature)


def test_each_message_reaches_twilio_once_and_gets_its_own_reports(receiver):
    with FakeTwilio(callbacks=True) as fake:
        provider = make_provider(fake)
        for n in range(20):
            provider.send(OutgoingSms(message_id=n, to=TO, body=f"m{n}", status_callback=f"{receiver.base_url}/cb/{n}"))
        provider.close()
        received = receiver.wait_for(40)
        assert fake.wait_idle()

    assert set(fake.count_by_callback().values()) == {1} and len(fake.count_by_callback()) == 20
    for n in range(20):
        statuses = [fields["MessageStatus"] for url, fields, _ in received if url.endswith(f"/cb/{n}")]
        assert statuses == ["sent", "delivered"]


def test_an_unreachable_callback_url_is_retried_then_counted_as_failed():
    with FakeTwilio(callbacks=True, callback_order=("sent",), callback_retries=1) as fake:
        provider = make_provider(fake)
        provider.send(
            OutgoingSms(message_id=16, to=TO, body="hi", status_callback=f"http://127.0.0.1:{free_port()}/cb")
        )
        provider.close()
        assert fake.wait_idle()

        assert (fake.callbacks_sent, fake.callbacks_failed) == (0, 1)
