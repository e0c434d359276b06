"""The admin site: behind both factors, every model on it loads, roles and offices go
through the services, the audit log and jobs are read-only, and no authenticator
secret is ever shown."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import TokenProxy

from core import audit
from core.admin_site import admin_site
from core.models import AuditEvent, Office, OfficeKind, PollingStation, Role, RoleAssignment
from core.services import role_grant
from tests.factories import ConstituencyFactory, OfficeFactory, PollingStationFactory, UserFactory


def verified_login(client, user) -> TOTPDevice:
    """A session that passed both factors (the flow itself is tested in test_staff_auth)."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    verified_login(client, superuser)
    return client


@pytest.fixture
def event(db):
    return audit.record(action="demo.seeded", data={"note": "x"})


# --- who gets in ---------------------------------------------------------------------------


def test_admin_index_for_a_verified_superuser(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert "ECP Portal administration" in response.content.decode()


def test_password_only_session_is_sent_to_the_code_step(client, superuser):
    TOTPDevice.objects.create(user=superuser, name="phone", confirmed=True)
    client.force_login(superuser)  # signed in, but no second factor in this session
    response = client.get("/admin/core/auditevent/")
    assert response.status_code == 302
    login = client.get(response["Location"])
    assert login["Location"].startswith("/staff/login/verify/?next=")
    assert "auditevent" in login["Location"]


def test_anonymous_is_sent_to_the_password_step(client, db):
    login = client.get(client.get("/admin/")["Location"])
    assert login["Location"] == "/staff/login/?next=%2Fadmin%2F"


def test_verified_non_staff_is_refused_not_looped(client, db):
    verified_login(client, UserFactory(username="clerk"))
    assert client.get("/admin/login/?next=/admin/").status_code == 403


def test_demo_account_enters_admin_only_while_the_skip_is_on(client, settings, db):
    demo = UserFactory(username="demo-admin", is_staff=True, is_superuser=True, is_demo_account=True)
    client.force_login(demo)
    settings.OTP_DEMO_SKIP = True
    assert client.get("/admin/").status_code == 200
    settings.OTP_DEMO_SKIP = False
    assert client.get("/admin/").status_code == 302


def test_admin_login_ignores_an_outside_next(client, db):
    login = client.get("/admin/login/?next=https://evil.example/")
    assert login["Location"] == "/staff/login/?next=%2Fadmin%2F"


# --- everything on one site ------------------------------------------------------------------


def test_third_party_models_are_on_our_site():
    from axes.models import AccessAttempt
    from django_celery_beat.models import PeriodicTask

    registered = set(admin_site._registry)
    for model in (TOTPDevice, StaticDevice, TokenProxy, AccessAttempt, PeriodicTask, Group):
        assert model in registered, model


def test_every_changelist_and_add_page_loads(admin_client, event):
    PollingStationFactory()
    request = RequestFactory().get("/admin/")
    request.user = admin_client.get("/admin/").wsgi_request.user
    failures = []
    for model, model_admin in admin_site._registry.items():
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        if (status := admin_client.get(url).status_code) != 200:
            failures.append((url, status))
        if model_admin.has_add_permission(request):
            add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
            if (status := admin_client.get(add).status_code) != 200:
                failures.append((add, status))
    assert failures == []


def test_polling_stations_search_by_constituency_without_a_full_count(admin_client):
    station = PollingStationFactory(constituency=ConstituencyFactory(code="NA-44"))
    PollingStationFactory(constituency=ConstituencyFactory(code="NA-45"))
    response = admin_client.get("/admin/core/pollingstation/?q=NA-44")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [station]
    assert response.context["cl"].show_full_result_count is False
    assert PollingStation.objects.count() == 2


# --- the audit log is read-only -------------------------------------------------------------------


def test_audit_log_lists_and_shows_events(admin_client, event):
    listing = admin_client.get("/admin/core/auditevent/")
    assert listing.status_code == 200
    assert "demo.seeded" in listing.content.decode()
    detail = admin_client.get(f"/admin/core/auditevent/{event.pk}/change/")
    html = detail.content.decode()
    assert detail.status_code == 200
    assert event.hash in html
    assert event.prev_hash in html
    assert "&quot;note&quot;" in html
    assert 'name="_save"' not in html


def test_audit_log_filters_by_action_and_searches_by_target(admin_client, superuser, event):
    audit.record(action="user.login", target=superuser, data={"method": "totp"})
    by_action = admin_client.get("/admin/core/auditevent/?action=user.login")
    assert [e.action for e in by_action.context["cl"].result_list] == ["user.login"]
    by_target = admin_client.get(f"/admin/core/auditevent/?q={superuser.pk}")
    assert [e.action for e in by_target.context["cl"].result_list] == ["user.login"]


def test_audit_log_cannot_be_added_changed_or_deleted(admin_client, event):
    before = AuditEvent.objects.get(pk=event.pk)
    assert admin_client.get("/admin/core/auditevent/add/").status_code == 403
    change = admin_client.post(
        f"/admin/core/auditevent/{event.pk}/change/", {"action": "user.login", "data": "{}", "hash": "0" * 64}
    )
    assert change.status_code == 403
    assert admin_client.get(f"/admin/core/auditevent/{event.pk}/delete/").status_code == 403
    assert admin_client.post(f"/admin/core/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        "/admin/core/auditevent/", {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    after = AuditEvent.objects.get(pk=event.pk)
    assert (after.action, after.data, after.hash) == (before.action, before.data, before.hash)
    assert AuditEvent.objects.count() == 1
    assert audit.verify_chain().ok


def test_jobs_are_read_only(admin_client):
    assert admin_client.get("/admin/core/job/").status_code == 200
    assert admin_client.get("/admin/core/job/add/").status_code == 403


# --- roles and offices through the services ---------------------------------------------------------


def test_user_page_shows_roles_read_only_with_links_to_grant_and_revoke(admin_client, db):
    user = UserFactory(username="desk")
    role_grant(actor=None, user=user, role=Role.DESK_OFFICER, office=OfficeFactory(name="DEC Multan"))
    html = admin_client.get(f"/admin/core/user/{user.pk}/change/").content.decode()
    assert "DEC Multan" in html
    assert f"/admin/core/roleassignment/add/?user={user.pk}" in html
    assert "role_assignments-0-role" not in html  # no editable inline row
    assert 'name="is_demo_account"' not in html  # read-only: only seed_demo makes demo accounts


def test_granting_a_role_in_the_admin_goes_through_the_service(admin_client, superuser, db):
    user = UserFactory(username="ro")
    constituency = ConstituencyFactory(code="NA-10")
    response = admin_client.post(
        "/admin/core/roleassignment/add/",
        {"user": user.pk, "role": Role.RETURNING_OFFICER, "constituency": constituency.pk},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/core/user/{user.pk}/change/"
    assignment = RoleAssignment.objects.get(user=user)
    assert assignment.constituency == constituency
    (granted,) = AuditEvent.objects.filter(action="user.role_granted")
    assert granted.actor_id == superuser.pk
    assert granted.data == {"role": "returning_officer", "office": None, "constituency": "NA-10"}


def test_a_refused_grant_shows_the_rule_and_changes_nothing(admin_client, db):
    user = UserFactory(username="desk")
    response = admin_client.post("/admin/core/roleassignment/add/", {"user": user.pk, "role": Role.DESK_OFFICER})
    assert response.status_code == 200
    assert "This role needs an office." in response.content.decode()
    assert not RoleAssignment.objects.exists()
    assert not AuditEvent.objects.filter(action="user.role_granted").exists()


def test_revoking_roles_in_the_admin_goes_through_the_service(admin_client, db):
    user = UserFactory(username="omr")
    assignment = role_grant(actor=None, user=user, role=Role.OMR_OPERATOR)
    assert admin_client.post(f"/admin/core/roleassignment/{assignment.pk}/delete/").status_code == 403
    response = admin_client.post(
        "/admin/core/roleassignment/", {"action": "revoke_selected", "_selected_action": [assignment.pk]}
    )
    assert response.status_code == 302
    assert not RoleAssignment.objects.exists()
    (revoked,) = AuditEvent.objects.filter(action="user.role_revoked")
    assert revoked.data == {"role": "omr_operator", "office": None, "constituency": None}


def test_adding_an_office_goes_through_the_service(admin_client, db):
    cec = OfficeFactory(code="cec", kind=OfficeKind.CEC)
    response = admin_client.post(
        "/admin/core/office/add/",
        {"code": "sec", "kind": OfficeKind.SECRETARY, "name": "Secretary ECP", "parent": cec.pk, "is_active": "on"},
    )
    assert response.status_code == 302
    assert Office.objects.get(code="sec").parent == cec
    assert AuditEvent.objects.filter(action="office.created").count() == 1


# --- no authenticator secrets on show ------------------------------------------------------------------


def test_authenticator_secrets_and_backup_codes_are_never_shown(admin_client, superuser):
    device = TOTPDevice.objects.get(user=superuser)
    backup = StaticDevice.objects.create(user=superuser, name="backup", confirmed=True)
    StaticToken.objects.create(device=backup, token="k3m9qz2a")
    for url in (
        "/admin/otp_totp/totpdevice/",
        f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        "/admin/otp_static/staticdevice/",
        f"/admin/otp_static/staticdevice/{backup.pk}/change/",
    ):
        html = admin_client.get(url).content.decode()
        assert device.key not in html, url
        assert "k3m9qz2a" not in html, url
    assert admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code == 403
    assert admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code == 403
    assert admin_client.get("/admin/otp_totp/totpdevice/add/").status_code == 403
