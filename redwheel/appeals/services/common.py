"""The case state machine and what every step shares: who may act, the deadlines of a
level, saving under the optimistic lock, the timeline and the notifications.
"""

from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from redwheel.accounts.models import Grant
from redwheel.appeals import deadlines, routing
from redwheel.appeals.models import Activity, Assignment, Case, DeadlinePolicy, Level, Status
from redwheel.core.dates import LOCAL_TZ
from redwheel.core.errors import Conflict, InvalidTransition, NotFound
from redwheel.core.notifications import notify_platform, notify_user
from redwheel.core.permissions import SystemActor, acting_platform, can, get_or_404, is_unscoped
from redwheel.core.states import StateMachine, Transition
from redwheel.orgs.models import OrgUnit
from redwheel.orgs.permissions import is_city_committee

Action = Activity.Action

_OPEN = (Status.SUBMITTED, Status.ACCEPTED, Status.WAITING)

# The case state machine. Filing starts from None (a case not yet saved); a None target keeps
# the status (the overdue flag at the top level, mediation updates).
CASE = StateMachine(
    activity_model=Activity,
    parent_field="case",
    audit_prefix="appeal",
    state_field="status",
    from_field="from_status",
    to_field="to_status",
    activity_time_field="at",
    save=lambda case, now: _save(case, now),
    activity_defaults=lambda case, actor: {
        "actor": _person(actor),
        "actor_label": _actor_label(actor),
        "level": case.level,
        "unit": case.unit,
    },
    audit_summary=lambda case: case.number,
    # Notes are the driver's and the handlers' own words; the audit log keeps only the step.
    note_in_audit=False,
    transitions={
        Action.FILE: Transition({None}, Status.SUBMITTED),
        Action.ACCEPT: Transition({Status.SUBMITTED}, Status.ACCEPTED),
        Action.REQUEST_INFO: Transition({Status.SUBMITTED, Status.ACCEPTED}, Status.WAITING),
        Action.PROVIDE_INFO: Transition({Status.WAITING}, Status.ACCEPTED),
        Action.ANSWER: Transition(_OPEN, Status.ANSWERED),
        Action.ESCALATE: Transition(_OPEN, Status.SUBMITTED),
        Action.AUTO_ESCALATE: Transition({Status.SUBMITTED, Status.ACCEPTED}, Status.SUBMITTED),
        Action.OVERDUE: Transition({Status.SUBMITTED, Status.ACCEPTED}, None),
        Action.RATE: Transition({Status.ANSWERED}, Status.CLOSED),
        Action.CLOSE: Transition({Status.ANSWERED}, Status.CLOSED),
        Action.REOPEN: Transition({Status.ANSWERED, Status.CLOSED}, Status.SUBMITTED),
        Action.MERGE: Transition(_OPEN, Status.MERGED),
        Action.WITHDRAW: Transition(_OPEN, Status.WITHDRAWN),
    },
)
# Statuses whose clock runs (the escalation job looks only at these).
RUNNING = (Status.SUBMITTED, Status.ACCEPTED)
# Who may take each action: the unit handling the case, the driver, or either.
HANDLER_ACTIONS = frozenset(
    {
        Action.ACCEPT,
        Action.REQUEST_INFO,
        Action.ANSWER,
        Action.ESCALATE,
        Action.CLOSE,
        Action.MERGE,
        Action.PROVIDE_INFO,
    }
)
DRIVER_ACTIONS = frozenset({Action.PROVIDE_INFO, Action.RATE, Action.REOPEN, Action.WITHDRAW})

REOPEN_WINDOW = timedelta(days=7)


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# Permissions ---------------------------------------------------------------------------------
#
# Who may *see* a case is the registry's business (appeals/permissions.py); every public
# service of this package starts by asking it, so a caller out of scope gets NotFound before
# anything else happens. Who may take a *step* on a visible case is the rule of this module:
# the handler (the person or unit holding the case now) or the driver it is about.


def _person_id(actor) -> int | None:
    """The user id of a signed-in, active person; None for tokens, feeds and operators."""
    if isinstance(actor, SystemActor) or acting_platform(actor) is not None:
        return None
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return None
    return actor.pk


def _person(actor):
    """The actor as a User row to store (filed by, answered by), or None for machines."""
    return actor if _person_id(actor) is not None else None


def _can_handle(actor, case: Case) -> bool:
    """The named assignee, or `change` on the unit holding the case now (grants cover their
    subtree, so anything above it too); at level 4, the city committee of the case's city.
    Platforms read their cases through their token; handling them is people's work."""
    if is_unscoped(actor):
        return True
    person = _person_id(actor)
    if person is None:
        return False
    if case.assignee_id is not None and case.assignee_id == person:
        return True
    if case.level == Level.COMMITTEE:
        return is_city_committee(actor, "change", city=case.unit)
    return can(actor, "change", case.unit)


def _is_own(actor, case: Case) -> bool:
    """The driver the case is about, acting for themselves (the registry's self-service)."""
    person = _person_id(actor)
    return person is not None and case.driver.user_id == person and can(actor, "change", case)


def _may(actor, case: Case, action: str) -> bool:
    handles = action in HANDLER_ACTIONS or action == Action.MEDIATION
    if handles and _can_handle(actor, case):
        return True
    if action in DRIVER_ACTIONS:
        return is_unscoped(actor) or _is_own(actor, case)
    return False


def _guard(actor, case: Case, action: str) -> Case:
    """The first check of every step: NotFound unless the actor sees the case and has a part
    in `action`. Returns the case freshly read (the step re-checks it under its row lock)."""
    fresh = get_or_404(
        actor, "view", Case.objects.select_related("driver", "unit"), pk=getattr(case, "pk", None)
    )
    if not _may(actor, fresh, action):
        raise NotFound()
    return fresh


def _require_action(actor, case: Case, action: str) -> None:
    if not _may(actor, case, action):
        raise NotFound()
    CASE.check(case, action)


# Deadlines ------------------------------------------------------------------------------------


def policy_for(level: int, category: str) -> deadlines.Policy:
    rows = {
        row.category: row
        for row in DeadlinePolicy.objects.filter(level=level, category__in=[category, ""])
    }
    row = rows.get(category) or rows.get("")
    if row is None:
        return deadlines.default_policy(level, category)
    return deadlines.Policy(row.response_minutes, row.resolution_minutes, row.basis)


def _start_level(case: Case, level: int, unit: OrgUnit, assignee, now: datetime) -> Assignment:
    policy = policy_for(level, case.category)
    case.level, case.unit, case.assignee = level, unit, assignee
    case.level_started_at = now
    case.response_due_at = policy.response_due(now)
    case.resolution_due_at = policy.resolution_due(now)
    case.escalate_at = case.response_due_at
    case.responded_at = None
    case.paused_at = None
    case.response_remaining = case.resolution_remaining = None
    case.overdue_notified_at = None
    return Assignment(case=case, level=level, unit=unit, assignee=assignee, started_at=now)


def _current_assignment(case: Case) -> Assignment:
    return case.assignments.filter(ended_at__isnull=True).order_by("-started_at", "-id").first()


def _mark_responded(case: Case, assignment: Assignment | None, now: datetime) -> None:
    if case.responded_at is not None:
        return
    case.responded_at = now
    case.escalate_at = case.resolution_due_at
    if assignment is not None and assignment.responded_at is None:
        assignment.responded_at = now
        assignment.responded_on_time = case.response_due_at is None or now <= case.response_due_at
        assignment.save(update_fields=["responded_at", "responded_on_time"])


def _end_assignment(
    assignment: Assignment | None, case: Case, end: str, now: datetime, overdue: bool = False
) -> None:
    if assignment is None:
        return
    assignment.ended_at, assignment.end = now, end
    if overdue:
        if assignment.responded_at is None:
            assignment.responded_on_time = False
        assignment.answered_on_time = False
    elif assignment.responded_at is None and end == Assignment.End.ESCALATED:
        assignment.responded_on_time = case.response_due_at is None or now <= case.response_due_at
    assignment.save()


# Saving ---------------------------------------------------------------------------------------

_CASE_FIELDS = [
    "status",
    "level",
    "unit",
    "assignee",
    "level_started_at",
    "response_due_at",
    "resolution_due_at",
    "escalate_at",
    "responded_at",
    "paused_at",
    "response_remaining",
    "resolution_remaining",
    "overdue_notified_at",
    "escalations",
    "answer",
    "answered_at",
    "answered_by",
    "satisfied",
    "rated_at",
    "closed_at",
    "reopen_count",
    "merged_into",
]


def _save(case: Case, now: datetime) -> None:
    """Write the case only if nobody changed it since it was read (optimistic lock)."""
    if case._state.adding:
        # Filing: the number is made of the new row's id; the filing instant is `now`.
        case.save()
        case.number = f"SQ{now.astimezone(LOCAL_TZ):%Y}{case.pk:06d}"
        Case.objects.filter(pk=case.pk).update(number=case.number, created_at=now)
        case.created_at = now
        return
    values = {name: getattr(case, name) for name in _CASE_FIELDS}
    changed = Case.objects.filter(pk=case.pk, version=case.version).update(
        version=F("version") + 1, updated_at=now, **values
    )
    if changed != 1:
        raise Conflict(_("This case was changed by someone else. Reload and try again."))
    case.version += 1


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "display_name", "") or str(actor)


# Notifications --------------------------------------------------------------------------------

EVENT_TITLES = {
    "filed": gettext_lazy("New appeal %(number)s"),
    "accepted": gettext_lazy("Your appeal %(number)s was accepted"),
    "info_requested": gettext_lazy("Appeal %(number)s: more information is needed"),
    "answered": gettext_lazy("Appeal %(number)s was answered"),
    "escalated": gettext_lazy("Appeal %(number)s was escalated"),
    "overdue": gettext_lazy("Appeal %(number)s is overdue"),
}


def _unit_staff(unit: OrgUnit):
    return [
        g.user
        for g in Grant.objects.filter(unit=unit, user__is_active=True).select_related("user")[:20]
    ]


def _notify(case: Case, event: str, *, body: str = "", handlers: bool = False) -> None:
    title = str(EVENT_TITLES[event]) % {"number": case.number}
    payload = {
        "case_id": case.pk,
        "number": case.number,
        "status": case.status,
        "level": case.level,
    }
    recipients = {}
    driver_user = case.driver.user
    if driver_user is not None and event != "filed":
        recipients[driver_user.pk] = driver_user
    if case.assignee is not None:
        recipients[case.assignee.pk] = case.assignee
    if handlers:
        for person in _unit_staff(case.unit):
            recipients[person.pk] = person
    for person in recipients.values():
        notify_user(
            user=person, event=f"appeal.{event}", title=title, body=body[:500], payload=payload
        )
    if case.platform is not None and event != "filed":
        notify_platform(
            platform=case.platform,
            event=f"appeal.{event}",
            payload={
                **payload,
                "external_ref": case.external_ref,
                "driver_license_masked": case.driver.license_masked,
                "answer": case.answer if event == "answered" else "",
            },
        )


# Steps: reading the case under lock, escalating, the reopen window ----------------------------


def _load(case: Case) -> Case:
    """Re-read the case inside the transaction, locking its row where the database can."""
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("driver", "unit", "assignee", "platform")
        .get(pk=case.pk)
    )


def _step(actor, case: Case, action: str, now: datetime):
    fresh = _load(case)
    _require_action(actor, fresh, action)
    return fresh, _current_assignment(fresh)


def _escalate(case: Case, *, actor, action: str, reason: str, now: datetime) -> Case:
    assignment = _current_assignment(case)
    target = routing.route(
        case.driver, level=case.level + 1, platform=case.platform, current=case.unit
    )
    if target is None:
        raise InvalidTransition(_("The case is already at the top level."), code="top_level")
    overdue = action == Action.AUTO_ESCALATE
    _end_assignment(
        assignment,
        case,
        Assignment.End.AUTO_ESCALATED if overdue else Assignment.End.ESCALATED,
        now,
        overdue=overdue,
    )
    level, unit, assignee = target
    new_assignment = _start_level(case, level, unit, assignee, now)
    case.escalations += 1
    CASE.apply(
        case,
        action,
        actor=actor,
        note=reason,
        now=now,
        audit_summary=f"{case.number} → L{level}",
        audit_reason=reason,
    )
    new_assignment.save()
    _notify(case, "escalated", body=reason, handlers=True)
    return case


def _reopen_open(case: Case, now: datetime) -> bool:
    return case.answered_at is not None and now <= case.answered_at + REOPEN_WINDOW
