"""Reads for organisation life, always through the viewer and the one permission mechanism."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from redwheel.core.dates import LOCAL_TZ, day_bounds, local_date, month_bounds
from redwheel.core.errors import NotFound
from redwheel.core.permissions import can, get_or_404, granted_paths, is_unscoped, scope
from redwheel.drivers.models import Driver
from redwheel.orgs.models import OrgUnit
from redwheel.party.meetings import compliance
from redwheel.party.meetings.models import (
    Attendance,
    LeaveRequest,
    Meeting,
    MeetingType,
    Session,
    Status,
    ThemedDay,
)
from redwheel.party.meetings.permissions import member_memberships
from redwheel.party.meetings.services.attendance import check_code
from redwheel.party.meetings.services.common import branch_members, city_of
from redwheel.party.meetings.services.meetings import quorum_needed
from redwheel.party.meetings.services.types import DEFAULT_TYPES
from redwheel.party.meetings.states import LEAVE, MEETING, OPEN

BRANCH = OrgUnit.Kind.BRANCH


# Branches and types ----------------------------------------------------------------------------


def visible_branches(viewer, action: str = "view") -> QuerySet:
    return scope(viewer, action, OrgUnit.objects.filter(kind=BRANCH, is_active=True)).order_by(
        "path"
    )


def organisable_branches(viewer) -> QuerySet:
    """Branches whose meetings the viewer may plan (secretary, organiser, staff above)."""
    return visible_branches(viewer, "change")


def branch_get(viewer, pk, action: str = "view") -> OrgUnit:
    return get_or_404(viewer, action, OrgUnit.objects.filter(kind=BRANCH), pk=pk)


def viewer_cities(viewer) -> QuerySet:
    """The cities (root units) in which the viewer holds any grant, for the types list."""
    roots = OrgUnit.objects.filter(parent__isnull=True).order_by("path")
    if is_unscoped(viewer):
        return roots
    paths = {p.split(".", 1)[0] + "." for p in granted_paths(viewer, "view")}
    return roots.filter(path__in=paths)


def types_of_city(viewer, city: OrgUnit) -> list:
    """The city's meeting types; before a city has its own rows, the defaults (unsaved)."""
    rows = list(scope(viewer, "view", MeetingType.objects.filter(city=city)))
    if rows:
        return rows
    return [
        MeetingType(city=city, code=code, name=name, frequency=f, quorum=q, note=note)
        for code, name, f, q, note in DEFAULT_TYPES
    ]


def writable_types(viewer) -> QuerySet:
    return scope(viewer, "change", MeetingType.objects.select_related("city"))


def type_get(viewer, pk, action: str = "view") -> MeetingType:
    return get_or_404(viewer, action, MeetingType.objects.select_related("city"), pk=pk)


# Meetings --------------------------------------------------------------------------------------


def visible_meetings(viewer, action: str = "view") -> QuerySet:
    return scope(viewer, action, Meeting.objects.all())


def meeting_list(
    viewer, *, branch: OrgUnit | None = None, status: str = "", month: date | None = None
) -> QuerySet:
    qs = visible_meetings(viewer).select_related("branch", "type").prefetch_related("sessions")
    if branch is not None:
        qs = qs.filter(branch=branch)
    if status:
        qs = qs.filter(status=status)
    if month is not None:
        start, end = month_bounds(month)
        qs = qs.filter(starts_at__gte=start, starts_at__lt=end)
    return qs.order_by("starts_at", "id") if month is not None else qs.order_by("-starts_at", "-id")


def meeting_get(viewer, pk, action: str = "view") -> Meeting:
    return get_or_404(
        viewer,
        action,
        Meeting.objects.select_related("branch", "type", "theme", "organiser"),
        pk=pk,
    )


def may_organise(viewer, meeting: Meeting) -> bool:
    return can(viewer, "change", meeting)


@dataclass
class RosterRow:
    driver: Driver
    attendance: Attendance | None
    leave: LeaveRequest | None
    member: bool

    @property
    def state(self) -> str:
        return self.attendance.state if self.attendance else ""


def roster(meeting: Meeting) -> list[RosterRow]:
    """Every member of the branch (and anyone with an attendance row), with their one
    attendance record and leave request."""
    attendance = {a.driver_id: a for a in meeting.attendances.select_related("session")}
    leaves = {lv.driver_id: lv for lv in meeting.leave_requests.all()}
    members = list(branch_members(meeting.branch))
    ids = {d.pk for d in members}
    others = Driver.objects.filter(pk__in=set(attendance) - ids).order_by("name", "id")
    return [
        RosterRow(d, attendance.get(d.pk), leaves.get(d.pk), d.pk in ids)
        for d in [*members, *others]
    ]


@dataclass
class Quorum:
    expected: int
    present: int
    needed: int

    @property
    def reached(self) -> bool:
        return self.expected > 0 and self.present >= self.needed


def quorum(meeting: Meeting, rows: list[RosterRow]) -> Quorum:
    if meeting.status == Status.RECORDED and meeting.expected_count is not None:
        expected, present = meeting.expected_count, meeting.present_count or 0
    else:
        expected = len(rows)
        present = sum(1 for r in rows if r.state == Attendance.State.PRESENT)
    return Quorum(expected, present, quorum_needed(expected))


def meeting_actions(meeting: Meeting) -> list[str]:
    return MEETING.allowed_actions(meeting)


def timeline(meeting: Meeting) -> QuerySet:
    return meeting.activities.select_related("actor").order_by("at", "id")


def current_session(meeting: Meeting, now=None) -> Session | None:
    """The session whose sign-in window is open now (the first of them)."""
    from redwheel.party.meetings import signin

    now = now or timezone.now()
    return next((s for s in meeting.sessions.all() if signin.is_open(s, now)), None)


# Compliance ------------------------------------------------------------------------------------


def _year_bounds(year: int):
    return month_bounds(date(year, 1, 1))[0], month_bounds(date(year, 12, 1))[1]


def compliance_for(viewer, branch: OrgUnit, today: date | None = None) -> compliance.View:
    """One branch's obligations this year (the viewer must see the branch)."""
    branch = branch_get(viewer, branch.pk)
    today = today or local_date()
    city = city_of(branch)
    types = [t for t in types_of_city(viewer, city) if t.is_active]
    start, end = _year_bounds(today.year)
    meetings = (
        Meeting.objects.filter(branch=branch, starts_at__gte=start, starts_at__lt=end)
        .filter(status=Status.RECORDED)
        .select_related("type")
    )
    return compliance.View(today, compliance.evaluate(types, meetings, today))


def compliance_totals(viewer, today: date | None = None) -> dict:
    """Over every branch the viewer sees: how many obligation periods are met, due and
    overdue this year — counts only, no branch named, nothing ranked."""
    today = today or local_date()
    branches = list(visible_branches(viewer))
    totals = {compliance.MET: 0, compliance.DUE: 0, compliance.OVERDUE: 0}
    if not branches:
        return {"branches": 0, **totals}
    start, end = _year_bounds(today.year)
    meetings = list(
        Meeting.objects.filter(
            branch__in=branches, starts_at__gte=start, starts_at__lt=end, status=Status.RECORDED
        ).select_related("type")
    )
    by_branch: dict[int, list] = {}
    for m in meetings:
        by_branch.setdefault(m.branch_id, []).append(m)
    types_by_city: dict[int, list] = {}
    for branch in branches:
        root = branch.path.split(".", 1)[0] + "."
        if root not in types_by_city:
            city = OrgUnit.objects.get(path=root)
            types_by_city[root] = [t for t in types_of_city(viewer, city) if t.is_active]
        view = compliance.View(
            today, compliance.evaluate(types_by_city[root], by_branch.get(branch.pk, []), today)
        )
        for key, n in view.totals().items():
            totals[key] += n
    return {"branches": len(branches), **totals}


# Themed days -----------------------------------------------------------------------------------


def themes(viewer) -> QuerySet:
    return (
        scope(viewer, "view", ThemedDay.objects.select_related("city"))
        .annotate(adopted=Count("meetings", filter=~Q(meetings__status=Status.CANCELLED)))
        .order_by("-month", "-id")
    )


def theme_get(viewer, pk, action: str = "view") -> ThemedDay:
    return get_or_404(viewer, action, ThemedDay.objects.select_related("city"), pk=pk)


def theme_of_month(viewer, city: OrgUnit, month: date) -> ThemedDay | None:
    return scope(viewer, "view", ThemedDay.objects.filter(city=city, month=month)).first()


def theme_adoption(viewer, theme: ThemedDay) -> list[tuple[OrgUnit, Meeting | None]]:
    """The branches of the theme's city that the viewer sees, in the tree's order, each with
    the meeting that adopted the theme (or None). A list, not a ranking."""
    branches = visible_branches(viewer).filter(path__startswith=theme.city.path)
    adopted = {
        m.branch_id: m
        for m in visible_meetings(viewer).filter(theme=theme).exclude(status=Status.CANCELLED)
    }
    return [(b, adopted.get(b.pk)) for b in branches]


def adoptable_branches(viewer, theme: ThemedDay) -> QuerySet:
    taken = Meeting.objects.filter(theme=theme).values("branch_id")
    return (
        organisable_branches(viewer).filter(path__startswith=theme.city.path).exclude(pk__in=taken)
    )


# The member's own ------------------------------------------------------------------------------


def my_meetings(user) -> QuerySet:
    """Meetings of the member's branch (and the mobile branch they are checked in to)."""
    if not getattr(user, "is_authenticated", False):
        return Meeting.objects.none()
    memberships = member_memberships(user.pk)
    branch_ids = [
        *memberships.values_list("branch_id", flat=True),
        *memberships.exclude(mobile_branch=None).values_list("mobile_branch_id", flat=True),
    ]
    return (
        visible_meetings(user)
        .filter(branch_id__in=branch_ids)
        .select_related("branch", "type")
        .prefetch_related(
            "sessions",
            Prefetch("attendances", Attendance.objects.filter(driver__user_id=user.pk)),
            Prefetch("leave_requests", LeaveRequest.objects.filter(driver__user_id=user.pk)),
        )
    )


def my_upcoming(user, now=None) -> QuerySet:
    now = now or timezone.now()
    return (
        my_meetings(user)
        .filter(ends_at__gte=now)
        .exclude(status=Status.CANCELLED)
        .order_by("starts_at", "id")
    )


def my_past(user, now=None) -> QuerySet:
    now = now or timezone.now()
    return (
        my_meetings(user)
        .filter(Q(ends_at__lt=now) | Q(status=Status.CANCELLED))
        .order_by("-starts_at", "-id")
    )


def my_meeting(user, pk) -> Meeting:
    found = my_meetings(user).filter(pk=pk).first()
    if found is None:
        raise NotFound()
    return found


def sign_in_preview(user, meeting_id: int, code: str) -> Meeting:
    """The meeting a sign-in code is for, if the user may sign in with it now (else the
    refusal, with its message)."""
    _driver, session = check_code(user=user, meeting_id=meeting_id, code=code)
    return session.meeting


def my_attendance(meeting: Meeting) -> Attendance | None:
    """From `my_meetings`' prefetch: the member's own row."""
    rows = list(meeting.attendances.all())
    return rows[0] if rows else None


def my_leave(meeting: Meeting) -> LeaveRequest | None:
    rows = list(meeting.leave_requests.all())
    return rows[0] if rows else None


def leave_actions(leave: LeaveRequest | None) -> list[str]:
    return LEAVE.allowed_actions(leave) if leave is not None else []


def me_summary(user) -> dict | None:
    """For the /me/party/ index: the member's next meeting, today's, open leave decisions;
    None for anyone who is no member of a branch."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not member_memberships(user.pk).exists():
        return None
    now = timezone.now()
    upcoming = list(my_upcoming(user, now)[:3])
    start, end = day_bounds(local_date(now))
    today = [m for m in upcoming if m.starts_at < end and m.ends_at >= start]
    pending = (
        LeaveRequest.objects.filter(
            driver__user_id=user.pk, state=LeaveRequest.State.REQUESTED, meeting__status__in=OPEN
        )
        .filter(meeting__in=my_meetings(user))
        .count()
    )
    return {
        "next": upcoming[0] if upcoming else None,
        "today": today,
        "upcoming": upcoming,
        "pending_leave": pending,
    }


def recent_leave_decisions(user, days: int = 7) -> QuerySet:
    since = timezone.now() - timedelta(days=days)
    return (
        scope(user, "view", LeaveRequest.objects.all())
        .filter(
            driver__user_id=user.pk,
            state__in=(LeaveRequest.State.APPROVED, LeaveRequest.State.DECLINED),
            decided_at__gte=since,
            meeting__status__in=OPEN,
        )
        .select_related("meeting")
        .order_by("-decided_at")
    )


# The calendar API ------------------------------------------------------------------------------


def branch_calendar(principal, unit_id: int, now=None) -> tuple[OrgUnit, QuerySet]:
    """A branch's upcoming meetings with their sessions, for a principal that sees the branch
    (staff, or a platform token of the branch's platform)."""
    now = now or timezone.now()
    branch = branch_get(principal, unit_id)
    meetings = (
        scope(principal, "view", Meeting.objects.filter(branch=branch))
        .filter(status__in=OPEN, ends_at__gte=now)
        .select_related("type")
        .prefetch_related("sessions")
        .order_by("starts_at", "id")
    )
    return branch, meetings


def local_day(moment) -> date:
    return moment.astimezone(LOCAL_TZ).date()
