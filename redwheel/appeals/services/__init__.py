"""Writes for appeal cases. Every step goes through the `CASE` state machine, writes one immutable
Activity row and one audit entry, and keeps the stored deadlines of the current level.

Services take `now=` so that the escalation job, the demo and tests can work at a given
instant; pages and the API leave it out.

Split by topic (`common` holds the state machine and what every step shares; `roles`,
`attachments`, `filing`, `transitions`, `escalation`); import from this package.
"""

from redwheel.appeals.services.attachments import (
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    StorageFailed,
    check_upload,
)
from redwheel.appeals.services.common import (
    CASE,
    DRIVER_ACTIONS,
    EVENT_TITLES,
    HANDLER_ACTIONS,
    REOPEN_WINDOW,
    RUNNING,
    Action,
    policy_for,
)
from redwheel.appeals.services.escalation import JOB_ACTOR, deadline_policy_save, escalate_due
from redwheel.appeals.services.filing import case_file
from redwheel.appeals.services.roles import CaseRoles, allowed_actions, case_roles, may_take
from redwheel.appeals.services.transitions import (
    case_accept,
    case_answer,
    case_close,
    case_escalate,
    case_merge,
    case_provide_info,
    case_rate,
    case_reopen,
    case_request_info,
    case_withdraw,
    mediation_update,
)

__all__ = [
    "CASE",
    "DRIVER_ACTIONS",
    "EVENT_TITLES",
    "HANDLER_ACTIONS",
    "JOB_ACTOR",
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENT_BYTES",
    "REOPEN_WINDOW",
    "RUNNING",
    "Action",
    "CaseRoles",
    "StorageFailed",
    "allowed_actions",
    "case_accept",
    "case_answer",
    "case_close",
    "case_escalate",
    "case_file",
    "case_merge",
    "case_provide_info",
    "case_rate",
    "case_reopen",
    "case_request_info",
    "case_roles",
    "case_withdraw",
    "check_upload",
    "deadline_policy_save",
    "escalate_due",
    "may_take",
    "mediation_update",
    "policy_for",
]
