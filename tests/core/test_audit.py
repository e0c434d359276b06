"""The audit trail: append-only, hash-chained, fork-free under concurrent writers."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from core import audit
from core.audit import GENESIS_HASH, verify_chain
from core.context import acting
from core.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _raw_execute(sql: str, params=()) -> None:
    """Change rows behind the application's back, as an attacker with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")  # bypasses the append-only trigger
        cursor.execute(sql, params)


def test_events_chain_from_genesis_and_verify():
    first = audit.record(action="demo.seeded", data={"n": 1})
    second = audit.record(action="demo.seeded", data={"n": 2})
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    report = verify_chain()
    assert report.ok and report.checked == 2 and report.head_hash == second.hash


def test_actor_comes_from_the_context_or_the_argument():
    user = UserFactory(username="officer1")
    with acting(user=user, request_id="req-12345678", ip="10.1.2.3"):
        event = audit.record(action="demo.seeded")
    assert (event.actor_id, event.actor_label, event.request_id, event.ip) == (
        user.pk,
        "officer1",
        "req-12345678",
        "10.1.2.3",
    )
    with acting(label="task:sms.dispatch"):
        assert audit.record(action="demo.seeded").actor_label == "task:sms.dispatch"


def test_data_with_dates_decimals_and_urdu_round_trips_through_the_hash():
    import datetime
    import decimal

    audit.record(
        action="demo.seeded",
        data={"when": datetime.date(2026, 2, 8), "share": decimal.Decimal("9.87"), "name": "اسلام آباد"},
    )
    assert verify_chain().ok


def test_unregistered_actions_are_refused_and_write_nothing():
    with pytest.raises(ValueError, match="Unregistered"):
        audit.record(action="complaint.vanished")
    assert AuditEvent.objects.count() == 0


def test_the_orm_refuses_to_update_or_delete_events():
    event = audit.record(action="demo.seeded")
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "demo.seeded"


@pytest.mark.postgres
def test_the_database_itself_refuses_update_and_delete():
    event = audit.record(action="demo.seeded")
    for sql in ("UPDATE core_auditevent SET action = 'x'", "DELETE FROM core_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEvent.objects.get(pk=event.pk).action == "demo.seeded"


def test_an_altered_row_is_reported_at_its_own_position():
    for n in range(5):
        audit.record(action="demo.seeded", data={"n": n})
    with transaction.atomic():
        _raw_execute("UPDATE core_auditevent SET data = %s WHERE seq = 3", ['{"n": 99}'])
    report = verify_chain()
    assert not report.ok and report.broken_seq == 3 and "altered" in report.reason
    with pytest.raises(CommandError, match="BROKEN at event #3"):
        call_command("verify_audit")


def test_a_deleted_row_is_reported_as_missing():
    for n in range(4):
        audit.record(action="demo.seeded", data={"n": n})
    with transaction.atomic():
        _raw_execute("DELETE FROM core_auditevent WHERE seq = 2")
    report = verify_chain()
    assert not report.ok and report.broken_seq == 2 and "missing" in report.reason


def test_a_rewritten_row_with_a_recomputed_hash_still_breaks_the_next_link():
    for n in range(3):
        audit.record(action="demo.seeded", data={"n": n})
    forged = AuditEvent.objects.get(seq=2)
    forged.data = {"n": 42}
    new_hash = audit.compute_hash(audit._hashed_fields(forged))
    with transaction.atomic():
        _raw_execute("UPDATE core_auditevent SET data = %s, hash = %s WHERE seq = 2", ['{"n": 42}', new_hash])
    report = verify_chain()
    assert not report.ok and report.broken_seq == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    writers, per_writer = 8, 25
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(index: int) -> None:
        try:
            barrier.wait()
            for n in range(per_writer):
                with transaction.atomic():
                    audit.record(action="demo.seeded", data={"writer": index, "n": n})
        except BaseException as exc:  # reported to the main thread
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, writers * per_writer + 1))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == writers * per_writer
    assert verify_chain().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_no_event_and_no_gap():
    audit.record(action="demo.seeded")
    with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012 (the failure must come after recording)
        audit.record(action="demo.seeded")
        raise RuntimeError("the service failed after recording")
    audit.record(action="demo.seeded")
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1, 2]
    assert verify_chain().ok
