"""What the viewer is to a case and which steps are open to them (pages and the API ask
before they read any input).
"""

from dataclasses import dataclass
from datetime import datetime

from redwheel.appeals import routing
from redwheel.appeals.models import Case
from redwheel.appeals.services.common import (
    CASE,
    DRIVER_ACTIONS,
    HANDLER_ACTIONS,
    Action,
    _can_handle,
    _is_own,
    _may,
    _now,
    _reopen_open,
)
from redwheel.core.permissions import require


def may_take(actor, case: Case, action: str) -> bool:
    """Whether the actor has a part in `action` on a case (whatever the case's status now):
    pages ask this before they read any input. NotFound for a case out of the actor's scope."""
    require(actor, "view", case)
    return action in Action.values and _may(actor, case, action)


@dataclass(frozen=True)
class CaseRoles:
    """What the viewer is to a case they can see, and the steps open to them now."""

    handler: bool
    own: bool
    allowed: list[str]


def case_roles(actor, case: Case, *, now: datetime | None = None) -> CaseRoles:
    """NotFound for a case out of the actor's scope."""
    require(actor, "view", case)
    now = _now(now)
    handler, own = _can_handle(actor, case), _is_own(actor, case)
    allowed = []
    for action, transition in CASE.transitions.items():
        if action == Action.AUTO_ESCALATE or case.status not in transition.sources:
            continue
        if (handler and action in HANDLER_ACTIONS) or (own and action in DRIVER_ACTIONS):
            if action == Action.REOPEN and not _reopen_open(case, now):
                continue
            if action == Action.ESCALATE and case.level >= routing.TOP_LEVEL:
                continue
            allowed.append(str(action))
    return CaseRoles(handler=handler, own=own, allowed=allowed)


def allowed_actions(actor, case: Case) -> list[str]:
    """The steps the actor may take on the case now; NotFound for a case out of scope."""
    return case_roles(actor, case).allowed
