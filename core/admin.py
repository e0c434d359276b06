"""core's models — and the third-party ones the staff need — on the two-factor ``admin_site``.

Writes that are a use case of their own go through ``core.services``, as
they do everywhere else: granting a role (``role_grant``), revoking it
(``role_revoke``), creating an office (``office_create``). Those admin pages
call the service (validated, atomic, audited) instead of saving a ModelForm.
The audit log and jobs are read-only for everybody. The authenticator
secrets and backup codes are never shown: a lost phone is handled by
deleting the person's devices, and they set up a new authenticator at their
next sign-in.
"""

from __future__ import annotations

import json

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_celery_beat.admin import (
    ClockedScheduleAdmin,
    CrontabScheduleAdmin,
    IntervalScheduleAdmin,
    PeriodicTaskAdmin,
    SolarScheduleAdmin,
)
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from . import audit, services
from .admin_site import admin_site
from .exceptions import DomainError
from .models import (
    AuditEvent,
    CensusBlock,
    Constituency,
    District,
    Division,
    Holiday,
    Job,
    Office,
    OfficeHours,
    PollingStation,
    Province,
    RoleAssignment,
    Tehsil,
    User,
)

# --- helpers -----------------------------------------------------------------------


class ServiceAddMixin:
    """An add page whose save calls a service instead of ``ModelForm.save()``.

    The form (with the admin's widgets: autocomplete, raw id) checks shape
    and model constraints; ``create_through_service`` does the write. A
    ``DomainError`` from the service is shown beside its field and nothing
    is saved. Not wrapped in the admin's transaction: services are durable.
    """

    add_fields: tuple[str, ...] = ()

    def create_through_service(self, request, data: dict):
        raise NotImplementedError

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form_class = self.get_form(request, None, change=False, fields=self.add_fields)
        if request.method == "POST":
            form = form_class(request.POST)
            if form.is_valid():
                try:
                    obj = self.create_through_service(request, form.cleaned_data)
                except DomainError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                else:
                    self.log_addition(request, obj, [{"added": {}}])
                    return self.response_add(request, obj)
        else:
            form = form_class(initial=self.get_changeform_initial_data(request))
        admin_form = helpers.AdminForm(form, [(None, {"fields": self.add_fields})], {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Add %s") % self.opts.verbose_name,
            "subtitle": None,
            "adminform": admin_form,
            "object_id": None,
            "original": None,
            "is_popup": IS_POPUP_VAR in request.POST or IS_POPUP_VAR in request.GET,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, change=False, form_url=form_url)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by code: anyone with the view permission may look, nobody may change."""

    actions = None

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- users and roles ---------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    """Rows shown inside their parent and written only by code: nothing added, changed or deleted here.
    Subclasses name the model and ``fields``; every field is shown read-only."""

    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields or ()

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RoleAssignmentInline(ReadOnlyInline):
    """Read-only here: roles are granted and revoked through the services (links beside it)."""

    model = RoleAssignment
    fk_name = "user"
    fields = ("role", "office", "constituency", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("office", "constituency")


@admin.register(User, site=admin_site)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("ECP"), {"fields": ("name_ur", "phone", "is_demo_account")}),
        (_("Roles and second factor"), {"fields": ("role_links", "second_factor")}),
    )
    # Only seed_demo makes demo accounts: flipping it here would let a real account skip the second factor.
    readonly_fields = ("is_demo_account", "role_links", "second_factor", "last_login", "date_joined")
    list_display = ("username", "first_name", "last_name", "email", "is_active", "is_staff", "is_demo_account")
    list_filter = ("is_active", "is_staff", "is_superuser", "is_demo_account", "role_assignments__role", "groups")
    search_fields = ("username", "first_name", "last_name", "email", "name_ur", "phone")
    inlines = (RoleAssignmentInline,)

    @admin.display(description=_("Roles"))
    def role_links(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        grant = reverse("admin:core_roleassignment_add") + f"?user={obj.pk}"
        listing = reverse("admin:core_roleassignment_changelist") + f"?user__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>', grant, _("Grant a role"), listing, _("Revoke roles")
        )

    @admin.display(description=_("Second factor"))
    def second_factor(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        device = TOTPDevice.objects.filter(user=obj, confirmed=True).first()
        codes = StaticToken.objects.filter(device__user=obj, device__confirmed=True).count()
        if device is None:
            return str(_("No authenticator yet: they will set one up at their next sign-in."))
        return str(
            _("Authenticator app set up on %(date)s; %(codes)d backup codes left.")
            % {"date": f"{device.created_at:%Y-%m-%d}" if device.created_at else "—", "codes": codes}
        )


@admin.register(RoleAssignment, site=admin_site)
class RoleAssignmentAdmin(ServiceAddMixin, admin.ModelAdmin):
    """Granting (the add page) calls ``role_grant``; revoking (an action) calls ``role_revoke``."""

    add_fields = ("user", "role", "office", "constituency")
    list_display = ("user", "role", "office", "constituency", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "office", "constituency")
    search_fields = ("user__username", "=office__code", "=constituency__code")
    autocomplete_fields = ("user", "office", "constituency")
    actions = ("revoke_selected",)

    def create_through_service(self, request, data):
        return services.role_grant(
            actor=request.user,
            user=data["user"],
            role=data["role"],
            office=data.get("office"),
            constituency=data.get("constituency"),
        )

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, _("Granted: %(assignment)s.") % {"assignment": obj}, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:core_user_change", args=[obj.user_id]))

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("core.delete_roleassignment")

    @admin.action(description=_("Revoke the selected roles"), permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        revoked = 0
        for assignment in queryset.select_related("user", "office", "constituency").order_by("pk"):
            try:
                services.role_revoke(actor=request.user, assignment=assignment)
            except DomainError as exc:
                self.message_user(request, f"{assignment}: {exc.message}", messages.WARNING)
            else:
                revoked += 1
        self.message_user(
            request,
            ngettext("Revoked %(n)d role.", "Revoked %(n)d roles.", revoked) % {"n": revoked},
            messages.SUCCESS,
        )


admin_site.register(Group, GroupAdmin)


# --- geography ----------------------------------------------------------------------


@admin.register(Province, site=admin_site)
class ProvinceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_ur", "pa_prefix")
    search_fields = ("code", "name", "name_ur")


@admin.register(Division, site=admin_site)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ur", "province")
    list_filter = ("province",)
    list_select_related = ("province",)
    search_fields = ("name", "name_ur")


@admin.register(District, site=admin_site)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ur", "division", "province")
    list_filter = ("province",)
    list_select_related = ("province", "division")
    search_fields = ("name", "name_ur")
    autocomplete_fields = ("division",)


@admin.register(Tehsil, site=admin_site)
class TehsilAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ur", "district")
    list_filter = ("district__province",)
    list_select_related = ("district",)
    search_fields = ("name", "name_ur", "district__name")
    autocomplete_fields = ("district",)


@admin.register(Constituency, site=admin_site)
class ConstituencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_ur", "house", "province", "district")
    list_filter = ("house", "province")
    list_select_related = ("province", "district")
    search_fields = ("code", "name", "name_ur")
    autocomplete_fields = ("district",)
    show_full_result_count = False


@admin.register(CensusBlock, site=admin_site)
class CensusBlockAdmin(admin.ModelAdmin):
    list_display = ("code", "electoral_area", "district", "tehsil", "male_voters", "female_voters")
    list_filter = ("district__province",)
    list_select_related = ("district", "tehsil")
    search_fields = ("=code", "electoral_area", "electoral_area_ur")
    autocomplete_fields = ("district", "tehsil")
    show_full_result_count = False


@admin.register(PollingStation, site=admin_site)
class PollingStationAdmin(admin.ModelAdmin):
    """About 96,000 rows: exact-match searches, no full count, no dropdowns of stations."""

    list_display = ("constituency", "number", "name", "station_type", "male_voters", "female_voters", "booths_total")
    list_filter = ("station_type", "constituency__house", "constituency__province")
    list_select_related = ("constituency",)
    search_fields = ("=constituency__code", "name", "name_ur")
    search_help_text = _("A constituency code (NA-44) or part of the station's name.")
    autocomplete_fields = ("constituency",)
    raw_id_fields = ("counterpart",)
    show_full_result_count = False
    list_per_page = 50

    @admin.display(description=_("booths"))
    def booths_total(self, obj) -> int:
        return obj.booths


# --- offices and calendar -----------------------------------------------------------


@admin.register(Office, site=admin_site)
class OfficeAdmin(ServiceAddMixin, admin.ModelAdmin):
    """A new office goes through ``office_create`` (it checks the parent rule and audits)."""

    add_fields = ("code", "kind", "name", "name_ur", "parent", "province", "district", "phone", "address", "is_active")
    list_display = ("name", "code", "kind", "parent", "province", "district", "is_active")
    list_filter = ("kind", "is_active", "province")
    list_select_related = ("parent", "province", "district")
    search_fields = ("name", "name_ur", "code")
    autocomplete_fields = ("parent", "province", "district")

    def create_through_service(self, request, data):
        return services.office_create(actor=request.user, **data)


@admin.register(OfficeHours, site=admin_site)
class OfficeHoursAdmin(admin.ModelAdmin):
    list_display = ("weekday", "opens", "closes")


@admin.register(Holiday, site=admin_site)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "name", "name_ur")
    date_hierarchy = "date"
    search_fields = ("name", "name_ur")


# --- jobs and the audit trail ----------------------------------------------------------


@admin.register(Job, site=admin_site)
class JobAdmin(ReadOnlyAdmin):
    list_display = ("title", "kind", "status", "done", "total", "error_count", "created_by", "created_at")
    list_filter = ("status", "kind", "created_at")
    list_select_related = ("created_by",)
    search_fields = ("title", "kind")


class AuditActionFilter(admin.SimpleListFilter):
    """The registered actions, without a DISTINCT over the whole log."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return sorted(audit.registered_actions().items())

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent, site=admin_site)
class AuditEventAdmin(ReadOnlyAdmin):
    """Append-only and hash-chained: nobody adds, changes or deletes a row here, superusers included."""

    list_display = ("seq", "created_at", "actor_label", "action", "target_repr")
    list_filter = (AuditActionFilter, "created_at")
    search_fields = ("=target_id", "=actor_label", "=request_id")
    search_help_text = _("Exact target id, actor (username or task:…), or request id.")
    ordering = ("-seq",)
    show_full_result_count = False
    list_per_page = 100
    fields = (
        "seq",
        "created_at",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "data_pretty",
        "request_id",
        "ip",
        "prev_hash",
        "hash",
    )
    readonly_fields = fields

    @admin.display(description=_("data"))
    def data_pretty(self, obj) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, ensure_ascii=False, sort_keys=True))


# --- third-party models ---------------------------------------------------------------
# Their packages register them on django.contrib.admin.site, which is not routed;
# the same ModelAdmin classes go on our site here.


class EcpTOTPDeviceAdmin(TOTPDeviceAdmin):
    """View and delete only: no secret key, no QR code, no devices made by someone else."""

    def get_list_display(self, request):
        return ["user", "name", "created_at", "last_used_at", "confirmed"]

    def get_fieldsets(self, request, obj=None):
        hidden = {"key", "qrcode_link"}
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in super().get_fieldsets(request, obj)
        ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def config_view(self, request, pk):
        raise PermissionDenied

    def qrcode_view(self, request, pk):
        raise PermissionDenied


class EcpStaticDeviceAdmin(StaticDeviceAdmin):
    """View and delete only: the backup codes themselves are never listed."""

    def get_inline_instances(self, request, obj=None):
        return []

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


admin_site.register(TOTPDevice, EcpTOTPDeviceAdmin)
admin_site.register(StaticDevice, EcpStaticDeviceAdmin)
admin_site.register(TokenProxy, TokenAdmin)
admin_site.register(AccessAttempt, AccessAttemptAdmin)
admin_site.register(AccessLog, AccessLogAdmin)
admin_site.register(AccessFailureLog, AccessFailureLogAdmin)
admin_site.register(PeriodicTask, PeriodicTaskAdmin)
admin_site.register(IntervalSchedule, IntervalScheduleAdmin)
admin_site.register(CrontabSchedule, CrontabScheduleAdmin)
admin_site.register(SolarSchedule, SolarScheduleAdmin)
admin_site.register(ClockedSchedule, ClockedScheduleAdmin)
