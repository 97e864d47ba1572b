"""Organisation life (组织生活): its models in the one permission mechanism
(redwheel.core.permissions).

- Meetings belong to their branch (a grant on the branch or above sees them) and to the
  branch's platform, whose tokens may read them (the calendar API, `party:read`). The branch's
  members — verified party members whose branch it is, and for a mobile-member branch the
  members checked in to it — may view them (`members_of_branch`). Sessions, the timeline and
  the attachments are owned exactly as their meeting.
- Attendance and leave requests belong to the meeting's branch and to the member they are
  about; platforms do not read them (personal data).
- Meeting types and themed party days belong to their city (the root unit): only the city
  committee changes them; anyone holding a grant somewhere in the city reads them.
"""

from django.db.models import Q

from redwheel.core import permissions
from redwheel.drivers.models import PARTY_MEMBER_CATEGORIES, Membership
from redwheel.party.meetings.models import (
    Attendance,
    LeaveActivity,
    LeaveRequest,
    Meeting,
    MeetingActivity,
    MeetingFile,
    MeetingType,
    Session,
    ThemedDay,
    ThemeFile,
)

NOTHING = Q(pk__in=[])


def _person_id(principal) -> int | None:
    if permissions.acting_platform(principal) is not None:
        return None
    if not getattr(principal, "is_authenticated", False) or not principal.is_active:
        return None
    return principal.pk


def member_memberships(user_id: int):
    """The verified party memberships of one account (there is at most one)."""
    return Membership.objects.filter(
        driver__user_id=user_id,
        state=Membership.State.VERIFIED,
        category__in=PARTY_MEMBER_CATEGORIES,
    )


def members_of_branch(principal, action: str) -> Q:
    """A member reads the meetings of their own branch, and of the mobile branch they are
    checked in to (nothing more: steps on a meeting go through the services)."""
    person = _person_id(principal)
    if action != "view" or person is None:
        return NOTHING
    memberships = member_memberships(person)
    return Q(branch_id__in=memberships.values("branch_id")) | Q(
        branch_id__in=memberships.filter(mobile_branch__isnull=False).values("mobile_branch_id")
    )


def anyone_in_the_city(principal, action: str) -> Q:
    """Anyone granted `view` somewhere in a city reads its meeting types and themed days."""
    if action != "view" or _person_id(principal) is None:
        return NOTHING
    roots = sorted(
        {path.split(".", 1)[0] + "." for path in permissions.granted_paths(principal, "view")}
    )
    return Q(city__path__in=roots) if roots else NOTHING


def register() -> None:
    permissions.register(
        Meeting,
        units=("branch__path",),
        platforms=("branch__platform_id",),
        platform_actions=("view",),
        extra=members_of_branch,
    )
    for model in (Session, MeetingActivity, MeetingFile):
        permissions.register(model, via="meeting")
    for model in (Attendance, LeaveRequest):
        permissions.register(
            model,
            units=("meeting__branch__path",),
            owners=("driver__user_id",),
            platform_actions=(),
        )
    permissions.register(LeaveActivity, via="leave")
    for model in (MeetingType, ThemedDay):
        permissions.register(
            model, units=("city__path",), platform_actions=(), extra=anyone_in_the_city
        )
    permissions.register(ThemeFile, via="theme")
