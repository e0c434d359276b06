"""The staff screens /evp/staff/ and the lift page: who may open them (anonymous → sign-in, staff without the
role → 403, an SMS officer → the chart, the tables and the blocked senders), and lifting a block through the
confirmation page."""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import AuditEvent, Office, OfficeKind, Role, RoleAssignment
from evp import services
from evp.models import AbuseBlock, LookupCount
from tests.core.test_admin import verified_login
from tests.evp.conftest import MAN, staff_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "/evp/staff/"


@pytest.fixture
def blocked(settings, man) -> AbuseBlock:
    settings.EVP_ABUSE_DISTINCT_CNICS = 2
    for n in range(3):
        services.voting_details_lookup(cnic_text=f"4210{n + 1:09d}", channel="sms", sender="+923001234567")
    return AbuseBlock.objects.get()


def lift_path(block: AbuseBlock) -> str:
    return f"/evp/staff/blocks/{block.pk}/lift/"


@pytest.mark.parametrize("path", [DASHBOARD, "/ur/evp/staff/", "lift"])
def test_anonymous_visitors_are_sent_to_the_sign_in(blocked, path):
    path = lift_path(blocked) if path == "lift" else path
    response = Client().get(path)
    assert response.status_code == 302 and "/staff/login/" in response["Location"] and "next=" in response["Location"]
    assert Client().post(lift_path(blocked)).status_code == 302
    blocked.refresh_from_db()
    assert blocked.lifted_at is None


@pytest.mark.parametrize("path", [DASHBOARD, "lift"])
def test_staff_without_the_role_get_403_and_cannot_lift(blocked, path):
    client = staff_client("clerk", Role.OMR_OPERATOR)
    path = lift_path(blocked) if path == "lift" else path
    assert client.get(path).status_code == 403
    assert client.post(lift_path(blocked)).status_code == 403
    blocked.refresh_from_db()
    assert blocked.lifted_at is None and not AuditEvent.objects.filter(action="evp.block_lifted").exists()


def test_a_signed_in_user_without_the_second_factor_is_sent_to_it(blocked):
    user = UserFactory(username="half-way", is_staff=True)
    client = Client()
    client.force_login(user)
    response = client.get(DASHBOARD)
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


@pytest.mark.parametrize("path", [DASHBOARD, "/ur/evp/staff/"])
def test_an_sms_officer_sees_the_chart_the_counts_and_the_blocked_senders(officer_client, blocked, man, path):
    services.voting_details_lookup(cnic_text=MAN, channel="web", sender="10.0.0.1")
    services.voting_details_lookup(cnic_text=MAN, channel="api", sender="10.0.0.2")
    response = officer_client.get(path)
    page = response.content.decode()
    assert response.status_code == 200 and "no-cache" in response.get("Cache-Control", "")
    assert "<svg" in page and 'class="sms-chart__svg"' in page
    assert blocked.sender_shown in page and lift_path(blocked) in page
    assert "+923001234567" not in page and MAN not in page
    assert LookupCount.objects.exists()  # the page flushed the counters first


def test_a_facilitation_operator_may_open_the_dashboard(blocked):
    office = Office.objects.create(code="dec-sabzpur", kind=OfficeKind.CEC, name="DEC Sabzpur")
    user = UserFactory(username="operator", is_staff=True)
    RoleAssignment.objects.create(user=user, role=Role.FACILITATION_OPERATOR, office=office)
    client = Client()
    verified_login(client, user)
    assert client.get(DASHBOARD).status_code == 200


def test_the_dashboard_without_lookups_says_so(officer_client):
    page = officer_client.get(DASHBOARD).content.decode()
    assert "No lookups in the last 48 hours." in page and "No sender has been blocked." in page


def test_the_lift_page_asks_first_and_the_post_lifts(officer_client, blocked, committed, man):
    page = officer_client.get(lift_path(blocked))
    text = page.content.decode()
    assert page.status_code == 200 and "Yes, lift the block" in text and blocked.sender_shown in text
    blocked.refresh_from_db()
    assert blocked.lifted_at is None  # a GET changes nothing

    response = committed(officer_client.post, lift_path(blocked))
    assert response.status_code == 302 and response["Location"].endswith(DASHBOARD)
    blocked.refresh_from_db()
    assert blocked.lifted_by == officer_client.user and blocked.lifted_at is not None
    event = AuditEvent.objects.get(action="evp.block_lifted")
    assert event.actor == officer_client.user
    followed = officer_client.get(DASHBOARD).content.decode()
    assert "was lifted" in followed and "Lifted by" in followed


def test_lifting_again_says_it_was_already_lifted_and_changes_nothing(officer_client, blocked, committed):
    committed(officer_client.post, lift_path(blocked))
    blocked.refresh_from_db()
    audit = AuditEvent.objects.count()
    assert "already lifted" in officer_client.get(lift_path(blocked)).content.decode()
    response = committed(officer_client.post, lift_path(blocked), follow=True)
    assert response.status_code == 200 and "already lifted" in response.content.decode()
    again = AbuseBlock.objects.get()
    assert (again.lifted_at, again.lifted_by) == (blocked.lifted_at, blocked.lifted_by)
    assert AuditEvent.objects.count() == audit


def test_an_unknown_block_is_404(officer_client, db):
    assert officer_client.get("/evp/staff/blocks/999999/lift/").status_code == 404
    assert officer_client.post("/evp/staff/blocks/999999/lift/").status_code == 404
