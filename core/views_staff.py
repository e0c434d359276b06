"""Staff sign-in with two factors, and the staff landing page.

The steps, each a URL of its own (``core/urls.py``):

1. ``/staff/login/`` — username and password through django.contrib.auth, so
   django-axes counts failures and locks a username+IP out after
   ``AXES_FAILURE_LIMIT`` of them (its middleware then shows
   ``core/staff/lockout.html``, whatever the password). A right password does
   **not** sign anyone in: it only puts a short-lived "password checked" note
   in the session (``PENDING_KEY``).
2. ``/staff/login/verify/`` — the 6-digit code of their authenticator app, or
   one of their backup codes. Only now is the user signed in
   (``django.contrib.auth.login`` + ``django_otp.login``).
3. ``/staff/login/enrol/`` — for someone with no authenticator yet: a new
   unconfirmed TOTP device, its QR code (inline SVG made here, no outside
   service) and secret; the right code confirms it, issues backup codes
   (shown once) and signs them in.

Seeded demo accounts skip steps 2–3 while ``settings.OTP_DEMO_SKIP`` is on
(development builds only; production forces it off). Wrong codes are
throttled by the device itself (django-otp's exponential back-off) and, per
sign-in, ``MAX_CODE_FAILURES`` wrong codes send the person back to step 1.

Audit: ``user.login`` on every full sign-in (``method``: totp, static,
demo-skip), ``user.login_failed`` for a wrong password or code,
``user.otp_enrolled`` when an authenticator is confirmed. Passwords and codes
never go into audit data.
"""

from __future__ import annotations

import math
import time
from base64 import b32encode
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import TemplateView
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit, selectors
from .exceptions import ConflictError
from .forms import BackupCodeForm, OtpTokenForm, StaffAuthenticationForm
from .models import Role, RoleAssignment
from .permissions import StaffRequiredMixin, is_verified_staff
from .services import otp_enrol_confirm
from .services_registry import services

PENDING_KEY = "staff_login_pending"  # {"user_id", "backend", "hash", "at"} after a right password
ENROL_DEVICE_KEY = "staff_enrol_device"  # id of the unconfirmed TOTP device being set up
FAILURES_KEY = "staff_code_failures"  # wrong codes in this sign-in attempt
PENDING_MAX_AGE = 10 * 60  # seconds between the password and the code
MAX_CODE_FAILURES = 5
TOTP_DEVICE_NAME = "Authenticator app"

_sensitive = method_decorator(sensitive_post_parameters("password", "code", "backup_code"), name="dispatch")
_no_cache = method_decorator(never_cache, name="dispatch")
_csrf = method_decorator(csrf_protect, name="dispatch")


# --- the steps' shared state -------------------------------------------------


def _next_url(request) -> str:
    """Where to go once signed in: ``next`` if it stays on this site, else the staff home."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("core:staff_home")


def _step_url(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


def _begin_pending(request, user) -> None:
    """The password was right: remember who, for a few minutes, without signing them in."""
    if request.user.is_authenticated:
        auth_logout(request)  # someone half-signed-in on this browser: start clean
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "backend": user.backend,
        "hash": user.get_session_auth_hash(),
        "at": int(time.time()),
    }
    request.session.pop(FAILURES_KEY, None)
    request.session.pop(ENROL_DEVICE_KEY, None)


def _clear_pending(request) -> None:
    for key in (PENDING_KEY, FAILURES_KEY, ENROL_DEVICE_KEY):
        request.session.pop(key, None)


def _pending_user(request):
    """The person between password and code: signed in but not verified, or noted by step 1."""
    if request.user.is_authenticated:
        return request.user if request.user.is_active else None
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return None
    user = get_user_model().objects.filter(pk=pending.get("user_id"), is_active=True).first()
    fresh = time.time() - pending.get("at", 0) <= PENDING_MAX_AGE
    # A password changed since step 1 invalidates the note, like it invalidates sessions.
    if user is None or not fresh or not constant_time_compare(user.get_session_auth_hash(), pending.get("hash", "")):
        _clear_pending(request)
        return None
    user.backend = pending.get("backend")
    return user


def _sign_in(request, user, *, device, method: str, **extra) -> None:
    """Both factors passed (or a demo skip): sign in, bind the device, audit."""
    if not (request.user.is_authenticated and request.user.pk == user.pk):
        backend = getattr(user, "backend", None) or settings.AUTHENTICATION_BACKENDS[-1]
        auth_login(request, user, backend=backend)
    if device is not None:
        otp_login(request, device)
    _clear_pending(request)
    audit.record(action="user.login", actor=user, target=user, data={"method": method, **extra})


def _audit_failure(user, *, step: str, reason: str, **extra) -> None:
    # Never the password or the code: only which step, and why.
    audit.record(action="user.login_failed", target=user, data={"step": step, "reason": reason, **extra})


def _count_code_failure(request) -> int:
    failures = request.session.get(FAILURES_KEY, 0) + 1
    request.session[FAILURES_KEY] = failures
    return failures


def _too_many_failures(request):
    """Back to the password step: this sign-in attempt has used up its guesses."""
    if request.user.is_authenticated:
        auth_logout(request)
    _clear_pending(request)
    messages.error(request, _("Too many wrong codes. For your safety, sign in again with your password."))
    return redirect(_step_url("core:staff_login", _next_url(request)))


def _throttle_message(device) -> str | None:
    """django-otp waits 1, 2, 4, 8 … seconds after each wrong code; say how long, if it is waiting."""
    allowed, info = device.verify_is_allowed()
    if allowed:
        return None
    locked_until = (info or {}).get("locked_until")
    seconds = max(1, math.ceil((locked_until - timezone.now()).total_seconds())) if locked_until else 1
    return ngettext(
        "Too many wrong codes in a row. Wait %(seconds)d second, then try the newest code.",
        "Too many wrong codes in a row. Wait %(seconds)d seconds, then try the newest code.",
        seconds,
    ) % {"seconds": seconds}


def _wrong_code_message(method: str = "totp") -> str:
    if method == "static":
        return _("That backup code is not right, or it has been used already. Each code works once.")
    return _(
        "That code is not right. Type the newest code your app shows; if it keeps failing, "
        "check that your phone's clock is set automatically."
    )


def _clear_code(form) -> None:
    """Codes change every 30 seconds: after a wrong one, show an empty box, not the stale code."""
    form.data = form.data.copy()
    form.data["code"] = ""


def _qr_svg(device: TOTPDevice) -> str:
    qr = segno.make(device.config_url, error="m")
    return mark_safe(  # noqa: S308 — segno writes the SVG; the only text in it is our own translated title
        qr.svg_inline(scale=5, border=4, dark="#000", light="#fff", title=_("QR code for your authenticator app"))
    )


def _group(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- step 1: password --------------------------------------------------------


@_sensitive
@_csrf
@_no_cache
class StaffLoginView(View):
    template_name = "core/staff/login.html"

    def get(self, request):
        next_url = _next_url(request)
        if is_verified_staff(request.user):
            return HttpResponseRedirect(next_url)
        return self._render(request, StaffAuthenticationForm(request), next_url)

    def post(self, request):
        next_url = _next_url(request)
        form = StaffAuthenticationForm(request, data=request.POST)
        if not form.is_valid():
            self._audit_refusal(request, form)
            return self._render(request, form, next_url)
        user = form.get_user()
        _begin_pending(request, user)
        if user.may_skip_second_factor:
            _sign_in(request, user, device=None, method="demo-skip")
            messages.warning(request, _("Demo account: second factor skipped because this is a development build."))
            return HttpResponseRedirect(next_url)
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            return redirect(_step_url("core:staff_otp_verify", next_url))
        return redirect(_step_url("core:staff_otp_enrol", next_url))

    def _render(self, request, form, next_url):
        return render(
            request,
            self.template_name,
            {"form": form, "next": next_url, "failure_limit": settings.AXES_FAILURE_LIMIT},
        )

    @staticmethod
    def _audit_refusal(request, form) -> None:
        username = (form.data.get("username") or "").strip()
        if not username or not form.data.get("password"):
            return  # an empty form is not a sign-in attempt
        user = get_user_model().objects.filter(username=username).first()
        if getattr(request, "axes_locked_out", False):
            reason = "locked_out"
        elif user is None:
            reason = "unknown_user"
        elif not user.is_active:
            reason = "inactive"
        else:
            reason = "bad_password"
        _audit_failure(user, step="password", reason=reason)


# --- step 2: the code ----------------------------------------------------------


class _SecondStepView(View):
    """Both second-factor steps open the same way: someone already through goes on to
    ``next``; someone without a fresh right password goes back to step 1. Then
    ``wrong_step`` may send them to the other second-factor step."""

    def dispatch(self, request, *args, **kwargs):
        self.next_url = _next_url(request)
        if is_verified_staff(request.user):
            return HttpResponseRedirect(self.next_url)
        self.user = _pending_user(request)
        if self.user is None:
            messages.info(request, _("Please sign in with your username and password first."))
            return redirect(_step_url("core:staff_login", self.next_url))
        return self.wrong_step(request) or super().dispatch(request, *args, **kwargs)

    def wrong_step(self, request):
        """A redirect to the step this person should be at instead, or None."""
        return None


@_sensitive
@_csrf
@_no_cache
class OtpVerifyView(_SecondStepView):
    template_name = "core/staff/otp_verify.html"

    def wrong_step(self, request):
        self.totp = TOTPDevice.objects.filter(user=self.user, confirmed=True).order_by("pk").first()
        if self.totp is None:
            return redirect(_step_url("core:staff_otp_enrol", self.next_url))
        return None

    def get(self, request):
        return self._render(request, OtpTokenForm(), BackupCodeForm(), notice=_throttle_message(self.totp))

    def post(self, request):
        if "backup_code" in request.POST:
            return self._post_backup_code(request)
        form = OtpTokenForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, BackupCodeForm())
        throttled = _throttle_message(self.totp)
        if throttled:
            form.add_error("code", throttled)
            return self._render(request, form, BackupCodeForm())
        device = verify_token(self.user, self.totp.persistent_id, form.cleaned_data["code"])
        if device is not None:
            _sign_in(request, self.user, device=device, method="totp")
            return HttpResponseRedirect(self.next_url)
        return self._refuse(request, form, "code", method="totp")

    def _post_backup_code(self, request):
        form = BackupCodeForm(request.POST)
        if not form.is_valid():
            return self._render(request, OtpTokenForm(), form, show_backup=True)
        backup = StaticDevice.objects.filter(user=self.user, confirmed=True).order_by("pk").first()
        if backup is None:
            form.add_error(
                "backup_code", _("You have no backup codes. Use your authenticator app, or ask an administrator.")
            )
            return self._render(request, OtpTokenForm(), form, show_backup=True)
        throttled = _throttle_message(backup)
        if throttled:
            form.add_error("backup_code", throttled)
            return self._render(request, OtpTokenForm(), form, show_backup=True)
        device = verify_token(self.user, backup.persistent_id, form.cleaned_data["backup_code"])
        if device is not None:
            _sign_in(request, self.user, device=device, method="static")
            left = StaticToken.objects.filter(device=device).count()
            messages.warning(
                request,
                ngettext(
                    "You signed in with a backup code; it cannot be used again. %(left)d backup code is left.",
                    "You signed in with a backup code; it cannot be used again. %(left)d backup codes are left.",
                    left,
                )
                % {"left": left},
            )
            return HttpResponseRedirect(self.next_url)
        return self._refuse(request, form, "backup_code", method="static")

    def _refuse(self, request, form, field: str, *, method: str):
        _audit_failure(self.user, step="otp", reason="bad_code", method=method)
        if _count_code_failure(request) >= MAX_CODE_FAILURES:
            return _too_many_failures(request)
        form.add_error(field, _wrong_code_message(method))
        if field == "backup_code":
            return self._render(request, OtpTokenForm(), form, show_backup=True)
        _clear_code(form)
        return self._render(request, form, BackupCodeForm())

    def _render(self, request, code_form, backup_form, *, notice=None, show_backup=False):
        return render(
            request,
            self.template_name,
            {
                "form": code_form,
                "backup_form": backup_form,
                "show_backup": show_backup,
                "notice": notice,
                "next": self.next_url,
                "pending_user": self.user,
            },
        )


# --- step 2 for newcomers: set up an authenticator ---------------------------------


@_sensitive
@_csrf
@_no_cache
class OtpEnrolView(_SecondStepView):
    template_name = "core/staff/otp_enrol.html"

    def wrong_step(self, request):
        # Someone who has an authenticator proves it; a password alone never adds a second one.
        if TOTPDevice.objects.filter(user=self.user, confirmed=True).exists():
            return redirect(_step_url("core:staff_otp_verify", self.next_url))
        return None

    def _device(self, request) -> TOTPDevice:
        """The unconfirmed device of this sign-in attempt (the same QR code across reloads)."""
        device = TOTPDevice.objects.filter(
            pk=request.session.get(ENROL_DEVICE_KEY), user=self.user, confirmed=False
        ).first()
        if device is None:
            with transaction.atomic():
                TOTPDevice.objects.filter(user=self.user, confirmed=False).delete()
                device = TOTPDevice.objects.create(user=self.user, name=TOTP_DEVICE_NAME, confirmed=False)
            request.session[ENROL_DEVICE_KEY] = device.pk
        return device

    def get(self, request):
        device = self._device(request)
        return self._render(request, device, OtpTokenForm(), notice=_throttle_message(device))

    def post(self, request):
        device = self._device(request)
        form = OtpTokenForm(request.POST)
        if not form.is_valid():
            return self._render(request, device, form)
        throttled = _throttle_message(device)
        if throttled:
            form.add_error("code", throttled)
            return self._render(request, device, form)
        verified = verify_token(self.user, device.persistent_id, form.cleaned_data["code"])
        if verified is None:
            _audit_failure(self.user, step="enrol", reason="bad_code", method="totp")
            if _count_code_failure(request) >= MAX_CODE_FAILURES:
                TOTPDevice.objects.filter(pk=device.pk, confirmed=False).delete()
                return _too_many_failures(request)
            form.add_error("code", _wrong_code_message())
            _clear_code(form)
            return self._render(request, device, form)
        try:
            codes = otp_enrol_confirm(user=self.user, device=verified)
        except ConflictError:
            messages.error(request, _("This set-up was finished or cancelled in another window. Sign in again."))
            _clear_pending(request)
            return redirect(_step_url("core:staff_login", self.next_url))
        verified.refresh_from_db()
        _sign_in(request, self.user, device=verified, method="totp", enrolled=True)
        # Shown in this response only: the codes are not kept anywhere we could show them again.
        return render(
            request,
            "core/staff/backup_codes.html",
            {"codes": codes, "next": self.next_url},
        )

    def _render(self, request, device, form, *, notice=None):
        secret = b32encode(device.bin_key).decode("ascii")
        response = render(
            request,
            self.template_name,
            {
                "form": form,
                "notice": notice,
                "next": self.next_url,
                "qr_svg": _qr_svg(device),
                "secret": _group(secret),
                "issuer": getattr(settings, "OTP_TOTP_ISSUER", "ECP Portal"),
                "pending_user": self.user,
            },
        )
        return response


# --- sign out ----------------------------------------------------------------------


@_csrf
class StaffLogoutView(View):
    """POST only: a link or an image tag cannot sign anyone out."""

    http_method_names = ["post", "options"]

    def post(self, request):
        auth_logout(request)
        messages.success(request, _("You have signed out."))
        return redirect("core:staff_login")


# --- the staff landing page ---------------------------------------------------------


class StaffHomeView(StaffRequiredMixin, TemplateView):
    template_name = "core/staff/home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        held = selectors.user_roles(user)
        is_admin = Role.ADMIN in held
        cards = []
        for label, service in services():
            if not (is_admin or held.intersection(service.staff_roles)):
                continue
            try:
                url = reverse(service.staff_url_name or service.url_name)
            except NoReverseMatch:
                url = ""
            cards.append({"label": label, "service": service, "url": url})
        assignments = list(RoleAssignment.objects.filter(user=user).select_related("office", "constituency"))
        ctx.update(
            {
                "assignments": assignments,
                # A superuser without an explicit administrator role is still one; say so once, not twice.
                "is_superuser_admin": user.is_superuser and not any(a.role == Role.ADMIN for a in assignments),
                "is_admin": is_admin,
                "has_roles": bool(held),
                "cards": cards,
                "jobs": list(selectors.job_list_for(user=user)[:5]),
                "admin_url": reverse("admin:index") if user.is_staff else "",
                "api_docs_url": reverse("api-docs"),
                "signed_in_with": self._signed_in_with(user),
                "backup_codes_left": StaticToken.objects.filter(device__user=user, device__confirmed=True).count(),
            }
        )
        return ctx

    @staticmethod
    def _signed_in_with(user) -> str:
        device = getattr(user, "otp_device", None)
        if isinstance(device, TOTPDevice):
            return "totp"
        if isinstance(device, StaticDevice):
            return "static"
        return "demo-skip"
