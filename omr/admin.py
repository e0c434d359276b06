"""OMR on the admin site, read-only: exams, keys, candidates, batches, sheets and corrections change through
omr/services.py (and the screens to come), so that every change is audited."""

from __future__ import annotations

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline
from core.admin_site import admin_site

from .models import (
    Batch,
    Correction,
    Exam,
    ExamCandidate,
    ExamSection,
    KeyAnswer,
    MeritEntry,
    MeritList,
    Result,
    Sheet,
    SheetLayout,
)


@admin.register(SheetLayout, site=admin_site)
class SheetLayoutAdmin(ReadOnlyAdmin):
    list_display = ("code", "version", "created_at")
    search_fields = ("code",)


class SectionInline(ReadOnlyInline):
    model = ExamSection
    fields = ("name", "name_ur", "first", "last")


@admin.register(Exam, site=admin_site)
class ExamAdmin(ReadOnlyAdmin):
    list_display = ("title", "code", "held_on", "status", "layout")
    list_filter = ("status",)
    search_fields = ("title", "code")
    list_select_related = ("layout",)
    inlines = [SectionInline]


@admin.register(KeyAnswer, site=admin_site)
class KeyAnswerAdmin(ReadOnlyAdmin):
    list_display = ("exam", "series", "question", "options", "dropped", "bonus")
    list_filter = ("exam", "series")


@admin.register(ExamCandidate, site=admin_site)
class ExamCandidateAdmin(ReadOnlyAdmin):
    list_display = ("roll", "name", "exam", "centre")
    list_filter = ("exam",)
    search_fields = ("=roll", "name")


@admin.register(Batch, site=admin_site)
class BatchAdmin(ReadOnlyAdmin):
    list_display = ("name", "exam", "created_by", "created_at")
    list_filter = ("exam",)


class CorrectionInline(ReadOnlyInline):
    model = Correction
    fields = ("at", "actor", "field", "before", "after", "reason")


@admin.register(Sheet, site=admin_site)
class SheetAdmin(ReadOnlyAdmin):
    list_display = ("source", "page", "batch", "status", "roll", "series", "confidence")
    list_filter = ("status", "batch__exam")
    search_fields = ("=roll", "source", "=sheet_code")
    list_select_related = ("batch",)
    inlines = [CorrectionInline]


@admin.register(Result, site=admin_site)
class ResultAdmin(ReadOnlyAdmin):
    list_display = ("candidate", "exam", "total", "correct", "wrong", "blank", "multiple")
    list_filter = ("exam",)
    search_fields = ("=candidate__roll",)
    list_select_related = ("candidate", "exam")


class MeritEntryInline(ReadOnlyInline):
    model = MeritEntry
    fields = ("rank", "result", "selected_in")


@admin.register(MeritList, site=admin_site)
class MeritListAdmin(ReadOnlyAdmin):
    list_display = ("exam", "version", "published_at", "published_by")
    inlines = [MeritEntryInline]
