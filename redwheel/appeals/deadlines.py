"""Deadline policy for appeal cases: how long each level has, counted how. Pure functions, no
database.

Working time is counted on the mainland working calendar (`core.dates`, holidays and 调休
included) during working hours of 09:00–17:30 local time, without a lunch break (the 12328
hotline and the party service centres keep a counter open at noon), so one working day is 8.5
hours. Calendar time is plain elapsed time (used for urgent categories such as safety).
All functions take and return aware datetimes; results are in UTC.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from redwheel.core.dates import WorkingHours, is_working_day, require_aware

HOURS = WorkingHours(opens=time(9, 0), closes=time(17, 30))
WORKING_DAY_SECONDS = HOURS.seconds_per_day
add_working_seconds = HOURS.add
working_seconds_between = HOURS.between

WORKING = "working"
CALENDAR = "calendar"

__all__ = [
    "CALENDAR",
    "HOURS",
    "WORKING",
    "Policy",
    "add_working_seconds",
    "default_policy",
    "is_due",
    "is_working_day",
    "remaining_seconds",
    "resume_due",
    "working_seconds_between",
]


@dataclass(frozen=True)
class Policy:
    """How long a level has to respond (accept or ask) and to resolve (answer) a case."""

    response_minutes: int
    resolution_minutes: int
    basis: str = WORKING  # WORKING or CALENDAR

    def add(self, start: datetime, seconds: float) -> datetime:
        if self.basis == CALENDAR:
            require_aware(start)
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
