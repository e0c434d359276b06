"""The SMS staff screens: who may see them, the campaign flow through the pages, the import report,
the live counter endpoint, the CSV export, reports and message search."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sms import services
from sms.models import Campaign, CampaignStatus, Contact, Message
from tests.factories import UserFactory
from tests.sms.conftest import fake_phone

pytestmark = pytest.mark.django_db

PAGES = ["/sms/", "/sms/contacts/", "/sms/contacts/import/", "/sms/campaigns/", "/sms/campaigns/new/"]
PAGES += ["/sms/messages/", "/sms/reports/"]


@pytest.fixture(autouse=True)
def _demo_skip(settings):
    settings.OTP_DEMO_SKIP = True


def signed_in(user) -> Client:
    user.is_demo_account = True
    user.save(update_fields=["is_demo_account"])
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_for_officers_in_both_languages_and_are_refused_to_others(path, maker, media_group):
    officer = signed_in(maker)
    assert officer.get(path).status_code == 200
    urdu = officer.get("/ur" + path)
    assert urdu.status_code == 200 and 'dir="rtl"' in urdu.content.decode()
    assert signed_in(UserFactory(username="clerk")).get(path).status_code == 403
    anonymous = Client().get(path)
    assert anonymous.status_code == 302 and "/staff/login/" in anonymous["Location"]


def test_a_campaign_through_the_pages_maker_then_checker(memory, committed, maker, checker, media_group):
    form = {
        "title": "Media cards",
        "audience": f"group:{media_group.pk}",
        "template_en": "Dear {name}, collect your card.",
        "template_ur": "",
    }
    preview = signed_in(maker).post("/sms/campaigns/new/", {**form, "preview": "1"})
    assert preview.status_code == 200 and "Dear Reporter 0, collect your card." in preview.content.decode()
    assert not Campaign.objects.exists()
    made = signed_in(maker).post("/sms/campaigns/new/", {**form, "create": "1"})
    campaign = Campaign.objects.get()
    assert made.status_code == 302 and made["Location"] == f"/sms/campaigns/{campaign.pk}/"
    own = signed_in(maker).get(made["Location"]).content.decode()
    assert "Waiting for another SMS officer" in own and "Approve and send" not in own
    refused = signed_in(maker).post(f"/sms/campaigns/{campaign.pk}/approve/", follow=True)
    assert "Another SMS officer must approve" in refused.content.decode()
    checker_client = signed_in(checker)
    assert "Approve and send" in checker_client.get(made["Location"]).content.decode()
    committed(checker_client.post, f"/sms/campaigns/{campaign.pk}/approve/")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED and len(memory.sent()) == 12
    page = checker_client.get(made["Location"]).content.decode()
    assert "job-progress" in page and 'data-count="sent">12<' in page


def test_an_unknown_placeholder_is_shown_beside_its_field_and_nothing_is_made(maker, media_group):
    response = signed_in(maker).post(
        "/sms/campaigns/new/",
        {"title": "X", "audience": f"group:{media_group.pk}", "template_en": "Hi {nmae}", "create": "1"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Unknown placeholder {nmae}" in html and 'id="id_template_en_error"' in html
    assert not Campaign.objects.exists()


def test_cancel_asks_first_and_only_a_post_cancels(memory, maker, checker, media_group):
    campaign = services.campaign_create(
        actor=maker, title="T", audience_key=f"group:{media_group.pk}", template_en="Hello {name}"
    )
    client = signed_in(checker)
    confirm = client.get(f"/sms/campaigns/{campaign.pk}/cancel/")
    assert confirm.status_code == 200 and "Yes, cancel the campaign" in confirm.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PENDING
    client.post(f"/sms/campaigns/{campaign.pk}/cancel/")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED


def test_the_import_page_reports_bad_rows_by_line_and_keeps_the_good_ones(maker):
    text = "name,phone\nGood One,03000000001\nBad,123\nGood Two,03000000002\n"
    upload = SimpleUploadedFile("contacts.csv", text.encode("utf-8"), content_type="text/csv")
    response = signed_in(maker).post("/sms/contacts/import/", {"file": upload, "new_group": "Lawyers"})
    html = response.content.decode()
    assert "2 added, 0 updated, 1 rows skipped." in html and "<td>3</td><td>phone</td>" in html
    assert set(Contact.objects.values_list("groups__name", flat=True)) == {"Lawyers"}


def test_a_file_that_is_not_utf8_is_refused_beside_the_field(maker):
    upload = SimpleUploadedFile("contacts.csv", "name,phone\nÅse,0300\n".encode("utf-16"), content_type="text/csv")
    html = signed_in(maker).post("/sms/contacts/import/", {"file": upload}).content.decode()
    assert "not UTF-8" in html and not Contact.objects.exists()


def test_the_counter_endpoint_counts_with_the_dispatchers_rules(maker):
    client = signed_in(maker)
    urdu = client.post("/sms/segments/", {"text": "آپ کا ووٹ" * 10}).json()
    assert urdu["encoding"] == "UCS-2" and urdu["segments"] == 2
    assert client.post("/sms/segments/", {"text": "a" * 160}).json()["segments"] == 1
    assert client.get("/sms/segments/").status_code == 405


def test_the_export_has_every_message_with_its_history(memory, committed, maker, checker, media_group):
    campaign = services.campaign_create(
        actor=maker, title="T", audience_key=f"group:{media_group.pk}", template_en="Hello {name}"
    )
    committed(services.campaign_approve, actor=checker, campaign=campaign)
    response = signed_in(maker).get(f"/sms/campaigns/{campaign.pk}/messages.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 12 and {r["status"] for r in rows} == {"sent"}
    assert all(" sending" in r["history"] and " sent (mem-" in r["history"] for r in rows)


def test_reports_draw_a_chart_with_a_table(memory, committed, maker):
    committed(services.message_send, to=fake_phone(1), body="Hello")
    html = signed_in(maker).get("/sms/reports/?days=7").content.decode()
    assert "<svg" in html and "sms-bar--sent" in html and '<title id="chart-title">' in html


def test_message_search_shows_history_and_refuses_a_bad_number(memory, committed, maker):
    committed(services.message_send, to=fake_phone(1), body="Hello there")
    client = signed_in(maker)
    html = client.get("/sms/messages/", {"phone": "0300 0000001"}).content.decode()
    assert "Hello there" in html and "<details>" in html
    bad = client.get("/sms/messages/", {"phone": "12"}).content.decode()
    assert 'id="id_phone_error"' in bad


def test_sending_one_message_from_the_screen(memory, committed, maker):
    response = committed(
        signed_in(maker).post,
        "/sms/messages/",
        {"to": "03000000005", "body": "Test", "language": "en", "purpose": "notification"},
    )
    assert response.status_code == 302 and Message.objects.get().status == "sent"
