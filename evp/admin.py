"""The roll on the two-factor admin site: read-only (the roll changes only through import_roll, and later
through verification), searchable by CNIC, with counts that do not scan 128 million rows."""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, ReadOnlyInline
from core.admin_site import admin_site
from core.cnic import InvalidCNIC, format_cnic, normalize

from .models import AbuseBlock, Elector, ElectorChange, LookupCount, RollImport, StationRange


class EstimatedCountPaginator(Paginator):
    """The unfiltered roll is counted from PostgreSQL's statistics (count(*) over the national roll takes
    seconds); a filtered list is counted exactly."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [Elector._meta.db_table]
                )
                row = cursor.fetchone()
            if row and row[0] > 100_000:
                return int(row[0])
        return super().count


class ElectorChangeInline(ReadOnlyInline):
    model = ElectorChange
    fields = ("changed_at", "source", "before", "after")


@admin.register(Elector, site=admin_site)
class ElectorAdmin(ReadOnlyAdmin):
    list_display = ("shown_cnic", "name", "block", "roll", "serial", "family_number", "status")
    list_filter = ("status", "roll")
    search_fields = ("cnic",)
    search_help_text = _("A CNIC, with or without dashes.")
    list_select_related = ("block",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    inlines = [ElectorChangeInline]
    raw_id_fields = ("block",)

    @admin.display(description=_("CNIC"), ordering="cnic")
    def shown_cnic(self, obj: Elector) -> str:
        return format_cnic(str(obj.cnic))

    def get_search_results(self, request, queryset, search_term):
        """An exact CNIC (the primary key), never a scan of the roll."""
        if not search_term:
            return queryset, False
        try:
            return queryset.filter(cnic=int(normalize(search_term))), False
        except InvalidCNIC:
            return queryset.none(), False


@admin.register(StationRange, site=admin_site)
class StationRangeAdmin(ReadOnlyAdmin):
    """Made with the census blocks (evp/blocks.py for synthetic data); an editor and an import are not built yet."""

    list_display = ("block", "roll", "serial_from", "serial_to", "station")
    list_filter = ("roll",)
    search_fields = ("block__code",)
    list_select_related = ("block", "station__constituency")


@admin.register(RollImport, site=admin_site)
class RollImportAdmin(ReadOnlyAdmin):
    list_display = ("file_name", "started_at", "status", "rows", "created", "updated", "unchanged", "bad", "actor")
    list_filter = ("status",)
    search_fields = ("file_name", "sha256")


@admin.register(LookupCount, site=admin_site)
class LookupCountAdmin(ReadOnlyAdmin):
    list_display = ("hour", "channel", "outcome", "count")
    list_filter = ("channel", "outcome")
    date_hierarchy = "hour"


@admin.register(AbuseBlock, site=admin_site)
class AbuseBlockAdmin(ReadOnlyAdmin):
    """Lifted from the 8300 dashboard (/evp/staff/), which asks first and audits."""

    list_display = ("sender_shown", "channel", "distinct_cnics", "blocked_at", "until", "lifted_at", "lifted_by")
    list_filter = ("channel",)
