"""Organisation life's part of the driver home (`/me/`, core.attention): a meeting of the
member's branch today (TODAY), and a decision on their leave request (SOON)."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import attention
from redwheel.core.dates import LOCAL_TZ, day_bounds, local_date
from redwheel.party.meetings import selectors
from redwheel.party.meetings.models import LeaveRequest


def cards(user) -> list[attention.Card]:
    if not getattr(user, "is_authenticated", False):
        return []
    if not selectors.member_memberships(user.pk).exists():  # one query for non-members
        return []
    now = timezone.now()
    _start, end = day_bounds(local_date(now))
    found = []
    for meeting in selectors.my_upcoming(user, now).filter(starts_at__lt=end)[:3]:
        if any(lv.state == LeaveRequest.State.APPROVED for lv in meeting.leave_requests.all()):
            continue  # excused: the decision card says so
        session = next((s for s in meeting.sessions.all() if s.ends_at >= now), None)
        when = session.starts_at if session else meeting.starts_at
        found.append(
            attention.Card(
                title=_("Meeting today: %(title)s") % {"title": meeting.title},
                body=_("%(time)s · %(place)s")
                % {
                    "time": when.astimezone(LOCAL_TZ).strftime("%H:%M"),
                    "place": meeting.place or _("online"),
                },
                url=reverse("meetings:my_detail", args=[meeting.pk]),
                urgency=attention.TODAY,
                due=when,
                kind="meetings",
                action_label=_("See the meeting"),
            )
        )
    for leave in selectors.recent_leave_decisions(user)[:3]:
        approved = leave.state == LeaveRequest.State.APPROVED
        found.append(
            attention.Card(
                title=(
                    _("Leave approved: %(title)s") if approved else _("Leave declined: %(title)s")
                )
                % {"title": leave.meeting.title},
                body=leave.decision_note,
                url=reverse("meetings:my_detail", args=[leave.meeting_id]),
                urgency=attention.SOON,
                due=leave.meeting.starts_at,
                kind="meetings",
                action_label=_("See the meeting"),
            )
        )
    return found


def register() -> None:
    attention.register("meetings", cards)
