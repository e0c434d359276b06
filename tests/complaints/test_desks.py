"""The desks' services: each movement is a timeline event and an audit record, the complainant is texted at each
public change, refusals (wrong state, outside the scope, bad input) change nothing, and concurrent officers on
one complaint act once (real threads on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from complaints import selectors, services
from complaints.models import CannedResponse, Complaint, ComplaintEvent, Status
from core.exceptions import ConflictError, DomainError
from core.models import AuditEvent, Role
from core.services import role_grant
from tests.factories import UserFactory


def _officer(role, office):
    user = UserFactory()
    role_grant(actor=None, user=user, role=role, office=office)
    return user


@pytest.fixture
def desk_officer(offices):
    return _officer(Role.DESK_OFFICER, offices.dec)


@pytest.fixture
def complaint(offices, make_complaint):
    now = timezone.now()
    return make_complaint(
        offices.dec, first_response_due=now + timedelta(hours=8), resolution_due=now + timedelta(days=5)
    )


def _state(complaint):
    complaint.refresh_from_db()
    return (
        complaint.status,
        complaint.office_id,
        complaint.desk_id,
        complaint.events.count(),
        AuditEvent.objects.count(),
        complaint.resolution_due,
        complaint.responded_at,
    )


def _kinds(complaint, public=None):
    events = complaint.events.all() if public is None else complaint.events.filter(is_public=public)
    return [e.kind for e in events]


@pytest.mark.django_db
def test_assigning_a_new_complaint_puts_it_in_progress_and_tells_the_complainant(
    memory, committed, offices, complaint, desk_officer, desk_for
):
    desk = desk_for(offices.dec, desk_officer, name="Complaints desk 1")
    committed(services.complaint_assign, actor=desk_officer, complaint_id=complaint.pk, desk_id=desk.pk)
    complaint.refresh_from_db()
    assert complaint.status == Status.IN_PROGRESS and complaint.desk == desk
    event = complaint.events.last()
    assert (event.kind, event.is_public, event.desk, event.actor) == ("assigned", True, desk, desk_officer)
    assert complaint.ticket in memory.sent()[-1].body and memory.sent()[-1].to == complaint.mobile
    assert AuditEvent.objects.filter(action="complaints.assigned", actor=desk_officer).count() == 1
    # Another desk of the same office: no second "being handled" text.
    other = desk_for(offices.dec)
    sent = len(memory.sent())
    committed(services.complaint_assign, actor=desk_officer, complaint_id=complaint.pk, desk_id=other.pk)
    assert len(memory.sent()) == sent and _kinds(complaint) == ["filed", "assigned", "assigned"]


@pytest.mark.django_db
def test_forwarding_moves_it_to_the_other_office_with_an_internal_note(offices, complaint, desk_officer, desk_for):
    complaint.desk = desk_for(offices.dec)
    complaint.save()
    services.complaint_forward(
        actor=desk_officer, complaint_id=complaint.pk, office_id=offices.dec_karachi.pk, note="Karachi matter"
    )
    complaint.refresh_from_db()
    assert complaint.office == offices.dec_karachi and complaint.desk is None
    assert _kinds(complaint, public=True) == ["filed", "forwarded"] and _kinds(complaint, public=False) == ["note"]
    assert complaint.events.get(kind="note").text == "Karachi matter"
    # It left the officer's scope: the officer can no longer act on it.
    before = _state(complaint)
    with pytest.raises(DomainError) as refused:
        services.complaint_note(actor=desk_officer, complaint_id=complaint.pk, text="still here?")
    assert refused.value.code == "not_found" and _state(complaint) == before


@pytest.mark.django_db
def test_a_desk_of_another_office_forwards_there(offices, complaint, desk_officer, desk_for):
    karachi_desk = desk_for(offices.dec_karachi, name="Karachi desk")
    services.complaint_assign(actor=desk_officer, complaint_id=complaint.pk, desk_id=karachi_desk.pk)
    complaint.refresh_from_db()
    assert (complaint.office, complaint.desk) == (offices.dec_karachi, karachi_desk)
    assert complaint.events.last().kind == "forwarded"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("call", "code", "field"),
    [
        (
            lambda c, a, o: services.complaint_forward(actor=a, complaint_id=c.pk, office_id=o.dec2.pk, note=" "),
            "text_required",
            "note",
        ),
        (
            lambda c, a, o: services.complaint_forward(actor=a, complaint_id=c.pk, office_id=999_999, note="x"),
            "bad_office",
            "office",
        ),
        (
            lambda c, a, o: services.complaint_forward(actor=a, complaint_id=c.pk, office_id=o.dec.pk, note="x"),
            "same_office",
            "office",
        ),
        (lambda c, a, o: services.complaint_assign(actor=a, complaint_id=c.pk, desk_id=999_999), "bad_desk", "desk"),
        (
            lambda c, a, o: services.complaint_reply(actor=a, complaint_id=c.pk, text="x" * 5001),
            "text_too_long",
            "text",
        ),
        (lambda c, a, o: services.complaint_request_info(actor=a, complaint_id=c.pk, text=""), "text_required", "text"),
        (lambda c, a, o: services.complaint_close(actor=a, complaint_id=c.pk), "not_resolved", None),
        (lambda c, a, o: services.complaint_reopen(complaint_id=c.pk, reason="again"), "not_resolved", None),
        (lambda c, a, o: services.complaint_answer(complaint_id=c.pk, text="here"), "not_waiting", None),
    ],
)
def test_refusals_name_the_rule_and_change_nothing(memory, offices, complaint, desk_officer, call, code, field):
    before, sent = _state(complaint), len(memory.sent())
    with pytest.raises(DomainError) as refused:
        call(complaint, desk_officer, offices)
    assert refused.value.code == code and (field is None or field in refused.value.fields)
    assert _state(complaint) == before and len(memory.sent()) == sent


@pytest.mark.django_db
@pytest.mark.parametrize("role", [None, Role.SMS_OFFICER, "other_dec"])
def test_nobody_outside_the_scope_can_act(offices, complaint, desk_for, role):
    if role is None:
        actor = UserFactory()
    elif role == "other_dec":
        actor = _officer(Role.DESK_OFFICER, offices.dec2)
    else:
        actor = _officer(role, None)
    before = _state(complaint)
    for call in (
        lambda: services.complaint_assign(actor=actor, complaint_id=complaint.pk, desk_id=desk_for(offices.dec).pk),
        lambda: services.complaint_resolve(actor=actor, complaint_id=complaint.pk, text="done"),
        lambda: services.complaint_reply(actor=actor, complaint_id=complaint.pk, text="hello"),
    ):
        with pytest.raises(DomainError) as refused:
            call()
        assert refused.value.code == "not_found"
    assert _state(complaint) == before


@pytest.mark.django_db
def test_supervisors_act_on_the_offices_below(offices, complaint):
    supervisor = _officer(Role.COMPLAINTS_SUPERVISOR, offices.pec)
    services.complaint_note(actor=supervisor, complaint_id=complaint.pk, text="Look into this")
    assert complaint.events.last().kind == "note"
    sindh = _officer(Role.COMPLAINTS_SUPERVISOR, offices.pec_sindh)
    with pytest.raises(DomainError):
        services.complaint_note(actor=sindh, complaint_id=complaint.pk, text="Not mine")


@pytest.mark.django_db
def test_asking_for_information_pauses_the_clock_and_the_answer_restarts_it(
    memory, committed, offices, complaint, desk_officer
):
    calendar = selectors.business_calendar()
    committed(services.complaint_request_info, actor=desk_officer, complaint_id=complaint.pk, text="Which block?")
    complaint.refresh_from_db()
    assert complaint.status == Status.WAITING and complaint.resolution_due is None
    assert complaint.resolution_left is not None and complaint.resolution_left > timedelta(0)
    assert complaint.responded_at is not None and complaint.first_response_due is None  # the question responds
    assert "Which block?" in memory.sent()[-1].body
    # Time passes while waiting: the clock does not run.
    left = complaint.resolution_left
    committed(services.complaint_answer, complaint_id=complaint.pk, text="Block 12, Ward 3")
    complaint.refresh_from_db()
    assert complaint.status == Status.IN_PROGRESS and complaint.resolution_left is None
    assert abs(calendar.business_time_between(timezone.now(), complaint.resolution_due) - left) < timedelta(minutes=1)
    answer = complaint.events.last()
    assert (answer.kind, answer.is_public, answer.actor, answer.text) == (
        "info_received",
        True,
        None,
        "Block 12, Ward 3",
    )
    with pytest.raises(ConflictError):
        services.complaint_answer(complaint_id=complaint.pk, text="again")


@pytest.mark.django_db
def test_reply_resolve_close_and_reopen(memory, committed, offices, complaint, desk_officer, settings):
    canned = CannedResponse.objects.create(title="Noted", body="We are looking into it.", body_ur="ہم دیکھ رہے ہیں۔")
    assert services.canned_text(canned.pk, "ur") == "ہم دیکھ رہے ہیں۔" and services.canned_text("x", "en") == ""
    committed(services.complaint_reply, actor=desk_officer, complaint_id=complaint.pk, text=canned.body)
    complaint.refresh_from_db()
    assert complaint.responded_at is not None and complaint.first_response_due is None
    assert canned.body in memory.sent()[-1].body
    committed(services.complaint_resolve, actor=desk_officer, complaint_id=complaint.pk, text="Station restored.")
    complaint.refresh_from_db()
    assert complaint.status == Status.RESOLVED and complaint.resolution_due is None and complaint.resolved_at
    committed(services.complaint_close, actor=desk_officer, complaint_id=complaint.pk)
    assert Complaint.objects.get(pk=complaint.pk).status == Status.CLOSED
    committed(services.complaint_reopen, complaint_id=complaint.pk, reason="It moved again.")
    complaint.refresh_from_db()
    assert complaint.status == Status.IN_PROGRESS and complaint.resolution_due > timezone.now()
    assert complaint.resolved_at is None and complaint.closed_at is None
    assert _kinds(complaint) == ["filed", "reply", "resolved", "closed", "reopened"]
    assert len(memory.sent()) == 4  # reply, resolved, closed, reopened
    actions = list(AuditEvent.objects.filter(action__startswith="complaints.").values_list("action", flat=True))
    assert actions == ["complaints.replied", "complaints.resolved", "complaints.closed", "complaints.reopened"]


@pytest.mark.django_db
def test_reopening_after_the_window_is_refused(offices, complaint, desk_officer, settings):
    services.complaint_resolve(actor=desk_officer, complaint_id=complaint.pk, text="Done.")
    Complaint.objects.filter(pk=complaint.pk).update(
        resolved_at=timezone.now() - timedelta(days=settings.COMPLAINTS_REOPEN_DAYS, minutes=1)
    )
    before = _state(complaint)
    with pytest.raises(ConflictError) as refused:
        services.complaint_reopen(complaint_id=complaint.pk, reason="again")
    assert refused.value.code == "reopen_expired" and _state(complaint) == before


@pytest.mark.django_db
def test_bulk_assign_reports_each_refusal(offices, make_complaint, desk_officer, desk_for):
    desk = desk_for(offices.dec)
    mine = [make_complaint(offices.dec) for _ in range(3)]
    elsewhere = make_complaint(offices.dec_karachi)
    done, refused = services.complaint_assign_many(
        actor=desk_officer, complaint_ids=[c.pk for c in mine] + [elsewhere.pk], desk_id=desk.pk
    )
    assert done == 3 and [pk for pk, _message in refused] == [elsewhere.pk]
    assert Complaint.objects.filter(desk=desk).count() == 3 and Complaint.objects.get(pk=elsewhere.pk).desk is None


@pytest.mark.django_db
def test_the_public_timeline_lists_each_stop_without_internal_events(offices, complaint, desk_officer, desk_for):
    desk = desk_for(offices.dec, desk_officer, name="Desk A")
    services.complaint_assign(actor=desk_officer, complaint_id=complaint.pk, desk_id=desk.pk)
    services.complaint_note(actor=desk_officer, complaint_id=complaint.pk, text="internal only")
    services.complaint_forward(actor=desk_officer, complaint_id=complaint.pk, office_id=offices.rec.pk, note="why")
    timeline = selectors.public_timeline(Complaint.objects.get(pk=complaint.pk))
    assert [(s.office, s.desk) for s in timeline.stops] == [
        (offices.dec, None),
        (offices.dec, desk),
        (offices.rec, None),
    ]
    assert timeline.stops[0].left == timeline.stops[1].arrived and timeline.stops[-1].left is None
    assert "note" not in [e.kind for e in timeline.events]


@pytest.mark.django_db(transaction=True)
def test_two_officers_resolving_at_once_resolve_once(memory, offices, make_complaint):
    complaint = make_complaint(offices.dec, resolution_due=timezone.now() + timedelta(days=1))
    officers = [_officer(Role.DESK_OFFICER, offices.dec) for _ in range(4)]
    barrier = threading.Barrier(len(officers))
    results: list = []

    def resolve(officer):
        try:
            barrier.wait()
            services.complaint_resolve(actor=officer, complaint_id=complaint.pk, text=f"by {officer.pk}")
            results.append("ok")
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=resolve, args=(o,)) for o in officers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["not_open"] * 3 + ["ok"]
    assert ComplaintEvent.objects.filter(complaint=complaint, kind="resolved").count() == 1
    assert AuditEvent.objects.filter(action="complaints.resolved").count() == 1
