"""The desks' screens' permission matrix (issue 7): who sees which complaints in the inbox, which ticket pages
and attachments open (200) and which do not exist for them (404, the same as an unknown id), who is refused
the screens altogether (403 for staff without a complaints role, the sign-in for anyone else), and that an
action posted on a complaint outside the user's scope changes nothing: same status, no event, no audit row.

Hierarchy (tests/complaints/conftest.py): CEC → Secretary → PEC Punjab → REC Lahore → DEC Lahore and DEC Kasur;
PEC Sindh → REC Karachi → DEC Karachi. A desk officer sees only the office of the role; a complaints supervisor
sees the office and every office below it; an administrator sees all."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from complaints.models import Attachment, ComplaintEvent, Status
from core.models import AuditEvent, Role, RoleAssignment
from tests.factories import UserFactory
from tests.staff import signed_in

pytestmark = pytest.mark.django_db

PLACES = ("secretary", "pec", "rec", "dec", "dec2", "dec_karachi")
SEES = {
    "desk_officer": {"dec"},
    "rec_supervisor": {"rec", "dec", "dec2"},
    "pec_supervisor": {"pec", "rec", "dec", "dec2"},
    "admin": set(PLACES),
}


@pytest.fixture(autouse=True)
def _demo_skip(settings):
    settings.OTP_DEMO_SKIP = True


@pytest.fixture
def world(offices, make_complaint, desk_for):
    """A complaint, with a picture attached, at each office of PLACES; the users of the matrix."""
    complaints, attachments = {}, {}
    for place in PLACES:
        office = getattr(offices, place)
        complaint = make_complaint(office, subject=f"Trouble at {place}")
        attachment = Attachment(
            complaint=complaint, name=f"{place}.png", content_type="image/png", size=8, sha256="0" * 64
        )
        attachment.file.save("upload.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=False)
        attachment.save()
        complaints[place], attachments[place] = complaint, attachment

    def person(username: str, role: str | None, office=None):
        user = UserFactory(username=username)
        if role:
            RoleAssignment.objects.create(user=user, role=role, office=office)
        return user

    users = {
        "desk_officer": person("desk-a", Role.DESK_OFFICER, offices.dec),
        "rec_supervisor": person("rec-sup", Role.COMPLAINTS_SUPERVISOR, offices.rec),
        "pec_supervisor": person("pec-sup", Role.COMPLAINTS_SUPERVISOR, offices.pec),
        "admin": person("boss", Role.ADMIN),
        "sms_officer": person("sms", Role.SMS_OFFICER),
    }
    desk_for(offices.dec, users["desk_officer"], name="Desk A")
    return complaints, attachments, users


def _client(users, who: str) -> Client:
    return Client() if who == "anonymous" else signed_in(users[who])


@pytest.mark.parametrize("who", [*SEES, "sms_officer", "anonymous"])
def test_the_inbox_lists_only_the_complaints_in_scope(world, who):
    complaints, _attachments, users = world
    response = _client(users, who).get("/complaints/staff/?status=all")
    if who == "anonymous":
        assert response.status_code == 302 and "/staff/login" in response["Location"]
        return
    if who == "sms_officer":
        assert response.status_code == 403
        assert "complaints staff" in response.content.decode()
        assert not any(c.ticket in response.content.decode() for c in complaints.values())
        return
    assert response.status_code == 200
    html = response.content.decode()
    listed = {place for place, c in complaints.items() if c.ticket in html}
    assert listed == SEES[who]


@pytest.mark.parametrize("who", [*SEES, "sms_officer", "anonymous"])
def test_ticket_pages_and_attachments_open_only_in_scope(world, who):
    complaints, attachments, users = world
    client = _client(users, who)
    for place in PLACES:
        page = client.get(f"/complaints/staff/{complaints[place].pk}/")
        download = client.get(f"/complaints/staff/attachment/{attachments[place].pk}/")
        if who == "anonymous":
            assert page.status_code == download.status_code == 302
        elif who == "sms_officer":
            assert page.status_code == download.status_code == 403
        elif place in SEES[who]:
            assert page.status_code == 200, place
            assert complaints[place].ticket in page.content.decode()
            assert download.status_code == 200, place
            assert b"".join(download.streaming_content) == b"\x89PNG\r\n\x1a\n"
            assert download["Content-Disposition"].startswith("attachment")
        else:
            assert page.status_code == 404, place
            assert download.status_code == 404, place
    # An id that exists nowhere looks the same as one out of scope.
    if who in SEES:
        assert client.get("/complaints/staff/999999/").status_code == 404
        assert client.get("/complaints/staff/attachment/999999/").status_code == 404


ACTIONS = [
    ("note", {"note-text": "Looked at it"}),
    ("reply", {"reply-text": "We are on it"}),
    ("request-info", {"info-text": "Which station?"}),
    ("resolve", {"resolve-text": "Fixed", "resolve-confirm": "on"}),
    ("forward", {"forward-office": "{dec}", "forward-note": "Theirs"}),
    ("assign", {"assign-desk": "{desk}", "assign-note": ""}),
    ("close", {}),
]


@pytest.mark.parametrize(("action", "data"), ACTIONS)
@pytest.mark.parametrize("who", ["desk_officer", "rec_supervisor"])
def test_an_action_on_a_complaint_out_of_scope_changes_nothing(world, offices, who, action, data):
    complaints, _attachments, users = world
    target = complaints["dec_karachi"] if who == "rec_supervisor" else complaints["dec2"]
    desk = users["desk_officer"].complaint_desks.get()
    data = {k: v.format(dec=offices.dec.pk, desk=desk.pk) for k, v in data.items()}
    events, audits = ComplaintEvent.objects.count(), AuditEvent.objects.count()
    response = signed_in(users[who]).post(f"/complaints/staff/{target.pk}/{action}/", data)
    assert response.status_code == 404
    target.refresh_from_db()
    assert (target.status, target.office_id, target.desk_id) == (Status.NEW, target.addressed_to_id, None)
    assert ComplaintEvent.objects.count() == events and AuditEvent.objects.count() == audits


@pytest.mark.parametrize("action", ["note", "assign", "bulk"])
def test_staff_without_the_role_cannot_act(world, action):
    complaints, _attachments, users = world
    target = complaints["dec"]
    audits = AuditEvent.objects.count()
    client = signed_in(users["sms_officer"])
    if action == "bulk":
        response = client.post("/complaints/staff/assign/", {"bulk-ids": [target.pk], "bulk-desk": "1"})
    else:
        response = client.post(f"/complaints/staff/{target.pk}/{action}/", {"note-text": "x", "assign-desk": "1"})
    assert response.status_code == 403
    assert AuditEvent.objects.count() == audits and target.events.count() == 1


def test_bulk_assign_never_reaches_outside_the_scope(world):
    complaints, _attachments, users = world
    desk = users["desk_officer"].complaint_desks.get()
    response = signed_in(users["desk_officer"]).post(
        "/complaints/staff/assign/", {"bulk-ids": [complaints["dec"].pk, complaints["dec2"].pk], "bulk-desk": desk.pk}
    )
    assert response.status_code == 302
    complaints["dec"].refresh_from_db()
    complaints["dec2"].refresh_from_db()
    assert complaints["dec"].desk == desk and complaints["dec2"].desk is None
    assert complaints["dec2"].events.count() == 1


def test_a_forward_takes_the_complaint_out_of_the_desk_officers_scope(world, offices):
    complaints, _attachments, users = world
    client = signed_in(users["desk_officer"])
    complaint = complaints["dec"]
    response = client.post(
        f"/complaints/staff/{complaint.pk}/forward/",
        {"forward-office": offices.dec_karachi.pk, "forward-note": "Their district"},
    )
    assert response.status_code == 302 and response["Location"] == "/complaints/staff/"
    assert client.get(f"/complaints/staff/{complaint.pk}/").status_code == 404
    assert complaint.ticket not in client.get("/complaints/staff/?status=all").content.decode()
    # The administrator still sees it, now at Karachi; the REC supervisor no longer does.
    assert signed_in(users["admin"]).get(f"/complaints/staff/{complaint.pk}/").status_code == 200
    assert signed_in(users["rec_supervisor"]).get(f"/complaints/staff/{complaint.pk}/").status_code == 404
