"""The SMS admin screens (message history read-only) and the demo data (idempotent)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from sms.models import Campaign, Contact, Message, MessageEvent
from tests.core.test_admin import verified_login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_sms_changelists_render_and_history_cannot_be_edited(client, memory, committed):
    from sms import services

    committed(services.message_send, to="+923000000001", body="Hello")
    verified_login(client, UserFactory(username="root", is_staff=True, is_superuser=True))
    for model in ("contactgroup", "contact", "optout", "campaign", "message", "inboundmessage"):
        assert client.get(f"/admin/sms/{model}/").status_code == 200, model
    message = Message.objects.get()
    page = client.get(f"/admin/sms/message/{message.pk}/change/")
    assert page.status_code == 200 and "sending" in page.content.decode()
    assert client.post(f"/admin/sms/message/{message.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/sms/messageevent/").status_code == 404  # not registered at all
    assert MessageEvent.objects.filter(message=message).count() == 3


def test_seed_demo_twice_makes_the_sms_demo_once(settings):
    settings.SMS_PROVIDER = "console"
    call_command("seed_demo", stdout=io.StringIO())
    counts = (Contact.objects.count(), Campaign.objects.count(), Message.objects.count())
    assert counts[0] == 30 and counts[1] == 2 and counts[2] > 0
    assert Campaign.objects.filter(status="pending", created_by__username="sms").exists()
    call_command("seed_demo", stdout=io.StringIO())
    assert (Contact.objects.count(), Campaign.objects.count(), Message.objects.count()) == counts
