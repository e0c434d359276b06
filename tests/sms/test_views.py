"""The SMS staff screens: who may open them (every page: an SMS officer in English and Urdu, 403 for other
staff, the sign-in for anyone else), the campaign flow through the pages (preview, create, maker-checker,
cancel with confirmation), the import report, the live counter endpoint, the live counts, the CSV export,
reports with their chart, message search and the single-message form. Refusals change nothing."""

from __future__ import annotations

import csv
import datetime
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from core.models import AuditEvent, Role, RoleAssignment
from sms import services
from sms.models import Campaign, CampaignStatus, Contact, ContactGroup, Message, MessageStatus, OptOut
from tests.core.test_admin import verified_login
from tests.factories import UserFactory
from tests.sms.conftest import fake_phone
from tests.staff import field_errors, html_of, signed_in

pytestmark = pytest.mark.django_db

KARACHI = ZoneInfo("Asia/Karachi")
SOON = (datetime.datetime.now(KARACHI) + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture(autouse=True)
def _demo_skip(settings):
    settings.OTP_DEMO_SKIP = True


def make_campaign(maker, group, **extra) -> Campaign:
    return services.campaign_create(
        actor=maker, title="Cards", audience_key=f"group:{group.pk}", template_en="Hello {name}", **extra
    )


def sent_campaign(committed, maker, checker, group) -> Campaign:
    campaign = make_campaign(maker, group)
    committed(services.campaign_approve, actor=checker, campaign=campaign)
    campaign.refresh_from_db()
    return campaign


# --- who may open what ---------------------------------------------------------------------------------------

GET_PAGES = [
    "/sms/",
    "/sms/contacts/",
    "/sms/contacts/?q=Reporter&group={group}",
    "/sms/contacts/import/",
    "/sms/campaigns/",
    "/sms/campaigns/?q=Cards&status=pending",
    "/sms/campaigns/new/",
    "/sms/campaigns/{campaign}/",
    "/sms/campaigns/{campaign}/cancel/",
    "/sms/messages/",
    "/sms/messages/?phone=03000000001",
    "/sms/reports/",
    "/sms/reports/?days=7",
]
DOWNLOADS = [
    "/sms/contacts/sample.csv",
    "/sms/campaigns/{campaign}/counts.json",
    "/sms/campaigns/{campaign}/messages.csv",
]


@pytest.fixture
def paths(maker, media_group):
    campaign = make_campaign(maker, media_group)
    return {"group": media_group.pk, "campaign": campaign.pk}


@pytest.mark.parametrize("path", GET_PAGES)
def test_every_page_renders_for_an_officer_in_english_and_urdu(path, paths, checker):
    url = path.format(**paths)
    officer = signed_in(checker)
    english = officer.get(url)
    assert english.status_code == 200 and 'lang="en"' in html_of(english)
    urdu = officer.get("/ur" + url)
    assert urdu.status_code == 200 and 'dir="rtl"' in html_of(urdu)


@pytest.mark.parametrize("path", GET_PAGES + DOWNLOADS)
def test_other_staff_get_403_and_anonymous_visitors_the_sign_in(path, paths):
    url = path.format(**paths)
    omr = UserFactory(username="omr", is_staff=True)
    RoleAssignment.objects.create(user=omr, role=Role.OMR_OPERATOR)
    assert signed_in(omr).get(url).status_code == 403
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/staff/login/?next=")


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/sms/segments/", {"text": "hello"}),
        ("/sms/campaigns/new/", {"title": "X", "create": "1"}),
        ("/sms/campaigns/{campaign}/approve/", {}),
        ("/sms/campaigns/{campaign}/cancel/", {}),
        ("/sms/contacts/", {"name": "New group"}),
        ("/sms/messages/", {"to": "03000000001", "body": "Hi", "language": "en", "purpose": "notification"}),
    ],
)
def test_writes_are_refused_to_other_staff_and_change_nothing(path, data, paths):
    clerk = signed_in(UserFactory(username="clerk", is_staff=True))
    before = (Campaign.objects.values_list("status", flat=True).get(), ContactGroup.objects.count())
    before += (Message.objects.count(), AuditEvent.objects.count())
    assert clerk.post(path.format(**paths), data).status_code == 403
    after = (Campaign.objects.values_list("status", flat=True).get(), ContactGroup.objects.count())
    assert after + (Message.objects.count(), AuditEvent.objects.count()) == before


def test_an_administrator_sees_the_screens_without_the_sms_role(paths):
    admin = UserFactory(username="boss", is_staff=True)
    RoleAssignment.objects.create(user=admin, role=Role.ADMIN)
    assert signed_in(admin).get("/sms/").status_code == 200


def test_a_password_alone_is_sent_to_the_second_factor(maker):
    client = Client()
    client.force_login(maker)  # not a demo account and no OTP device verified
    response = client.get("/sms/campaigns/")
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/enrol/?next=")


def test_a_session_past_the_real_second_factor_gets_in(client, maker):
    verified_login(client, maker)
    assert client.get("/sms/").status_code == 200


# --- dashboard -----------------------------------------------------------------------------------------------


def test_the_dashboard_lists_what_waits_for_this_officer_and_not_their_own(maker, checker, media_group):
    theirs = make_campaign(maker, media_group)
    mine = services.campaign_create(
        actor=checker, title="My own", audience_key=f"group:{media_group.pk}", template_en="Hi"
    )
    html = html_of(signed_in(checker).get("/sms/"))
    waiting = html.split('id="waiting-title"')[1].split("</section>")[0]
    assert f"/sms/campaigns/{theirs.pk}/" in waiting and f"/sms/campaigns/{mine.pk}/" not in waiting
    assert "1 campaign you made is waiting for another officer." in html


# --- contacts ------------------------------------------------------------------------------------------------


def test_contacts_search_by_name_number_or_organisation_and_filter_by_group(maker, media_group):
    other = ContactGroup.objects.create(name="Lawyers")
    lawyer = Contact.objects.create(name="Saad Advocate", phone=fake_phone(500), organisation="Lahore Bar")
    lawyer.groups.add(other)
    client = signed_in(maker)
    assert "Saad Advocate" in html_of(client.get("/sms/contacts/", {"q": "lahore bar"}))
    for typed in ("0000500", "0300 0000500", "+92 300 0000500", "۰۳۰۰۰۰۰۰۵۰۰"):
        by_number = html_of(client.get("/sms/contacts/", {"q": typed}))
        assert "Saad Advocate" in by_number and "Reporter 1" not in by_number, typed
    by_group = html_of(client.get("/sms/contacts/", {"group": media_group.pk}))
    assert "Reporter 1" in by_group and "Saad Advocate" not in by_group
    assert "No contacts match this search." in html_of(client.get("/sms/contacts/", {"q": "nobody at all"}))


def test_contacts_are_paginated_25_a_page_keeping_the_search(maker):
    Contact.objects.bulk_create([Contact(name=f"Person {n:02d}", phone=fake_phone(600 + n)) for n in range(30)])
    client = signed_in(maker)
    first = html_of(client.get("/sms/contacts/", {"q": "Person"}))
    assert first.count('<th scope="row"><bdi>Person') == 25 and "?q=Person&amp;page=2" in first
    second = html_of(client.get("/sms/contacts/", {"q": "Person", "page": 2}))
    assert second.count('<th scope="row"><bdi>Person') == 5 and "Page 2 of 2" in second
    assert client.get("/sms/contacts/", {"page": "999"}).status_code == 200  # out of range: the last page


def test_the_contact_list_does_not_query_per_row(maker, django_assert_max_num_queries):
    group = ContactGroup.objects.create(name="Media")
    for n in range(25):
        Contact.objects.create(name=f"P{n}", phone=fake_phone(700 + n)).groups.add(group)
    client = signed_in(maker)
    with django_assert_max_num_queries(14):
        assert client.get("/sms/contacts/").status_code == 200


def test_a_group_is_made_from_the_contacts_page_and_a_repeat_is_refused_beside_the_name(maker):
    client = signed_in(maker)
    made = client.post("/sms/contacts/", {"name": "  Returning   Officers ", "name_ur": "ریٹرننگ افسران"})
    assert made.status_code == 302 and ContactGroup.objects.get().name == "Returning Officers"
    again = client.post("/sms/contacts/", {"name": "returning officers"})
    assert again.status_code == 200 and "exists already" in field_errors(html_of(again), "name")
    assert ContactGroup.objects.count() == 1


# --- import --------------------------------------------------------------------------------------------------


def upload(text: str, name: str = "contacts.csv", encoding: str = "utf-8") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def test_the_import_reports_bad_rows_with_their_line_and_keeps_the_good_ones(maker):
    text = (
        "name,phone,language,organisation,groups\n"
        "Good One,03000000001,en,Daily Example,Media\n"
        "Bad Number,123,ur,,\n"
        "عائشہ خان,+923000000002,ur,,Media;Lahore\n"
        ",03000000003,en,,\n"
        "Wrong Language,03000000004,fr,,\n"
    )
    response = signed_in(maker).post("/sms/contacts/import/", {"file": upload(text), "new_group": "Lawyers"})
    html = html_of(response)
    assert response.status_code == 200
    assert "Imported: 2 added, 0 updated, 3 rows skipped." in html
    rows = re.findall(r'<td class="num" dir="ltr">(\d+)</td><td dir="ltr"><code>(\w+)</code></td>', html)
    assert rows == [("3", "phone"), ("5", "name"), ("6", "language")]
    assert set(Contact.objects.values_list("phone", flat=True)) == {"+923000000001", "+923000000002"}
    assert set(ContactGroup.objects.get(name="Lawyers").contacts.values_list("phone", flat=True)) == {
        "+923000000001",
        "+923000000002",
    }
    assert set(ContactGroup.objects.values_list("name", flat=True)) == {"Lawyers", "Media", "Lahore"}


def test_a_second_import_of_the_same_numbers_updates_them(maker, media_group):
    text = "name,phone\nRenamed Reporter,+923000000000\n"
    html = html_of(signed_in(maker).post("/sms/contacts/import/", {"file": upload(text), "group": media_group.pk}))
    assert "Imported: 0 added, 1 updated, 0 rows skipped." in html
    assert Contact.objects.get(phone="+923000000000").name == "Renamed Reporter"


def test_a_file_that_is_not_utf8_is_refused_beside_the_field_and_nothing_is_saved(maker):
    client = signed_in(maker)
    response = client.post("/sms/contacts/import/", {"file": upload("name,phone\nÅse,0300\n", encoding="utf-16")})
    assert "not UTF-8" in field_errors(html_of(response), "file")
    assert not Contact.objects.exists() and not AuditEvent.objects.exists()


def test_a_file_without_the_columns_is_refused_beside_the_field_and_leaves_no_new_group(maker):
    response = signed_in(maker).post(
        "/sms/contacts/import/", {"file": upload("naam,mobile\nA,03000000001\n"), "new_group": "Orphans"}
    )
    assert "The file has no column name, phone" in field_errors(html_of(response), "file")
    assert not ContactGroup.objects.exists() and not Contact.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"file": ("contacts.xlsx", "name,phone\n")}, "file", "Choose a .csv file"),
        ({"file": ("contacts.csv", "")}, "file", "file is empty."),
        ({"file": ("contacts.csv", "\n \n")}, "file", "The file is empty."),
        ({}, "file", "This field is required."),
    ],
)
def test_bad_uploads_are_refused_beside_the_field(maker, data, field, message):
    post = {}
    if "file" in data:
        name, text = data["file"]
        post["file"] = upload(text, name=name) if text else SimpleUploadedFile(name, b"", content_type="text/csv")
    html = html_of(signed_in(maker).post("/sms/contacts/import/", post))
    assert message in field_errors(html, field)


def test_a_file_over_5_mb_is_refused(maker, settings):
    big = "name,phone\n" + "x" * (5 * 1024 * 1024)
    html = html_of(signed_in(maker).post("/sms/contacts/import/", {"file": upload(big)}))
    assert "larger than 5 MB" in field_errors(html, "file") and not Contact.objects.exists()


def test_a_file_the_csv_reader_cannot_read_is_refused_beside_the_field_not_a_500(maker):
    text = 'name,phone\nA,03000000001\n"' + "x" * 200_000  # an unclosed quote: one field past the CSV limit
    response = signed_in(maker).post("/sms/contacts/import/", {"file": upload(text), "new_group": "Orphans"})
    assert response.status_code == 200 and "not a readable CSV file" in field_errors(html_of(response), "file")
    assert not Contact.objects.exists() and not ContactGroup.objects.exists()


def test_choosing_a_group_and_typing_a_new_one_is_refused(maker, media_group):
    text = "name,phone\nA,03000000001\n"
    html = html_of(
        signed_in(maker).post(
            "/sms/contacts/import/", {"file": upload(text), "group": media_group.pk, "new_group": "Other"}
        )
    )
    assert "not both" in field_errors(html, "new_group") and not Contact.objects.filter(name="A").exists()


def test_the_sample_file_has_the_columns_and_made_up_numbers(maker):
    response = signed_in(maker).get("/sms/contacts/sample.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    assert rows[0] == ["name", "phone", "language", "organisation", "groups"]
    assert rows[1][1] == "+923000000001" and any(r[2] == "ur" for r in rows[1:])


def test_the_sample_file_imports_cleanly(maker):
    sample = signed_in(maker).get("/sms/contacts/sample.csv").content.decode("utf-8-sig")
    html = html_of(signed_in(maker).post("/sms/contacts/import/", {"file": upload(sample)}))
    assert "Imported: 4 added, 0 updated, 0 rows skipped." in html


# --- campaigns: the form -------------------------------------------------------------------------------------


def campaign_form(group, **extra) -> dict:
    return {
        "title": "Media cards",
        "audience": f"group:{group.pk}",
        "template_ur": "",
        "template_en": "Dear {name}, collect your card.",
        "when": "now",
        **extra,
    }


def test_the_form_offers_the_audiences_grouped_by_source_and_their_placeholders(maker, media_group):
    html = html_of(signed_in(maker).get("/sms/campaigns/new/", {"audience": f"group:{media_group.pk}"}))
    assert '<optgroup label="Contact groups">' in html
    assert f'<option value="group:{media_group.pk}" selected>Media (12)</option>' in html
    assert '"group:all": ["name", "organisation"]' in html  # the buttons' data
    assert "<code>{name}</code>" in html  # without JavaScript: the list as text
    assert 'dir="rtl"' in html.split('id="id_template_ur"')[0].rsplit("<textarea", 1)[1]
    assert 'id="id_template_ur_counter"' in html and 'aria-live="polite"' in html


def test_preview_shows_recipients_cost_and_the_first_message_and_creates_nothing(maker, media_group, settings):
    settings.SMS_PRICE_PER_SEGMENT = "0.75"
    html = html_of(signed_in(maker).post("/sms/campaigns/new/", {**campaign_form(media_group), "preview": "1"}))
    estimate = html.split('id="estimate"')[1]
    assert "Dear Reporter 0, collect your card." in estimate
    assert '<span class="sms-stat__n">12</span>' in estimate  # recipients
    assert "Rs. 9.00" in estimate  # 12 one-segment messages at Rs. 0.75
    assert not Campaign.objects.exists()


def test_create_makes_a_pending_campaign_with_the_send_time_read_in_pakistan(maker, media_group):
    local = (timezone.now() + datetime.timedelta(days=2)).astimezone(KARACHI).replace(second=0, microsecond=0)
    data = campaign_form(media_group, when="later", send_at=local.strftime("%Y-%m-%dT%H:%M"), create="1")
    response = signed_in(maker).post("/sms/campaigns/new/", data)
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sms/campaigns/{campaign.pk}/"
    assert campaign.status == CampaignStatus.PENDING and campaign.created_by == maker
    assert campaign.send_at == local and campaign.expires_at == local + datetime.timedelta(hours=24)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"template_en": "Hi {nmae}"}, "template_en", "Unknown placeholder {nmae}. This audience offers: {name}"),
        ({"template_ur": "سلام {شناخت", "template_en": ""}, "template_ur", "unmatched"),
        ({"template_en": "", "template_ur": ""}, "template_ur", "Write the message in Urdu, in English or in both."),
        ({"title": "   "}, "title", "This field is required."),
        ({"audience": "group:999999"}, "audience", "Select a valid choice"),
        ({"when": "later", "send_at": ""}, "send_at", "Choose the date and time"),
        ({"when": "later", "send_at": "2020-01-01T10:00"}, "send_at", "The send time has passed"),
        ({"when": "later", "send_at": "not a date"}, "send_at", "Enter a valid date/time."),
        ({"when": "now", "send_at": SOON}, "send_at", "empty this box"),
        ({"expires_at": "2020-01-01T10:00"}, "expires_at", "must be after the send time"),
        ({"when": "later", "send_at": "9999-12-31T23:00"}, "send_at", "within a year"),
        ({"expires_at": "9999-12-31T23:59"}, "expires_at", "within a year"),
        ({"when": "later", "send_at": "2026-02-30T10:00"}, "send_at", "Enter a valid date/time."),
        ({"template_en": "x" * 1600}, "template_en", "at most 10 are allowed"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_made(maker, media_group, change, field, message):
    response = signed_in(maker).post("/sms/campaigns/new/", {**campaign_form(media_group), **change, "create": "1"})
    html = html_of(response)
    assert response.status_code == 200 and message in field_errors(html, field)
    assert 'role="alert"' in html  # the summary above the form, linking to the field
    assert not Campaign.objects.exists() and not AuditEvent.objects.exists()


def test_an_empty_audience_is_refused_beside_the_audience(maker):
    empty = ContactGroup.objects.create(name="Nobody")
    html = html_of(signed_in(maker).post("/sms/campaigns/new/", {**campaign_form(empty), "create": "1"}))
    assert "nobody in it" in field_errors(html, "audience") and not Campaign.objects.exists()


def test_the_campaign_list_searches_by_title_and_filters_by_status(maker, checker, media_group):
    make_campaign(maker, media_group)
    other = services.campaign_create(
        actor=maker, title="Polling reminder", audience_key=f"group:{media_group.pk}", template_en="Hi"
    )
    services.campaign_reject(actor=checker, campaign=other, reason="Wrong day")
    client = signed_in(checker)
    by_title = html_of(client.get("/sms/campaigns/", {"q": "polling"}))
    assert "Polling reminder" in by_title and ">Cards<" not in by_title
    by_status = html_of(client.get("/sms/campaigns/", {"status": "pending"}))
    assert ">Cards<" in by_status and "Polling reminder" not in by_status
    assert "No campaigns match this search." in html_of(client.get("/sms/campaigns/", {"q": "nothing like it"}))
    assert client.get("/sms/campaigns/", {"status": "bogus"}).status_code == 200


# --- campaigns: maker-checker and the page -------------------------------------------------------------------


def test_a_campaign_through_the_pages_maker_then_checker(memory, committed, maker, checker, media_group):
    made = signed_in(maker).post("/sms/campaigns/new/", {**campaign_form(media_group), "create": "1"})
    campaign = Campaign.objects.get()
    own = html_of(signed_in(maker).get(made["Location"]))
    assert "you made it, so you cannot approve it yourself" in own and "Approve and send" not in own
    checker_client = signed_in(checker)
    page = html_of(checker_client.get(made["Location"]))
    assert "Approve and send" in page and 'id="id_reason"' in page
    committed(checker_client.post, f"/sms/campaigns/{campaign.pk}/approve/")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED and campaign.approved_by == checker
    assert len(memory.sent()) == 12
    page = html_of(checker_client.get(made["Location"]))
    assert "job-progress" in page and 'data-count="sent">12<' in page
    assert f'data-url="/sms/campaigns/{campaign.pk}/counts.json"' in page  # progress any officer can poll
    history = page.split('id="history-title"')[1]
    assert history.index("Made") < history.index("Approved") < history.index("Sending started")


def test_approval_by_the_maker_is_refused_and_changes_nothing(memory, committed, maker, media_group):
    campaign = make_campaign(maker, media_group)
    audits = AuditEvent.objects.count()
    response = committed(signed_in(maker).post, f"/sms/campaigns/{campaign.pk}/approve/", follow=True)
    assert "Another SMS officer must approve a campaign you made." in html_of(response)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PENDING and campaign.approved_by is None
    assert AuditEvent.objects.count() == audits and not memory.sent() and not Message.objects.exists()


def test_a_rejection_needs_a_reason_shown_beside_the_box(maker, checker, media_group):
    campaign = make_campaign(maker, media_group)
    client = signed_in(checker)
    refused = client.post(f"/sms/campaigns/{campaign.pk}/reject/", {"reason": "  "})
    assert refused.status_code == 200 and "This field is required." in field_errors(html_of(refused), "reason")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PENDING
    done = client.post(f"/sms/campaigns/{campaign.pk}/reject/", {"reason": "The date is wrong"})
    campaign.refresh_from_db()
    assert done.status_code == 302 and campaign.status == CampaignStatus.REJECTED
    page = html_of(signed_in(maker).get(f"/sms/campaigns/{campaign.pk}/"))
    assert "The date is wrong" in page and checker.get_full_name() in page.split("Rejected by")[1][:400]


def test_cancel_asks_first_and_only_a_post_cancels(memory, maker, checker, media_group):
    campaign = make_campaign(maker, media_group)
    client = signed_in(checker)
    page = html_of(client.get(f"/sms/campaigns/{campaign.pk}/"))
    assert f'href="/sms/campaigns/{campaign.pk}/cancel/"' in page  # a link to the confirmation, not a POST
    confirm = client.get(f"/sms/campaigns/{campaign.pk}/cancel/")
    html = html_of(confirm)
    assert confirm.status_code == 200 and "Yes, cancel the campaign" in html and 'method="post"' in html
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PENDING
    client.post(f"/sms/campaigns/{campaign.pk}/cancel/")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED
    again = client.get(f"/sms/campaigns/{campaign.pk}/cancel/", follow=True)
    assert "can no longer be cancelled" in html_of(again)


def test_a_wrong_state_is_a_message_not_an_error_page(memory, committed, maker, checker, media_group):
    campaign = sent_campaign(committed, maker, checker, media_group)
    response = signed_in(checker).post(f"/sms/campaigns/{campaign.pk}/pause/", follow=True)
    assert response.status_code == 200 and "cannot be done now" in html_of(response)


def test_pause_and_resume_through_the_page(memory, maker, checker, media_group):
    campaign = make_campaign(maker, media_group)
    services.campaign_approve(actor=checker, campaign=campaign)  # its start task is not run: status "approved"
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    client = signed_in(checker)
    assert "Pause" in html_of(client.get(f"/sms/campaigns/{campaign.pk}/"))
    client.post(f"/sms/campaigns/{campaign.pk}/pause/")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
    client.post(f"/sms/campaigns/{campaign.pk}/resume/")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING


def test_unknown_actions_and_campaigns_are_404(maker, media_group):
    campaign = make_campaign(maker, media_group)
    client = signed_in(maker)
    assert client.post(f"/sms/campaigns/{campaign.pk}/explode/").status_code == 404
    assert client.get("/sms/campaigns/999999/").status_code == 404
    assert client.get("/sms/campaigns/999999/counts.json").status_code == 404


def test_the_counts_json_has_the_counts_and_the_jobs_progress(memory, committed, maker, checker, media_group):
    campaign = sent_campaign(committed, maker, checker, media_group)
    data = signed_in(maker).get(f"/sms/campaigns/{campaign.pk}/counts.json").json()  # the maker, not the job's
    assert data["counts"]["sent"] == 12 and data["counts"]["failed"] == 0
    assert data["campaign"]["status"] == "completed" and data["finished"] is True
    assert data["percent"] == 100 and data["done"] == data["total"] == 12


def test_failure_reasons_are_listed_on_the_campaign_page(memory, committed, maker, checker, media_group):
    memory.reject(fake_phone(2), "21614")
    campaign = sent_campaign(committed, maker, checker, media_group)
    html = html_of(signed_in(maker).get(f"/sms/campaigns/{campaign.pk}/"))
    reasons = html.split('id="reasons-title"')[1]
    assert "<code>21614</code>" in reasons and '<td class="num">1</td>' in reasons


# --- the CSV export ------------------------------------------------------------------------------------------


def test_the_export_has_every_message_with_its_history(memory, committed, maker, checker, media_group):
    campaign = sent_campaign(committed, maker, checker, media_group)
    response = signed_in(maker).get(f"/sms/campaigns/{campaign.pk}/messages.csv")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "id",
        "to",
        "language",
        "segments",
        "status",
        "provider_id",
        "error_code",
        "error_message",
        "created_at",
        "sent_at",
        "finished_at",
        "history",
    ]
    assert [int(r["id"]) for r in rows] == sorted(campaign.messages.values_list("pk", flat=True))
    assert {r["to"] for r in rows} == {fake_phone(n) for n in range(12)}
    for row in rows:
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ sending \(memory\); \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ sent \(mem-\d+\)",
            row["history"],
        ), row["history"]
        assert row["sent_at"].endswith("Z") and row["provider_id"].startswith("mem-")


def test_the_export_reads_in_batches_and_keeps_formulas_as_text(memory, committed, maker, checker, media_group):
    from sms import selectors
    from sms.views import export_chunks

    campaign = sent_campaign(committed, maker, checker, media_group)
    Message.objects.filter(campaign=campaign, to=fake_phone(0)).update(
        status=MessageStatus.FAILED, error_message="=HYPERLINK(evil)"
    )
    rows = list(selectors.campaign_export_rows(campaign, batch=5))
    assert len(rows) == 12 and all(r.events for r in rows)
    text = "".join(export_chunks(campaign, rows_per_chunk=5))
    assert "'=HYPERLINK(evil)" in text and ",=HYPERLINK" not in text


def test_the_export_reads_two_queries_a_batch(
    memory, committed, maker, checker, media_group, django_assert_num_queries
):
    from sms import selectors

    campaign = sent_campaign(committed, maker, checker, media_group)
    with django_assert_num_queries(2 * 3 + 1):  # 12 messages in batches of 5: 3 batches, then an empty read
        assert len(list(selectors.campaign_export_rows(campaign, batch=5))) == 12


# --- the live counter ----------------------------------------------------------------------------------------


def test_the_segments_endpoint_counts_with_the_dispatchers_rules(maker):
    client = signed_in(maker)
    urdu = client.post("/sms/segments/", {"text": "آپ کا ووٹ" * 10}).json()
    assert urdu["encoding"] == "UCS-2" and urdu["segments"] == 2 and urdu["characters"] == 90
    english = client.post("/sms/segments/", {"text": "a" * 160}).json()
    assert english == {
        "encoding": "GSM-7",
        "characters": 160,
        "units": 160,
        "segments": 1,
        "per_segment": 160,
        "remaining": 0,
    }
    assert client.post("/sms/segments/", {"text": "{}"}).json()["units"] == 4  # GSM-7 extension characters
    assert client.get("/sms/segments/").status_code == 405
    too_long = client.post("/sms/segments/", {"text": "a" * 20_000})
    assert too_long.status_code == 400 and too_long.json()["code"] == "too_long"


def test_the_segments_endpoint_is_csrf_protected(maker):
    maker.is_demo_account = True
    maker.save(update_fields=["is_demo_account"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(maker)
    assert client.post("/sms/segments/", {"text": "hello"}).status_code == 403


# --- reports -------------------------------------------------------------------------------------------------


def test_reports_draw_a_chart_with_a_table_by_day_provider_and_reason(memory, committed, maker):
    first = committed(services.message_send, to=fake_phone(1), body="Hello")
    first.refresh_from_db()
    services.delivery_report_apply(message_id=first.pk, provider_id=first.provider_id, status="delivered")
    memory.reject(fake_phone(2), "21610")
    committed(services.message_send, to=fake_phone(2), body="Hello")
    html = html_of(signed_in(maker).get("/sms/reports/?days=7"))
    svg = html.split('<svg class="sms-chart__svg"')[1].split("</svg>")[0]
    assert 'role="img"' in svg and '<title id="chart-title">' in svg and '<desc id="chart-desc">' in svg
    assert "sms-bar--delivered" in svg and "sms-bar--failed" in svg and "sms-bar--sent" not in svg
    today = timezone.localdate().isoformat()
    table = html.split('id="days-title"')[1].split("</table>")[0]
    assert today in table and '<td class="num" dir="ltr">50.0%</td>' in table
    assert "<code>memory</code>" in html and "<code>21610</code>" in html


def test_reports_group_by_day_in_pakistan(memory, maker):
    # 20:30 UTC is 01:30 the next day in Pakistan.
    from sms import selectors

    day = timezone.now().astimezone(datetime.UTC).date() - datetime.timedelta(days=3)
    at = datetime.datetime.combine(day, datetime.time(20, 30), tzinfo=datetime.UTC)
    message = services.message_send(to=fake_phone(1), body="Hi")
    Message.objects.filter(pk=message.pk).update(created_at=at)
    rows = selectors.delivery_by_day(7)
    assert len(rows) == 7 and rows[-1]["day"] == timezone.localdate()
    assert [r["day"] for r in rows if r["total"]] == [day + datetime.timedelta(days=1)]


def test_reports_with_nothing_say_so_and_a_bad_period_falls_back_to_30_days(maker):
    client = signed_in(maker)
    html = html_of(client.get("/sms/reports/"))
    assert "No messages in this period." in html and "sms-chart__svg" not in html
    odd = client.get("/sms/reports/", {"days": "-5"})
    assert odd.status_code == 200 and "The last 30 days" in html_of(odd)


# --- messages of a number ------------------------------------------------------------------------------------


def test_message_search_shows_history_inbound_and_opt_out(memory, committed, maker):
    committed(services.message_send, to=fake_phone(1), body="Hello there")
    services.inbound_receive(provider_id="SMin1", sender=fake_phone(1), recipient="8300", body="STOP")
    html = html_of(signed_in(maker).get("/sms/messages/", {"phone": "0300 0000001"}))
    assert "Hello there" in html and '<details class="sms-details">' in html
    assert "History (3 events)" in html  # queued, sending, sent
    assert "Messages from this number" in html and ">STOP<" in html and "<code>opt_out</code>" in html
    assert "Opted out" in html and OptOut.objects.filter(phone=fake_phone(1)).exists()


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("12", "does not exist"),
        ("abc", "not a phone number"),
        ("042 35761234", "landline"),
        ("+44 7911 123456", "pakistani mobile"),
        ("", "this field is required"),
    ],
)
def test_message_search_with_a_bad_number_shows_a_field_error(maker, phone, message):
    response = signed_in(maker).get("/sms/messages/", {"phone": phone})
    html = html_of(response)
    assert response.status_code == 200 and message in field_errors(html, "phone").lower()


def test_sending_one_message_from_the_screen(memory, committed, maker):
    client = signed_in(maker)
    key = re.search(r'name="key" value="([0-9a-f]{32})"', html_of(client.get("/sms/messages/"))).group(1)
    data = {"to": "0300 0000005", "body": "Test", "language": "en", "purpose": "notification", "key": key}
    response = committed(client.post, "/sms/messages/", data)
    assert response.status_code == 302 and response["Location"] == "/sms/messages/?phone=%2B923000000005"
    assert "Message #" in html_of(client.get(response["Location"]))
    assert Message.objects.get().status == "sent" and len(memory.sent()) == 1
    committed(client.post, "/sms/messages/", data)  # the same form sent twice: one message
    assert Message.objects.count() == 1


def test_a_required_message_goes_to_an_opted_out_number_and_a_notification_does_not(memory, committed, maker):
    services.optout_add(phone=fake_phone(7), keyword="STOP")
    client = signed_in(maker)
    base = {"to": fake_phone(7), "body": "Slip", "language": "ur"}
    blocked = committed(client.post, "/sms/messages/", {**base, "purpose": "notification"}, follow=True)
    assert "opted out" in html_of(blocked)
    committed(client.post, "/sms/messages/", {**base, "purpose": "required"})
    statuses = dict(Message.objects.values_list("purpose", "status"))
    assert statuses == {"notification": "failed", "required": "sent"}
    assert Message.objects.get(purpose="required").despite_opt_out


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"to": "abc"}, "to", "not a phone number"),
        ({"to": "042 35761234"}, "to", "landline"),
        ({"body": "   "}, "body", "The message is empty."),
        ({"body": "ووٹ" * 300}, "body", "at most 10 are allowed"),
        ({"purpose": "campaign"}, "purpose", "Select a valid choice"),
        ({"language": "fr"}, "language", "Select a valid choice"),
    ],
)
def test_the_send_form_refuses_bad_input_beside_the_field(memory, maker, data, field, message):
    post = {"to": "03000000005", "body": "Test", "language": "en", "purpose": "notification", **data}
    response = signed_in(maker).post("/sms/messages/", post)
    assert response.status_code == 200 and message.lower() in field_errors(html_of(response), field).lower()
    assert not Message.objects.exists()
