"""Reads shared by views, the API and other apps' selectors — already scoped
to the actor where scoping applies.

Scoping: a role is held either unscoped, or for an office, or for a
constituency (``RoleAssignment``). ``constituency_scope``/``office_scope``
answer which ones a user may act on for given roles (``None`` = everywhere:
administrators and superusers); ``scope_to_*`` narrow a queryset by them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

from django.db.models import Q, QuerySet

from .calendar import BusinessCalendar
from .models import Constituency, Holiday, Job, Office, OfficeHours, PollingStation, Role, RoleAssignment, User

# --- roles and scopes -------------------------------------------------------


def _assignments(user) -> list[tuple[str, int | None, int | None]]:
    """The user's (role, constituency id, office id) rows, read once per user object."""
    cached = getattr(user, "_ecp_assignments", None)
    if cached is None:
        cached = list(RoleAssignment.objects.filter(user=user).values_list("role", "constituency_id", "office_id"))
        user._ecp_assignments = cached
    return cached


def user_roles(user) -> set[str]:
    if user is None or not user.is_authenticated:
        return set()
    held = {role for role, _c, _o in _assignments(user)}
    if user.is_superuser:
        held.add(Role.ADMIN)
    return held


def has_role(user, *roles: str) -> bool:
    held = user_roles(user)
    return Role.ADMIN in held or bool(held.intersection(roles))


def _is_unrestricted(user) -> bool:
    return Role.ADMIN in user_roles(user)


def constituency_scope(user, roles: Iterable[str]) -> set[int] | None:
    """Constituency ids the user may act on in any of ``roles``; None = all of them."""
    if user is None or not user.is_authenticated:
        return set()
    if _is_unrestricted(user):
        return None
    wanted = set(roles)
    return {constituency for role, constituency, _o in _assignments(user) if role in wanted and constituency}


def office_scope(user, roles: Iterable[str], *, include_below: bool = True) -> set[int] | None:
    """Office ids the user may act on in any of ``roles`` (with the offices under them); None = all."""
    if user is None or not user.is_authenticated:
        return set()
    if _is_unrestricted(user):
        return None
    wanted = set(roles)
    own = {office for role, _c, office in _assignments(user) if role in wanted and office}
    return office_descendant_ids(own) if include_below else own


def scope_to_constituencies(queryset: QuerySet, user, roles: Iterable[str], field: str = "constituency") -> QuerySet:
    allowed = constituency_scope(user, roles)
    return queryset if allowed is None else queryset.filter(**{f"{field}__in": allowed})


def scope_to_offices(queryset: QuerySet, user, roles: Iterable[str], field: str = "office") -> QuerySet:
    allowed = office_scope(user, roles)
    return queryset if allowed is None else queryset.filter(**{f"{field}__in": allowed})


# --- offices ----------------------------------------------------------------


def _office_parents() -> dict[int, int | None]:
    # The whole hierarchy is a few hundred rows: one query, walked in memory.
    return dict(Office.objects.values_list("id", "parent_id"))


def office_descendant_ids(office_ids: Iterable[int]) -> set[int]:
    """The given offices and every office below them."""
    parents = _office_parents()
    children: dict[int | None, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    result: set[int] = set()
    stack = [i for i in office_ids if i in parents]
    while stack:
        current = stack.pop()
        if current not in result:
            result.add(current)
            stack.extend(children.get(current, []))
    return result


def office_ancestors(office: Office) -> list[Office]:
    """Parent, grandparent, … up to the top (the escalation ladder)."""
    parents = _office_parents()
    chain: list[int] = []
    current = parents.get(office.pk)
    while current is not None and current not in chain:
        chain.append(current)
        current = parents.get(current)
    by_id = Office.objects.in_bulk(chain)
    return [by_id[i] for i in chain]


def office_list(*, search: str = "", kind: str = "") -> QuerySet[Office]:
    qs = Office.objects.select_related("parent", "province", "district").filter(is_active=True)
    if kind:
        qs = qs.filter(kind=kind)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(name_ur__icontains=search) | Q(code__icontains=search))
    return qs


# --- geography --------------------------------------------------------------


def constituency_list(*, house: str = "", province: str = "", search: str = "") -> QuerySet[Constituency]:
    qs = Constituency.objects.select_related("province", "district")
    if house:
        qs = qs.filter(house=house)
    if province:
        qs = qs.filter(province__code=province)
    if search:
        qs = qs.filter(Q(code__iexact=search) | Q(name__icontains=search) | Q(name_ur__icontains=search))
    return qs


def polling_station_list(*, constituency_code: str = "") -> QuerySet[PollingStation]:
    qs = PollingStation.objects.select_related("constituency")
    if constituency_code:
        qs = qs.filter(constituency__code=constituency_code)
    return qs


# --- calendar ---------------------------------------------------------------

DEFAULT_HOURS = {d: (time(9, 0), time(17, 0)) for d in range(5)}


def business_calendar() -> BusinessCalendar:
    """The one office-hours + public-holiday calendar (two small queries)."""
    hours = {row.weekday: (row.opens, row.closes) for row in OfficeHours.objects.all()}
    holidays = Holiday.objects.values_list("date", flat=True)
    return BusinessCalendar.build(hours or DEFAULT_HOURS, holidays)


# --- jobs -------------------------------------------------------------------


def job_get_for(*, user, job_id) -> Job | None:
    """A job the user may watch: one they started, or any job for an administrator."""
    if user is None or not user.is_authenticated:
        return None
    qs = Job.objects.all()
    if not _is_unrestricted(user):
        qs = qs.filter(created_by=user)
    return qs.filter(pk=job_id).first()


def job_list_for(*, user) -> QuerySet[Job]:
    qs = Job.objects.select_related("created_by")
    if user is None or not user.is_authenticated:
        return qs.none()
    return qs if _is_unrestricted(user) else qs.filter(created_by=user)


def staff_user_list() -> QuerySet[User]:
    return User.objects.filter(is_active=True).prefetch_related("role_assignments")
