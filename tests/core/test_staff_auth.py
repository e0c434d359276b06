"""Staff sign-in: password, then a second factor (TOTP or a backup code), enrolment,
the demo skip, lockout, logout, ``next``, the staff landing page, and the
permission helpers in core.permissions."""

from __future__ import annotations

import json
import re
from base64 import b32encode
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from core.models import AuditEvent, Role
from core.permissions import IsVerifiedStaff, staff_required
from core.services import role_grant
from core.services_registry import Service
from tests.factories import ConstituencyFactory, OfficeFactory, UserFactory

PASSWORD = "correct-horse-battery"
LOGIN = "/staff/login/"
VERIFY = "/staff/login/verify/"
ENROL = "/staff/login/enrol/"
HOME = "/staff/"


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift + offset)
    return f"{value:0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    near = {code_for(device, offset) for offset in (-2, -1, 0, 1, 2)}
    return next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 7919)) if c not in near)


def wait_out_throttle(device) -> None:
    """As if the back-off delay after a wrong code had passed."""
    type(device).objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(hours=1))


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def main_of(response) -> str:
    """The page's own content, without the site's navigation and footer."""
    html = response.content.decode()
    return html[html.index('<main id="main"') : html.index("</main>")]


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def staff(db):
    return UserFactory(username="officer", is_staff=True, is_superuser=True)


@pytest.fixture
def device(staff):
    return TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)


def password_step(client, username="officer", password=PASSWORD, next_url=None):
    data = {"username": username, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post(LOGIN, data)


# --- password, then code ----------------------------------------------------------


def test_login_page_has_labelled_fields_with_autocomplete(client, db):
    response = client.get(LOGIN)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'autocomplete="username"' in html
    assert 'autocomplete="current-password"' in html
    assert '<label for="id_username"' in html


def test_password_alone_leads_to_the_code_step_and_no_further(client, device):
    response = password_step(client, next_url="/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert not signed_in(client)

    assert client.get(HOME)["Location"].startswith(LOGIN)
    admin = client.get("/admin/")
    assert admin.status_code == 302
    assert client.get(admin["Location"])["Location"].startswith(LOGIN)

    page = client.get(VERIFY)
    html = page.content.decode()
    assert 'autocomplete="one-time-code"' in html
    assert 'inputmode="numeric"' in html


def test_full_totp_sign_in_reaches_staff_home_and_admin(client, device):
    step = password_step(client, next_url="/admin/")
    response = client.post(step["Location"], {"code": code_for(device), "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert signed_in(client)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/admin/").status_code == 200
    assert client.get(HOME).status_code == 200
    (login,) = events("user.login")
    assert login.data == {"method": "totp"}
    assert login.target_id == str(device.user_id)


def test_wrong_code_is_refused_and_audited_without_the_code(client, device):
    password_step(client)
    wrong = wrong_code_for(device)
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert not signed_in(client)
    (failure,) = events("user.login_failed")
    assert failure.data == {"step": "otp", "reason": "bad_code", "method": "totp"}
    assert wrong not in json.dumps(failure.data)
    assert events("user.login") == []


def test_codes_are_throttled_after_a_wrong_one(client, device):
    password_step(client)
    client.post(VERIFY, {"code": wrong_code_for(device)})
    response = client.post(VERIFY, {"code": code_for(device)})
    assert "Too many wrong codes in a row" in response.content.decode()
    assert not signed_in(client)
    wait_out_throttle(device)
    assert client.post(VERIFY, {"code": code_for(device)}).status_code == 302
    assert signed_in(client)


def test_five_wrong_codes_send_you_back_to_the_password(client, device, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # count the session's guesses alone
    password_step(client)
    for _ in range(4):
        assert client.post(VERIFY, {"code": wrong_code_for(device)}).status_code == 200
    response = client.post(VERIFY, {"code": wrong_code_for(device)})
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert client.get(VERIFY)["Location"].startswith(LOGIN)
    assert len(events("user.login_failed")) == 5


def test_malformed_code_is_a_field_error_not_a_guess(client, device):
    password_step(client)
    response = client.post(VERIFY, {"code": "12ab"})
    assert "Enter the 6 digits" in response.content.decode()
    assert events("user.login_failed") == []
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_backup_code_signs_in_once(client, device, staff):
    backup = StaticDevice.objects.create(user=staff, name="backup", confirmed=True)
    StaticToken.objects.create(device=backup, token="k3m9qz2a")
    StaticToken.objects.create(device=backup, token="abcd2345")

    password_step(client)
    response = client.post(VERIFY, {"backup_code": "K3M9 QZ2A"})
    assert response.status_code == 302
    assert signed_in(client)
    assert client.get(HOME).status_code == 200
    assert events("user.login")[-1].data == {"method": "static"}

    client.post("/staff/logout/")
    password_step(client)
    again = client.post(VERIFY, {"backup_code": "k3m9qz2a"})
    assert again.status_code == 200
    assert not signed_in(client)
    assert events("user.login_failed")[-1].data == {"step": "otp", "reason": "bad_code", "method": "static"}
    assert "k3m9qz2a" not in json.dumps([e.data for e in AuditEvent.objects.all()])


# --- enrolment ---------------------------------------------------------------------


def test_enrolment_end_to_end(client, staff):
    response = password_step(client, next_url="/admin/")
    assert response["Location"].startswith(ENROL)

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert re.search(r'<svg[^>]*class="segno"', html)  # the QR code, drawn here as SVG
    assert "no-store" in page["Cache-Control"]
    device = TOTPDevice.objects.get(user=staff)
    assert not device.confirmed
    secret = re.search(r'class="signin__secret">([A-Z2-7 ]+)<', html).group(1)
    assert secret.replace(" ", "") == b32encode(device.bin_key).decode()

    wrong = client.post(ENROL, {"code": wrong_code_for(device), "next": "/admin/"})
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not signed_in(client)
    assert events("user.otp_enrolled") == []

    wait_out_throttle(device)
    done = client.post(ENROL, {"code": code_for(device), "next": "/admin/"})
    assert done.status_code == 200
    assert "core/staff/backup_codes.html" in [t.name for t in done.templates]
    codes = list(done.context["codes"])
    assert len(codes) == 8
    assert len(set(codes)) == 8
    for code in codes:
        assert code in done.content.decode()
    device.refresh_from_db()
    assert device.confirmed
    assert set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True)) == set(codes)
    assert signed_in(client)
    assert client.get("/admin/").status_code == 200

    (enrolled,) = events("user.otp_enrolled")
    assert enrolled.data == {"device": device.persistent_id, "backup_codes": 8}
    assert events("user.login")[-1].data == {"method": "totp", "enrolled": True}
    dumped = json.dumps([e.data for e in AuditEvent.objects.all()])
    assert not any(code in dumped for code in codes)

    # Shown once: coming back does not show them again.
    assert client.get(ENROL).status_code == 302

    # Next time: the code step, not enrolment; each backup code works once.
    client.post("/staff/logout/")
    assert password_step(client)["Location"].startswith(VERIFY)
    assert client.post(VERIFY, {"backup_code": codes[0]}).status_code == 302
    client.post("/staff/logout/")
    password_step(client)
    assert client.post(VERIFY, {"backup_code": codes[0]}).status_code == 200
    assert not signed_in(client)


def test_enrolment_keeps_one_device_across_reloads(client, staff):
    password_step(client)
    first = client.get(ENROL).context["secret"]
    second = client.get(ENROL).context["secret"]
    assert first == second
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_a_password_cannot_add_a_second_authenticator(client, device, staff):
    password_step(client)
    response = client.get(ENROL)
    assert response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_code_steps_need_the_password_first(client, device):
    assert client.get(VERIFY)["Location"].startswith(LOGIN)
    assert client.get(ENROL)["Location"].startswith(LOGIN)
    assert client.post(VERIFY, {"code": code_for(device)})["Location"].startswith(LOGIN)
    assert not signed_in(client)


def test_password_change_invalidates_the_half_finished_sign_in(client, device, staff):
    password_step(client)
    staff.set_password("another-long-password")
    staff.save()
    assert client.post(VERIFY, {"code": code_for(device)})["Location"].startswith(LOGIN)
    assert not signed_in(client)


# --- demo accounts -----------------------------------------------------------------


def test_demo_account_skips_the_second_factor_in_development(client, settings, db):
    settings.OTP_DEMO_SKIP = True
    UserFactory(username="demo-ro", is_demo_account=True)
    response = password_step(client, username="demo-ro")
    assert response["Location"] == HOME
    page = client.get(HOME)
    assert page.status_code == 200
    assert "Demo account: second factor skipped because this is a development build." in page.content.decode()
    assert events("user.login")[-1].data == {"method": "demo-skip"}


def test_demo_skip_is_refused_when_off(client, settings, db):
    settings.OTP_DEMO_SKIP = False
    UserFactory(username="demo-ro", is_demo_account=True)
    response = password_step(client, username="demo-ro")
    assert response["Location"].startswith(ENROL)
    assert not signed_in(client)
    assert client.get(HOME)["Location"].startswith(LOGIN)


def test_demo_session_loses_access_when_the_skip_is_switched_off(client, settings, db):
    settings.OTP_DEMO_SKIP = True
    UserFactory(username="demo-ro", is_demo_account=True)
    password_step(client, username="demo-ro")
    settings.OTP_DEMO_SKIP = False
    response = client.get(HOME)
    assert response["Location"].startswith(ENROL)


def test_real_account_never_skips(client, settings, staff):
    settings.OTP_DEMO_SKIP = True
    assert password_step(client)["Location"].startswith(ENROL)
    assert not signed_in(client)


# --- wrong passwords and lockout -----------------------------------------------------------


def test_wrong_password_is_audited_without_the_password(client, staff):
    response = password_step(client, password="not-the-password-123")
    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    (failure,) = events("user.login_failed")
    assert failure.data == {"step": "password", "reason": "bad_password"}
    assert failure.target_id == str(staff.pk)
    dumped = json.dumps(failure.data)
    assert "not-the-password-123" not in dumped
    assert PASSWORD not in dumped


def test_unknown_username_is_audited_without_the_username(client, db):
    password_step(client, username="typed-my-password-here")
    (failure,) = events("user.login_failed")
    assert failure.data == {"step": "password", "reason": "unknown_user"}
    assert "typed-my-password-here" not in json.dumps(failure.data) + failure.target_repr


def test_lockout_after_five_wrong_passwords_even_with_the_right_one(client, device, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert password_step(client, password="wrong-password-xyz").status_code == 200
    locked = password_step(client, password="wrong-password-xyz")
    assert locked.status_code == 429
    assert "core/staff/lockout.html" in [t.name for t in locked.templates]
    html = locked.content.decode()
    assert "Sign-in paused" in html
    assert "Try again in 30 minutes" in html

    right = password_step(client)
    assert right.status_code == 429
    assert "Sign-in paused" in right.content.decode()
    assert client.get(VERIFY)["Location"].startswith(LOGIN)
    assert not signed_in(client)
    assert events("user.login_failed")[-1].data == {"step": "password", "reason": "locked_out"}


def test_lockout_is_per_username_and_address(client, device, db):
    UserFactory(username="colleague")
    for _ in range(5):
        password_step(client, password="wrong-password-xyz")
    assert password_step(client, username="colleague")["Location"].startswith(ENROL)


# --- logout and next ---------------------------------------------------------------------


def test_logout_needs_post(client, device):
    password_step(client)
    client.post(VERIFY, {"code": code_for(device)})
    assert client.get("/staff/logout/").status_code == 405
    assert client.get(HOME).status_code == 200
    response = client.post("/staff/logout/")
    assert response.status_code == 302
    assert not signed_in(client)
    assert client.get(HOME)["Location"].startswith(LOGIN)


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/x", "https:evil.example"])
def test_next_may_not_leave_the_site(client, device, evil):
    step = password_step(client, next_url=evil)
    assert "evil" not in step["Location"]
    response = client.post(VERIFY, {"code": code_for(device), "next": evil})
    assert response.status_code == 302
    assert response["Location"] == HOME


def test_next_may_not_leave_the_site_on_demo_skip(client, settings, db):
    settings.OTP_DEMO_SKIP = True
    UserFactory(username="demo-ro", is_demo_account=True)
    response = password_step(client, username="demo-ro", next_url="https://evil.example")
    assert response["Location"] == HOME


def test_staff_pages_send_you_to_login_with_next(client, db):
    response = client.get(HOME)
    assert response["Location"] == f"{LOGIN}?next=%2Fstaff%2F"


def test_signed_in_staff_visiting_login_goes_on(client, device):
    password_step(client)
    client.post(VERIFY, {"code": code_for(device)})
    assert client.get(LOGIN + "?next=/admin/")["Location"] == "/admin/"


# --- the staff landing page -------------------------------------------------------------------


def sign_in_fully(client, user):
    """Password and a fresh authenticator, through the real flow."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    password_step(client, username=user.username)
    client.post(VERIFY, {"code": code_for(device)})
    assert signed_in(client)


@pytest.fixture
def desk_service(monkeypatch):
    """Give two apps staff roles for this test (none has them yet)."""
    complaints = apps.get_app_config("complaints")
    results = apps.get_app_config("results")
    monkeypatch.setattr(
        complaints,
        "service",
        Service(
            title="Complaints",
            description="Desk by desk.",
            icon="inbox",
            url_name="complaints:index",
            staff_roles=(Role.DESK_OFFICER,),
        ),
    )
    monkeypatch.setattr(
        results,
        "service",
        Service(
            title="Results",
            description="Form-45 entry.",
            icon="chart",
            url_name="results:index",
            staff_roles=(Role.RETURNING_OFFICER,),
        ),
    )


def test_staff_home_lists_roles_with_scope_and_matching_services(client, db, desk_service):
    user = UserFactory(username="desk", first_name="Ayesha", last_name="Khan")
    office = OfficeFactory(name="DEC Lahore")
    role_grant(actor=None, user=user, role=Role.DESK_OFFICER, office=office)
    sign_in_fully(client, user)
    html = main_of(client.get(HOME))
    assert "Welcome, Ayesha Khan" in html
    assert "Desk officer" in html
    assert "DEC Lahore" in html
    assert "Complaints" in html
    assert "Coming soon" in html
    assert "Results" not in html
    assert "Administration" not in html  # not is_staff
    assert "/api/docs/" in html


def test_staff_home_shows_everything_to_administrators(client, staff, db, desk_service):
    sign_in_fully(client, staff)
    html = main_of(client.get(HOME))
    assert "Complaints" in html
    assert "Results" in html
    assert 'href="/admin/"' in html


def test_staff_home_constituency_scope(client, db):
    user = UserFactory(username="ro")
    role_grant(actor=None, user=user, role=Role.RETURNING_OFFICER, constituency=ConstituencyFactory(code="NA-44"))
    sign_in_fully(client, user)
    html = main_of(client.get(HOME))
    assert "Returning Officer" in html
    assert "NA-44" in html


def test_staff_home_without_roles_says_whom_to_ask(client, db):
    user = UserFactory(username="newcomer")
    sign_in_fully(client, user)
    html = main_of(client.get(HOME))
    assert "You have no roles yet." in html
    assert "administrator" in html


# --- permission helpers -------------------------------------------------------------------------


def test_staff_required_sends_each_user_to_their_step(device, staff, db):
    view = staff_required(lambda request: HttpResponse("in"))
    factory = RequestFactory()

    anonymous = factory.get("/x/?a=1")
    anonymous.user = AnonymousUser()
    assert view(anonymous)["Location"] == f"{LOGIN}?next=%2Fx%2F%3Fa%3D1"

    half = factory.get("/x/")
    staff.is_verified = lambda: False
    half.user = staff
    assert view(half)["Location"].startswith(VERIFY)

    newcomer = UserFactory()
    newcomer.is_verified = lambda: False
    half.user = newcomer
    assert view(half)["Location"].startswith(ENROL)

    full = factory.get("/x/")
    staff.is_verified = lambda: True
    full.user = staff
    assert view(full).content == b"in"


def test_is_verified_staff_lets_tokens_and_verified_sessions_through(staff):
    permission = IsVerifiedStaff()
    token = Token.objects.create(user=staff)
    assert permission.has_permission(SimpleNamespace(user=staff, auth=token), None)

    staff.is_verified = lambda: False
    assert not permission.has_permission(SimpleNamespace(user=staff, auth=None), None)
    staff.is_verified = lambda: True
    assert permission.has_permission(SimpleNamespace(user=staff, auth=None), None)

    assert not permission.has_permission(SimpleNamespace(user=AnonymousUser(), auth=None), None)
    staff.is_active = False
    assert not permission.has_permission(SimpleNamespace(user=staff, auth=token), None)
