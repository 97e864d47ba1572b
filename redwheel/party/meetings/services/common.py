"""What the meeting services share: who the members of a branch are, who organises, the
actor's own driver record and the city of a unit."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.permissions import SystemActor, acting_platform, can, get_or_404
from redwheel.drivers.models import PARTY_MEMBER_CATEGORIES, Driver, Membership
from redwheel.orgs.models import OrgUnit
from redwheel.party.meetings.models import Meeting

MAX_SESSIONS = 4
MAX_SESSION_HOURS = 12


@dataclass(frozen=True)
class SessionSpec:
    """One session of a meeting as a form or the API gives it (aware datetimes)."""

    starts_at: datetime
    ends_at: datetime
    label: str = ""


def _person(actor):
    """The actor as a User row to store, or None for tokens, feeds and operators."""
    if isinstance(actor, SystemActor) or acting_platform(actor) is not None:
        return None
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return None
    return actor


def _own_driver(actor) -> Driver:
    """The actor's own driver record; anyone without one (staff, machines) gets NotFound."""
    if _person(actor) is None:
        raise NotFound()
    return get_or_404(actor, "view", Driver.objects.select_related("membership"), user_id=actor.pk)


def members_q(branch: OrgUnit, prefix: str = "") -> Q:
    """Verified party members whose branch this is, and those checked in to it (mobile)."""
    p = prefix
    return Q(
        **{
            f"{p}membership__state": Membership.State.VERIFIED,
            f"{p}membership__category__in": PARTY_MEMBER_CATEGORIES,
        }
    ) & (Q(**{f"{p}membership__branch": branch}) | Q(**{f"{p}membership__mobile_branch": branch}))


def branch_members(branch: OrgUnit) -> QuerySet:
    return Driver.objects.filter(members_q(branch)).order_by("name", "id")


def is_member(driver: Driver, branch: OrgUnit) -> bool:
    return Driver.objects.filter(members_q(branch), pk=driver.pk).exists()


def _may_organise(actor, meeting: Meeting) -> bool:
    """The branch's secretary or organiser, or anyone who may change its meetings (a grant
    with `change` on the branch or above)."""
    return can(actor, "change", meeting)


def require_branch(unit: OrgUnit) -> None:
    if unit.kind != OrgUnit.Kind.BRANCH:
        raise ValidationFailed(
            _("Meetings are held by a party branch."), code="not_a_branch", details={}
        )


def city_of(unit: OrgUnit) -> OrgUnit:
    """The root unit (the city's committee) above `unit`."""
    if unit.parent_id is None:
        return unit
    return OrgUnit.objects.get(path=unit.path.split(".", 1)[0] + ".")


def check_sessions(sessions) -> list[SessionSpec]:
    sessions = sorted(sessions or [], key=lambda s: s.starts_at)
    if not sessions:
        raise ValidationFailed(_("A meeting needs at least one session."), code="no_sessions")
    if len(sessions) > MAX_SESSIONS:
        raise ValidationFailed(
            _("A meeting has at most %(n)s sessions.") % {"n": MAX_SESSIONS},
            code="too_many_sessions",
        )
    for s in sessions:
        if s.starts_at.tzinfo is None or s.ends_at.tzinfo is None:
            raise ValidationFailed(_("Session times need a time zone."), code="naive_time")
        if s.ends_at <= s.starts_at:
            raise ValidationFailed(
                _("A session must end after it starts."), code="session_ends_before_start"
            )
        if (s.ends_at - s.starts_at).total_seconds() > MAX_SESSION_HOURS * 3600:
            raise ValidationFailed(
                _("A session lasts at most %(h)s hours.") % {"h": MAX_SESSION_HOURS},
                code="session_too_long",
            )
        if len(s.label) > 40:
            raise ValidationFailed(_("A session label has at most 40 characters."))
    return sessions
