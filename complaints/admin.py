"""Complaints on the admin site: categories are edited here; complaints and their timelines are read-only (they
change through the services only; the desks' screens are issue 7's next step)."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline
from core.admin_site import admin_site

from .models import Category, Complaint, ComplaintEvent


class ComplaintEventInline(ReadOnlyInline):
    model = ComplaintEvent
    fields = ("at", "kind", "office", "is_public", "actor", "text")


@admin.register(Category, site=admin_site)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "name_ur", "code", "order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "name_ur", "code")


@admin.register(Complaint, site=admin_site)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "subject", "office", "category", "status", "priority", "created_at")
    list_filter = ("status", "priority", "category")
    search_fields = ("=ticket", "subject")
    list_select_related = ("office", "category")
    exclude = ("otp",)
    inlines = [ComplaintEventInline]
