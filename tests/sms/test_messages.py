"""Single messages, contacts import, opt-out rules, lease recovery and the shared rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import DomainError
from core.models import AuditEvent
from sms import services, throttle
from sms.models import Contact, ContactGroup, Message, MessageEvent, MessageStatus
from sms.services.dispatch import claim
from tests.sms.conftest import fake_phone

pytestmark = pytest.mark.django_db


def test_a_single_message_is_sent_once_per_idempotency_key(memory, committed):
    first = committed(services.message_send, to="0300 0000042", body="Code 123456", purpose="otp", idempotency_key="k1")
    again = committed(services.message_send, to="0300 0000042", body="Code 123456", purpose="otp", idempotency_key="k1")
    assert first.pk == again.pk and len(memory.sent()) == 1 and memory.sent()[0].to == "+923000000042"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"to": "12345"}, "to"),
        ({"to": "042 35761234"}, "to"),  # a landline
        ({"body": "   "}, "body"),
        ({"body": "x" * 1600}, "body"),
        ({"purpose": "campaign"}, "purpose"),
        ({"language": "fr"}, "language"),
    ],
)
def test_bad_single_messages_are_refused_naming_the_field(memory, committed, kwargs, field):
    args = {"to": fake_phone(1), "body": "Hello", **kwargs}
    with pytest.raises(DomainError) as err:
        committed(services.message_send, **args)
    assert err.value.field == field
    assert not Message.objects.exists() and not memory.sent()


def test_an_opt_out_stops_notifications_but_not_what_the_law_requires(memory, committed):
    services.optout_add(phone=fake_phone(9), keyword="STOP")
    note = committed(services.message_send, to=fake_phone(9), body="Your complaint moved.", purpose="notification")
    slip = committed(services.message_send, to=fake_phone(9), body="Roll number slip: 1234", purpose="required")
    note.refresh_from_db()
    slip.refresh_from_db()
    assert (note.status, note.error_code) == (MessageStatus.FAILED, "opted_out")
    assert slip.status == MessageStatus.SENT and slip.despite_opt_out
    assert [s.body for s in memory.sent()] == ["Roll number slip: 1234"]


def test_a_transient_error_is_retried_by_the_sweep(memory, committed):
    memory.fail_next(1)
    m = committed(services.message_send, to=fake_phone(2), body="Hello")
    m.refresh_from_db()
    assert m.status == MessageStatus.QUEUED and m.error_count == 1 and m.error_code == "503"
    Message.objects.filter(pk=m.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    committed(services.sweep)
    m.refresh_from_db()
    assert m.status == MessageStatus.SENT and len(memory.sent()) == 1


def test_too_many_transient_errors_fail_the_message(memory, committed, settings):
    settings.SMS_MAX_ATTEMPTS = 2
    memory.fail_next(5)
    m = committed(services.message_send, to=fake_phone(2), body="Hello")
    Message.objects.filter(pk=m.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    committed(services.sweep)
    m.refresh_from_db()
    assert (m.status, m.error_count) == (MessageStatus.FAILED, 2)
    assert m.events.last().detail.startswith("too many errors")


def _strand(memory, provider: str) -> Message:
    """A message left in "sending" by a worker that died: its lease ran out."""
    m = services.message_send(to=fake_phone(3), body="Stranded")  # on_commit never runs: nobody sends it
    batch = claim(message_id=m.pk, limit=1)
    assert [c.id for c in batch.messages] == [m.pk]
    Message.objects.filter(pk=m.pk).update(provider=provider, lease_until=timezone.now() - timedelta(seconds=1))
    return m


def test_recovery_asks_the_provider_and_never_resends_what_it_accepted(memory):
    m = _strand(memory, "memory")
    from sms.providers.base import OutgoingSms
    from sms.providers.local import MemoryProvider

    MemoryProvider().send(OutgoingSms(m.pk, m.to, m.body))  # it did reach the provider before the crash
    assert services.recover_expired_leases() == {"found_sent": 1, "requeued": 0, "unknown": 0, "deferred": 0}
    m.refresh_from_db()
    assert m.status == MessageStatus.SENT and m.provider_id == "mem-1" and len(memory.sent()) == 1


def test_recovery_queues_again_what_never_arrived(memory):
    m = _strand(memory, "memory")
    assert services.recover_expired_leases()["requeued"] == 1
    m.refresh_from_db()
    assert m.status == MessageStatus.QUEUED and m.lease_token is None


def test_recovery_with_a_provider_that_cannot_be_asked_fails_rather_than_risk_a_second_send(memory):
    m = _strand(memory, "console")
    assert services.recover_expired_leases()["unknown"] == 1
    m.refresh_from_db()
    assert (m.status, m.error_code) == (MessageStatus.FAILED, "outcome_unknown")
    assert AuditEvent.objects.filter(action="sms.leases_recovered").exists()


def test_a_live_lease_is_left_alone(memory):
    m = services.message_send(to=fake_phone(3), body="In flight")
    claim(message_id=m.pk, limit=1)
    assert services.recover_expired_leases()["requeued"] == 0
    m.refresh_from_db()
    assert m.status == MessageStatus.SENDING


@pytest.mark.postgres
def test_message_events_are_append_only_in_the_database(memory, committed):
    from django.db import DatabaseError, transaction

    committed(services.message_send, to=fake_phone(1), body="Hello")
    with pytest.raises(DatabaseError), transaction.atomic():
        MessageEvent.objects.update(detail="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        MessageEvent.objects.all().delete()


CSV = """name,phone,language,organisation,groups
Reporter One,0300 0000001,en,Daily News,Media;Lahore
Reporter Two,+923000000002,,,
No Phone,,ur,,
Bad Number,12345,ur,,
Bad Language,03000000005,fr,,
Reporter One Again,0300-0000001,ur,,
,03000000007,ur,,
"""


def test_contacts_import_keeps_the_good_rows_and_reports_the_bad_ones_by_line(maker):
    group = ContactGroup.objects.create(name="Accredited")
    report = services.contacts_import(actor=maker, text=CSV, group=group, file_name="media.csv")
    assert (report.created, report.updated) == (2, 0)
    assert [(e["line"], e["field"]) for e in report.errors] == [
        (4, "phone"),
        (5, "phone"),
        (6, "language"),
        (7, "phone"),
        (8, "name"),
    ]
    one = Contact.objects.get(phone="+923000000001")
    assert set(one.groups.values_list("name", flat=True)) == {"Media", "Lahore", "Accredited"}
    assert Contact.objects.get(phone="+923000000002").language == "ur"
    again = services.contacts_import(actor=maker, text=CSV.replace("Daily News", "Dawn"), group=group)
    assert (again.created, again.updated) == (0, 2)
    assert Contact.objects.get(phone="+923000000001").organisation == "Dawn"


def test_a_file_without_the_columns_is_refused_and_imports_nothing(maker):
    with pytest.raises(DomainError) as err:
        services.contacts_import(actor=maker, text="naam,fone\nA,03000000001\n")
    assert err.value.field == "file" and not Contact.objects.exists()


@pytest.mark.redis
def test_the_rate_limit_bucket_is_shared_through_redis():
    import redis
    from django.conf import settings

    assert settings.REDIS_URL, "this test needs the Redis bucket"
    redis.Redis.from_url(settings.REDIS_URL).delete("sms:bucket:shared-test")
    # Two workers asking at once for the same provider share one second's worth (50 at 50/s).
    first = throttle._redis_take("sms:bucket:shared-test", 50, 50, 40)
    second = throttle._redis_take("sms:bucket:shared-test", 50, 50, 40)
    assert first == 40 and second < 15


def test_bad_rows_are_reported_at_their_real_line_in_the_file(maker):
    text = 'name,phone\nA,03000000001\n\nB,"0300\n0000002"\nC,bad\n'
    report = services.contacts_import(actor=maker, text=text)
    # B spans lines 4–5 (a quoted newline): it is reported where it ends, C on its own line 6.
    assert [(e["line"], e["field"]) for e in report.errors] == [(5, "phone"), (6, "phone")]
