"""Office hours and public holidays: pure code, no Django.

``BusinessCalendar`` answers "is the office open at this moment?" and "when is
N business hours after this moment?" (SLA deadlines). Times are aware
datetimes; the calendar works in its own zone (Asia/Karachi) and returns
aware datetimes in that zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

KARACHI = ZoneInfo("Asia/Karachi")


@dataclass(frozen=True)
class BusinessCalendar:
    # weekday (0 = Monday) → (opens, closes); a missing weekday is closed.
    hours: Mapping[int, tuple[time, time]]
    holidays: frozenset[date] = field(default_factory=frozenset)
    tz: ZoneInfo = KARACHI

    def __post_init__(self) -> None:
        for weekday, (opens, closes) in self.hours.items():
            if not 0 <= weekday <= 6 or closes <= opens:
                raise ValueError(f"bad office hours for weekday {weekday}: {opens}–{closes}")

    @classmethod
    def build(cls, hours: Mapping[int, tuple[time, time]], holidays: Iterable[date] = (), tz: ZoneInfo = KARACHI):
        return cls(dict(hours), frozenset(holidays), tz)

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        if day in self.holidays or day.weekday() not in self.hours:
            return None
        opens, closes = self.hours[day.weekday()]
        return datetime.combine(day, opens, self.tz), datetime.combine(day, closes, self.tz)

    def _require_aware(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            raise ValueError("BusinessCalendar needs timezone-aware datetimes")
        return moment.astimezone(self.tz)

    def is_open(self, moment: datetime) -> bool:
        local = self._require_aware(moment)
        window = self._window(local.date())
        return window is not None and window[0] <= local < window[1]

    def next_opening(self, moment: datetime) -> datetime:
        """The moment itself if the office is open, otherwise when it next opens."""
        local = self._require_aware(moment)
        day = local.date()
        for _ in range(3660):  # ten years: a calendar with no open day at all is a configuration error
            window = self._window(day)
            if window is not None and local < window[1]:
                return max(local, window[0])
            day += timedelta(days=1)
        raise ValueError("the calendar has no opening hours in the next ten years")

    def add_business_time(self, moment: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of office time after ``moment`` (clock paused outside hours)."""
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        current = self.next_opening(moment)
        remaining = duration
        while True:
            window = self._window(current.date())
            assert window is not None  # next_opening only returns open moments
            available = window[1] - current
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = self.next_opening(window[1])

    def add_business_hours(self, moment: datetime, hours: float) -> datetime:
        return self.add_business_time(moment, timedelta(hours=hours))

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time elapsed from start to end (zero if end is before start)."""
        start, end = self._require_aware(start), self._require_aware(end)
        total = timedelta(0)
        day = start.date()
        while day <= end.date():
            window = self._window(day)
            if window is not None:
                lo, hi = max(start, window[0]), min(end, window[1])
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total
