"""The complainant's pages: filing in two steps (the complaint, then the code sent to the mobile), the honeypot,
every bad input refused beside its field with nothing stored and nothing sent, the per-address limits, and the
tracking page (one answer for every mismatch, no internal notes or officers, answering and reopening)."""

from __future__ import annotations

import io
import os
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from complaints import services
from complaints.models import Attachment, Category, Complaint, ComplaintEvent, Desk
from complaints.ticket import ticket_number
from complaints.views_public import PENDING, PENDING_DIR, TRACKED
from core.models import OfficeKind
from sms import services as sms
from sms.models import Message, OtpChallenge
from tests.complaints.test_attachments import pdf, picture, png_bomb
from tests.factories import OfficeFactory, UserFactory
from tests.sms.conftest import fake_phone

MOBILE = fake_phone(60)  # +923000000060
NO_MATCH = "No complaint matches this ticket number and mobile number."


@pytest.fixture
def offices(db):
    cec = OfficeFactory(code="cec", kind=OfficeKind.CEC, name="Office of the CEC")
    secretary = OfficeFactory(code="secretary", kind=OfficeKind.SECRETARY, name="Secretary ECP", parent=cec)
    pec = OfficeFactory(code="pec-punjab", kind=OfficeKind.PEC, name="PEC Punjab", parent=secretary)
    rec = OfficeFactory(code="rec-lahore", kind=OfficeKind.REC, name="REC Lahore", name_ur="ریجنل لاہور", parent=pec)
    dec = OfficeFactory(code="dec-lahore", kind=OfficeKind.DEC, name="DEC Lahore", name_ur="ڈسٹرکٹ لاہور", parent=rec)
    return {"cec": cec, "pec": pec, "rec": rec, "dec": dec}


@pytest.fixture
def category(db):
    return Category.objects.create(code="polling-station", name="Polling station", name_ur="پولنگ اسٹیشن")


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST through the test client, then run what the request left for after the commit (the SMS)."""

    def run(url, data=None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data or {}, **extra)

    return run


def form_data(offices, category, /, **changes) -> dict:
    data = {
        "name": "Sana Javed",
        "cnic": "35202-1234567-3",
        "mobile": "0300 0000060",
        "email": "",
        "office": offices["dec"].pk,
        "category": category.pk,
        "subject": "Polling station moved without notice",
        "description": "The station in my block was moved to a school 6 km away.",
        "latitude": "",
        "longitude": "",
        "website": "",
    }
    return {**data, **changes}


def code_sent(memory, to: str = MOBILE) -> str:
    body = [m.body for m in memory.sent() if m.to == to][-1]
    return re.search(r"\b(\d{6})\b", body)[1]


def png_file(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, picture("PNG"), content_type="image/png")


def pending_folders(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / PENDING_DIR
    return list(root.iterdir()) if root.exists() else []


# --- filing ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_filing_page_lists_offices_by_level_and_the_categories(client, offices, category):
    response = client.get("/complaints/")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("no-store")
    html = response.content.decode()
    assert '<optgroup label="Election Commission Secretariat">' in html
    assert '<optgroup label="PEC Punjab">' in html
    assert "\u00a0" * 6 + "DEC Lahore<" in html  # two levels under the PEC
    assert "Polling station" in html
    assert 'name="website"' in html and 'tabindex="-1"' in html


@pytest.mark.django_db
def test_a_citizen_files_in_two_steps_with_the_code_sent_to_the_mobile(
    client, post, memory, settings, offices, category
):
    response = post("/complaints/", {**form_data(offices, category), "attachments": [png_file(), png_file("b.png")]})
    assert response.status_code == 302 and response["Location"] == "/complaints/verify/"
    assert not Complaint.objects.exists()  # nothing is filed before the code
    assert len(memory.sent()) == 1 and memory.sent()[0].to == MOBILE
    [folder] = pending_folders(settings)
    assert sorted(p.name for p in folder.iterdir()) == ["0", "1"]
    assert "bytes" not in str(client.session[PENDING]) and client.session[PENDING]["files"] == ["photo.png", "b.png"]

    page = client.get("/complaints/verify/")
    assert page.status_code == 200 and "+92300•••0060" in page.content.decode()

    response = post("/complaints/verify/", {"code": code_sent(memory)})
    assert response.status_code == 302 and response["Location"] == "/complaints/filed/"
    complaint = Complaint.objects.get()
    assert complaint.office == offices["dec"] and complaint.mobile == MOBILE and complaint.language == "en"
    assert Attachment.objects.filter(complaint=complaint).count() == 2
    assert complaint.ticket in memory.sent()[-1].body and memory.sent()[-1].to == MOBILE
    assert pending_folders(settings) == [] and PENDING not in client.session

    filed = client.get("/complaints/filed/")
    assert filed.status_code == 200 and complaint.ticket in filed.content.decode()
    assert "by SMS" in filed.content.decode()
    status = client.get("/complaints/track/status/")  # the session may follow the complaint just filed
    assert status.status_code == 200 and complaint.ticket in status.content.decode()


@pytest.mark.django_db
def test_the_honeypot_pretends_success_and_stores_and_sends_nothing(client, post, memory, settings, offices, category):
    data = {**form_data(offices, category, website="http://spam.example"), "attachments": [png_file()]}
    response = post("/complaints/", data)
    assert response.status_code == 200
    assert "Enter the code" in response.content.decode()
    assert memory.sent() == [] and not Message.objects.exists() and not OtpChallenge.objects.exists()
    assert not Complaint.objects.exists() and pending_folders(settings) == []
    assert PENDING not in client.session


def too_large_png() -> bytes:
    """A picture of noise: it does not compress, so it stays larger than the (lowered) size limit."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (60, 60), os.urandom(60 * 60 * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"cnic": "35202-123456"}, "cnic"),
        ({"cnic": "abc"}, "cnic"),
        ({"mobile": "12345"}, "mobile"),
        ({"mobile": "051 1234567"}, "mobile"),  # a landline
        ({"email": "not an email"}, "email"),
        ({"office": "999999"}, "office"),
        ({"office": "abc"}, "office"),
        ({"category": "999999"}, "category"),
        ({"subject": ""}, "subject"),
        ({"description": "   "}, "description"),
        ({"latitude": "33.7", "longitude": ""}, "latitude"),
    ],
)
def test_a_bad_field_is_named_with_status_400_and_nothing_is_stored_or_sent(
    client, post, memory, settings, offices, category, changes, field
):
    response = post("/complaints/", form_data(offices, category, **changes))
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors
    html = response.content.decode()
    assert 'id="cmp-error-summary"' in html and f'href="#id_{field}"' in html
    assert not Complaint.objects.exists() and not OtpChallenge.objects.exists() and memory.sent() == []
    assert pending_folders(settings) == []
    kept = {k: v for k, v in form_data(offices, category).items() if k in ("name", "subject") and k != field}
    for value in kept.values():
        assert value in html  # the typed values stay


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("files", "code"),
    [
        (lambda: [png_file(f"{n}.png") for n in range(4)], "Attach at most 3 files."),
        (lambda: [SimpleUploadedFile("photo.jpg", b"this is text, not a picture", "image/jpeg")], "not a JPEG"),
        (lambda: [SimpleUploadedFile("big.png", too_large_png(), "image/png")], "larger than"),
        (lambda: [SimpleUploadedFile("bomb.png", png_bomb(), "image/png")], "more pixels"),
        (lambda: [SimpleUploadedFile("cut.jpg", picture("JPEG", (300, 200))[:600], "image/jpeg")], "damaged"),
        (lambda: [SimpleUploadedFile("empty.pdf", b"", "application/pdf")], "empty"),
    ],
    ids=["too_many", "text_as_jpg", "too_large", "bomb", "truncated_jpeg", "empty"],
)
def test_a_bad_attachment_is_named_and_nothing_is_stored_or_sent(
    client, post, memory, settings, offices, category, files, code
):
    settings.COMPLAINTS_ATTACHMENT_MAX_BYTES = 2_000
    response = post("/complaints/", {**form_data(offices, category), "attachments": files()})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["attachments"] and code in errors["attachments"][0]
    assert "Choose the files again" in response.content.decode()
    assert not Complaint.objects.exists() and not OtpChallenge.objects.exists() and memory.sent() == []
    assert pending_folders(settings) == []


@pytest.mark.django_db
def test_a_pdf_and_a_picture_together_are_accepted(client, post, memory, offices, category):
    files = [png_file(), SimpleUploadedFile("letter.pdf", pdf(), "application/pdf")]
    response = post("/complaints/", {**form_data(offices, category), "attachments": files})
    assert response.status_code == 302
    post("/complaints/verify/", {"code": code_sent(memory)})
    assert sorted(Attachment.objects.values_list("content_type", flat=True)) == ["application/pdf", "image/png"]


@pytest.mark.django_db
def test_a_wrong_code_is_refused_and_the_right_one_still_files(client, post, memory, offices, category):
    post("/complaints/", form_data(offices, category))
    right = code_sent(memory)
    wrong = "000000" if right != "000000" else "111111"
    response = post("/complaints/verify/", {"code": wrong})
    assert response.status_code == 400
    assert "code" in response.context["form"].errors and not Complaint.objects.exists()
    assert post("/complaints/verify/", {"code": ""}).status_code == 400
    response = post("/complaints/verify/", {"code": right})
    assert response.status_code == 302 and Complaint.objects.count() == 1


@pytest.mark.django_db
def test_send_the_code_again_sends_a_new_code_that_files(client, post, memory, offices, category):
    post("/complaints/", form_data(offices, category))
    first = client.session[PENDING]["challenge"]
    response = post("/complaints/verify/resend/")
    assert response.status_code == 302 and len(memory.sent()) == 2
    assert client.session[PENDING]["challenge"] != first
    assert post("/complaints/verify/", {"code": code_sent(memory)}).status_code == 302
    assert Complaint.objects.count() == 1


@pytest.mark.django_db
def test_the_numbers_own_code_limit_is_shown_beside_the_mobile(client, post, memory, settings, offices, category):
    settings.SMS_OTP_PER_PHONE = 1
    post("/complaints/", form_data(offices, category))
    response = post("/complaints/", form_data(offices, category))
    assert response.status_code == 429 and "mobile" in response.context["form"].errors
    assert len(memory.sent()) == 1


@pytest.mark.django_db
def test_code_requests_are_limited_per_address(client, post, memory, settings, offices, category):
    settings.COMPLAINTS_FILINGS_PER_IP_HOUR = 2
    for n in range(2):
        assert post("/complaints/", form_data(offices, category, mobile=fake_phone(61 + n))).status_code == 302
    response = post("/complaints/", form_data(offices, category, mobile=fake_phone(63)))
    assert response.status_code == 429
    assert "Too many complaints were started from this connection" in response.content.decode()
    assert len(memory.sent()) == 2 and OtpChallenge.objects.count() == 2
    other = post("/complaints/", form_data(offices, category, mobile=fake_phone(64)), REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302
    assert post("/complaints/verify/resend/").status_code == 429  # "send again" counts as well


@pytest.mark.django_db
def test_step_two_without_step_one_starts_again(client, post, memory):
    assert client.get("/complaints/verify/")["Location"] == "/complaints/"
    assert post("/complaints/verify/", {"code": "123456"})["Location"] == "/complaints/"
    assert client.get("/complaints/filed/")["Location"] == "/complaints/"
    assert memory.sent() == []


@pytest.mark.django_db
def test_change_the_details_brings_the_typed_values_back(client, post, memory, offices, category):
    post("/complaints/", form_data(offices, category, subject="A subject to find again"))
    page = client.get("/complaints/?edit=1")
    assert page.status_code == 200 and "A subject to find again" in page.content.decode()


# --- tracking ------------------------------------------------------------------------------------------------


def _file(memory, offices, category, mobile: str = MOBILE) -> Complaint:
    challenge = sms.otp_send(phone=mobile, purpose="complaint")
    code = re.search(r"\d{6}", Message.objects.filter(to=mobile).latest("id").body)[0]
    sms.otp_verify(challenge_id=challenge.pk, code=code, purpose="complaint")
    data = {**form_data(offices, category), "mobile": mobile}
    return services.complaint_file(data=data, otp_challenge_id=challenge.pk, language="en")


@pytest.fixture
def officer(db):
    return UserFactory(username="faraz", first_name="Faraz", last_name="Qureshi", is_superuser=True, is_staff=True)


@pytest.fixture
def moved(memory, offices, category, officer):
    """A complaint given to a desk at the district, forwarded to the region (with an internal reason), given
    to a desk there, with an internal note and a public reply."""
    complaint = _file(memory, offices, category)
    district = Desk.objects.create(office=offices["dec"], name="Complaints desk", name_ur="شکایات ڈیسک")
    region = Desk.objects.create(office=offices["rec"], name="Regional desk", officer=officer)
    services.complaint_assign(actor=officer, complaint_id=complaint.pk, desk_id=district.pk)
    services.complaint_note(actor=officer, complaint_id=complaint.pk, text="SECRET internal note")
    services.complaint_forward(
        actor=officer, complaint_id=complaint.pk, office_id=offices["rec"].pk, note="SECRET forward reason"
    )
    services.complaint_assign(actor=officer, complaint_id=complaint.pk, desk_id=region.pk)
    services.complaint_reply(actor=officer, complaint_id=complaint.pk, text="PUBLIC reply: we are on it.")
    complaint.refresh_from_db()
    return complaint


def track(post, ticket: str, last4: str, **extra):
    return post("/complaints/track/", {"ticket": ticket, "last4": last4}, **extra)


@pytest.mark.django_db
def test_the_right_ticket_and_digits_show_the_stops_and_public_replies_only(client, post, moved, officer):
    response = track(post, moved.ticket.lower().replace("-", " "), "0060")
    assert response.status_code == 302 and response["Location"] == "/complaints/track/status/"
    page = client.get("/complaints/track/status/")
    assert page.status_code == 200 and page["Cache-Control"].startswith("no-store")
    html = page.content.decode()
    assert moved.ticket in html and "In progress" in html
    stops = re.findall(r'<p class="cmp-stop__office">(.*?)</p>', html, re.S)
    assert [re.sub(r"<[^>]+>|\s+", " ", s).split() for s in stops] == [
        ["DEC", "Lahore"],
        ["DEC", "Lahore", "·", "Complaints", "desk"],
        ["REC", "Lahore"],
        ["REC", "Lahore", "·", "Regional", "desk"],
    ]
    assert "PUBLIC reply: we are on it." in html and "Forwarded to another office" in html
    for private in ("SECRET", "Faraz", "Qureshi", "faraz", "3520212345673", "35202-1234567-3", MOBILE, "Internal"):
        assert private not in html
    assert "REC Lahore" in re.search(r"Office now holding it</dt><dd>(.*?)</dd>", html)[1]


@pytest.mark.django_db
def test_the_tracking_page_speaks_urdu(client, post, moved):
    track(post, moved.ticket, "0060")
    page = client.get("/ur/complaints/track/status/")
    html = page.content.decode()
    assert page.status_code == 200 and 'dir="rtl"' in html
    assert "ریجنل لاہور" in html and "شکایات ڈیسک" in html and "پولنگ اسٹیشن" in html


def _alert(response) -> str:
    return re.search(
        r'<div class="cmp-alert" role="alert" id="cmp-no-match">(.*?)</div>', response.content.decode(), re.S
    )[1]


@pytest.mark.django_db
def test_every_mismatch_gets_the_same_404(client, post, moved, settings):
    forged = moved.ticket[:-1] + ("A" if moved.ticket[-1] != "A" else "B")  # a wrong check character
    unknown = ticket_number(moved.year, 12345, settings.SECRET_KEY.encode())  # well formed, never issued
    cases = [(moved.ticket, "9999"), (moved.ticket, "60"), (forged, "0060"), (unknown, "0060"), ("garbage!", "0060")]
    responses = [track(post, ticket, last4) for ticket, last4 in cases]
    assert [r.status_code for r in responses] == [404] * len(cases)
    alerts = {_alert(r) for r in responses}
    assert len(alerts) == 1 and NO_MATCH in alerts.pop()
    assert TRACKED not in client.session
    for response in responses:  # the digits are not kept on the page
        assert 'name="last4"' in response.content.decode() and 'value="9999"' not in response.content.decode()


@pytest.mark.django_db
def test_empty_tracking_fields_are_named(client, post):
    response = track(post, "", "")
    assert response.status_code == 400 and set(response.context["form"].errors) == {"ticket", "last4"}


@pytest.mark.django_db
def test_tracking_attempts_are_limited_per_address(client, post, moved, settings):
    settings.COMPLAINTS_TRACKING_PER_IP = 2
    assert track(post, moved.ticket, "1111").status_code == 404
    assert track(post, moved.ticket, "2222").status_code == 404
    response = track(post, moved.ticket, "0060")  # even the right numbers, once over the limit
    assert response.status_code == 429 and "Too many tracking attempts" in response.content.decode()
    assert TRACKED not in client.session
    assert track(post, moved.ticket, "0060", REMOTE_ADDR="10.0.0.8").status_code == 302


@pytest.mark.django_db
def test_the_ticket_can_be_prefilled(client):
    page = client.get("/complaints/track/?ticket=CMS-2026-4F7K9Q")
    assert page.status_code == 200 and 'value="CMS-2026-4F7K9Q"' in page.content.decode()


@pytest.mark.django_db
def test_the_authorisation_covers_one_complaint_for_30_minutes(client, post, moved):
    track(post, moved.ticket, "0060")
    session = client.session
    assert session[TRACKED]["id"] == moved.pk and session[TRACKED]["until"] <= time.time() + 30 * 60
    session[TRACKED] = {**session[TRACKED], "until": time.time() - 1}
    session.save()
    assert client.get("/complaints/track/status/")["Location"] == "/complaints/track/"


@pytest.mark.django_db
def test_the_complainant_answers_a_question_and_the_complaint_is_in_progress_again(
    client, post, memory, moved, officer
):
    services.complaint_request_info(actor=officer, complaint_id=moved.pk, text="Which school is it?")
    track(post, moved.ticket, "0060")
    page = client.get("/complaints/track/status/").content.decode()
    assert "The office needs more information" in page and "Which school is it?" in page
    assert post("/complaints/track/answer/", {"ticket": moved.ticket, "text": ""}).status_code == 400
    response = post("/complaints/track/answer/", {"ticket": moved.ticket, "text": "Government Girls School No. 4"})
    assert response.status_code == 302
    moved.refresh_from_db()
    assert moved.status == "in_progress" and moved.resolution_due is not None
    event = ComplaintEvent.objects.filter(complaint=moved).latest("id")
    assert (event.kind, event.text, event.actor) == ("info_received", "Government Girls School No. 4", None)
    again = post("/complaints/track/answer/", {"ticket": moved.ticket, "text": "more"})  # nothing asked now
    assert again.status_code == 409 and ComplaintEvent.objects.filter(kind="info_received").count() == 1


@pytest.mark.django_db
def test_answering_needs_the_tracked_complaint_in_the_session(client, post, moved, officer):
    services.complaint_request_info(actor=officer, complaint_id=moved.pk, text="Which school?")
    response = post("/complaints/track/answer/", {"ticket": moved.ticket, "text": "School 4"})
    assert response["Location"] == "/complaints/track/"
    track(post, moved.ticket, "0060")
    response = post("/complaints/track/answer/", {"ticket": "CMS-2026-0000000", "text": "School 4"})
    assert response["Location"] == "/complaints/track/"
    moved.refresh_from_db()
    assert moved.status == "waiting"


@pytest.mark.django_db
def test_a_resolved_complaint_is_reopened_within_the_window(client, post, moved, officer):
    services.complaint_resolve(actor=officer, complaint_id=moved.pk, text="Restored on the roll.")
    track(post, moved.ticket, "0060")
    page = client.get("/complaints/track/status/").content.decode()
    assert "Reopen the complaint" in page and "Restored on the roll." in page
    unconfirmed = post("/complaints/track/reopen/", {"ticket": moved.ticket, "reason": "Still not on the roll."})
    assert unconfirmed.status_code == 400 and "confirm" in unconfirmed.context["reopen_form"].errors
    response = post(
        "/complaints/track/reopen/", {"ticket": moved.ticket, "reason": "Still not on the roll.", "confirm": "on"}
    )
    assert response.status_code == 302
    moved.refresh_from_db()
    assert moved.status == "in_progress" and moved.resolved_at is None
    assert ComplaintEvent.objects.filter(complaint=moved, kind="reopened", text="Still not on the roll.").exists()


@pytest.mark.django_db
def test_reopening_is_refused_after_the_window(client, post, moved, officer, settings):
    services.complaint_resolve(actor=officer, complaint_id=moved.pk, text="Restored on the roll.")
    past = timezone.now() - timedelta(days=settings.COMPLAINTS_REOPEN_DAYS, hours=1)
    Complaint.objects.filter(pk=moved.pk).update(resolved_at=past)
    track(post, moved.ticket, "0060")
    assert "Reopen the complaint" not in client.get("/complaints/track/status/").content.decode()
    response = post("/complaints/track/reopen/", {"ticket": moved.ticket, "reason": "Still wrong.", "confirm": "on"})
    assert response.status_code == 409
    assert "days after it was resolved" in response.content.decode()
    moved.refresh_from_db()
    assert moved.status == "resolved"


# --- Urdu ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/ur/complaints/", "/ur/complaints/track/"])
def test_the_urdu_pages_render_right_to_left(client, offices, category, url):
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200 and '<html lang="ur" dir="rtl"' in html
    if url == "/ur/complaints/":
        assert "ڈسٹرکٹ لاہور" in html and "پولنگ اسٹیشن" in html


@pytest.mark.django_db
def test_a_complaint_filed_in_urdu_is_urdu(client, post, memory, offices, category):
    assert post("/ur/complaints/", form_data(offices, category))["Location"] == "/ur/complaints/verify/"
    assert post("/ur/complaints/verify/", {"code": code_sent(memory)})["Location"] == "/ur/complaints/filed/"
    assert Complaint.objects.get().language == "ur"
