"""Who may enter the staff area: the one rule, for HTML views, the admin and the API.

A staff session is a signed-in, active user who has passed the second factor
(``django_otp``: ``user.is_verified()``), or a seeded demo account while
``settings.OTP_DEMO_SKIP`` is on (development builds only). A password alone
is never enough. The sign-in steps live in ``core/views_staff.py``; the admin
site applies the same rule in ``core/admin_site.py``.

- ``staff_required`` / ``StaffRequiredMixin`` for HTML views: anyone else is
  sent to the step of the sign-in flow they are at, with ``next``.
- ``IsVerifiedStaff`` for DRF views: a session must be a staff session;
  token-authenticated clients (outside systems, no person at a keyboard)
  pass, because they never go through the second factor.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework.authtoken.models import Token
from rest_framework.permissions import BasePermission


def second_factor_passed(user) -> bool:
    """True when this request's user passed a second factor, or is a demo account allowed to skip it."""
    if user is None or not user.is_authenticated:
        return False
    is_verified = getattr(user, "is_verified", None)  # installed by django_otp's OTPMiddleware
    if callable(is_verified) and is_verified():
        return True
    return bool(getattr(user, "may_skip_second_factor", False))


def is_verified_staff(user) -> bool:
    """Signed in, active, and past the second factor (or a demo skip)."""
    return user is not None and user.is_authenticated and user.is_active and second_factor_passed(user)


def has_confirmed_totp(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def login_step_url(request, next_url: str) -> str:
    """The sign-in step this request's user is at, carrying ``next``.

    Signed in but not past the second factor: the code step (or enrolment if
    they have no authenticator yet). Anyone else: the password step.
    """
    user = request.user
    if user.is_authenticated and user.is_active and not second_factor_passed(user):
        step = "core:staff_otp_verify" if has_confirmed_totp(user) else "core:staff_otp_enrol"
    else:
        step = "core:staff_login"
    return f"{reverse(step)}?{urlencode({'next': next_url})}"


def staff_required(view_func):
    """Decorator for function views: only a verified staff session gets through."""

    @wraps(view_func)
    def wrapped(request, *args, **kwargs):
        if is_verified_staff(request.user):
            return view_func(request, *args, **kwargs)
        return redirect(login_step_url(request, request.get_full_path()))

    return wrapped


class StaffRequiredMixin:
    """Class-based views: only a verified staff session gets through (put it first in the bases)."""

    def dispatch(self, request, *args, **kwargs):
        if not is_verified_staff(request.user):
            return redirect(login_step_url(request, request.get_full_path()))
        return super().dispatch(request, *args, **kwargs)


class IsVerifiedStaff(BasePermission):
    """DRF: a staff session past the second factor, or an API token (outside systems)."""

    message = _("Sign in to the staff area with your second factor to use this.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        if isinstance(request.auth, Token):
            return True
        return second_factor_passed(user)
