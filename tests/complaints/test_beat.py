"""An SLA breach escalates on its own: a real Celery worker with the beat scheduler embedded (the production
schedule, at a one-second interval) moves a complaint past its deadline one office up. No call to the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.models import Complaint, EventKind
from core.models import AuditEvent
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_the_beat_escalates_a_missed_deadline_without_anyone_asking(offices, make_complaint):
    late = make_complaint(offices.dec, resolution_due=timezone.now() - timedelta(minutes=2))
    on_time = make_complaint(offices.dec, resolution_due=timezone.now() + timedelta(hours=5))
    with celery_worker(queues="default", beat=True, env={"COMPLAINTS_SWEEP_SECONDS": "1"}) as worker:
        wait_for(lambda: Complaint.objects.get(pk=late.pk).office_id == offices.rec.pk, what="the escalation")
        assert "complaints.sla_sweep" in worker.log
    late.refresh_from_db()
    assert late.escalations == 1 and late.resolution_due > timezone.now()
    assert late.events.filter(kind=EventKind.ESCALATED, office=offices.rec).count() == 1
    assert Complaint.objects.get(pk=on_time.pk).office == offices.dec
    audit = AuditEvent.objects.get(action="complaints.escalated")
    assert audit.actor_label == "task:complaints.sla_sweep" and audit.data["moves"][0][0] == late.ticket
