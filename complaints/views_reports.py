"""The complaints reports dashboard (/complaints/staff/reports/) and its CSV export, for desk officers and
complaints supervisors (each sees only the complaints of their scope) and administrators (the whole country).
The figures come from complaints/reports.py; bad filters get the page back with the message beside the field
and a 400."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import cast

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import get_language, gettext_lazy, override
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache

from core.charts import stacked_bar_chart
from core.http import csv_cell
from core.permissions import StaffRequiredMixin, is_verified_staff

from . import reports
from .models import Category, Priority, Status
from .selectors import is_complaints_staff, scope_offices


class LocalizedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        name_ur = getattr(obj, "name_ur", "")
        return name_ur if name_ur and (get_language() or "").startswith("ur") else obj.name


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("First day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=gettext_lazy("Last day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    office = LocalizedChoiceField(
        label=gettext_lazy("Office (with the offices below it)"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("All offices I see"),
        error_messages={"invalid_choice": gettext_lazy("Choose one of the offices listed.")},
    )
    category = LocalizedChoiceField(
        label=gettext_lazy("Category"),
        queryset=Category.objects.all(),
        required=False,
        empty_label=gettext_lazy("All categories"),
        error_messages={"invalid_choice": gettext_lazy("Choose one of the categories listed.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].queryset = scope_offices(user).order_by("kind", "name")

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        first, last = data.get("date_from"), data.get("date_to")
        if "date_from" in self.errors or "date_to" in self.errors:
            return data
        if last is None:
            last = today if first is None else min(today, first + timedelta(days=reports.DEFAULT_DAYS - 1))
            if first is not None and last < first:
                last = first
        if first is None:
            first = last - timedelta(days=reports.DEFAULT_DAYS - 1)
        if first > last:
            self.add_error("date_to", _("The end of the period comes before its start."))
        elif (last - first).days + 1 > reports.MAX_DAYS:
            self.add_error(
                "date_to",
                _("A report covers at most %(days)d days; choose a shorter period.") % {"days": reports.MAX_DAYS},
            )
        else:
            data["period"] = reports.Period(first, last)
        return data


@method_decorator(never_cache, name="dispatch")
class ReportsStaffView(StaffRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if is_verified_staff(request.user) and not is_complaints_staff(request.user):
            raise PermissionDenied(_("The complaints reports are for desk officers and complaints supervisors."))
        return super().dispatch(request, *args, **kwargs)

    def filters(self, request) -> ReportFilterForm:
        return ReportFilterForm(request.GET, user=request.user)

    def invalid(self, request, form):
        return render(request, "complaints/reports.html", {"form": form, "report": None, **_choices(form)}, status=400)


def _choices(form: ReportFilterForm) -> dict:
    """The office and category lists as (value, label, selected), for the template to write out."""
    fields = []
    for name in ("office", "category"):
        bound = form[name]
        chosen = str(bound.value() or "")
        field = cast(LocalizedChoiceField, form.fields[name])
        fields.append(
            (
                bound,
                [
                    (str(obj.pk), field.label_from_instance(obj), str(obj.pk) == chosen)
                    for obj in (field.queryset if field.queryset is not None else [])
                ],
            )
        )
    return {"choice_fields": fields}


def duration_text(d: timedelta | None) -> str:
    """A resolution time for people: days and hours, or hours and minutes under a day."""
    if d is None:
        return ""
    minutes = int(d.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    if days:
        return _("%(days)d d %(hours)d h") % {"days": days, "hours": rest // 60}
    return _("%(hours)d h %(minutes)d min") % {"hours": rest // 60, "minutes": rest % 60}


def _day_chart(rows: list[dict], parts) -> dict:
    return stacked_bar_chart(
        rows,
        parts,
        label=lambda row: row["day"].strftime("%d-%m"),
        caption=lambda row: row["day"].strftime("%Y-%m-%d"),
    )


class ReportsView(ReportsStaffView):
    def get(self, request):
        form = self.filters(request)
        if not form.is_valid():
            return self.invalid(request, form)
        data = form.cleaned_data
        office, category = data.get("office"), data.get("category")
        report, computed_at = reports.complaint_report_kept(
            request.user,
            data["period"],
            office_id=office.pk if office else None,
            category_id=category.pk if category else None,
        )
        received_parts = (("done", _("Resolved or closed since")), ("open", _("Still open")))
        resolved_parts = (("on_time", _("No deadline missed")), ("late", _("After a missed deadline")))
        query = {
            "date_from": data["period"].first.isoformat(),
            "date_to": data["period"].last.isoformat(),
            **({"office": office.pk} if office else {}),
            **({"category": category.pk} if category else {}),
        }
        context = {
            "form": form,
            "report": report,
            "computed_at": computed_at,
            "cache_minutes": reports.REPORT_CACHE_SECONDS // 60,
            "period": data["period"],
            "charts": [
                {
                    "id": "received",
                    "title": _("Complaints received per day"),
                    "desc": _(
                        "Stacked bars, one for each day of the period: the complaints filed that day that have "
                        "since been resolved or closed, and those still open. The table below has the same figures."
                    ),
                    "chart": _day_chart(report.received_by_day, received_parts),
                    "kind_class": "cmp-bar--",
                },
                {
                    "id": "resolved",
                    "title": _("Complaints resolved per day"),
                    "desc": _(
                        "Stacked bars, one for each day of the period: the complaints resolved that day with no "
                        "deadline missed, and those resolved after a missed deadline. The table below has the same "
                        "figures."
                    ),
                    "chart": _day_chart(report.resolved_by_day, resolved_parts),
                    "kind_class": "cmp-bar--",
                },
            ],
            "active_days": [
                {"day": a["day"], "received": a["total"], "resolved": b["total"], "late": b["late"]}
                for a, b in zip(report.received_by_day, report.resolved_by_day, strict=True)
                if a["total"] or b["total"]
            ],
            "breakdowns": [
                {
                    "id": "offices",
                    "title": _("By office"),
                    "first": _("Office"),
                    "caption": _("Complaints filed in the period, by the office holding them"),
                    "rows": report.by_office,
                },
                {
                    "id": "districts",
                    "title": _("By district"),
                    "first": _("District"),
                    "caption": _("Complaints filed in the period, by the district of the office holding them"),
                    "rows": report.by_district,
                },
                {
                    "id": "categories",
                    "title": _("By category"),
                    "first": _("Category"),
                    "caption": _("Complaints filed in the period, by category"),
                    "rows": report.by_category,
                },
            ],
            "average_resolution": duration_text(report.average_resolution),
            "median_resolution": duration_text(report.median_resolution),
            "csv_query": urlencode(query),
            **_choices(form),
        }
        return render(request, "complaints/reports.html", context)


CSV_HEADER = (
    gettext_lazy("Ticket"),
    gettext_lazy("Filed (Pakistan time)"),
    gettext_lazy("Office code"),
    gettext_lazy("Office"),
    gettext_lazy("District"),
    gettext_lazy("Category"),
    gettext_lazy("Status"),
    gettext_lazy("Priority"),
    gettext_lazy("Desk"),
    gettext_lazy("First response at"),
    gettext_lazy("Resolved at"),
    gettext_lazy("Hours to resolve"),
    gettext_lazy("Deadlines missed"),
    gettext_lazy("Escalations"),
)


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def csv_chunks(rows: Iterator[dict], language: str, *, rows_per_chunk: int = 1_000) -> Iterator[bytes]:
    """The export as UTF-8 chunks: a byte order mark (spreadsheets then read Urdu right), the header, a row
    per complaint. Every text cell goes through csv_cell."""
    statuses, priorities = dict(Status.choices), dict(Priority.choices)
    with override(language):
        urdu = language.startswith("ur")
        no_district = str(reports.NO_DISTRICT)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write("\ufeff")
        writer.writerow([csv_cell(str(h)) for h in CSV_HEADER])

        def name(row: dict, key: str) -> str:
            return (urdu and row.get(f"{key}_ur")) or row.get(key) or ""

        for n, row in enumerate(rows, start=1):
            took = row["resolved_at"] - row["created_at"] if row["resolved_at"] else None
            writer.writerow(
                [
                    csv_cell(row["ticket"]),
                    _local(row["created_at"]),
                    csv_cell(row["office__code"]),
                    csv_cell(name(row, "office__name")),
                    csv_cell(name(row, "office__district__name") or no_district),
                    csv_cell(name(row, "category__name")),
                    csv_cell(statuses.get(row["status"], row["status"])),
                    csv_cell(priorities.get(row["priority"], row["priority"])),
                    csv_cell(name(row, "desk__name")),
                    _local(row["responded_at"]),
                    _local(row["resolved_at"]),
                    f"{took.total_seconds() / 3600:.1f}" if took is not None else "",
                    row["breaches"],
                    row["escalations"],
                ]
            )
            if n % rows_per_chunk == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")


class ReportsCsvView(ReportsStaffView):
    def get(self, request):
        form = self.filters(request)
        if not form.is_valid():
            return self.invalid(request, form)
        data = form.cleaned_data
        period, office, category = data["period"], data.get("office"), data.get("category")
        rows = reports.complaint_rows(
            request.user,
            period,
            office_id=office.pk if office else None,
            category_id=category.pk if category else None,
        )
        response = StreamingHttpResponse(
            csv_chunks(rows, get_language() or "en"), content_type="text/csv; charset=utf-8"
        )
        name = f"complaints-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv"
        response["Content-Disposition"] = content_disposition_header(True, name)
        return response


urlpatterns = [
    path("staff/reports/", ReportsView.as_view(), name="reports"),
    path("staff/reports.csv", ReportsCsvView.as_view(), name="reports_csv"),
]
