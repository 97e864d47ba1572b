"""The state machines of meetings and leave requests (core.states)."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from redwheel.core.states import StateMachine, Transition
from redwheel.party.meetings.models import LeaveActivity, LeaveRequest, MeetingActivity, Status

MeetingAction = MeetingActivity.Action
LeaveAction = LeaveActivity.Action
LeaveState = LeaveRequest.State

# planned → held → minutes recorded; a planned (or held, not yet recorded) meeting may be
# cancelled. Editing keeps the state.
MEETING = StateMachine(
    activity_model=MeetingActivity,
    parent_field="meeting",
    audit_prefix="meeting",
    state_field="status",
    from_field="from_status",
    to_field="to_status",
    audit_summary=lambda meeting: meeting.title,
    transitions={
        MeetingAction.PLAN: Transition({None}, Status.PLANNED),
        MeetingAction.EDIT: Transition({Status.PLANNED, Status.HELD}, None),
        MeetingAction.HOLD: Transition(
            {Status.PLANNED},
            Status.HELD,
            guard=lambda meeting: meeting.starts_at <= timezone.now(),
            refusal=_("A meeting can be marked as held once its first session has begun."),
            code="not_started",
        ),
        MeetingAction.RECORD: Transition({Status.HELD}, Status.RECORDED),
        MeetingAction.CANCEL: Transition({Status.PLANNED}, Status.CANCELLED),
    },
)

# Open states: a meeting whose attendance may still change.
OPEN = (Status.PLANNED, Status.HELD)

LEAVE = StateMachine(
    activity_model=LeaveActivity,
    parent_field="leave",
    audit_prefix="meeting_leave",
    state_field="state",
    from_field="from_status",
    to_field="to_status",
    # The member's reason may be personal (illness, family); the audit log keeps the step.
    note_in_audit=False,
    audit_summary=lambda leave: f"{leave.meeting_id}:{leave.driver_id}",
    transitions={
        LeaveAction.REQUEST: Transition({None, LeaveState.WITHDRAWN}, LeaveState.REQUESTED),
        LeaveAction.APPROVE: Transition({LeaveState.REQUESTED}, LeaveState.APPROVED),
        LeaveAction.DECLINE: Transition({LeaveState.REQUESTED}, LeaveState.DECLINED),
        LeaveAction.WITHDRAW: Transition(
            {LeaveState.REQUESTED, LeaveState.APPROVED}, LeaveState.WITHDRAWN
        ),
    },
)
