"""Local time for the whole system: the mainland's one time zone, local days and months, and
the mainland working calendar. Pure functions, no database.

Everything the people using RedWheel call "today", "this month" or "a working day" is meant in
Asia/Shanghai, whatever the server's clock or `TIME_ZONE` says; stored times stay UTC.

Working days are Monday–Friday, minus the public holidays that `holidays.China` lists
(including the substituted days off, 调休放假), plus the weekend days the State Council
declares working days (调休上班), which `holidays.China` exposes as `weekend_workdays` and
honours in `is_working_day()`. Working *hours* differ by use, so they are a parameter
(`WorkingHours`); appeals deadlines, for one, count 09:00–17:30 (`appeals.deadlines`).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.utils import timezone

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

__all__ = [
    "LOCAL_TZ",
    "UTC",
    "WorkingHours",
    "day_bounds",
    "is_working_day",
    "local_date",
    "local_text",
    "month_bounds",
    "month_start",
    "next_month",
    "previous_month",
    "require_aware",
]


def require_aware(moment: datetime) -> None:
    """Refuse naive datetimes: which day they fall on would depend on the server."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("local time maths needs aware datetimes")


# Local days ------------------------------------------------------------------------------------


def local_date(moment: datetime | None = None) -> date:
    """The local day `moment` falls on (now by default)."""
    return timezone.localtime(moment or timezone.now(), LOCAL_TZ).date()


def local_text(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time as people read it, in local time; "" for none."""
    return timezone.localtime(moment, LOCAL_TZ).strftime(fmt) if moment else ""


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of the local day as aware datetimes."""
    start = datetime.combine(day, time.min, tzinfo=LOCAL_TZ)
    following = day + timedelta(days=1)
    return start, datetime.combine(following, time.min, tzinfo=LOCAL_TZ)


# Local months ----------------------------------------------------------------------------------


def month_start(value: date | datetime | None = None) -> date:
    """The first day of the month containing `value` (this local month by default)."""
    if value is None:
        value = local_date()
    return date(value.year, value.month, 1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of the local month containing `month` as aware datetimes."""
    month = month_start(month)
    end = next_month(month)
    return (
        datetime(month.year, month.month, 1, tzinfo=LOCAL_TZ),
        datetime(end.year, end.month, 1, tzinfo=LOCAL_TZ),
    )


# The working calendar --------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _china(year: int) -> holidays.HolidayBase:
    return holidays.China(years=year)


def is_working_day(day: date) -> bool:
    """True for a mainland working day, adjusted (调休) Saturdays and Sundays included."""
    return _china(day.year).is_working_day(day)


@dataclass(frozen=True)
class WorkingHours:
    """Local opening hours on every working day; time outside them does not count."""

    opens: time
    closes: time

    @property
    def seconds_per_day(self) -> float:
        return (
            datetime.combine(date.min, self.closes) - datetime.combine(date.min, self.opens)
        ).total_seconds()

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.opens, LOCAL_TZ),
            datetime.combine(day, self.closes, LOCAL_TZ),
        )

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment (UTC) when `seconds` of working time have passed after `start`.

        Something started on Friday evening starts counting on the next working morning. A
        zero duration returns `start` itself."""
        require_aware(start)
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        if seconds == 0:
            return start.astimezone(UTC)
        local = start.astimezone(LOCAL_TZ)
        day = local.date()
        remaining = timedelta(seconds=seconds)
        for _ in range(3660):  # ten years of days: a safety net, never reached by real uses
            if is_working_day(day):
                opens, closes = self._window(day)
                begin = max(local, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return (begin + remaining).astimezone(UTC)
                    remaining -= available
            day += timedelta(days=1)
        raise ValueError("duration too long for the working calendar")

    def between(self, start: datetime, end: datetime) -> float:
        """Working seconds in [start, end); 0 when end is not after start."""
        require_aware(start)
        require_aware(end)
        if end <= start:
            return 0.0
        a, b = start.astimezone(LOCAL_TZ), end.astimezone(LOCAL_TZ)
        total = timedelta()
        day = a.date()
        while day <= b.date():
            if is_working_day(day):
                opens, closes = self._window(day)
                lo, hi = max(a, opens), min(b, closes)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds()
