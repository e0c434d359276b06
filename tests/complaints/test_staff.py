"""The desks' screens (issue 7) end to end through the pages: the inbox (filters, search, SLA colours, paging
with a bounded number of queries, bulk assign with a refusal), the ticket page (masked CNIC and mobile, both
deadlines, attachments, the full timeline with internal events marked), and each action — assign, forward,
ask the complainant, internal note, public reply with a canned response, resolve, close — with its events,
its SMS and its status. Bad input names its field with a 400 (409 for the wrong state) and changes nothing.
The scope of each user is in test_scope.py."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from complaints.models import Attachment, CannedResponse, Complaint, ComplaintEvent, EventKind, Status
from core.models import AuditEvent, Role, RoleAssignment
from tests.factories import UserFactory
from tests.staff import field_errors, html_of, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _demo_skip(settings):
    settings.OTP_DEMO_SKIP = True


@pytest.fixture
def officer(offices):
    user = UserFactory(username="desk-lahore", first_name="Bilal", last_name="Officer")
    RoleAssignment.objects.create(user=user, role=Role.DESK_OFFICER, office=offices.dec)
    return user


@pytest.fixture
def desks(offices, desk_for, officer):
    return {
        "mine": desk_for(offices.dec, officer, name="Complaints desk"),
        "other": desk_for(offices.dec, None, name="Polling desk"),
        "kasur": desk_for(offices.dec2, None, name="Kasur desk"),
    }


@pytest.fixture
def client(officer, desks):
    return signed_in(officer)


@pytest.fixture
def complaint(offices, make_complaint):
    return make_complaint(offices.dec, subject="Polling station moved", language="ur")


@pytest.fixture
def canned(db):
    return CannedResponse.objects.create(
        title="Looking into it",
        body="We are looking into your complaint and will reply soon.",
        body_ur="ہم آپ کی شکایت دیکھ رہے ہیں اور جلد جواب دیں گے۔",
    )


def post(client, django_capture_on_commit_callbacks, url: str, data: dict):
    """POST with what the view leaves for after the commit (the SMS) run at once."""
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(url, data)


def unchanged(complaint: Complaint) -> tuple:
    complaint.refresh_from_db()
    return (
        complaint.status,
        complaint.office_id,
        complaint.desk_id,
        complaint.events.count(),
        AuditEvent.objects.filter(target_id=str(complaint.pk)).count(),
    )


# --- the ticket page --------------------------------------------------------------------------------------------


def test_the_ticket_page_shows_the_complaint_with_cnic_and_mobile_masked(client, complaint):
    Complaint.objects.filter(pk=complaint.pk).update(
        email="sana@example.pk", latitude="31.520370", longitude="74.358749"
    )
    attachment = Attachment(
        complaint=complaint, name="station.pdf", content_type="application/pdf", size=2048, sha256="0"
    )
    attachment.file.save("x.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    attachment.save()
    html = html_of(client.get(f"/complaints/staff/{complaint.pk}/"))
    assert complaint.ticket in html and "Polling station moved" in html and "Test Complainant" in html
    assert "•••••-•••" in html and "3520212345673" not in html and "35202-1234567-3" not in html
    assert complaint.mobile not in html and complaint.mobile[-4:] in html
    assert "sana@example.pk" in html and "31.520370, 74.358749" in html
    assert "station.pdf" in html and "2.0\xa0KB" in html and f"/complaints/staff/attachment/{attachment.pk}/" in html
    assert "First response" in html and "Resolution" in html
    for action in ("assign", "forward", "request-info", "note", "reply", "resolve"):
        assert f"/complaints/staff/{complaint.pk}/{action}/" in html
    assert f"/complaints/staff/{complaint.pk}/close/" not in html


def test_attachments_download_and_pictures_show_inline(client, complaint):
    picture = Attachment(complaint=complaint, name="board.png", content_type="image/png", size=8, sha256="0")
    picture.file.save("x.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=False)
    picture.save()
    document = Attachment(complaint=complaint, name="list.pdf", content_type="application/pdf", size=8, sha256="0")
    document.file.save("x.pdf", ContentFile(b"%PDF-1.4"), save=False)
    document.save()
    html = html_of(client.get(f"/complaints/staff/{complaint.pk}/"))
    assert f'src="/complaints/staff/attachment/{picture.pk}/?inline=1"' in html
    assert f"/complaints/staff/attachment/{document.pk}/?inline=1" not in html
    download = client.get(f"/complaints/staff/attachment/{picture.pk}/")
    assert download["Content-Disposition"] == 'attachment; filename="board.png"'
    assert download["X-Content-Type-Options"] == "nosniff" and download["Content-Type"] == "image/png"
    assert "no-cache" in download["Cache-Control"]
    inline = client.get(f"/complaints/staff/attachment/{picture.pk}/?inline=1")
    assert inline["Content-Disposition"].startswith("inline")
    # Only pictures are ever shown inline.
    pdf = client.get(f"/complaints/staff/attachment/{document.pk}/?inline=1")
    assert pdf["Content-Disposition"].startswith("attachment") and pdf["X-Content-Type-Options"] == "nosniff"


def test_both_deadlines_are_shown_with_their_state(client, complaint):
    now = timezone.now()
    Complaint.objects.filter(pk=complaint.pk).update(
        first_response_due=now - timedelta(hours=1),
        first_response_warn_at=None,
        resolution_due=now + timedelta(days=2),
        resolution_warn_at=None,
    )
    html = html_of(client.get(f"/complaints/staff/{complaint.pk}/"))
    assert "cst-deadline--overdue" in html and "cst-deadline--warning" in html
    Complaint.objects.filter(pk=complaint.pk).update(
        status=Status.WAITING,
        first_response_due=None,
        responded_at=now,
        resolution_due=None,
        resolution_left=timedelta(hours=5, minutes=30),
    )
    html = html_of(client.get(f"/complaints/staff/{complaint.pk}/"))
    assert "cst-deadline--met" in html and "cst-deadline--paused" in html
    assert "5 h 30 min of office time left" in html
    assert "/request-info/" not in html  # already waiting: asking again is not offered


def test_the_timeline_shows_every_event_with_its_actor_and_marks_internal_ones(client, complaint, offices, officer):
    ComplaintEvent.objects.create(
        complaint=complaint,
        at=timezone.now(),
        kind=EventKind.NOTE,
        office=offices.dec,
        actor=officer,
        is_public=False,
        text="Called the presiding officer",
    )
    ComplaintEvent.objects.create(
        complaint=complaint, at=timezone.now(), kind=EventKind.ESCALATED, office=offices.dec, text="first_response"
    )
    html = html_of(client.get(f"/complaints/staff/{complaint.pk}/"))
    timeline = html.split('id="timeline-title"')[1].split("</ol>")[0]
    assert "Filed" in timeline and "Internal note" in timeline and "Called the presiding officer" in timeline
    assert "Bilal Officer" in timeline and timeline.count(">internal<") == 1
    assert "Escalated" in timeline and "Deadline missed: first response" in timeline and "the system" in timeline


# --- the actions, end to end ------------------------------------------------------------------------------------


def test_assign_to_a_desk_of_the_office(client, complaint, desks, memory, django_capture_on_commit_callbacks):
    response = post(
        client,
        django_capture_on_commit_callbacks,
        f"/complaints/staff/{complaint.pk}/assign/",
        {"assign-desk": desks["other"].pk, "assign-note": "Please check the station list"},
    )
    assert response.status_code == 302 and response["Location"] == f"/complaints/staff/{complaint.pk}/"
    complaint.refresh_from_db()
    assert complaint.status == Status.IN_PROGRESS and complaint.desk == desks["other"]
    event = complaint.events.get(kind=EventKind.ASSIGNED)
    assert event.desk == desks["other"] and event.text == "Please check the station list"
    assert [m.to for m in memory.sent()] == [complaint.mobile] and complaint.ticket in memory.sent()[0].body
    page = html_of(client.get(response["Location"]))
    assert "is now at Polling desk" in page


def test_assign_to_a_desk_of_another_office_forwards_it(client, complaint, desks, offices):
    response = client.post(
        f"/complaints/staff/{complaint.pk}/assign/", {"assign-desk": desks["kasur"].pk, "assign-note": ""}
    )
    assert response.status_code == 302 and response["Location"] == "/complaints/staff/"
    complaint.refresh_from_db()
    assert complaint.office == offices.dec2 and complaint.desk == desks["kasur"]
    assert complaint.events.filter(kind=EventKind.FORWARDED).count() == 1
    assert "has left your offices" in html_of(client.get("/complaints/staff/"))


def test_forward_with_a_note_leaves_the_officers_scope(client, complaint, offices, memory):
    response = client.post(
        f"/complaints/staff/{complaint.pk}/forward/",
        {"forward-office": offices.rec.pk, "forward-note": "A matter for the region"},
    )
    assert response.status_code == 302 and response["Location"] == "/complaints/staff/"
    complaint.refresh_from_db()
    assert complaint.office == offices.rec and complaint.desk is None
    kinds = list(complaint.events.values_list("kind", "is_public", "text"))
    assert kinds[-2:] == [("forwarded", True, ""), ("note", False, "A matter for the region")]
    assert client.get(f"/complaints/staff/{complaint.pk}/").status_code == 404
    assert memory.sent() == []  # a forward is not a change the complainant is texted about


def test_forward_without_a_note_is_refused_beside_the_note(client, complaint, offices):
    before = unchanged(complaint)
    response = client.post(
        f"/complaints/staff/{complaint.pk}/forward/", {"forward-office": offices.rec.pk, "forward-note": "  "}
    )
    assert response.status_code == 400
    assert field_errors(html_of(response), "forward-note") == "Write the text first."
    assert unchanged(complaint) == before


def test_forward_to_the_same_office_is_a_conflict(client, complaint, offices):
    before = unchanged(complaint)
    response = client.post(
        f"/complaints/staff/{complaint.pk}/forward/", {"forward-office": offices.dec.pk, "forward-note": "Here"}
    )
    assert response.status_code == 409 and "already at this office" in field_errors(html_of(response), "forward-office")
    assert unchanged(complaint) == before


@pytest.mark.parametrize("desk", ["999999", "abc", ""])
def test_an_unknown_desk_is_refused_beside_the_desk(client, complaint, desk):
    before = unchanged(complaint)
    response = client.post(f"/complaints/staff/{complaint.pk}/assign/", {"assign-desk": desk})
    assert response.status_code == 400
    assert field_errors(html_of(response), "assign-desk") == "Choose a desk from the list."
    assert unchanged(complaint) == before


def test_a_text_too_long_is_refused_beside_the_text(client, complaint):
    before = unchanged(complaint)
    response = client.post(f"/complaints/staff/{complaint.pk}/note/", {"note-text": "x" * 5001})
    assert response.status_code == 400
    assert field_errors(html_of(response), "note-text") == "At most 5,000 characters."
    assert "x" * 5001 in html_of(response)  # what was typed is kept to be shortened
    assert unchanged(complaint) == before


def test_request_information_pauses_and_texts_the_question(
    client, complaint, memory, django_capture_on_commit_callbacks
):
    response = post(
        client,
        django_capture_on_commit_callbacks,
        f"/complaints/staff/{complaint.pk}/request-info/",
        {"info-text": "Which polling station number?"},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Status.WAITING and complaint.resolution_due is None
    assert complaint.events.filter(kind=EventKind.INFO_REQUESTED, is_public=True).count() == 1
    assert "Which polling station number?" in memory.sent()[-1].body


def test_an_internal_note_is_not_sent(client, complaint, memory, django_capture_on_commit_callbacks):
    response = post(
        client,
        django_capture_on_commit_callbacks,
        f"/complaints/staff/{complaint.pk}/note/",
        {"note-text": "Spoke to the RO"},
    )
    assert response.status_code == 302
    event = complaint.events.get(kind=EventKind.NOTE)
    assert event.is_public is False and event.text == "Spoke to the RO" and memory.sent() == []
    assert complaint.events.count() == 2


def test_reply_with_a_canned_response_in_the_complainants_language(
    client, complaint, canned, memory, django_capture_on_commit_callbacks
):
    # Without JavaScript: "Use" fills the box with the Urdu text (the complaint was filed in Urdu).
    used = client.post(f"/complaints/staff/{complaint.pk}/reply/", {"reply-canned": canned.pk, "use": "1"})
    assert used.status_code == 200 and canned.body_ur in html_of(used) and complaint.events.count() == 1
    # The page carries both the picker's texts in that language for the script.
    assert "canned-texts" in html_of(used)
    response = post(
        client,
        django_capture_on_commit_callbacks,
        f"/complaints/staff/{complaint.pk}/reply/",
        {"reply-canned": canned.pk, "reply-text": canned.body_ur},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.responded_at is not None and complaint.first_response_due is None
    assert complaint.events.get(kind=EventKind.REPLY).text == canned.body_ur
    assert canned.body_ur in memory.sent()[-1].body


def test_an_english_complaint_gets_the_english_canned_text(client, offices, make_complaint, canned):
    complaint = make_complaint(offices.dec, language="en")
    used = client.post(f"/complaints/staff/{complaint.pk}/reply/", {"reply-canned": canned.pk, "use": "1"})
    assert canned.body in html_of(used) and canned.body_ur not in html_of(used).split('id="canned-texts"')[0]


def test_resolve_needs_the_confirmation(client, complaint, memory, django_capture_on_commit_callbacks):
    before = unchanged(complaint)
    response = client.post(f"/complaints/staff/{complaint.pk}/resolve/", {"resolve-text": "Station restored"})
    assert response.status_code == 400 and field_errors(html_of(response), "resolve-confirm")
    assert unchanged(complaint) == before
    response = post(
        client,
        django_capture_on_commit_callbacks,
        f"/complaints/staff/{complaint.pk}/resolve/",
        {"resolve-text": "Station restored", "resolve-confirm": "on"},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Status.RESOLVED and complaint.resolved_at is not None
    assert "Station restored" in memory.sent()[-1].body
    html = html_of(client.get(f"/complaints/staff/{complaint.pk}/"))
    # Resolved: only closing and notes are offered.
    assert f"/complaints/staff/{complaint.pk}/close/" in html and f"/complaints/staff/{complaint.pk}/note/" in html
    for action in ("assign", "forward", "request-info", "reply", "resolve"):
        assert f"/complaints/staff/{complaint.pk}/{action}/" not in html


def test_close_after_a_confirmation_page(client, complaint, memory, django_capture_on_commit_callbacks):
    # An open complaint cannot be closed: the confirmation page says so, and the POST changes nothing.
    assert client.get(f"/complaints/staff/{complaint.pk}/close/").status_code == 409
    before = unchanged(complaint)
    assert client.post(f"/complaints/staff/{complaint.pk}/close/").status_code == 409
    assert unchanged(complaint) == before
    Complaint.objects.filter(pk=complaint.pk).update(status=Status.RESOLVED, resolved_at=timezone.now())
    page = client.get(f"/complaints/staff/{complaint.pk}/close/")
    assert page.status_code == 200 and "Yes, close the complaint" in html_of(page)
    response = post(client, django_capture_on_commit_callbacks, f"/complaints/staff/{complaint.pk}/close/", {})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED and complaint.events.filter(kind=EventKind.CLOSED).count() == 1
    assert "closed" in memory.sent()[-1].body
    html = html_of(client.get(f"/complaints/staff/{complaint.pk}/"))
    assert f"/complaints/staff/{complaint.pk}/note/" in html and f"/complaints/staff/{complaint.pk}/close/" not in html


@pytest.mark.parametrize(("action", "data"), [("reply", {"reply-text": "Hi"}), ("resolve", {"resolve-text": "x"})])
def test_an_action_the_state_does_not_allow_is_a_conflict(client, complaint, action, data):
    Complaint.objects.filter(pk=complaint.pk).update(status=Status.CLOSED)
    before = unchanged(complaint)
    response = client.post(f"/complaints/staff/{complaint.pk}/{action}/", data)
    assert response.status_code == 409 and "This complaint is closed" in html_of(response)
    assert unchanged(complaint) == before


# --- the inbox --------------------------------------------------------------------------------------------------


def test_the_inbox_lists_open_complaints_by_default_with_their_deadline_colours(client, offices, make_complaint, desks):
    now = timezone.now()
    late = make_complaint(offices.dec, subject="Late one", first_response_due=now - timedelta(minutes=5))
    near = make_complaint(
        offices.dec, subject="Near one", first_response_due=now + timedelta(hours=1), first_response_warn_at=None
    )
    calm = make_complaint(
        offices.dec,
        subject="Calm one",
        first_response_due=now + timedelta(hours=8),
        first_response_warn_at=now + timedelta(hours=6),
        escalations=2,
    )
    done = make_complaint(offices.dec, subject="Done one", status=Status.RESOLVED)
    html = html_of(client.get("/complaints/staff/"))
    for c in (late, near, calm):
        assert c.ticket in html
    assert done.ticket not in html
    rows = {c.ticket: html.split(c.ticket)[2].split("</tr>")[0] for c in (late, near, calm)}
    assert "cst-deadline--overdue" in rows[late.ticket]
    assert "cst-deadline--warning" in rows[near.ticket]
    assert "cst-deadline--ok" in rows[calm.ticket] and 'class="cst-esc">2<' in rows[calm.ticket]
    assert done.ticket in html_of(client.get("/complaints/staff/?status=resolved"))
    assert done.ticket in html_of(client.get("/complaints/staff/?status=all"))


def test_the_inbox_filters(client, offices, make_complaint, desks, category):
    from complaints.models import Category

    other_category = Category.objects.create(code="t-other", name="Other")
    at_my_desk = make_complaint(offices.dec, subject="At my desk", desk=desks["mine"], status=Status.IN_PROGRESS)
    at_other_desk = make_complaint(offices.dec, subject="Elsewhere", desk=desks["other"], status=Status.IN_PROGRESS)
    nowhere = make_complaint(offices.dec, subject="Nowhere", category=other_category)
    missed = make_complaint(offices.dec, subject="Missed before", breaches=1)

    def listed(query: str) -> set[str]:
        html = html_of(client.get(f"/complaints/staff/?{query}"))
        return {c.subject for c in (at_my_desk, at_other_desk, nowhere, missed) if c.ticket in html}

    assert listed("desk=mine") == {"At my desk"}
    assert listed("desk=0") == {"Nowhere", "Missed before"}
    assert listed(f"desk={desks['other'].pk}") == {"Elsewhere"}
    assert listed(f"category={other_category.pk}") == {"Nowhere"}
    assert listed("sla=missed") == {"Missed before"}
    assert listed("status=in_progress") == {"At my desk", "Elsewhere"}
    assert listed(f"office={offices.dec.pk}") == {"At my desk", "Elsewhere", "Nowhere", "Missed before"}
    # A filter outside the choices is named and not applied.
    response = client.get(f"/complaints/staff/?office={offices.dec_karachi.pk}")
    assert response.status_code == 200 and field_errors(html_of(response), "office")


def test_search_by_ticket_in_any_shape_and_by_words(client, offices, make_complaint, desks):
    one = make_complaint(offices.dec, subject="Polling station moved far away")
    two = make_complaint(offices.dec, subject="Voter list error")
    typed = one.ticket.lower().replace("-", " ")
    html = html_of(client.get("/complaints/staff/", {"q": typed}))
    assert one.ticket in html and two.ticket not in html
    html = html_of(client.get("/complaints/staff/", {"q": "voter lis"}))
    assert two.ticket in html and one.ticket not in html
    html = html_of(client.get("/complaints/staff/", {"q": "nothing-like-this"}))
    assert "No complaints match these filters." in html


def test_the_inbox_pages_keep_the_filters_and_run_a_bounded_number_of_queries(
    client, offices, make_complaint, desks, django_assert_max_num_queries
):
    for n in range(50):
        make_complaint(offices.dec, subject=f"Complaint {n}", desk=desks["other"] if n % 2 else None)
    client.get("/complaints/staff/")  # the session and the user are warm now
    with django_assert_max_num_queries(11):
        first = client.get("/complaints/staff/?q=Complaint&status=open")
    html = html_of(first)
    assert html.count('name="bulk-ids"') == 25 and '<span dir="ltr">1–25</span> of 50 complaints' in html
    assert "?q=Complaint&amp;status=open&amp;page=2" in html
    with django_assert_max_num_queries(11):
        last = client.get("/complaints/staff/?q=Complaint&status=open&page=2")
    assert html_of(last).count('name="bulk-ids"') == 25 and "Page 2 of 2" in html_of(last)
    assert "page=3" not in html_of(last)


def test_an_empty_inbox_says_so_and_is_never_cached(client):
    response = client.get("/complaints/staff/")
    assert "No open complaints in your offices." in html_of(response)
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_bulk_assign_reports_the_count_and_each_refusal(
    client, offices, make_complaint, desks, memory, django_capture_on_commit_callbacks
):
    first = make_complaint(offices.dec)
    second = make_complaint(offices.dec)
    already = make_complaint(offices.dec, desk=desks["mine"], status=Status.IN_PROGRESS)
    response = post(
        client,
        django_capture_on_commit_callbacks,
        "/complaints/staff/assign/?status=open&desk=0",
        {"bulk-ids": [first.pk, second.pk, already.pk], "bulk-desk": desks["mine"].pk},
    )
    assert response.status_code == 302 and response["Location"] == "/complaints/staff/?status=open&desk=0"
    for c in (first, second):
        c.refresh_from_db()
        assert c.desk == desks["mine"] and c.status == Status.IN_PROGRESS
    assert already.events.count() == 1
    html = html_of(client.get(response["Location"]))
    assert "2 complaints were given to the desk." in html
    assert "1 complaint was not given:" in html and "already at this desk" in html
    assert len(memory.sent()) == 2


def test_bulk_assign_without_a_desk_or_a_tick_is_refused(client, offices, make_complaint, desks):
    c = make_complaint(offices.dec)
    response = client.post("/complaints/staff/assign/", {"bulk-ids": [c.pk]})
    assert response.status_code == 400
    assert field_errors(html_of(response), "bulk-desk") == "Choose a desk from the list."
    response = client.post("/complaints/staff/assign/", {"bulk-desk": desks["mine"].pk})
    assert response.status_code == 400 and "Tick the complaints to give to the desk." in html_of(response)
    c.refresh_from_db()
    assert c.desk is None and c.events.count() == 1


# --- Urdu -------------------------------------------------------------------------------------------------------


def test_the_urdu_pages_render_right_to_left(client, complaint, canned):
    inbox = client.get("/ur/complaints/staff/")
    assert inbox.status_code == 200 and 'lang="ur" dir="rtl"' in html_of(inbox) and complaint.ticket in html_of(inbox)
    page = client.get(f"/ur/complaints/staff/{complaint.pk}/")
    assert page.status_code == 200 and 'dir="rtl"' in html_of(page) and complaint.ticket in html_of(page)
    box = re.search(r'<textarea[^>]*name="reply-text"[^>]*>', html_of(page))[0]
    assert 'lang="ur"' in box and 'dir="rtl"' in box
