"""The SMS admin (campaigns, messages and inbound messages read-only, message events append-only, opt-outs
through the services) and the demo data (seed_demo twice changes nothing)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import RequestFactory

from core.admin_site import admin_site
from core.models import AuditEvent, Role, RoleAssignment
from sms import services
from sms.models import (
    Campaign,
    CampaignStatus,
    Contact,
    ContactGroup,
    InboundMessage,
    Message,
    MessageEvent,
    MessageStatus,
    OptOut,
)
from tests.core.test_admin import verified_login
from tests.factories import UserFactory
from tests.sms.conftest import fake_phone

pytestmark = pytest.mark.django_db

MODELS = ("contactgroup", "contact", "optout", "campaign", "message", "inboundmessage")


@pytest.fixture
def root(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    verified_login(client, user)
    return user


@pytest.fixture
def sent(memory, committed, maker, checker, media_group) -> Campaign:
    committed(services.message_send, to=fake_phone(50), body="Hello")
    services.inbound_receive(provider_id="SMin1", sender=fake_phone(1), recipient="8300", body="STOP")
    campaign = services.campaign_create(
        actor=maker, title="Cards", audience_key=f"group:{media_group.pk}", template_en="Hello {name}"
    )
    committed(services.campaign_approve, actor=checker, campaign=campaign)
    return campaign


@pytest.mark.parametrize("model", MODELS)
def test_every_sms_changelist_renders_for_a_superuser(client, root, sent, model):
    assert client.get(f"/admin/sms/{model}/").status_code == 200
    assert client.get(f"/admin/sms/{model}/?q=0300").status_code == 200


def test_a_message_shows_its_history_read_only_and_cannot_be_changed_or_deleted(client, root, sent):
    message = Message.objects.get(to=fake_phone(50))
    page = client.get(f"/admin/sms/message/{message.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and "sending" in html and "memory" in html
    assert 'name="events-0-status"' not in html  # the events inline has no form inputs
    assert client.post(f"/admin/sms/message/{message.pk}/change/", {"status": "queued"}).status_code == 403
    assert client.post(f"/admin/sms/message/{message.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/sms/message/add/").status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and MessageEvent.objects.filter(message=message).count() == 3


def test_message_events_have_no_add_change_or_delete_anywhere(client, root, sent):
    assert MessageEvent not in admin_site._registry
    assert client.get("/admin/sms/messageevent/").status_code == 404
    request = RequestFactory().get("/admin/")
    request.user = root
    message = Message.objects.first()
    inlines = admin_site._registry[Message].get_inline_instances(request, message)
    events = [i for i in inlines if i.model is MessageEvent]
    assert len(events) == 1
    inline = events[0]
    assert not inline.has_add_permission(request, message)
    assert not inline.has_change_permission(request, message)
    assert not inline.has_delete_permission(request, message)
    for model_admin in admin_site._registry.values():  # nobody else offers them either
        for other in model_admin.get_inline_instances(request):
            if other.model is MessageEvent:
                assert not (other.has_add_permission(request, None) or other.has_delete_permission(request, None))


def test_campaigns_are_read_only_and_never_deleted(client, root, sent):
    page = client.get(f"/admin/sms/campaign/{sent.pk}/change/").content.decode()
    assert f'href="/sms/campaigns/{sent.pk}/"' in page  # state changes go through the SMS screens
    assert client.post(f"/admin/sms/campaign/{sent.pk}/change/", {"status": "pending"}).status_code == 403
    assert client.post(f"/admin/sms/campaign/{sent.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/sms/campaign/add/").status_code == 403
    changelist = client.get("/admin/sms/campaign/").content.decode()
    assert "Cards" in changelist and "column-approved_by" in changelist and "column-recipients" in changelist
    sent.refresh_from_db()
    assert sent.status == CampaignStatus.COMPLETED


def test_inbound_messages_are_read_only(client, root, sent):
    row = InboundMessage.objects.get()
    assert client.get(f"/admin/sms/inboundmessage/{row.pk}/change/").status_code == 200
    assert client.post(f"/admin/sms/inboundmessage/{row.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_message_search_reads_a_number_as_people_write_it(client, root, sent):
    html = client.get("/admin/sms/message/", {"q": "0300 0000050"}).content.decode()
    assert "+923000000050" in html and "+923000000001" not in html


def test_an_opt_out_is_added_and_removed_through_the_services(client, root):
    bad = client.post("/admin/sms/optout/add/", {"phone": "12", "keyword": "call"})
    assert bad.status_code == 200 and "does not exist" in bad.content.decode() and not OptOut.objects.exists()
    made = client.post("/admin/sms/optout/add/", {"phone": "0300 0000009", "keyword": "phone call"})
    row = OptOut.objects.get()
    assert made.status_code == 302 and row.phone == "+923000000009" and row.keyword == "phone call"
    assert AuditEvent.objects.filter(action="sms.opted_out", actor=root).count() == 1
    assert client.post(f"/admin/sms/optout/{row.pk}/change/", {"phone": "+923000000008"}).status_code == 403
    client.post(f"/admin/sms/optout/{row.pk}/delete/", {"post": "yes"})
    assert not OptOut.objects.exists()
    assert AuditEvent.objects.filter(action="sms.opted_in", actor=root).count() == 1


def test_contacts_and_groups_are_edited_in_the_admin(client, root):
    group = ContactGroup.objects.create(name="Media")
    response = client.post(
        "/admin/sms/contact/add/",
        {"name": "Ayesha", "phone": "+923000000011", "language": "en", "organisation": "", "groups": [group.pk]},
    )
    assert response.status_code == 302 and Contact.objects.get().groups.get() == group
    filtered = client.get("/admin/sms/contact/", {"groups__id__exact": group.pk, "language__exact": "en"})
    assert filtered.status_code == 200


def test_an_sms_officer_without_admin_rights_does_not_get_the_admin(client, maker):
    verified_login(client, maker)
    assert client.get("/admin/sms/message/").status_code in (302, 403)


# --- demo data -----------------------------------------------------------------------------------------------


def sms_snapshot() -> tuple:
    return (
        ContactGroup.objects.count(),
        Contact.objects.count(),
        sorted(Campaign.objects.values_list("title", "status")),
        Message.objects.count(),
        sorted(Message.objects.values_list("status", flat=True)),
        MessageEvent.objects.count(),
        InboundMessage.objects.count(),
        OptOut.objects.count(),
        AuditEvent.objects.filter(action__startswith="sms.").count(),
    )


def test_seed_demo_inside_a_transaction_makes_the_same_rows_once(settings):
    """Where nothing commits (sending waits for the commit), the rows are still made once."""
    settings.SMS_PROVIDER = "console"
    call_command("seed_demo", stdout=io.StringIO())
    first = sms_snapshot()
    assert first[0] == 3 and first[1] == 30 and len(first[2]) == 2
    for username in ("sms", "sms2"):
        assert RoleAssignment.objects.filter(user__username=username, role=Role.SMS_OFFICER).exists()
    assert Campaign.objects.get(status=CampaignStatus.PENDING).created_by.username == "sms"
    call_command("seed_demo", stdout=io.StringIO())
    assert sms_snapshot() == first
