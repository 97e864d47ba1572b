"""The deadline rule book and the periodic job that escalates overdue cases."""

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from redwheel.appeals import routing
from redwheel.appeals.models import Case, DeadlinePolicy, Status
from redwheel.appeals.services.common import (
    CASE,
    REOPEN_WINDOW,
    RUNNING,
    Action,
    _escalate,
    _notify,
    _now,
)
from redwheel.appeals.services.transitions import case_close
from redwheel.core import audit
from redwheel.core.errors import Conflict, InvalidTransition, NotFound
from redwheel.core.permissions import SystemActor, is_unscoped


def deadline_policy_save(*, actor, policy: DeadlinePolicy) -> DeadlinePolicy:
    """Admin path: save an override; it applies to levels entered from now on.

    The policies are one rule book for the deployment (registered as internal): only
    operators and superusers keep it, so no city's staff changes another city's deadlines.
    """
    if not is_unscoped(actor):
        raise NotFound()
    with transaction.atomic():
        policy.save()
        audit.record(
            actor=actor,
            action="appeal.policy_save",
            obj=policy,
            summary=str(policy),
            data={
                "basis": policy.basis,
                "response": policy.response_minutes,
                "resolution": policy.resolution_minutes,
            },
        )
    return policy


# The periodic job -----------------------------------------------------------------------------

# The escalation job walks every city's due cases: an operator, the one unscoped kind of actor.
JOB_ACTOR = SystemActor.operator("appeals-escalation")


def _escalate_due_one(pk: int, now: datetime) -> str:
    """Escalate (or flag as overdue at the top) one due case; '' if another run took it."""
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=pk, status__in=RUNNING, escalate_at__lte=now)
            .first()
        )
        if case is None:
            return ""
        # The conditional update is the guard where row locks do not exist (SQLite).
        claimed = Case.objects.filter(pk=pk, version=case.version).update(version=F("version") + 1)
        if claimed != 1:
            return ""
        case.version += 1
        case = Case.objects.select_related("driver", "unit", "assignee", "platform").get(pk=pk)
        level_name = case.get_level_display()
        reason = _("No answer from %(unit)s (%(level)s) by the deadline.") % {
            "unit": case.unit.name,
            "level": level_name,
        }
        if (
            routing.route(
                case.driver, level=case.level + 1, platform=case.platform, current=case.unit
            )
            is not None
        ):
            _escalate(case, actor=JOB_ACTOR, action=Action.AUTO_ESCALATE, reason=reason, now=now)
            return "escalated"
        case.overdue_notified_at, case.escalate_at = now, None
        CASE.apply(case, Action.OVERDUE, actor=JOB_ACTOR, note=reason, now=now)
        _notify(case, "overdue", body=reason, handlers=True)
        return "overdue"


def escalate_due(*, now: datetime | None = None, limit: int = 500) -> dict:
    """The periodic job: escalate every running case whose deadline has passed, flag overdue
    cases at the top level, and close answered cases whose reopen window has passed.

    Safe to run twice or concurrently: each case is claimed under a skip-locked row lock and
    a conditional update on its version, so each due case moves exactly once.
    """
    now = _now(now)
    counts = {"escalated": 0, "overdue": 0, "closed": 0}
    due = list(
        Case.objects.filter(status__in=RUNNING, escalate_at__lte=now)
        .order_by("escalate_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        outcome = _escalate_due_one(pk, now)
        if outcome:
            counts[outcome] += 1
    stale = list(
        Case.objects.filter(
            status=Status.ANSWERED, answered_at__lte=now - REOPEN_WINDOW
        ).values_list("pk", flat=True)[:limit]
    )
    for pk in stale:
        try:
            case_close(
                actor=JOB_ACTOR,
                case=Case(pk=pk),
                note=_("Closed after the reopen window."),
                now=now,
            )
            counts["closed"] += 1
        except (InvalidTransition, Conflict, Case.DoesNotExist):
            continue
    return counts
