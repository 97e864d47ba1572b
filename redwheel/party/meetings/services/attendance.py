"""Attendance and leave: the organiser marks attendance, members sign themselves in with the
rotating QR code, and ask for leave, which the organiser approves or declines.

A self sign-in is a record of presence only. Nothing counts it; the attendance list counts
(for community points, where the rule book has a rule) only once an officer confirms it by
recording the meeting (`meeting_record`).
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.dates import LOCAL_TZ
from redwheel.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from redwheel.core.notifications import notify_user
from redwheel.core.permissions import get_or_404
from redwheel.drivers.models import Driver
from redwheel.party.meetings import signin
from redwheel.party.meetings.models import Attendance, LeaveRequest, Meeting, Session
from redwheel.party.meetings.services.common import (
    _may_organise,
    _own_driver,
    _person,
    is_member,
)
from redwheel.party.meetings.states import LEAVE, OPEN, LeaveAction

State = Attendance.State
Method = Attendance.Method


def _closed() -> InvalidTransition:
    return InvalidTransition(
        _("The attendance of this meeting can no longer change: it was recorded or cancelled."),
        code="meeting_closed",
    )


def _lock_meeting(meeting_id: int) -> Meeting:
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("branch", "type")
        .get(pk=meeting_id)
    )


def attendance_mark(*, actor, meeting: Meeting, driver: Driver, state: str) -> Attendance:
    """The organiser marks one member present, absent or on leave (the officer's word wins
    over a self sign-in)."""
    found = get_or_404(actor, "view", Meeting.objects.all(), pk=getattr(meeting, "pk", None))
    if not _may_organise(actor, found):
        raise NotFound()
    if state not in State.values:
        raise ValidationFailed(_("Unknown attendance state."), code="bad_state")
    with transaction.atomic():
        meeting = _lock_meeting(found.pk)
        if meeting.status not in OPEN:
            raise _closed()
        row = Attendance.objects.filter(meeting=meeting, driver_id=driver.pk).first()
        if row is None and not is_member(driver, meeting.branch):
            raise NotFound()
        if row is None:
            row = Attendance(meeting=meeting, driver=driver)
        before = row.state
        row.state, row.method, row.marked_by = state, Method.OFFICER, _person(actor)
        row.save()
        audit.record(
            actor=actor,
            action="meeting.attendance_mark",
            obj=meeting,
            summary=f"{meeting.title}: {driver.pk} {before or '-'} → {state}",
        )
    return row


def check_code(*, user, meeting_id: int, code: str, now: datetime | None = None):
    """(driver, session) for a sign-in code the user may use now, or the refusal (the
    sign-in page runs it on opening, before the member taps the button; it writes nothing)."""
    driver = _own_driver(user)
    now = now or timezone.now()
    scanned = signin.read(code)
    if scanned.meeting_id != meeting_id:
        raise signin.CodeRefused(
            _("This code belongs to another meeting. Scan the code of the meeting you attend."),
            code="wrong_meeting",
        )
    session = (
        Session.objects.select_related("meeting", "meeting__branch")
        .filter(pk=scanned.session_id, meeting_id=meeting_id)
        .first()
    )
    if session is None:  # the meeting or the session was removed since
        raise NotFound()
    if not is_member(driver, session.meeting.branch):
        raise PermissionDenied(
            _("Only members of %(branch)s can sign in to this meeting.")
            % {"branch": session.meeting.branch.name},
            code="not_a_member",
        )
    if not signin.is_open(session, now):
        opens, closes = signin.window(session)
        raise signin.CodeRefused(
            _("Sign-in for this session is open from %(opens)s to %(closes)s only.")
            % {
                "opens": timezone.localtime(opens, LOCAL_TZ).strftime("%Y-%m-%d %H:%M"),
                "closes": timezone.localtime(closes, LOCAL_TZ).strftime("%H:%M"),
            },
            code="outside_session",
        )
    if session.meeting.status not in OPEN:
        raise _closed()
    return driver, session


def attendance_sign_in(
    *, actor, meeting_id: int, code: str, now: datetime | None = None
) -> tuple[Attendance, bool]:
    """A member signs themself in with the code the organiser shows. Returns (attendance,
    changed); a second scan changes nothing. Refused with a clear error: an expired code
    (a photo taken earlier), a code of another meeting, outside the session's window, a
    member of another branch, a closed meeting."""
    driver, session = check_code(user=actor, meeting_id=meeting_id, code=code, now=now)
    now = now or timezone.now()
    with transaction.atomic():
        meeting = _lock_meeting(meeting_id)
        if meeting.status not in OPEN:
            raise _closed()
        row = Attendance.objects.filter(meeting=meeting, driver=driver).first()
        if row is not None and row.state == State.PRESENT:
            return row, False
        if row is None:
            row = Attendance(meeting=meeting, driver=driver)
        row.state, row.method = State.PRESENT, Method.QR
        row.session, row.signed_in_at = session, now
        row.save()
        audit.record(
            actor=actor,
            action="meeting.sign_in",
            obj=meeting,
            summary=f"{meeting.title}: {driver.pk}",
            data={"session": session.pk},
        )
    return row, True


# Leave -----------------------------------------------------------------------------------------


def leave_request(*, actor, meeting: Meeting, reason: str) -> LeaveRequest:
    """A member asks the organiser for leave from a meeting, with a reason."""
    driver = _own_driver(actor)
    meeting = get_or_404(
        actor, "view", Meeting.objects.select_related("branch"), pk=getattr(meeting, "pk", None)
    )
    if not is_member(driver, meeting.branch):
        raise NotFound()
    reason = (reason or "").strip()
    if not reason or len(reason) > 300:
        raise ValidationFailed(
            _("Give a reason of at most 300 characters."), code="bad_reason",
            details={"reason": [_("Give a reason of at most 300 characters.")]},
        )  # fmt: skip
    with transaction.atomic():
        meeting = _lock_meeting(meeting.pk)
        if meeting.status not in OPEN or meeting.ends_at <= timezone.now():
            raise InvalidTransition(
                _("Leave can be asked for only before the meeting is over."), code="too_late"
            )
        leave = LeaveRequest.objects.filter(meeting=meeting, driver=driver).first()
        if leave is not None and leave.state != LeaveRequest.State.WITHDRAWN:
            raise Conflict(
                _("You have already asked for leave from this meeting."), code="leave_exists"
            )
        leave = leave or LeaveRequest(meeting=meeting, driver=driver)
        try:
            with transaction.atomic():
                LEAVE.apply(leave, LeaveAction.REQUEST, actor=actor, changes={"reason": reason})
        except IntegrityError as exc:  # a second tab asked at the same moment
            raise Conflict(
                _("You have already asked for leave from this meeting."), code="leave_exists"
            ) from exc
        if meeting.organiser is not None:
            notify_user(
                user=meeting.organiser,
                event="meeting.leave_requested",
                title=_("Leave requested: %(title)s") % {"title": meeting.title},
                body=driver.name,
                payload={"meeting_id": meeting.pk, "leave_id": leave.pk},
            )
    return leave


def leave_decide(*, actor, leave: LeaveRequest, approve: bool, note: str = "") -> LeaveRequest:
    """The organiser approves or declines a leave request; the member is told."""
    leave = get_or_404(
        actor, "view", LeaveRequest.objects.select_related("meeting"), pk=getattr(leave, "pk", None)
    )
    if not _may_organise(actor, leave.meeting):
        raise NotFound()
    note = (note or "").strip()[:300]
    now = timezone.now()
    with transaction.atomic():
        meeting = _lock_meeting(leave.meeting_id)
        if meeting.status not in OPEN:
            raise _closed()
        leave = LeaveRequest.objects.select_for_update().select_related("driver").get(pk=leave.pk)
        action = LeaveAction.APPROVE if approve else LeaveAction.DECLINE
        LEAVE.apply(
            leave,
            action,
            actor=actor,
            note=note,
            changes={"decided_by": _person(actor), "decided_at": now, "decision_note": note},
        )
        if approve:
            row = Attendance.objects.filter(meeting=meeting, driver=leave.driver).first()
            if row is None:
                Attendance.objects.create(
                    meeting=meeting,
                    driver=leave.driver,
                    state=State.LEAVE,
                    method=Method.LEAVE,
                    marked_by=_person(actor),
                )
            elif row.state == State.ABSENT:
                row.state, row.method = State.LEAVE, Method.LEAVE
                row.save()
        user = leave.driver.user
        if user is not None:
            notify_user(
                user=user,
                event="meeting.leave_decided",
                title=(
                    _("Your leave from %(title)s was approved")
                    if approve
                    else _("Your leave from %(title)s was declined")
                )
                % {"title": meeting.title},
                body=note,
                payload={"meeting_id": meeting.pk, "leave_id": leave.pk, "state": leave.state},
            )
    return leave


def leave_withdraw(*, actor, leave: LeaveRequest) -> LeaveRequest:
    """The member takes back their request (before the meeting is recorded)."""
    driver = _own_driver(actor)
    leave = get_or_404(actor, "view", LeaveRequest.objects.all(), pk=getattr(leave, "pk", None))
    if leave.driver_id != driver.pk:
        raise NotFound()
    with transaction.atomic():
        meeting = _lock_meeting(leave.meeting_id)
        if meeting.status not in OPEN:
            raise _closed()
        leave = LeaveRequest.objects.select_for_update().get(pk=leave.pk)
        LEAVE.apply(leave, LeaveAction.WITHDRAW, actor=actor)
        Attendance.objects.filter(
            meeting=meeting, driver=driver, state=State.LEAVE, method=Method.LEAVE
        ).delete()
    return leave
