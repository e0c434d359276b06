"""Complaints on the admin site: categories, SLA plans, desks and canned responses are edited here; complaints,
their attachments and their timelines are read-only (they change through the services and the desks' screens)."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline
from core.admin_site import admin_site

from .models import Attachment, CannedResponse, Category, Complaint, ComplaintEvent, Desk, SlaPlan


class ComplaintEventInline(ReadOnlyInline):
    model = ComplaintEvent
    fields = ("at", "kind", "office", "desk", "is_public", "actor", "text")


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ("name", "content_type", "size", "sha256")


@admin.register(Category, site=admin_site)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ur", "code", "order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "name_ur", "code")


@admin.register(Complaint, site=admin_site)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "subject", "office", "desk", "category", "status", "priority", "created_at")
    list_filter = ("status", "priority", "category")
    search_fields = ("=ticket", "subject")
    list_select_related = ("office", "category", "desk")
    exclude = ("otp",)
    inlines = [AttachmentInline, ComplaintEventInline]


@admin.register(SlaPlan, site=admin_site)
class SlaPlanAdmin(admin.ModelAdmin):
    list_display = ("category", "priority", "first_response_hours", "resolution_hours")
    list_filter = ("priority",)
    list_select_related = ("category",)


@admin.register(Desk, site=admin_site)
class DeskAdmin(admin.ModelAdmin):
    list_display = ("name", "office", "officer", "is_active")
    list_filter = ("is_active", "office__kind")
    search_fields = ("name", "name_ur", "office__name", "office__code")
    list_select_related = ("office", "officer")
    autocomplete_fields = ("office", "officer")


@admin.register(CannedResponse, site=admin_site)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ("title", "is_active")
    list_filter = ("is_active",)
    search_fields = ("title", "body", "body_ur")
