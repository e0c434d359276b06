from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.calendar import KARACHI, BusinessCalendar

NINE_TO_FIVE = {d: (time(9), time(17)) for d in range(5)}  # Monday–Friday
CAL = BusinessCalendar.build(NINE_TO_FIVE, holidays=[date(2026, 3, 23)])


def k(*args) -> datetime:
    return datetime(*args, tzinfo=KARACHI)


def test_is_open_follows_hours_weekends_and_holidays():
    assert CAL.is_open(k(2026, 11, 23, 9, 0))  # Monday 09:00
    assert not CAL.is_open(k(2026, 11, 23, 17, 0))  # closing time is closed
    assert not CAL.is_open(k(2026, 11, 28, 11, 0))  # Saturday
    assert not CAL.is_open(k(2026, 3, 23, 11, 0))  # Pakistan Day (a Monday)
    assert CAL.is_open(datetime(2026, 11, 23, 4, 30, tzinfo=UTC))  # 09:30 in Karachi


def test_add_business_hours_skips_nights_weekends_and_holidays():
    assert CAL.add_business_hours(k(2026, 11, 23, 16, 0), 2) == k(2026, 11, 24, 10, 0)
    assert CAL.add_business_hours(k(2026, 11, 27, 16, 0), 2) == k(2026, 11, 30, 10, 0)  # Fri → Mon
    assert CAL.add_business_hours(k(2026, 11, 28, 12, 0), 1) == k(2026, 11, 30, 10, 0)  # from Saturday
    assert CAL.add_business_hours(k(2026, 3, 20, 16, 0), 3) == k(2026, 3, 24, 11, 0)  # over the holiday Monday


def test_refuses_naive_datetimes_and_bad_hours():
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.is_open(datetime(2026, 11, 23, 10))
    with pytest.raises(ValueError, match="bad office hours"):
        BusinessCalendar.build({0: (time(17), time(9))})


moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(KARACHI))
durations = st.integers(min_value=0, max_value=200 * 60).map(lambda m: timedelta(minutes=m))


@given(moments, durations, durations)
def test_adding_in_two_steps_equals_adding_once(start, a, b):
    assert CAL.add_business_time(CAL.add_business_time(start, a), b) == CAL.add_business_time(start, a + b)


@given(moments, durations)
def test_business_time_between_measures_what_was_added(start, duration):
    end = CAL.add_business_time(start, duration)
    assert CAL.business_time_between(start, end) == duration
    if duration:
        assert CAL.is_open(end - timedelta(microseconds=1))
