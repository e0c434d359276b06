"""Races against PostgreSQL with real threads: two officers lifting one block at once, and many lookups of new
CNICs from one sender arriving together (one block, not one per thread)."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from core.exceptions import ConflictError
from core.models import AuditEvent
from evp import services
from evp.models import AbuseBlock
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]  # no reference data needed: none is restored


def together(calls) -> list:
    """Run the calls in threads released at the same moment; their results or exceptions, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # returned to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_two_officers_lifting_one_block_at_once_lift_it_once():
    now = timezone.now()
    block = AbuseBlock.objects.create(
        channel="sms",
        sender_hash="h" * 32,
        sender_shown="+92300•••67",
        distinct_cnics=26,
        blocked_at=now,
        until=now + datetime.timedelta(days=1),
    )
    first, second = UserFactory(username="officer-1"), UserFactory(username="officer-2")
    results = together([lambda u=u: services.abuse_block_lift(actor=u, block_id=block.pk) for u in (first, second)])
    lifted = [r for r in results if isinstance(r, AbuseBlock)]
    refused = [r for r in results if isinstance(r, ConflictError)]
    assert len(lifted) == 1 and len(refused) == 1 and refused[0].code == "already_lifted"
    block.refresh_from_db()
    assert block.lifted_by == lifted[0].lifted_by
    assert AuditEvent.objects.filter(action="evp.block_lifted").count() == 1


def test_many_new_cnics_from_one_sender_at_once_make_one_block(settings):
    settings.EVP_ABUSE_DISTINCT_CNICS = 3
    settings.EVP_CLIENT_LIMIT = 100
    sender = "+923001234567"
    for n in range(3):
        services.voting_details_lookup(cnic_text=f"4210{n + 1:09d}", channel="sms", sender=sender)
    results = together(
        [
            lambda n=n: services.voting_details_lookup(cnic_text=f"4211{n:09d}", channel="sms", sender=sender)
            for n in range(8)
        ]
    )
    assert all(r.outcome == "refused" and r.reason == "blocked" for r in results)
    assert AbuseBlock.objects.count() == 1
    assert AuditEvent.objects.filter(action="evp.sender_blocked").count() == 1
