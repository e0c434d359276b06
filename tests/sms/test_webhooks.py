"""The provider webhooks: delivery reports and inbound messages, Twilio-signed, idempotent and order-safe;
and the real path: the Twilio double posting signed reports to a live server, out of order."""

from __future__ import annotations

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from core.models import AuditEvent
from sms import services
from sms.doubles.twilio_api import FakeTwilio
from sms.models import InboundMessage, Message, MessageEvent, OptOut
from tests.sms.conftest import fake_phone
from tests.workers import wait_for

TOKEN = "webhook-test-token"
BASE = "https://portal.example.pk"


@pytest.fixture
def signed(settings, memory):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = BASE
    settings.SMS_INBOUND_PER_SENDER = 5

    def post(path: str, data: dict, *, token: str = TOKEN, sign: bool = True, **extra):
        headers = {}
        if sign:
            headers["HTTP_X_TWILIO_SIGNATURE"] = RequestValidator(token).compute_signature(BASE + path, data)
        return Client().post(path, data, **headers, **extra)

    return post


def _sent_message(committed) -> Message:
    message = committed(services.message_send, to=fake_phone(7), body="Your roll number slip is ready.")
    message.refresh_from_db()
    assert message.status == "sent"
    return message


@pytest.mark.django_db
def test_a_signed_report_moves_a_message_forward_only(signed, committed):
    m = _sent_message(committed)
    path = f"/sms/status/?m={m.pk}"
    assert signed(path, {"MessageSid": m.provider_id, "MessageStatus": "delivered"}).status_code == 204
    m.refresh_from_db()
    assert m.status == "delivered" and m.finished_at is not None
    # A late "sent", a repeated "delivered" and a "failed" after delivery change nothing.
    for status in ("sent", "delivered", "undelivered"):
        assert signed(path, {"MessageSid": m.provider_id, "MessageStatus": status}).status_code == 204
    m.refresh_from_db()
    assert m.status == "delivered"
    assert list(m.events.values_list("status", flat=True)) == ["queued", "sending", "sent", "delivered"]


@pytest.mark.django_db
def test_a_failure_report_records_the_error_code(signed, committed):
    m = _sent_message(committed)
    signed(
        f"/sms/status/?m={m.pk}", {"MessageSid": m.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    )
    m.refresh_from_db()
    assert (m.status, m.error_code) == ("failed", "30003")


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["unsigned", "wrong token", "tampered"])
def test_unsigned_or_wrongly_signed_calls_are_refused_and_change_nothing(signed, committed, how):
    m = _sent_message(committed)
    events, audit = MessageEvent.objects.count(), AuditEvent.objects.count()
    data = {"MessageSid": m.provider_id, "MessageStatus": "delivered"}
    path = f"/sms/status/?m={m.pk}"
    if how == "unsigned":
        response = signed(path, data, sign=False)
    elif how == "wrong token":
        response = signed(path, data, token="not-the-token")
    else:
        signature = RequestValidator(TOKEN).compute_signature(BASE + path, data)
        response = Client().post(path, {**data, "MessageStatus": "failed"}, HTTP_X_TWILIO_SIGNATURE=signature)
    assert response.status_code == 403 and response.json()["code"] == "bad_signature"
    m.refresh_from_db()
    assert m.status == "sent" and MessageEvent.objects.count() == events and AuditEvent.objects.count() == audit
    inbound = signed("/sms/inbound/", {"MessageSid": "SMx", "From": fake_phone(1), "Body": "STOP"}, sign=False)
    assert inbound.status_code == 403 and not InboundMessage.objects.exists() and not OptOut.objects.exists()


@pytest.mark.django_db
def test_reports_about_unknown_or_other_messages_are_refused(signed, committed):
    m = _sent_message(committed)
    assert signed("/sms/status/?m=999999", {"MessageSid": "SM1", "MessageStatus": "sent"}).status_code == 404
    other = signed(f"/sms/status/?m={m.pk}", {"MessageSid": "SMother", "MessageStatus": "delivered"})
    assert other.status_code == 400 and other.json()["code"] == "wrong_message"
    bad = signed(f"/sms/status/?m={m.pk}", {"MessageSid": m.provider_id, "MessageStatus": "exploded"})
    assert bad.status_code == 400 and bad.json()["fields"] == {"MessageStatus": ["Unknown message status “exploded”."]}
    m.refresh_from_db()
    assert m.status == "sent"


@pytest.mark.django_db
def test_stop_and_start_by_sms_in_english_and_urdu(signed, committed):
    def send(sid: str, body: str):
        with_commit = committed(signed, "/sms/inbound/", {"MessageSid": sid, "From": "03001234567", "Body": body})
        assert with_commit.status_code == 200 and "<Response>" in with_commit.content.decode()

    send("SM1", "stop")
    assert OptOut.objects.filter(phone="+923001234567").exists()
    reply = InboundMessage.objects.get(provider_id="SM1").reply
    assert reply.language == "en" and "no more campaign messages" in reply.body and reply.status == "sent"
    send("SM2", "شروع")
    assert not OptOut.objects.exists()
    assert InboundMessage.objects.get(provider_id="SM2").reply.language == "ur"
    send("SM3", "بند")
    assert OptOut.objects.filter(phone="+923001234567", keyword="بند").exists()
    actions = list(AuditEvent.objects.filter(action__startswith="sms.opted").values_list("action", flat=True))
    assert actions == ["sms.opted_out", "sms.opted_in", "sms.opted_out"]


@pytest.mark.django_db
def test_a_repeated_webhook_is_answered_once(signed, committed, memory):
    for _ in range(3):
        committed(signed, "/sms/inbound/", {"MessageSid": "SMdup", "From": fake_phone(2), "Body": "hello"})
    assert InboundMessage.objects.count() == 1 and len(memory.sent()) == 1


@pytest.mark.django_db
def test_unknown_messages_get_the_bilingual_help_and_replies_count_segments(signed, committed, memory):
    committed(signed, "/sms/inbound/", {"MessageSid": "SMh", "From": fake_phone(3), "Body": "what is this"})
    row = InboundMessage.objects.get()
    assert row.handler == "help"
    body = row.reply.body
    assert "STOP" in body and "START" in body and "ECP" in body
    assert row.reply.encoding == "UCS-2" and row.reply.segments >= 2  # Urdu and English together


@pytest.mark.django_db
def test_a_sender_over_the_rate_limit_is_logged_but_not_answered(signed, committed, memory):
    for n in range(7):
        committed(signed, "/sms/inbound/", {"MessageSid": f"SMr{n}", "From": fake_phone(4), "Body": "hi"})
    assert InboundMessage.objects.count() == 7
    assert InboundMessage.objects.filter(rate_limited=True).count() == 2
    assert len(memory.sent()) == 5


@pytest.mark.django_db
def test_an_oversized_inbound_body_is_refused(signed):
    response = signed("/sms/inbound/", {"MessageSid": "SMbig", "From": fake_phone(5), "Body": "x" * 9000})
    assert response.status_code == 413 and not InboundMessage.objects.exists()
    long_text = signed("/sms/inbound/", {"MessageSid": "SMlong", "From": fake_phone(5), "Body": "y" * 1700})
    assert long_text.status_code == 400 and long_text.json()["fields"].keys() == {"Body"}
    assert not InboundMessage.objects.exists()


@pytest.mark.django_db
def test_custom_handlers_registered_by_other_apps_answer(signed, committed):
    from sms import inbound

    inbound.register_matcher(
        "digits_test",
        lambda m: m.text == "X12345",
        lambda m: inbound.answer(m, "You sent five digits."),
        help="five digits: test",
    )
    try:
        committed(signed, "/sms/inbound/", {"MessageSid": "SMd", "From": fake_phone(6), "Body": "X۱۲۳۴۵"})
        row = InboundMessage.objects.get()
        assert row.handler == "digits_test" and row.reply.body == "You sent five digits."
    finally:
        inbound._MATCHERS[:] = [e for e in inbound._MATCHERS if e.name != "digits_test"]
        inbound._ENTRIES.pop("digits_test", None)


@pytest.mark.django_db(transaction=True)
def test_the_twilio_double_reports_out_of_order_and_the_message_ends_delivered(live_server, settings):
    sid = "AC" + "2" * 32
    with FakeTwilio(account_sid=sid, auth_token=TOKEN, callbacks=True, callback_order=("delivered", "sent")) as fake:
        settings.SMS_PROVIDER = "twilio"
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = sid, TOKEN
        settings.TWILIO_FROM_NUMBER, settings.TWILIO_API_BASE = "+15005550006", fake.base_url
        settings.PUBLIC_BASE_URL = live_server.url
        settings.SMS_RATE_PER_SECOND = 0
        message = services.message_send(to=fake_phone(8), body="آپ کی درخواست موصول ہو گئی۔")
        wait_for(lambda: fake.callbacks_sent + fake.callbacks_rejected >= 2, timeout=20, what="both reports")
        assert fake.callbacks_rejected == 0
        message.refresh_from_db()
        assert message.status == "delivered" and message.provider_id.startswith("SM")
        history = list(message.events.values_list("status", "source"))
        assert history[-1] == ("delivered", "report") and ("sent", "report") not in history


@pytest.mark.django_db
def test_with_twiml_replies_the_answer_rides_on_the_webhook_response(signed, committed, settings, memory):
    settings.SMS_INBOUND_REPLY = "twiml"
    data = {"MessageSid": "SMtw1", "From": fake_phone(8), "To": "8300", "Body": "STOP"}
    response = committed(signed, "/sms/inbound/", data)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    assert b"<Response><Message>" in response.content
    row = InboundMessage.objects.get()
    assert row.handler == "opt_out" and row.reply is None and row.reply_text
    assert row.reply_text.encode() in response.content
    assert OptOut.objects.filter(phone=fake_phone(8)).exists()
    assert not Message.objects.exists() and memory.sent() == []  # nothing queued, nothing handed to a worker
    # The provider delivers the same webhook again: the first answer, one row.
    again = committed(signed, "/sms/inbound/", data)
    assert again.content == response.content and InboundMessage.objects.count() == 1


@pytest.mark.django_db
def test_with_twiml_replies_a_flooding_sender_is_logged_and_not_answered(signed, committed, settings):
    settings.SMS_INBOUND_REPLY = "twiml"
    bodies = [
        committed(signed, "/sms/inbound/", {"MessageSid": f"SMtf{n}", "From": fake_phone(9), "Body": "hi"})
        for n in range(7)
    ]
    assert [b"<Message>" in r.content for r in bodies] == [True] * 5 + [False] * 2
    assert InboundMessage.objects.filter(rate_limited=True, reply_text="").count() == 2
    refused = signed("/sms/inbound/", {"MessageSid": "SMtf9", "From": fake_phone(9), "Body": "hi"}, sign=False)
    assert refused.status_code == 403 and InboundMessage.objects.count() == 7
