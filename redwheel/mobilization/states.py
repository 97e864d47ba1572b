"""The state machines of mobilization, as kernel tables (`redwheel.core.states`).

Each move of a mobilization, a driver's answer, a passenger's queue entry, an opportunity or a
sign-up goes through `MACHINE.apply(...)`, which saves the state, writes the activity row and
the audit entry in one transaction. A None source is an object not saved yet; a None target
keeps the state (a call round leaves the mobilization open).
"""

from redwheel.core.states import StateMachine, Transition
from redwheel.mobilization.models import (
    Mobilization,
    MobilizationActivity,
    Opportunity,
    OpportunityActivity,
    QueueEntry,
    QueueEntryActivity,
    ResponseEvent,
    ResponseStatus,
    SignUp,
    SignUpActivity,
)

MStatus = Mobilization.Status
MAction = MobilizationActivity.Action
R = ResponseStatus
S = SignUp.Status
Q = QueueEntry.Status


def _status_machine(**kwargs) -> StateMachine:
    return StateMachine(
        state_field="status", from_field="from_status", to_field="to_status", **kwargs
    )


MOBILIZATION = _status_machine(
    activity_model=MobilizationActivity,
    parent_field="mobilization",
    audit_prefix="mobilization",
    audit_summary=lambda m: f"{m.hub.name} · {m.title}",
    # The opening reason and the closing note are on the mobilization and its timeline.
    note_in_audit=False,
    transitions={
        MAction.OPEN: Transition({None}, MStatus.OPEN),
        MAction.CALL: Transition({MStatus.OPEN}, None),
        MAction.CLOSE: Transition({MStatus.OPEN}, MStatus.CLOSED),
        MAction.CANCEL: Transition({MStatus.OPEN}, MStatus.CANCELLED),
    },
)

# A driver's answer moves forward only; the action is the answer given. Repeating the current
# answer, or an older one (a retried or late tap), is not a transition: the service treats it
# as a no-op. "Can't come" may be revised if plans change.
RESPONSE = _status_machine(
    activity_model=ResponseEvent,
    parent_field="response",
    audit_prefix="mobilization.response",
    audit_summary=lambda r: r.mobilization.title,
    transitions={
        R.RECEIVED: Transition({None, R.CANT_COME}, R.RECEIVED),
        R.ON_MY_WAY: Transition({None, R.RECEIVED, R.CANT_COME}, R.ON_MY_WAY),
        R.ARRIVED: Transition({None, R.RECEIVED, R.ON_MY_WAY, R.CANT_COME}, R.ARRIVED),
        R.CANT_COME: Transition({None, R.RECEIVED, R.ON_MY_WAY}, R.CANT_COME),
    },
)

QUEUE_ENTRY = _status_machine(
    activity_model=QueueEntryActivity,
    parent_field="entry",
    audit_prefix="mobilization.queue",
    audit_summary=lambda e: e.mobilization.title,
    transitions={
        QueueEntryActivity.Action.JOIN: Transition({None}, Q.WAITING),
        QueueEntryActivity.Action.SERVE: Transition({Q.WAITING}, Q.SERVED),
        QueueEntryActivity.Action.LEAVE: Transition({Q.WAITING}, Q.LEFT),
    },
)

OPPORTUNITY = _status_machine(
    activity_model=OpportunityActivity,
    parent_field="opportunity",
    audit_prefix="volunteer.opportunity",
    audit_summary=lambda o: o.title,
    transitions={
        OpportunityActivity.Action.PUBLISH: Transition({None}, Opportunity.Status.OPEN),
        OpportunityActivity.Action.CLOSE: Transition(
            {Opportunity.Status.OPEN}, Opportunity.Status.CLOSED
        ),
    },
)

SIGNUP = _status_machine(
    activity_model=SignUpActivity,
    parent_field="signup",
    audit_prefix="volunteer",
    audit_summary=lambda s: s.opportunity.title,
    transitions={
        SignUpActivity.Action.SIGN_UP: Transition({None, S.CANCELLED}, S.SIGNED_UP),
        SignUpActivity.Action.CANCEL: Transition({S.SIGNED_UP}, S.CANCELLED),
        SignUpActivity.Action.CHECK_IN: Transition({S.SIGNED_UP}, S.CHECKED_IN),
        SignUpActivity.Action.CHECK_OUT: Transition({S.CHECKED_IN}, S.CHECKED_OUT),
        SignUpActivity.Action.CONFIRM: Transition({S.CHECKED_OUT}, S.CONFIRMED),
    },
)
ACTIVE_SIGNUP = (S.SIGNED_UP, S.CHECKED_IN, S.CHECKED_OUT, S.CONFIRMED)
