"""SMS on the two-factor admin site (staff tooling beside the SMS screens).

- Contact groups and contacts are edited here as plain rows.
- Opt-outs are added and removed through ``services.optout_add`` / ``optout_remove`` (audited), never by
  a bare save or delete.
- Campaigns, messages and inbound messages are read-only: their states change only through the services
  (the SMS screens' approve, pause, resume, cancel), and nobody deletes them.
- Message events are append-only: shown read-only inside a message, with no add, change or delete anywhere
  (the model is not registered on its own).
"""

from __future__ import annotations

import contextlib

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, ReadOnlyInline, ServiceAddMixin
from core.admin_site import admin_site
from core.phone import InvalidPhone, normalize_mobile

from . import services
from .forms import phone_error
from .models import Campaign, Contact, ContactGroup, InboundMessage, Message, MessageEvent, OptOut, OtpChallenge


class ContactGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ur", "description", "created_at")
    search_fields = ("name", "name_ur")


class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "phone", "language", "organisation", "updated_at")
    list_filter = ("groups", "language")
    search_fields = ("name", "phone", "organisation")
    filter_horizontal = ("groups",)


class OptOutAdmin(ServiceAddMixin, admin.ModelAdmin):
    """A number that asked for no more campaign messages. Added and removed through the services."""

    add_fields = ("phone", "keyword")
    list_display = ("phone", "keyword", "created_at")
    search_fields = ("phone",)
    actions = None

    def create_through_service(self, request, data):
        from core.exceptions import DomainError

        try:
            phone = normalize_mobile(data["phone"])
        except InvalidPhone as exc:
            raise DomainError("bad_phone", phone_error(exc), field="phone") from exc
        services.optout_add(phone=phone, keyword=data.get("keyword") or "admin", actor=request.user)
        return OptOut.objects.get(phone=phone)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj) -> None:
        services.optout_remove(phone=obj.phone, keyword="admin", actor=request.user)
        self.message_user(request, _("Campaign messages reach %(phone)s again.") % {"phone": obj.phone}, messages.INFO)


class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("title", "status", "created_by", "approved_by", "recipients", "created_at")
    list_filter = ("status",)
    list_select_related = ("created_by", "approved_by")
    search_fields = ("title",)
    readonly_fields = ("screen_link",)
    fieldsets = (
        (None, {"fields": ("screen_link", "title", "audience", "audience_label", "template_ur", "template_en")}),
        (
            _("State"),
            {
                "fields": (
                    "status",
                    "created_by",
                    "created_at",
                    "approved_by",
                    "decided_at",
                    "rejection_reason",
                    "send_at",
                    "expires_at",
                    "started_at",
                    "finished_at",
                    "job",
                )
            },
        ),
        (
            _("Figures"),
            {"fields": ("provider", "recipients", "skipped_opted_out", "skipped_invalid", "segments")},
        ),
    )

    @admin.display(description=_("SMS screen"))
    def screen_link(self, obj: Campaign) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("sms:campaign", args=[obj.pk]), _("Open (approve, pause, cancel)")
        )


class MessageEventInline(ReadOnlyInline):
    """A message's history: read-only, nothing added, changed or deleted."""

    model = MessageEvent
    fields = ("at", "status", "source", "detail")
    ordering = ("id",)


class MessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "to", "purpose", "status", "segments", "provider", "provider_id", "created_at")
    list_filter = ("status", "purpose", "provider")
    list_select_related = ("campaign",)
    search_fields = ("=to", "=provider_id")
    raw_id_fields = ("campaign",)
    inlines = [MessageEventInline]
    exclude = ("lease_token",)
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page

    def get_search_results(self, request, queryset, search_term):
        """A number typed as people write it (0300 1234567) finds the stored +923001234567."""
        with contextlib.suppress(InvalidPhone):
            search_term = normalize_mobile(search_term)
        return super().get_search_results(request, queryset, search_term.strip())


class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "sender", "body", "handler", "rate_limited")
    list_filter = ("handler", "rate_limited")
    search_fields = ("=sender", "=provider_id")
    raw_id_fields = ("reply",)
    show_full_result_count = False


admin_site.register(ContactGroup, ContactGroupAdmin)
admin_site.register(Contact, ContactAdmin)
admin_site.register(OptOut, OptOutAdmin)
admin_site.register(Campaign, CampaignAdmin)
admin_site.register(Message, MessageAdmin)
admin_site.register(InboundMessage, InboundMessageAdmin)


class OtpChallengeAdmin(ReadOnlyAdmin):
    """One-time codes sent: when, to whom, for what, tries and use; never the code (only its hash is kept)."""

    list_display = ("phone", "purpose", "created_at", "expires_at", "attempts", "verified_at")
    list_filter = ("purpose",)
    search_fields = ("=phone",)
    exclude = ("code_hash",)


admin_site.register(OtpChallenge, OtpChallengeAdmin)
