"""Admin for the Result Management System, on the two-factor admin site.

Elections are configured here. Results themselves (entries, accepted forms,
flags, form versions) are written only by the services and are read-only
here; contests and candidates come from ``import_candidates``; signing keys
are registered through ``signing_key_register`` (audited)."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline, ServiceAddMixin
from core.admin_site import admin_site

from . import offline
from .models import (
    Candidate,
    Contest,
    ContestStation,
    Election,
    Flag,
    Form45,
    Form45Entry,
    Form45Photo,
    FormVersion,
    SigningKey,
)


@admin.register(Election, site=admin_site)
class ElectionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "poll_date", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["code", "name", "name_ur"]
    prepopulated_fields = {"code": ["name"]}


class CandidateInline(ReadOnlyInline):
    model = Candidate
    fields = ["ballot_order", "name", "name_ur", "party", "symbol"]


@admin.register(Contest, site=admin_site)
class ContestAdmin(ReadOnlyAdmin):
    list_display = ["constituency", "election", "status", "finalized_at", "recounts"]
    list_filter = ["election", "status", "constituency__house"]
    search_fields = ["constituency__code", "constituency__name"]
    list_select_related = ["constituency", "election"]
    inlines = [CandidateInline]


@admin.register(ContestStation, site=admin_site)
class ContestStationAdmin(ReadOnlyAdmin):
    list_display = ["contest", "number", "station_type", "male_voters", "female_voters"]
    list_filter = ["contest__election", "station_type"]
    search_fields = ["=contest__constituency__code"]
    list_select_related = ["contest__constituency", "contest__election"]
    show_full_result_count = False


@admin.register(Form45Entry, site=admin_site)
class Form45EntryAdmin(ReadOnlyAdmin):
    list_display = ["contest_station", "operator", "status", "polled_total", "submitted_at"]
    list_filter = ["status"]
    search_fields = ["=contest_station__contest__constituency__code", "operator__username"]
    list_select_related = ["contest_station__contest__constituency", "operator"]
    show_full_result_count = False


@admin.register(Form45, site=admin_site)
class Form45Admin(ReadOnlyAdmin):
    list_display = ["contest_station", "source", "polled_total", "excluded", "accepted_at", "decided_by"]
    list_filter = ["source"]
    search_fields = ["=contest_station__contest__constituency__code"]
    list_select_related = ["contest_station__contest__constituency", "decided_by"]
    show_full_result_count = False


@admin.register(Flag, site=admin_site)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ["contest", "contest_station", "rule", "severity", "message", "raised_at"]
    list_filter = ["severity", "rule"]
    search_fields = ["=contest__constituency__code"]
    list_select_related = ["contest__constituency", "contest__election", "contest_station"]


@admin.register(FormVersion, site=admin_site)
class FormVersionAdmin(ReadOnlyAdmin):
    list_display = ["contest", "form", "version", "content_hash", "produced_by", "produced_at"]
    list_filter = ["form"]
    search_fields = ["=contest__constituency__code", "content_hash"]
    list_select_related = ["contest__constituency", "contest__election", "produced_by"]


@admin.register(SigningKey, site=admin_site)
class SigningKeyAdmin(ServiceAddMixin, admin.ModelAdmin):
    """A new key goes through ``signing_key_register`` (checks the key, audits)."""

    list_display = ["label", "constituency", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["label", "=constituency__code", "public_key"]
    add_fields = ("label", "constituency", "public_key")
    raw_id_fields = ["constituency"]

    def create_through_service(self, request, data):
        return offline.signing_key_register(
            actor=request.user,
            constituency_code=data["constituency"].code,
            label=data["label"],
            public_key=data["public_key"],
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Form45Photo, site=admin_site)
class Form45PhotoAdmin(ReadOnlyAdmin):
    """Pictures are received by ``results.photos.photo_upload`` and decided on the RO's screen (both audited)."""

    list_display = ["contest_station", "status", "is_flagged", "received_at", "uploaded_by", "sha256"]
    list_filter = ["status", "is_flagged"]
    search_fields = ["=contest_station__contest__constituency__code", "=sha256", "uploaded_by__username"]
    list_select_related = ["contest_station__contest__constituency", "uploaded_by"]
    show_full_result_count = False
