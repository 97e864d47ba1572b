"""Deadline maths for appeal cases: pure functions, no database.

Working time is counted on the mainland working calendar in Asia/Shanghai:

- working days are Monday–Friday, minus the public holidays that `holidays.China` lists
  (including the substituted days off, 调休放假), plus the weekend days that the State Council
  declares working days (调休上班), which `holidays.China` exposes as `weekend_workdays`
  and honours in `is_working_day()`;
- working hours are 09:00–17:30 local time, without a lunch break (the 12328 hotline and the
  party service centres keep a counter open at noon), so one working day is 8.5 hours.

Calendar time is plain elapsed time (used for urgent categories such as safety).
All functions take and return aware datetimes; results are in UTC.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

TZ = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
DAY_START = time(9, 0)
DAY_END = time(17, 30)
WORKING_DAY_SECONDS = 8.5 * 3600

WORKING = "working"
CALENDAR = "calendar"


@lru_cache(maxsize=64)
def _china(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


def is_working_day(day: date) -> bool:
    """True for a mainland working day, adjusted (调休) Saturdays and Sundays included."""
    return _china(day.year).is_working_day(day)


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("deadline maths needs aware datetimes")


def _window(day: date) -> tuple[datetime, datetime]:
    return datetime.combine(day, DAY_START, TZ), datetime.combine(day, DAY_END, TZ)


def add_working_seconds(start: datetime, seconds: float) -> datetime:
    """The moment when `seconds` of working time have passed after `start`.

    Time outside working hours does not count: a case filed on Friday evening starts its
    clock on the next working morning. A zero duration returns `start` itself.
    """
    _require_aware(start)
    if seconds < 0:
        raise ValueError("seconds must not be negative")
    if seconds == 0:
        return start.astimezone(UTC)
    local = start.astimezone(TZ)
    day = local.date()
    remaining = timedelta(seconds=seconds)
    for _ in range(3660):  # ten years of days: a safety net, never reached by real policies
        if is_working_day(day):
            opens, closes = _window(day)
            begin = max(local, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
        day += timedelta(days=1)
    raise ValueError("duration too long for the working calendar")


def working_seconds_between(start: datetime, end: datetime) -> float:
    """Working seconds in [start, end); 0 when end is not after start."""
    _require_aware(start)
    _require_aware(end)
    if end <= start:
        return 0.0
    a, b = start.astimezone(TZ), end.astimezone(TZ)
    total = timedelta()
    day = a.date()
    while day <= b.date():
        if is_working_day(day):
            opens, closes = _window(day)
            lo, hi = max(a, opens), min(b, closes)
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total.total_seconds()


@dataclass(frozen=True)
class Policy:
    """How long a level has to respond (accept or ask) and to resolve (answer) a case."""

    response_minutes: int
    resolution_minutes: int
    basis: str = WORKING  # WORKING or CALENDAR

    def add(self, start: datetime, seconds: float) -> datetime:
        if self.basis == CALENDAR:
            _require_aware(start)
            return (start + timedelta(seconds=seconds)).astimezone(UTC)
        return add_working_seconds(start, seconds)

    def between(self, start: datetime, end: datetime) -> float:
        if self.basis == CALENDAR:
            return max(0.0, (end - start).total_seconds())
        return working_seconds_between(start, end)

    def response_due(self, start: datetime) -> datetime:
        return self.add(start, self.response_minutes * 60)

    def resolution_due(self, start: datetime) -> datetime:
        return self.add(start, self.resolution_minutes * 60)


def remaining_seconds(policy: Policy, now: datetime, due: datetime | None) -> float | None:
    """Clock time left until `due`, counted the policy's way; used when a case is paused."""
    if due is None:
        return None
    return policy.between(now, due)


def resume_due(policy: Policy, now: datetime, remaining: float | None) -> datetime | None:
    """The new deadline when a paused clock restarts at `now` with `remaining` seconds."""
    if remaining is None:
        return None
    return policy.add(now, remaining)


def is_due(now: datetime, due: datetime | None) -> bool:
    """A deadline is reached at the very instant it falls due (escalation at == deadline)."""
    return due is not None and now >= due


WD = int(WORKING_DAY_SECONDS // 60)  # minutes in one working day (510)

# Defaults per level (1 contact member/branch, 2 mobile/platform branch, 3 platform party
# organisation, 4 industry committee). Categories listed in CATEGORY_DEFAULTS override them.
# Staff can override any (level, category) pair with a DeadlinePolicy row in the admin.
LEVEL_DEFAULTS: dict[int, Policy] = {
    1: Policy(response_minutes=4 * 60, resolution_minutes=2 * WD),
    2: Policy(response_minutes=4 * 60, resolution_minutes=3 * WD),
    3: Policy(response_minutes=1 * WD, resolution_minutes=5 * WD),
    4: Policy(response_minutes=1 * WD, resolution_minutes=10 * WD),
}
CATEGORY_DEFAULTS: dict[tuple[int, str], Policy] = {
    # Safety does not wait for Monday: calendar hours, around the clock.
    (1, "safety"): Policy(2 * 60, 24 * 60, CALENDAR),
    (2, "safety"): Policy(2 * 60, 24 * 60, CALENDAR),
    (3, "safety"): Policy(4 * 60, 48 * 60, CALENDAR),
    (4, "safety"): Policy(4 * 60, 72 * 60, CALENDAR),
    # A penalty review needs the platform's records: more time to resolve at the first levels.
    (1, "penalty"): Policy(4 * 60, 3 * WD),
    (2, "penalty"): Policy(4 * 60, 5 * WD),
}


def default_policy(level: int, category: str) -> Policy:
    return CATEGORY_DEFAULTS.get((level, category)) or LEVEL_DEFAULTS[level]
