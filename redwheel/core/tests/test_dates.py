"""Local days, months and the working calendar of `core.dates`."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine

from redwheel.core import dates
from redwheel.core.dates import LOCAL_TZ, WorkingHours


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


def test_today_is_the_local_day_not_the_servers():
    # 17:00 UTC on 31 December is already New Year's Day in Shanghai.
    with time_machine.travel(datetime(2025, 12, 31, 17, 0, tzinfo=UTC), tick=False):
        assert dates.local_date() == date(2026, 1, 1)
        assert dates.month_start() == date(2026, 1, 1)
    assert dates.local_date(datetime(2026, 3, 1, 15, 59, tzinfo=UTC)) == date(2026, 3, 1)
    assert dates.local_date(datetime(2026, 3, 1, 16, 0, tzinfo=UTC)) == date(2026, 3, 2)


def test_day_and_month_bounds_are_local_half_open_ranges():
    assert dates.day_bounds(date(2026, 2, 28)) == (sh(2026, 2, 28), sh(2026, 3, 1))
    assert dates.month_bounds(date(2026, 12, 15)) == (sh(2026, 12, 1), sh(2027, 1, 1))
    start, _end = dates.month_bounds(date(2026, 3, 1))
    assert start.astimezone(UTC) == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)


def test_months_step_over_the_year():
    assert dates.next_month(date(2026, 12, 1)) == date(2027, 1, 1)
    assert dates.previous_month(date(2026, 1, 1)) == date(2025, 12, 1)
    assert dates.month_start(date(2026, 7, 31)) == date(2026, 7, 1)


def test_the_working_calendar_knows_holidays_and_makeup_days():
    assert dates.is_working_day(date(2026, 3, 2))  # Monday
    assert not dates.is_working_day(date(2026, 10, 1))  # National Day
    assert dates.is_working_day(date(2026, 2, 14))  # Saturday declared a working day (调休)


def test_working_hours_are_a_parameter():
    short = WorkingHours(opens=time(10, 0), closes=time(12, 0))
    assert short.seconds_per_day == 2 * 3600
    # Friday 11:00 + 2 working hours: one hour on Friday, one on Monday from 10:00.
    assert short.add(sh(2026, 3, 6, 11, 0), 2 * 3600) == sh(2026, 3, 9, 11, 0)
    assert short.between(sh(2026, 3, 6, 11, 0), sh(2026, 3, 9, 11, 0)) == 2 * 3600
    assert short.add(sh(2026, 3, 6, 11, 0), 0).tzinfo is UTC


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        WorkingHours(time(9), time(17)).between(datetime(2026, 3, 2), sh(2026, 3, 3))
