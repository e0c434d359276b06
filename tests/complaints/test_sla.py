"""SLA deadlines on the office calendar, the 80 % warning, and escalation one office up by the sweep (the beat
task): DEC → REC → PEC → Secretariat, where the miss is recorded instead. Exactly once, even with two sweeps
running at once (real threads on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date, datetime, time, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from complaints import services, sla
from complaints.models import Complaint, ComplaintEvent, EventKind, Priority, SlaPlan, Status
from complaints.tasks import sla_sweep_task
from core.calendar import KARACHI, BusinessCalendar
from core.models import AuditEvent
from tests.complaints.test_filing import _data, _verified

CALENDAR = BusinessCalendar.build({d: (time(9), time(17)) for d in range(5)}, [date(2026, 12, 7)])


def test_a_deadline_counts_office_hours_only_and_warns_at_80_percent():
    friday_4pm = datetime(2026, 12, 4, 16, 0, tzinfo=KARACHI)
    deadline = sla.start(CALENDAR, friday_4pm, timedelta(hours=8))
    # One hour on Friday, Monday the 7th is a holiday, seven hours on Tuesday.
    assert deadline.due == datetime(2026, 12, 8, 16, 0, tzinfo=KARACHI)
    assert deadline.warn_at == datetime(2026, 12, 8, 14, 24, tzinfo=KARACHI)  # 6.4 h of office time


def test_a_paused_clock_keeps_the_office_time_left():
    tuesday_10am = datetime(2026, 12, 8, 10, 0, tzinfo=KARACHI)
    due = datetime(2026, 12, 9, 12, 0, tzinfo=KARACHI)
    left = sla.left_at(CALENDAR, tuesday_10am, due)
    assert left == timedelta(hours=10)  # 7 h on Tuesday, 3 h on Wednesday
    friday_4pm = datetime(2026, 12, 11, 16, 0, tzinfo=KARACHI)
    resumed = sla.start(CALENDAR, friday_4pm, timedelta(hours=40), left=left)
    assert resumed.due == datetime(2026, 12, 15, 10, 0, tzinfo=KARACHI)  # 1 h Friday, 8 h Monday, 1 h Tuesday
    assert resumed.warn_at == datetime(2026, 12, 14, 10, 0, tzinfo=KARACHI)  # 8 h (20 % of 40) before the end
    late = sla.start(CALENDAR, friday_4pm, timedelta(hours=60), left=left)
    assert late.warn_at is None  # less than the last 20 % was left: the warning is not given twice


def test_plans_fall_back_from_the_category_to_all_categories_to_the_defaults():
    plans = {
        (7, "high"): sla.Plan(timedelta(hours=1), timedelta(hours=2)),
        (None, "high"): sla.Plan(timedelta(hours=3), timedelta(hours=4)),
    }
    assert sla.plan_for(plans, 7, "high").resolution == timedelta(hours=2)
    assert sla.plan_for(plans, 8, "high").resolution == timedelta(hours=4)
    assert sla.plan_for(plans, 7, "urgent").resolution == timedelta(hours=sla.DEFAULT_HOURS["urgent"][1])


def _past(**kwargs):
    return timezone.now() - timedelta(**kwargs)


@pytest.mark.django_db
def test_filing_sets_both_deadlines_from_the_category_plan(memory, committed, offices, category):
    SlaPlan.objects.create(category=category, priority=Priority.NORMAL, first_response_hours=2, resolution_hours=6)
    challenge = committed(_verified, memory)
    complaint = committed(services.complaint_file, data=_data(offices.dec, category), otp_challenge_id=challenge.pk)
    calendar = services.selectors.business_calendar()
    filed = complaint.created_at
    assert complaint.first_response_due == calendar.add_business_time(filed, timedelta(hours=2))
    assert complaint.resolution_due == calendar.add_business_time(filed, timedelta(hours=6))
    assert complaint.resolution_warn_at == calendar.add_business_time(filed, timedelta(hours=4.8))


@pytest.mark.django_db
def test_the_sweep_warns_once_at_80_percent(offices, make_complaint):
    complaint = make_complaint(
        offices.dec,
        first_response_due=_past(hours=-1),
        first_response_warn_at=_past(minutes=5),
        resolution_due=_past(hours=-30),
        resolution_warn_at=_past(hours=-20),
    )
    result = services.sla_sweep()
    assert (result.warned, result.escalated) == (1, 0)
    warning = complaint.events.get(kind=EventKind.SLA_WARNING)
    assert not warning.is_public and warning.office == offices.dec
    complaint.refresh_from_db()
    assert complaint.first_response_warned and not complaint.resolution_warned
    assert services.sla_sweep().warned == 0


@pytest.mark.django_db
def test_a_missed_deadline_climbs_the_ladder_to_the_secretariat(offices, make_complaint, desk_for):
    desk = desk_for(offices.dec)
    complaint = make_complaint(
        offices.dec,
        desk=desk,
        status=Status.IN_PROGRESS,
        resolution_due=_past(minutes=1),
        first_response_due=_past(hours=-5),
    )
    ladder = []
    for _ in range(4):
        services.sla_sweep()
        complaint.refresh_from_db()
        ladder.append(complaint.office.code)
        if complaint.resolution_due is not None:
            assert complaint.resolution_due > timezone.now() and complaint.desk is None
            Complaint.objects.filter(pk=complaint.pk).update(resolution_due=_past(minutes=1))
    assert ladder == ["t-rec-lahore", "t-pec-punjab", "t-secretary", "t-secretary"]
    complaint.refresh_from_db()
    assert (complaint.escalations, complaint.breaches, complaint.resolution_due) == (3, 4, None)
    assert complaint.first_response_due is not None and not complaint.first_response_missed  # only the missed one
    escalated = complaint.events.filter(kind=EventKind.ESCALATED)
    assert [e.office.code for e in escalated] == ["t-rec-lahore", "t-pec-punjab", "t-secretary"]
    assert all(e.is_public for e in escalated)
    missed = complaint.events.get(kind=EventKind.DEADLINE_MISSED)
    assert not missed.is_public and missed.text == "resolution"
    audits = AuditEvent.objects.filter(action="complaints.escalated")
    assert [a.data["moves"] for a in audits] == [
        [[complaint.ticket, "t-dec-lahore", "t-rec-lahore"]],
        [[complaint.ticket, "t-rec-lahore", "t-pec-punjab"]],
        [[complaint.ticket, "t-pec-punjab", "t-secretary"]],
    ]
    assert services.sla_sweep() == services.SweepResult()


@pytest.mark.django_db
def test_a_late_first_response_is_marked_for_the_reports(offices, make_complaint):
    resolution_due = timezone.now() + timedelta(hours=30)
    complaint = make_complaint(offices.dec2, first_response_due=_past(minutes=1), resolution_due=resolution_due)
    assert services.sla_sweep().escalated == 1
    complaint.refresh_from_db()
    assert complaint.first_response_missed and complaint.office == offices.rec
    assert complaint.first_response_due > timezone.now() and complaint.resolution_due == resolution_due
    assert complaint.events.get(kind=EventKind.ESCALATED).text == "first_response"


@pytest.mark.django_db
def test_paused_resolved_and_on_time_complaints_are_left_alone(offices, make_complaint):
    waiting = make_complaint(offices.dec, status=Status.WAITING, resolution_left=timedelta(hours=3))
    resolved = make_complaint(offices.dec, status=Status.RESOLVED, resolved_at=_past(days=1))
    on_time = make_complaint(offices.dec, resolution_due=_past(hours=-2), first_response_due=_past(hours=-1))
    assert services.sla_sweep() == services.SweepResult()
    for complaint in (waiting, resolved, on_time):
        assert list(complaint.events.values_list("kind", flat=True)) == ["filed"]


@pytest.mark.django_db
def test_the_beat_runs_the_sweep_every_minute(offices, make_complaint):
    assert settings.CELERY_BEAT_SCHEDULE["complaints-sla-sweep"] == {"task": "complaints.sla_sweep", "schedule": 60.0}
    make_complaint(offices.dec2, resolution_due=_past(minutes=3))
    assert sla_sweep_task.apply().get() == {"warned": 0, "escalated": 1, "missed_at_top": 0}


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_escalate_each_complaint_once(offices, make_complaint):
    complaints = [make_complaint(offices.dec, resolution_due=_past(minutes=n + 1)) for n in range(40)]
    barrier = threading.Barrier(3)
    results: list = []

    def sweep():
        try:
            barrier.wait()
            results.append(services.sla_sweep(chunk=7))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.escalated for r in results) == 40
    assert ComplaintEvent.objects.filter(kind=EventKind.ESCALATED).count() == 40
    assert set(Complaint.objects.filter(pk__in=[c.pk for c in complaints]).values_list("office", flat=True)) == {
        offices.rec.pk
    }
    assert sum(a.data["count"] for a in AuditEvent.objects.filter(action="complaints.escalated")) == 40
