"""Complaint reports (issue 7): pure reads for the reports dashboard and its CSV export, aggregated in the
database (values().annotate(Count …)) and scoped to the reader through selectors.visible_office_ids (the
same scope as selectors.complaints_for).

A report covers a period of Pakistan calendar days and, optionally, one office (with the offices below it,
within the reader's scope) and one category. Complaints count where they are now (the holding office), as
everywhere in the staff screens. The figures:

- received per day (filed in the period, split by what became of them) and resolved per day (split by whether
  a deadline was missed on the way);
- ageing of the complaints open now (whatever their filing date);
- SLA: of the complaints filed in the period, the share that missed a deadline (``breaches > 0``), and the
  share of first responses given in time: met ÷ (met + missed), where "missed" means the sweep found the
  first-response deadline passed (``first_response_missed``) and "met" means answered without that;
  complaints still waiting for their first response within time count in neither;
- received, open, done and breached by office, by district (the holding office's district; offices without
  one are the Secretariat and provincial level) and by category;
- workload: open complaints per desk (and those at no desk yet), and complaints resolved in the period per desk;
- average and median resolution time (calendar time from filing to resolution) of the complaints resolved in
  the period.

Page cost: nine report queries whatever the period or the scope (plus the scope's and the filters' own)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import Office
from core.selectors import office_descendant_ids

from .models import OPEN_STATUSES, Category, Complaint, Desk, Status
from .selectors import visible_office_ids

MAX_DAYS = 366
DEFAULT_DAYS = 30
DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)
# (key, label, from days, to days): the age of an open complaint since it was filed.
AGEING = (
    ("lt1", _("Under 1 day"), 0, 1),
    ("d1_3", _("1–3 days"), 1, 3),
    ("d3_7", _("3–7 days"), 3, 7),
    ("d7_30", _("7–30 days"), 7, 30),
    ("gt30", _("Over 30 days"), 30, None),
)
NO_DISTRICT = _("Secretariat / province level")


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the median of an interval (or a number)."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"


@dataclass(frozen=True)
class Period:
    """Pakistan calendar days ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def end(self) -> datetime:  # exclusive
        return timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def default_period(today: date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)


def report_office_ids(user, office_id: int | None) -> set[int] | None:
    """The offices a report covers: the reader's scope, narrowed to ``office_id`` and the offices below it.
    None = every office (an administrator with no office chosen)."""
    scope = visible_office_ids(user)
    if office_id is None:
        return scope
    below = office_descendant_ids([office_id])
    return below if scope is None else below & scope


def _localized(name: str, name_ur: str) -> str:
    return name_ur if name_ur and (get_language() or "").startswith("ur") else name


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _scoped(offices: set[int] | None, category_id: int | None) -> QuerySet[Complaint]:
    """Complaints of these offices (None: all; the caller narrowed them to the reader's scope)."""
    qs = Complaint.objects.order_by()
    if offices is not None:
        qs = qs.filter(office_id__in=offices)
    if category_id:
        qs = qs.filter(category_id=category_id)
    return qs


@dataclass
class Report:
    period: Period
    received_by_day: list[dict] = field(default_factory=list)
    resolved_by_day: list[dict] = field(default_factory=list)
    totals: dict = field(default_factory=dict)
    ageing: list[dict] = field(default_factory=list)
    open_now: int = 0
    by_office: list[dict] = field(default_factory=list)
    by_district: list[dict] = field(default_factory=list)
    by_category: list[dict] = field(default_factory=list)
    workload: list[dict] = field(default_factory=list)
    average_resolution: timedelta | None = None
    median_resolution: timedelta | None = None

    @property
    def is_empty(self) -> bool:
        """Nothing filed and nothing resolved in the period (open complaints may still age)."""
        return not self.totals.get("received") and not self.totals.get("resolved")


def complaint_report(
    user, period: Period, *, office_id: int | None = None, category_id: int | None = None, now=None
) -> Report:
    now = now or timezone.now()
    offices = report_office_ids(user, office_id)
    qs = _scoped(offices, category_id)
    report = Report(period=period)
    if offices is not None and not offices:
        report.totals = _totals([])
        report.ageing = [{"key": key, "label": label, "n": 0} for key, label, _f, _t in AGEING]
        report.received_by_day = [{"day": d, "done": 0, "open": 0, "total": 0} for d in period.days]
        report.resolved_by_day = [{"day": d, "on_time": 0, "late": 0, "total": 0} for d in period.days]
        return report
    filed = qs.filter(created_at__gte=period.start, created_at__lt=period.end)
    resolved = qs.filter(resolved_at__gte=period.start, resolved_at__lt=period.end)

    # 1. Filed in the period, by holding office and category: by office, district, category, and the SLA shares.
    fr_missed = Q(first_response_missed=True)
    groups: list[dict] = [
        dict(g)
        for g in filed.values("office_id", "category_id").annotate(
            received=Count("id"),
            open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            done=Count("id", filter=Q(status__in=DONE_STATUSES)),
            breached=Count("id", filter=Q(breaches__gt=0)),
            escalated=Count("id", filter=Q(escalations__gt=0)),
            responded=Count("id", filter=Q(responded_at__isnull=False)),
            fr_missed=Count("id", filter=fr_missed),
            fr_missed_responded=Count("id", filter=fr_missed & Q(responded_at__isnull=False)),
        )
    ]
    report.totals = _totals(groups)
    report.by_office, report.by_district = _by_office_and_district(groups)
    report.by_category = _by_category(groups)

    # 2. Received per day, split by what became of them.
    received: dict[date, dict] = {
        row["day"]: dict(row)
        for row in filed.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(total=Count("id"), done=Count("id", filter=Q(status__in=DONE_STATUSES)))
    }
    for d in period.days:
        got = received.get(d, {"total": 0, "done": 0})
        report.received_by_day.append(
            {"day": d, "done": got["done"], "open": got["total"] - got["done"], "total": got["total"]}
        )

    # 3. Resolved per day, split by whether a deadline was missed on the way.
    done_by_day: dict[date, dict] = {
        row["day"]: dict(row)
        for row in resolved.annotate(day=TruncDate("resolved_at"))
        .values("day")
        .annotate(total=Count("id"), late=Count("id", filter=Q(breaches__gt=0)))
    }
    for d in period.days:
        got = done_by_day.get(d, {"total": 0, "late": 0})
        report.resolved_by_day.append(
            {"day": d, "on_time": got["total"] - got["late"], "late": got["late"], "total": got["total"]}
        )
    report.totals["resolved"] = sum(row["total"] for row in report.resolved_by_day)
    report.totals["resolved_late"] = sum(row["late"] for row in report.resolved_by_day)

    # 4. Resolution time of the complaints resolved in the period.
    took = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    times: dict[str, Aggregate] = {"average": Avg(took)}
    if connection.vendor == "postgresql":
        times["median"] = Median(took, output_field=DurationField())
    figures = resolved.aggregate(**times)
    report.average_resolution, report.median_resolution = figures["average"], figures.get("median")

    # 5. The complaints open now, by desk (None: at no desk yet) and age: the ageing buckets and the open
    # workload from one read of the open rows.
    buckets = {}
    for key, _label, since, until in AGEING:
        condition = Q(created_at__lte=now - timedelta(days=since))
        if until is not None:
            condition &= Q(created_at__gt=now - timedelta(days=until))
        buckets[key] = Count("id", filter=condition)
    open_by_desk: dict[int | None, dict] = {
        row["desk_id"]: dict(row) for row in qs.filter(status__in=OPEN_STATUSES).values("desk_id").annotate(**buckets)
    }
    report.ageing = [
        {"key": key, "label": label, "n": sum(row[key] for row in open_by_desk.values())}
        for key, label, _f, _t in AGEING
    ]
    report.open_now = sum(row["n"] for row in report.ageing)

    # 6. Workload: open now (above) and resolved in the period, per desk.
    resolved_by_desk = dict(
        resolved.filter(desk__isnull=False).values("desk_id").annotate(n=Count("id")).values_list("desk_id", "n")
    )
    desk_ids = {pk for pk in open_by_desk if pk is not None} | set(resolved_by_desk)
    names = Desk.objects.filter(pk__in=desk_ids).values(
        "id", "name", "name_ur", "office__name", "office__name_ur", "officer__first_name", "officer__last_name",
        "officer__username",
    )  # fmt: skip
    for desk in names:
        officer = " ".join(p for p in (desk["officer__first_name"], desk["officer__last_name"]) if p)
        report.workload.append(
            {
                "desk_id": desk["id"],
                "desk": _localized(desk["name"], desk["name_ur"]),
                "office": _localized(desk["office__name"], desk["office__name_ur"]),
                "officer": officer or (desk["officer__username"] or ""),
                "open": sum(open_by_desk[desk["id"]][key] for key, *_rest in AGEING)
                if desk["id"] in open_by_desk
                else 0,
                "resolved": resolved_by_desk.get(desk["id"], 0),
            }
        )
    if None in open_by_desk:
        unassigned = sum(open_by_desk[None][key] for key, *_rest in AGEING)
        report.workload.append(
            {"desk_id": None, "desk": "", "office": "", "officer": "", "open": unassigned, "resolved": 0}
        )
    report.workload.sort(key=lambda r: (r["desk_id"] is not None, -r["open"], -r["resolved"], r["office"], r["desk"]))
    return report


# A report over many offices (a province, the country) reads tens of thousands of rows: it is kept for a couple
# of minutes per scope, filters and language, and the page says when its figures were computed.
REPORT_CACHE_SECONDS = 120
CACHED_ABOVE_OFFICES = 25


def complaint_report_kept(user, period: Period, *, office_id: int | None, category_id: int | None):
    """The report, and when it was computed if it came from (or went into) the cache; None: computed now."""
    offices = report_office_ids(user, office_id)
    if offices is not None and len(offices) <= CACHED_ABOVE_OFFICES:
        return complaint_report(user, period, office_id=office_id, category_id=category_id), None
    scope = "all" if offices is None else ",".join(map(str, sorted(offices)))
    digest = hashlib.sha256(f"{scope}|{period.first}|{period.last}|{category_id}|{get_language()}".encode())
    key = f"complaints:report:{digest.hexdigest()}"
    cached = cache.get(key)
    if cached is None:
        cached = (complaint_report(user, period, office_id=office_id, category_id=category_id), timezone.now())
        cache.set(key, cached, REPORT_CACHE_SECONDS)
    return cached


def _totals(groups: list[dict]) -> dict:
    keys = ("received", "open", "done", "breached", "escalated", "responded", "fr_missed", "fr_missed_responded")
    totals = {key: sum(g[key] for g in groups) for key in keys}
    totals["fr_met"] = totals["responded"] - totals["fr_missed_responded"]
    totals["breached_pct"] = _pct(totals["breached"], totals["received"])
    totals["fr_met_pct"] = _pct(totals["fr_met"], totals["fr_met"] + totals["fr_missed"])
    totals.setdefault("resolved", 0)
    totals.setdefault("resolved_late", 0)
    return totals


FIGURES = ("received", "open", "done", "breached")


def _add(into: dict, group: dict) -> None:
    for key in FIGURES:
        into[key] = into.get(key, 0) + group[key]


def _finish(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["breached_pct"] = _pct(row["breached"], row["received"])
    return sorted(rows, key=lambda r: (-r["received"], r["name"]))


def _by_office_and_district(groups: list[dict]) -> tuple[list[dict], list[dict]]:
    ids = {g["office_id"] for g in groups}
    names = {
        row["id"]: row
        for row in Office.objects.filter(pk__in=ids).values(
            "id", "code", "name", "name_ur", "district_id", "district__name", "district__name_ur"
        )
    }
    offices: dict[int, dict] = {}
    districts: dict[int | None, dict] = {}
    for g in groups:
        office = names[g["office_id"]]
        row = offices.setdefault(
            g["office_id"],
            {"id": g["office_id"], "code": office["code"], "name": _localized(office["name"], office["name_ur"])},
        )
        _add(row, g)
        if office["district_id"] is None:
            district = {"id": None, "name": str(NO_DISTRICT)}
        else:
            district = {
                "id": office["district_id"],
                "name": _localized(office["district__name"], office["district__name_ur"]),
            }
        _add(districts.setdefault(office["district_id"], district), g)
    return _finish(list(offices.values())), _finish(list(districts.values()))


def _by_category(groups: list[dict]) -> list[dict]:
    names = {
        c.pk: _localized(c.name, c.name_ur) for c in Category.objects.filter(pk__in={g["category_id"] for g in groups})
    }
    rows: dict[int, dict] = {}
    for g in groups:
        _add(rows.setdefault(g["category_id"], {"id": g["category_id"], "name": names[g["category_id"]]}), g)
    return _finish(list(rows.values()))


# --- the CSV export: one row per complaint filed in the period --------------------------------------------------

CSV_FIELDS = (
    "ticket",
    "created_at",
    "office__code",
    "office__name",
    "office__name_ur",
    "office__district__name",
    "office__district__name_ur",
    "category__name",
    "category__name_ur",
    "status",
    "priority",
    "desk__name",
    "desk__name_ur",
    "responded_at",
    "resolved_at",
    "breaches",
    "escalations",
)


def complaint_rows(
    user, period: Period, *, office_id: int | None = None, category_id: int | None = None, chunk: int = 2_000
) -> Iterator[dict]:
    """The complaints filed in the period within the reader's scope, oldest first, as dicts of CSV_FIELDS,
    read with a server-side cursor in chunks (a year of the whole country is a million rows)."""
    offices = report_office_ids(user, office_id)
    if offices is not None and not offices:
        return iter(())
    qs = (
        _scoped(offices, category_id)
        .filter(created_at__gte=period.start, created_at__lt=period.end)
        .order_by("created_at", "id")
        .values(*CSV_FIELDS)
    )
    return qs.iterator(chunk_size=chunk)
