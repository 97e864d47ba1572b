"""Deadline maths as pure functions, on the mainland working calendar in Asia/Shanghai."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from redwheel.appeals import deadlines
from redwheel.appeals.deadlines import (
    CALENDAR,
    Policy,
    add_working_seconds,
    is_due,
    is_working_day,
    working_seconds_between,
)

SH = ZoneInfo("Asia/Shanghai")
H = 3600


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_weekdays_weekends_holidays_and_makeup_days():
    assert is_working_day(date(2026, 3, 2))  # Monday
    assert not is_working_day(date(2026, 3, 7))  # Saturday
    assert not is_working_day(date(2026, 10, 1))  # National Day
    assert not is_working_day(date(2026, 2, 20))  # substituted day off (Spring Festival)
    assert is_working_day(date(2026, 2, 14))  # Saturday declared a working day (调休)
    assert is_working_day(date(2026, 1, 4))  # Sunday declared a working day
    assert not is_working_day(date(2026, 1, 2))  # Friday off in exchange


def test_within_one_day():
    assert add_working_seconds(sh(2026, 3, 2, 10, 0), 2 * H) == sh(2026, 3, 2, 12, 0)


def test_rolls_over_the_weekend():
    # Friday 16:30 + 2h: one hour on Friday, one on Monday from 09:00.
    assert add_working_seconds(sh(2026, 3, 6, 16, 30), 2 * H) == sh(2026, 3, 9, 10, 0)


def test_filed_outside_hours_starts_next_morning():
    assert add_working_seconds(sh(2026, 3, 6, 20, 0), 1 * H) == sh(2026, 3, 9, 10, 0)
    assert add_working_seconds(sh(2026, 3, 2, 7, 0), 1 * H) == sh(2026, 3, 2, 10, 0)


def test_skips_the_national_day_holiday_week():
    # Wed 30 Sep 2026 17:00 + 1h: 30 min that day, then Oct 1–7 are off, except that
    # Sat Oct 10 is a makeup working day after Thu 8 and Fri 9.
    assert add_working_seconds(sh(2026, 9, 30, 17, 0), 1 * H) == sh(2026, 10, 8, 9, 30)


def test_adjusted_saturday_counts():
    # Fri 13 Feb 2026 17:00 + 1h: Sat 14 Feb is a makeup working day.
    assert add_working_seconds(sh(2026, 2, 13, 17, 0), 1 * H) == sh(2026, 2, 14, 9, 30)
    # Sun 4 Jan 2026 is a working day too; Fri 2 Jan is off.
    assert add_working_seconds(sh(2025, 12, 31, 17, 0), 1 * H) == sh(2026, 1, 4, 9, 30)


def test_working_seconds_between_matches_add():
    start = sh(2026, 9, 29, 15, 0)
    end = add_working_seconds(start, 13 * H)
    assert working_seconds_between(start, end) == 13 * H
    assert working_seconds_between(end, start) == 0


def test_time_zone_is_shanghai_whatever_the_input_zone():
    # 01:00 UTC is 09:00 in Shanghai: one hour later is 10:00 Shanghai, 02:00 UTC.
    start = datetime(2026, 3, 2, 1, 0, tzinfo=ZoneInfo("UTC"))
    due = add_working_seconds(start, 1 * H)
    assert due == datetime(2026, 3, 2, 2, 0, tzinfo=ZoneInfo("UTC"))
    assert due.utcoffset() == timedelta(0)
    # 18:00 UTC Sunday is 02:00 Monday in Shanghai: the clock starts at 09:00 Monday.
    sunday_evening_utc = datetime(2026, 3, 1, 18, 0, tzinfo=ZoneInfo("UTC"))
    assert add_working_seconds(sunday_evening_utc, H) == sh(2026, 3, 2, 10, 0)
    with pytest.raises(ValueError):
        add_working_seconds(datetime(2026, 3, 2, 9, 0), H)


def test_calendar_policy_ignores_holidays():
    policy = Policy(120, 24 * 60, CALENDAR)
    start = sh(2026, 10, 1, 23, 0)
    assert policy.response_due(start) == sh(2026, 10, 2, 1, 0)
    assert policy.resolution_due(start) == sh(2026, 10, 2, 23, 0)


def test_pause_and_resume_keeps_the_remaining_working_time():
    policy = Policy(60, 2 * 510)  # two working days to resolve
    filed = sh(2026, 3, 2, 9, 0)  # Monday
    due = policy.resolution_due(filed)
    assert due == sh(2026, 3, 3, 17, 30)
    paused = sh(2026, 3, 2, 13, 0)  # four hours used
    remaining = deadlines.remaining_seconds(policy, paused, due)
    assert remaining == 13 * H
    resumed = sh(2026, 3, 6, 15, 0)  # Friday afternoon; 2.5 h left that day
    assert deadlines.resume_due(policy, resumed, remaining) == sh(2026, 3, 10, 11, 0)
    assert deadlines.resume_due(policy, resumed, None) is None


def test_escalation_exactly_at_the_deadline():
    due = sh(2026, 3, 2, 13, 0)
    with time_machine.travel(due - timedelta(microseconds=1), tick=False):
        assert not is_due(datetime.now(SH), due)
    with time_machine.travel(due, tick=False):
        assert is_due(datetime.now(SH), due)
    assert not is_due(due, None)


def test_default_policies_per_level_and_category():
    assert deadlines.default_policy(1, "income").basis == deadlines.WORKING
    assert deadlines.default_policy(1, "safety").basis == CALENDAR
    assert (
        deadlines.default_policy(4, "income").resolution_minutes
        > deadlines.default_policy(1, "income").resolution_minutes
    )
