"""Admin for SMS: contacts and groups editable; campaigns, messages, events and inbound messages read-only
(their states change only through the services, and message events are append-only)."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from core.admin_site import admin_site

from .models import Campaign, Contact, ContactGroup, InboundMessage, Message, MessageEvent, OptOut


class ContactGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ur", "description")
    search_fields = ("name", "name_ur")


class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "phone", "language", "organisation")
    list_filter = ("language", "groups")
    search_fields = ("name", "phone", "organisation")
    filter_horizontal = ("groups",)


class OptOutAdmin(ReadOnlyAdmin):
    list_display = ("phone", "keyword", "created_at")
    search_fields = ("phone",)


class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("title", "status", "created_by", "approved_by", "recipients", "created_at")
    list_filter = ("status",)
    search_fields = ("title",)


class MessageEventInline(admin.TabularInline):
    model = MessageEvent
    fields = ("at", "status", "source", "detail")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class MessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "to", "purpose", "status", "segments", "provider", "provider_id", "created_at")
    list_filter = ("status", "purpose", "provider")
    search_fields = ("to", "provider_id")
    raw_id_fields = ("campaign",)
    inlines = [MessageEventInline]
    show_full_result_count = False  # no COUNT(*) over millions of rows on every page


class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "sender", "body", "handler", "rate_limited")
    list_filter = ("handler", "rate_limited")
    search_fields = ("sender", "provider_id")


admin_site.register(ContactGroup, ContactGroupAdmin)
admin_site.register(Contact, ContactAdmin)
admin_site.register(OptOut, OptOutAdmin)
admin_site.register(Campaign, CampaignAdmin)
admin_site.register(Message, MessageAdmin)
admin_site.register(InboundMessage, InboundMessageAdmin)
