"""Complaint reads, scoped to the reader.

Scope (the permission matrix, tests/complaints/test_scope.py): an administrator sees every complaint; a desk
officer sees the complaints held by the office of the role (not those below it); a complaints supervisor sees
those of the office and of every office below it. Nobody else sees any. A complaint is visible where it is
now: once forwarded or escalated out of a scope, it leaves that scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.models import Office, Role
from core.selectors import business_calendar, has_role, office_scope

from . import sla
from .models import MOVEMENTS, OPEN_STATUSES, CannedResponse, Complaint, ComplaintEvent, Desk, EventKind, SlaPlan
from .ticket import InvalidTicket, normalize

STAFF_ROLES = (Role.DESK_OFFICER, Role.COMPLAINTS_SUPERVISOR)
# Public timeline: these kinds show their text to the complainant; the other public kinds show only what happened.
PUBLIC_TEXT_KINDS = (
    EventKind.INFO_REQUESTED,
    EventKind.INFO_RECEIVED,
    EventKind.REPLY,
    EventKind.RESOLVED,
    EventKind.REOPENED,
)


def is_complaints_staff(user) -> bool:
    return has_role(user, *STAFF_ROLES)


def visible_office_ids(user) -> set[int] | None:
    """Offices whose complaints the user sees; None = all of them (administrators). Read once per user object
    (a request's user), like core's role assignments."""
    if hasattr(user, "_complaint_offices"):
        return user._complaint_offices
    below = office_scope(user, [Role.COMPLAINTS_SUPERVISOR], include_below=True)
    own = office_scope(user, [Role.DESK_OFFICER], include_below=False)
    offices = None if below is None or own is None else below | own
    if user is not None and user.is_authenticated:
        user._complaint_offices = offices
    return offices


def complaints_for(user) -> QuerySet[Complaint]:
    qs = Complaint.objects.select_related("office", "category", "desk")
    offices = visible_office_ids(user)
    return qs if offices is None else qs.filter(office_id__in=offices)


def complaint_for(user, pk: int) -> Complaint | None:
    return complaints_for(user).filter(pk=pk).first()


@dataclass(frozen=True)
class InboxFilters:
    office: int | None = None
    desk: int | None = None  # 0: not at any desk yet
    status: str = ""  # a Status, "open" or ""
    category: int | None = None
    sla: str = ""  # "warning" (80 % passed), "missed" (escalated or missed at least once)
    q: str = ""


def _search(qs: QuerySet[Complaint], text: str) -> QuerySet[Complaint]:
    """A ticket number in any typed shape finds that ticket; other text searches subject and name (on
    PostgreSQL through the full-text index of migration 0003: every word, as a prefix)."""
    try:
        return qs.filter(ticket=normalize(text))
    except InvalidTicket:
        pass
    words = [w for w in "".join(ch if ch.isalnum() else " " for ch in text).split() if w][:8]
    if not words:
        return qs
    if connection.vendor == "postgresql":
        query = " & ".join(f"{w}:*" for w in words)
        # The words are alphanumeric only, and passed as a parameter.
        return qs.extra(
            where=[
                "to_tsvector('simple'::regconfig, coalesce(complaints_complaint.subject, '') || ' ' || "
                "coalesce(complaints_complaint.name, '')) @@ to_tsquery('simple'::regconfig, %s)"
            ],
            params=[query],
        )
    for word in words:
        qs = qs.filter(Q(subject__icontains=word) | Q(name__icontains=word))
    return qs


def inbox(user, filters: InboxFilters) -> QuerySet[Complaint]:
    qs = complaints_for(user)
    if filters.office:
        qs = qs.filter(office_id=filters.office)
    if filters.desk is not None:
        qs = qs.filter(desk__isnull=True) if filters.desk == 0 else qs.filter(desk_id=filters.desk)
    if filters.status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif filters.status:
        qs = qs.filter(status=filters.status)
    if filters.category:
        qs = qs.filter(category_id=filters.category)
    now = timezone.now()
    if filters.sla == "warning":
        past_80 = [
            Q(**{f"{which}_due__isnull": False}) & (Q(**{f"{which}_warned": True}) | Q(**{f"{which}_warn_at": None}))
            for which in ("first_response", "resolution")
        ]
        qs = qs.filter(past_80[0] | past_80[1])
    elif filters.sla == "missed":
        qs = qs.filter(breaches__gt=0)
    elif filters.sla == "overdue":
        qs = qs.filter(Q(first_response_due__lt=now) | Q(resolution_due__lt=now))
    if filters.q.strip():
        qs = _search(qs, filters.q.strip())
    return qs.order_by("-created_at", "-id")


def my_desks(user) -> QuerySet[Desk]:
    return Desk.objects.filter(officer=user, is_active=True).select_related("office", "officer")


def scope_offices(user) -> QuerySet[Office]:
    """The offices the user's inbox can be narrowed to."""
    offices = visible_office_ids(user)
    qs = Office.objects.filter(is_active=True)
    return qs if offices is None else qs.filter(pk__in=offices)


def forward_targets() -> QuerySet[Office]:
    return Office.objects.filter(is_active=True).select_related("parent")


def canned_responses() -> QuerySet[CannedResponse]:
    return CannedResponse.objects.filter(is_active=True)


def staff_timeline(complaint: Complaint) -> list[ComplaintEvent]:
    return list(complaint.events.select_related("office", "desk", "actor"))


# --- public ---------------------------------------------------------------------------------------------------


def tracked(ticket_text: str, last_four: str) -> Complaint | None:
    """The complaint with this ticket number whose mobile ends in these four digits; None otherwise (the caller
    says the same thing for an unknown ticket and a wrong number)."""
    try:
        ticket = normalize(ticket_text)
    except InvalidTicket:
        return None
    digits = "".join(ch for ch in (last_four or "") if ch.isdigit())
    if len(digits) != 4:
        return None
    complaint = Complaint.objects.select_related("office", "category", "desk").filter(ticket=ticket).first()
    if complaint is None or not complaint.mobile.endswith(digits):
        return None
    return complaint


@dataclass(frozen=True)
class Stop:
    """Where the complaint was, for the public timeline: an office (and desk) from ``arrived`` to ``left``."""

    office: Office
    desk: Desk | None
    arrived: datetime
    left: datetime | None


@dataclass(frozen=True)
class PublicTimeline:
    stops: list[Stop]
    events: list[ComplaintEvent]  # public events only; text shown for PUBLIC_TEXT_KINDS


def public_timeline(complaint: Complaint) -> PublicTimeline:
    events = list(complaint.events.filter(is_public=True).select_related("office", "desk"))
    stops: list[Stop] = []
    for event in events:
        if event.kind not in MOVEMENTS:
            continue
        if stops and (stops[-1].office.pk, getattr(stops[-1].desk, "pk", None)) == (event.office_id, event.desk_id):
            continue
        if stops:
            stops[-1] = Stop(stops[-1].office, stops[-1].desk, stops[-1].arrived, event.at)
        stops.append(Stop(event.office, event.desk, event.at, None))
    return PublicTimeline(stops=stops, events=events)


# --- SLA ------------------------------------------------------------------------------------------------------


def sla_plans() -> dict[tuple[int | None, str], sla.Plan]:
    return {
        (row.category_id, row.priority): sla.Plan(
            timedelta(hours=float(row.first_response_hours)), timedelta(hours=float(row.resolution_hours))
        )
        for row in SlaPlan.objects.all()
    }


def sla_context():
    """The calendar and the plans, read once for a batch of deadline computations."""
    return business_calendar(), sla_plans()
