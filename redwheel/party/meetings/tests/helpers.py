"""Set-up shared by the organisation-life tests, through the services."""

from datetime import datetime, timedelta

from redwheel import testing
from redwheel.core.dates import LOCAL_TZ
from redwheel.party.meetings import services


def at(y, m, d, h=12, minute=0) -> datetime:
    return datetime(y, m, d, h, minute, tzinfo=LOCAL_TZ)


def secretary(city):
    return testing.staff(city.branch_a, "secretary", name="书记")


def plan(actor, branch, start: datetime, *, code="branch_committee", hours=1, second=None, **kw):
    """A meeting with one session at `start` (and a second one `second` hours later)."""
    sessions = [services.SessionSpec(start, start + timedelta(hours=hours), "午间场")]
    if second is not None:
        later = start + timedelta(hours=second)
        sessions.append(services.SessionSpec(later, later + timedelta(hours=hours), "晚间场"))
    kw.setdefault("title", "支部会议")
    kw.setdefault("place", "司机之家")
    return services.meeting_create(
        actor=actor, branch=branch, type_code=code, sessions=sessions, **kw
    )


def members(city, n: int):
    return [city.member(f"党员{i}") for i in range(n)]
