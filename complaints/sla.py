"""SLA arithmetic on the office calendar (core.calendar.BusinessCalendar): pure code, no database.

A complaint has two deadlines, first response and resolution, each counted in office hours from when the
clock (re)starts. The warning falls at 80 % of the target. While the office waits on the complainant the clock
is paused: the office time left is kept and the deadline restarts from it when the answer arrives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.calendar import BusinessCalendar

WARN_AT = 0.8

# Office hours by priority when no SlaPlan row says otherwise: (first response, resolution).
DEFAULT_HOURS = {"normal": (8.0, 40.0), "high": (4.0, 16.0), "urgent": (2.0, 8.0)}


@dataclass(frozen=True)
class Plan:
    first_response: timedelta
    resolution: timedelta

    def target(self, which: str) -> timedelta:
        return self.first_response if which == "first_response" else self.resolution


@dataclass(frozen=True)
class Deadline:
    due: datetime
    warn_at: datetime | None  # None: past the warning point already


def plan_for(plans: dict[tuple[int | None, str], Plan], category_id: int | None, priority: str) -> Plan:
    """The category's own plan for the priority, else the plan for all categories, else DEFAULT_HOURS."""
    found = plans.get((category_id, priority)) or plans.get((None, priority))
    if found is not None:
        return found
    first, resolution = DEFAULT_HOURS.get(priority, DEFAULT_HOURS["normal"])
    return Plan(timedelta(hours=first), timedelta(hours=resolution))


def start(calendar: BusinessCalendar, moment: datetime, target: timedelta, left: timedelta | None = None) -> Deadline:
    """The deadline for ``target`` office time from ``moment``; with ``left`` (a paused clock), only that much
    remains. A clock paused past its 80 % point gets no second warning."""
    remaining = target if left is None else max(left, timedelta(0))
    due = calendar.add_business_time(moment, remaining)
    before_warning = remaining - target * (1 - WARN_AT)
    if before_warning <= timedelta(0):
        return Deadline(due, None)
    return Deadline(due, calendar.add_business_time(moment, before_warning))


def left_at(calendar: BusinessCalendar, moment: datetime, due: datetime) -> timedelta:
    """Office time from ``moment`` to ``due`` (zero when already past): what a paused clock keeps."""
    return calendar.business_time_between(moment, due)
