"""The one admin site, behind both factors.

Every app registers its models on ``admin_site`` (``from core.admin_site
import admin_site``), not on ``django.contrib.admin.site``, which is not
routed. It lets in only active ``is_staff`` users whose session passed the
second factor (or a demo account while ``OTP_DEMO_SKIP`` is on, development
only) — the rule in ``core.permissions``. Its own login page is replaced by
the staff sign-in flow, which comes back here through ``next``.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from .permissions import is_verified_staff, login_step_url


class EcpAdminSite(admin.AdminSite):
    site_header = _("ECP Portal administration")
    site_title = _("ECP Portal admin")
    index_title = _("Administration")
    site_url = reverse_lazy("core:staff_home")

    def has_permission(self, request) -> bool:
        return is_verified_staff(request.user) and request.user.is_staff

    def login(self, request, extra_context=None):
        """No password form here: the staff sign-in flow (with its second factor) does it."""
        index = reverse("admin:index", current_app=self.name)
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = index
        if self.has_permission(request):
            return redirect(next_url)
        if is_verified_staff(request.user):
            # Fully signed in, but not an administrator: sending them to sign in again would loop.
            raise PermissionDenied(_("Your account does not have access to the administration."))
        return redirect(login_step_url(request, next_url))


admin_site = EcpAdminSite(name="admin")
