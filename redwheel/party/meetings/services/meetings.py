"""Writes for meetings: plan, edit, hold, cancel, record the minutes (with the quorum rule and
the officer's confirmation of the attendance list), attachments."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.errors import Conflict, NotFound, ValidationFailed
from redwheel.core.permissions import get_or_404, require
from redwheel.orgs.models import OrgUnit
from redwheel.party.meetings.models import (
    Attendance,
    LeaveRequest,
    Meeting,
    MeetingFile,
    MeetingType,
    Quorum,
    Session,
    ThemedDay,
)
from redwheel.party.meetings.services import files
from redwheel.party.meetings.services.common import (
    SessionSpec,
    _may_organise,
    _person,
    branch_members,
    check_sessions,
    city_of,
    require_branch,
)
from redwheel.party.meetings.services.types import ensure_types
from redwheel.party.meetings.states import MEETING, MeetingAction
from redwheel.scoring.services import book_in_force, points_grant

logger = logging.getLogger(__name__)

# Community points for attendance confirmed by an officer, if the rule book in force has it.
ATTENDED_RULE = "party_meeting_attended"
POINTS_SKIPPED = frozenset({"not_found", "no_rule_book", "unknown_rule", "points_cap_reached"})


def _check_fields(title: str, place: str, online_link: str) -> tuple[str, str, str]:
    title = (title or "").strip()
    if not title or len(title) > 120:
        raise ValidationFailed(
            _("A title of 1 to 120 characters is required."), code="bad_title",
            details={"title": [_("A title of 1 to 120 characters is required.")]},
        )  # fmt: skip
    place, online_link = (place or "").strip()[:200], (online_link or "").strip()
    if online_link and not online_link.startswith(("https://", "http://")):
        raise ValidationFailed(
            _("The online link must start with https:// or http://."), code="bad_link",
            details={"online_link": [_("The online link must start with https:// or http://.")]},
        )  # fmt: skip
    if not place and not online_link:
        raise ValidationFailed(
            _("Give a place or an online link."), code="no_place",
            details={"place": [_("Give a place or an online link.")]},
        )  # fmt: skip
    return title, place, online_link


def _write_sessions(meeting: Meeting, sessions: list[SessionSpec]) -> None:
    existing = list(meeting.sessions.order_by("starts_at", "id"))
    for n, spec in enumerate(sessions):
        if n < len(existing):
            row = existing[n]
            row.starts_at, row.ends_at, row.label = spec.starts_at, spec.ends_at, spec.label
            row.save()
        else:
            Session.objects.create(
                meeting=meeting, starts_at=spec.starts_at, ends_at=spec.ends_at, label=spec.label
            )
    for row in existing[len(sessions) :]:
        row.delete()


def meeting_create(
    *,
    actor,
    branch: OrgUnit,
    title: str,
    sessions: list[SessionSpec],
    meeting_type: MeetingType | None = None,
    type_code: str = "",
    agenda: str = "",
    place: str = "",
    online_link: str = "",
    theme: ThemedDay | None = None,
) -> Meeting:
    """Plan a meeting of `branch` (its secretary or organiser, or staff above it). The type
    is given as a row or by its code (the city's defaults are created on first use)."""
    require(actor, "change", branch)
    require_branch(branch)
    city = city_of(branch)
    if meeting_type is None:
        meeting_type = next((t for t in ensure_types(city) if t.code == type_code), None)
        if meeting_type is None:
            raise ValidationFailed(
                _("Choose a meeting type."), code="bad_type",
                details={"type_code": [_("Choose a meeting type.")]},
            )  # fmt: skip
    if meeting_type.city_id != city.pk:
        raise NotFound()
    if theme is not None and theme.city_id != city.pk:
        raise NotFound()
    title, place, online_link = _check_fields(title, place, online_link)
    sessions = check_sessions(sessions)
    with transaction.atomic():
        if theme is not None and Meeting.objects.filter(branch=branch, theme=theme).exists():
            raise Conflict(
                _("This branch has already adopted this themed party day."), code="adopted"
            )
        meeting = Meeting(
            branch=branch,
            type=meeting_type,
            theme=theme,
            title=title,
            agenda=agenda or "",
            place=place,
            online_link=online_link,
            organiser=_person(actor),
            starts_at=sessions[0].starts_at,
            ends_at=max(s.ends_at for s in sessions),
        )
        MEETING.apply(meeting, MeetingAction.PLAN, actor=actor)
        _write_sessions(meeting, sessions)
    return meeting


def _locked(actor, meeting: Meeting, *, organiser: bool = True) -> Meeting:
    found = get_or_404(actor, "view", Meeting.objects.all(), pk=getattr(meeting, "pk", None))
    if organiser and not _may_organise(actor, found):
        raise NotFound()
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("type", "branch")
        .get(pk=found.pk)
    )


def meeting_update(
    *,
    actor,
    meeting: Meeting,
    title: str,
    sessions: list[SessionSpec],
    agenda: str = "",
    place: str = "",
    online_link: str = "",
) -> Meeting:
    """Edit a planned (or held, not yet recorded) meeting and its sessions."""
    if not _may_organise(actor, meeting):
        raise NotFound()
    title, place, online_link = _check_fields(title, place, online_link)
    sessions = check_sessions(sessions)
    with transaction.atomic():
        meeting = _locked(actor, meeting)
        MEETING.apply(
            meeting,
            MeetingAction.EDIT,
            actor=actor,
            changes={
                "title": title,
                "agenda": agenda or "",
                "place": place,
                "online_link": online_link,
                "starts_at": sessions[0].starts_at,
                "ends_at": max(s.ends_at for s in sessions),
            },
        )
        _write_sessions(meeting, sessions)
    return meeting


def meeting_hold(*, actor, meeting: Meeting, note: str = "") -> Meeting:
    if not _may_organise(actor, meeting):
        raise NotFound()
    with transaction.atomic():
        meeting = _locked(actor, meeting)
        MEETING.apply(meeting, MeetingAction.HOLD, actor=actor, note=note)
    return meeting


def meeting_cancel(*, actor, meeting: Meeting, reason: str) -> Meeting:
    if not _may_organise(actor, meeting):
        raise NotFound()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Say why the meeting is cancelled."), code="no_reason",
            details={"text": [_("Say why the meeting is cancelled.")]},
        )  # fmt: skip
    with transaction.atomic():
        meeting = _locked(actor, meeting)
        MEETING.apply(
            meeting,
            MeetingAction.CANCEL,
            actor=actor,
            note=reason,
            changes={"cancel_reason": reason[:300]},
        )
    return meeting


def quorum_needed(expected: int) -> int:
    """More than half: the smallest number of members present that is a quorum."""
    return expected // 2 + 1


def meeting_record(
    *, actor, meeting: Meeting, minutes: str, now: datetime | None = None
) -> Meeting:
    """Record the minutes. The organiser thereby CONFIRMS the attendance list: members not
    marked are recorded absent (or on leave, if their leave was approved), the present are
    confirmed, and — only if the points rule book in force has the rule `party_meeting_attended`
    — each confirmed attendance earns its points once. A 支部党员大会 without more than half of
    the members present is recorded as not quorate and does not count as held validly."""
    if not _may_organise(actor, meeting):
        raise NotFound()
    minutes = (minutes or "").strip()
    if not minutes:
        raise ValidationFailed(
            _("Write the minutes before recording the meeting."), code="no_minutes",
            details={"minutes": [_("Write the minutes before recording the meeting.")]},
        )  # fmt: skip
    now = now or timezone.now()
    with transaction.atomic():
        meeting = _locked(actor, meeting)
        if MEETING.state_of(meeting) in MEETING.transitions[MeetingAction.HOLD].sources:
            MEETING.apply(meeting, MeetingAction.HOLD, actor=actor, now=now)
        MEETING.check(meeting, MeetingAction.RECORD)
        rows = _complete_attendance(meeting, actor, now)
        present = [row for row in rows if row.state == Attendance.State.PRESENT]
        expected = len(rows)
        quorate = None
        if meeting.type.quorum == Quorum.MAJORITY:
            quorate = expected > 0 and len(present) >= quorum_needed(expected)
        Attendance.objects.filter(pk__in=[r.pk for r in present]).update(
            confirmed_at=now, confirmed_by=_person(actor), updated_at=now
        )
        MEETING.apply(
            meeting,
            MeetingAction.RECORD,
            actor=actor,
            now=now,
            changes={
                "minutes": minutes,
                "recorded_at": now,
                "expected_count": expected,
                "present_count": len(present),
                "quorate": quorate,
            },
            audit_data={"expected": expected, "present": len(present), "quorate": quorate},
        )
        _grant_points(actor, meeting, present, occurred_at=min(meeting.ends_at, now))
    return meeting


def _complete_attendance(meeting: Meeting, actor, now: datetime) -> list[Attendance]:
    """One row for every member: those not marked become absent, or on leave when approved."""
    marked = set(meeting.attendances.values_list("driver_id", flat=True))
    approved = set(
        meeting.leave_requests.filter(state=LeaveRequest.State.APPROVED).values_list(
            "driver_id", flat=True
        )
    )
    Attendance.objects.bulk_create(
        [
            Attendance(
                meeting=meeting,
                driver=driver,
                state=Attendance.State.LEAVE if driver.pk in approved else Attendance.State.ABSENT,
                method=Attendance.Method.RECORD,
                marked_by=_person(actor),
            )
            for driver in branch_members(meeting.branch)
            if driver.pk not in marked
        ]
    )
    return list(meeting.attendances.select_related("driver"))


def _grant_points(actor, meeting: Meeting, present: list[Attendance], occurred_at) -> None:
    """Points for confirmed attendance, only where the rule book in force has the rule."""
    book = book_in_force(occurred_at)
    if book is None or not book.rules.filter(code=ATTENDED_RULE).exists():
        return
    for row in present:
        try:
            points_grant(
                actor=actor,
                driver=row.driver,
                rule_code=ATTENDED_RULE,
                occurred_at=occurred_at,
                source=row,
                note=meeting.title[:120],
            )
        except (NotFound, ValidationFailed, Conflict) as exc:
            if exc.code not in POINTS_SKIPPED:
                raise
            logger.info("attendance %s: no points (%s)", row.pk, exc.code)


def meeting_file_add(*, actor, meeting: Meeting, uploads: list) -> list[MeetingFile]:
    """Attach files to a meeting (minutes scans, photos, documents). Every file is checked
    first; a refused or failed upload writes no row and leaves no file."""
    if not _may_organise(actor, meeting):
        raise NotFound()
    checked = files.check_all(uploads)
    if not checked:
        raise ValidationFailed(_("Choose a file to attach."), code="no_file")
    now = timezone.now()
    saved = files.store(MeetingFile, checked, "meetings", now)
    try:
        with transaction.atomic():
            meeting = _locked(actor, meeting)
            if meeting.status == "cancelled":
                raise Conflict(_("A cancelled meeting takes no attachments."), code="cancelled")
            rows = MeetingFile.objects.bulk_create(
                [
                    MeetingFile(
                        meeting=meeting,
                        file=name,
                        original_name=upload.name[:200],
                        content_type=content_type,
                        size=upload.size,
                        uploaded_by=_person(actor),
                    )
                    for name, upload, content_type in saved
                ]
            )
            audit.record(
                actor=actor,
                action="meeting.attach",
                obj=meeting,
                summary=f"{meeting.title}: {len(rows)}",
            )
    except BaseException:
        files.remove(MeetingFile, [name for name, *_rest in saved])
        raise
    return rows
