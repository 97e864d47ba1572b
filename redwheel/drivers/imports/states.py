"""The roster import job's state machine: upload, check, preview, commit (or fail).

Checking and committing run in a task for the system (actor None) or the committer."""

from django.utils.translation import gettext_lazy

from redwheel.core.states import StateMachine, Transition
from redwheel.drivers.models import ImportJob, ImportJobActivity

Status = ImportJob.Status
J = ImportJobActivity.Action

JOB = StateMachine(
    activity_model=ImportJobActivity,
    parent_field="job",
    audit_prefix="import",
    state_field="status",
    from_field="from_status",
    to_field="to_status",
    # Progress is written by the running step meanwhile; each step writes only its changes.
    save_changes_only=True,
    # Failure notes quote the file and the error; the job (scoped like its roster) keeps them.
    note_in_audit=False,
    # The audit log has the upload and each commit that wrote rows; the steps between are in
    # the job's activity rows only.
    transitions={
        J.UPLOAD: Transition({None}, Status.UPLOADED),
        # A check that was interrupted (a worker restart) starts again.
        J.VALIDATE: Transition(
            {Status.UPLOADED, Status.VALIDATING}, Status.VALIDATING, audit=False
        ),
        J.PREVIEW: Transition({Status.VALIDATING}, Status.PREVIEWED, audit=False),
        J.REQUEST_COMMIT: Transition(
            {Status.PREVIEWED},
            Status.COMMITTING,
            guard=lambda job: job.can_commit,
            refusal=gettext_lazy("Only a checked file without any problem can be imported."),
            code="not_clean",
            audit=False,
        ),
        J.COMMIT: Transition({Status.COMMITTING}, Status.COMMITTED),
        J.FAIL: Transition({Status.VALIDATING, Status.COMMITTING}, Status.FAILED, audit=False),
    },
)
