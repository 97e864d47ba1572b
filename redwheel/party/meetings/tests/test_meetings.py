"""Meetings: sessions sharing one attendance record, the leave flow, the quorum rule of the
支部党员大会, points only with a rule and only on the officer's confirmation, attachments."""

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from redwheel import testing
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.core.notifications import Notification
from redwheel.party.meetings import services, signin
from redwheel.party.meetings.models import Attendance, LeaveRequest, MeetingFile, MeetingType
from redwheel.party.meetings.tests.helpers import at, members, plan, secretary
from redwheel.scoring import defaults
from redwheel.scoring import services as scoring
from redwheel.scoring.models import Category, PointsEntry

pytestmark = pytest.mark.django_db

START = at(2026, 5, 13, 12)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_types_are_seeded_from_the_rules_and_editable_by_the_committee(city):
    committee = testing.staff(city.root)
    types = {t.code: t for t in services.meeting_types_seed(actor=committee, city=city.root)}
    assert types["branch_assembly"].frequency == "quarterly"
    assert types["branch_assembly"].quorum == "majority"
    assert types["branch_committee"].frequency == types["group_meeting"].frequency == "monthly"
    assert types["party_lecture"].frequency == "half_yearly"
    assert types["themed_day"].frequency == "monthly"
    assert {types[c].frequency for c in ("life_meeting", "evaluation", "heart_talk")} == {"yearly"}
    updated = services.meeting_type_update(
        actor=committee, meeting_type=types["party_lecture"], name="党课", frequency="quarterly",
        is_active=True,
    )  # fmt: skip
    assert MeetingType.objects.get(pk=updated.pk).frequency == "quarterly"
    # A branch secretary may not change the city's frequencies.
    with pytest.raises(NotFound):
        services.meeting_type_update(
            actor=secretary(city), meeting_type=types["party_lecture"], name="党课",
            frequency="monthly", is_active=True,
        )  # fmt: skip


def test_sessions_share_one_attendance_record(city):
    boss = secretary(city)
    member = city.member()
    meeting = plan(boss, city.branch_a, START, second=7)
    noon, evening = meeting.sessions.all()
    with time_machine.travel(noon.starts_at, tick=False):
        services.attendance_sign_in(
            actor=member.user, meeting_id=meeting.pk, code=signin.issue(noon)
        )
    with time_machine.travel(evening.starts_at, tick=False):
        _row, changed = services.attendance_sign_in(
            actor=member.user, meeting_id=meeting.pk, code=signin.issue(evening)
        )
    assert changed is False
    rows = Attendance.objects.filter(meeting=meeting, driver=member)
    assert rows.count() == 1 and rows.get().session == noon
    assert (meeting.starts_at, meeting.ends_at) == (noon.starts_at, evening.ends_at)


def test_a_meeting_needs_a_session_that_ends_after_it_starts(city):
    boss = secretary(city)
    with pytest.raises(ValidationFailed):
        plan(boss, city.branch_a, START, hours=0)
    with pytest.raises(ValidationFailed):
        services.meeting_create(
            actor=boss, branch=city.branch_a, type_code="branch_committee", title="x",
            sessions=[], place="p",
        )  # fmt: skip
    with pytest.raises(ValidationFailed):
        plan(boss, city.branch_a, START, place="")  # neither a place nor a link


def test_only_the_branch_officers_plan_and_mark(city):
    member = city.member()
    other = testing.staff(city.branch_b, "secretary")
    viewer = testing.staff(city.branch_a, "viewer")
    for actor in (other, viewer, member.user):
        with pytest.raises(NotFound):
            plan(actor, city.branch_a, START)
    meeting = plan(secretary(city), city.branch_a, START)
    for actor in (other, viewer, member.user):
        with pytest.raises(NotFound):
            services.attendance_mark(actor=actor, meeting=meeting, driver=member, state="present")
    assert not Attendance.objects.exists()


def test_leave_request_flow(city):
    boss = secretary(city)
    member = city.member()
    with time_machine.travel(START - timedelta(days=2), tick=False):
        meeting = plan(boss, city.branch_a, START)
        leave = services.leave_request(actor=member.user, meeting=meeting, reason="跑长途单")
        assert leave.state == "requested"
        assert Notification.objects.filter(recipient=boss, event="meeting.leave_requested")
        with pytest.raises(Conflict):
            services.leave_request(actor=member.user, meeting=meeting, reason="再问一次")
        # Only the organiser decides; the member cannot approve their own leave.
        with pytest.raises(NotFound):
            services.leave_decide(actor=member.user, leave=leave, approve=True)
        leave = services.leave_decide(actor=boss, leave=leave, approve=True, note="注意安全")
        assert (leave.state, leave.decided_by, leave.decision_note) == (
            "approved",
            boss,
            "注意安全",
        )
        assert Attendance.objects.get(meeting=meeting, driver=member).state == "leave"
        assert Notification.objects.filter(recipient=member.user, event="meeting.leave_decided")
        assert [a.action for a in leave.activities.all()] == ["request", "approve"]
        with pytest.raises(InvalidTransition):
            services.leave_decide(actor=boss, leave=leave, approve=False)
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        meeting = services.meeting_record(actor=boss, meeting=meeting, minutes="记录")
    assert Attendance.objects.get(meeting=meeting, driver=member).state == "leave"


def test_declined_leave_and_withdrawal(city):
    boss = secretary(city)
    a, b = members(city, 2)
    with time_machine.travel(START - timedelta(days=1), tick=False):
        meeting = plan(boss, city.branch_a, START)
        declined = services.leave_decide(
            actor=boss,
            leave=services.leave_request(actor=a.user, meeting=meeting, reason="有事"),
            approve=False,
            note="这次很重要",
        )
        assert declined.state == "declined"
        assert not Attendance.objects.filter(meeting=meeting, driver=a).exists()
        leave = services.leave_request(actor=b.user, meeting=meeting, reason="生病")
        services.leave_decide(actor=boss, leave=leave, approve=True)
        leave = services.leave_withdraw(actor=b.user, leave=leave)
        assert leave.state == "withdrawn"
        assert not Attendance.objects.filter(meeting=meeting, driver=b).exists()
        again = services.leave_request(actor=b.user, meeting=meeting, reason="还是生病")
        assert again.pk == leave.pk and again.state == "requested"
    with (
        time_machine.travel(START + timedelta(hours=2), tick=False),
        pytest.raises(InvalidTransition),
    ):  # too late
        services.leave_request(actor=a.user, meeting=meeting, reason="晚了")


def test_a_non_member_cannot_ask_for_leave(city):
    meeting = plan(secretary(city), city.branch_a, timezone.now() + timedelta(days=1))
    outsider = city.member(platform=city.platform_b)
    with pytest.raises(NotFound):
        services.leave_request(actor=outsider.user, meeting=meeting, reason="x")
    assert not LeaveRequest.objects.exists()


def _assembly(city, boss, n_members: int, present: int):
    people = members(city, n_members)
    meeting = plan(boss, city.branch_a, START, code="branch_assembly", title="第二季度党员大会")
    with time_machine.travel(START + timedelta(minutes=30), tick=False):
        for person in people[:present]:
            services.attendance_mark(actor=boss, meeting=meeting, driver=person, state="present")
        return services.meeting_record(actor=boss, meeting=meeting, minutes="审议事项"), people


def test_an_assembly_with_more_than_half_present_is_quorate(city):
    meeting, _people = _assembly(city, secretary(city), 6, 4)
    assert (meeting.expected_count, meeting.present_count, meeting.quorate) == (6, 4, True)
    assert meeting.counts_for_compliance


def test_an_assembly_with_exactly_half_present_is_recorded_as_not_quorate(city):
    meeting, _people = _assembly(city, secretary(city), 6, 3)
    assert meeting.status == "recorded"
    assert (meeting.expected_count, meeting.present_count, meeting.quorate) == (6, 3, False)
    assert not meeting.counts_for_compliance
    # The members who were not marked are recorded absent: one row per member.
    assert Attendance.objects.filter(meeting=meeting, state="absent").count() == 3


def test_other_meeting_types_need_no_quorum(city):
    boss = secretary(city)
    members(city, 4)
    meeting = plan(boss, city.branch_a, START)
    with time_machine.travel(START + timedelta(minutes=30), tick=False):
        meeting = services.meeting_record(actor=boss, meeting=meeting, minutes="x")
    assert meeting.quorate is None and meeting.counts_for_compliance


def test_recording_needs_minutes_and_a_started_meeting(city):
    boss = secretary(city)
    with time_machine.travel(START - timedelta(hours=1), tick=False):
        meeting = plan(boss, city.branch_a, START)
        with pytest.raises(InvalidTransition):
            services.meeting_record(actor=boss, meeting=meeting, minutes="x")
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        with pytest.raises(ValidationFailed):
            services.meeting_record(actor=boss, meeting=meeting, minutes="  ")
        services.meeting_record(actor=boss, meeting=meeting, minutes="x")
        with pytest.raises(InvalidTransition):
            services.meeting_cancel(actor=boss, meeting=meeting, reason="x")
    assert [a.action for a in meeting.activities.all()] == ["plan", "hold", "record"]


def _book_with(city, rule: bool):
    book = defaults.draft_default(actor=city.admin)
    if rule:
        scoring.rule_set(
            actor=city.admin, book=book, code=services.ATTENDED_RULE, name="参加组织生活",
            category=Category.TRAINING, points=2, evidence="组织委员确认的到会名单",
        )  # fmt: skip
    return scoring.rulebook_publish(actor=city.admin, book=book, now=START - timedelta(days=400))


def _held_with_one_signed_in(city):
    boss = secretary(city)
    present, absent = members(city, 2)
    meeting = plan(boss, city.branch_a, START - timedelta(days=1))
    session = meeting.sessions.first()
    with time_machine.travel(session.starts_at, tick=False):
        services.attendance_sign_in(
            actor=present.user, meeting_id=meeting.pk, code=signin.issue(session)
        )
    return boss, meeting, present, absent


def test_sign_ins_earn_nothing_until_the_officer_confirms_and_then_only_with_a_rule(city):
    _book_with(city, rule=True)
    boss, meeting, present, absent = _held_with_one_signed_in(city)
    assert not PointsEntry.objects.exists()  # a self sign-in alone counts for nothing
    with time_machine.travel(START, tick=False):
        services.meeting_record(actor=boss, meeting=meeting, minutes="x")
    entries = PointsEntry.objects.filter(rule_code=services.ATTENDED_RULE)
    assert [(e.driver_id, e.amount) for e in entries] == [(present.pk, 2)]
    row = Attendance.objects.get(meeting=meeting, driver=present)
    assert row.confirmed_at is not None and row.confirmed_by == boss
    assert entries.get().source_id == str(row.pk)
    assert not Attendance.objects.get(meeting=meeting, driver=absent).confirmed_at


def test_no_rule_no_points(city):
    _book_with(city, rule=False)
    boss, meeting, _present, _absent = _held_with_one_signed_in(city)
    with time_machine.travel(START, tick=False):
        meeting = services.meeting_record(actor=boss, meeting=meeting, minutes="x")
    assert meeting.status == "recorded"
    assert not PointsEntry.objects.exists()


def test_no_rule_book_no_points(city):
    boss, meeting, _present, _absent = _held_with_one_signed_in(city)
    with time_machine.travel(START, tick=False):
        services.meeting_record(actor=boss, meeting=meeting, minutes="x")
    assert not PointsEntry.objects.exists()


def test_attachments_are_checked_and_a_failed_upload_writes_no_row(city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    boss = secretary(city)
    meeting = plan(boss, city.branch_a, START)
    rows = services.meeting_file_add(
        actor=boss, meeting=meeting, uploads=[SimpleUploadedFile("签到表.png", PNG)]
    )
    assert [r.content_type for r in rows] == ["image/png"]
    fake = SimpleUploadedFile("minutes.pdf", b"MZ\x90\x00 not a pdf")
    with pytest.raises(ValidationFailed) as refused:
        services.meeting_file_add(
            actor=boss, meeting=meeting, uploads=[SimpleUploadedFile("ok.png", PNG), fake]
        )
    assert refused.value.code == "attachment_type"
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (services.MAX_FILE_BYTES + 1))
    with pytest.raises(ValidationFailed):
        services.meeting_file_add(actor=boss, meeting=meeting, uploads=[big])
    assert MeetingFile.objects.count() == 1
    assert len(list(tmp_path.rglob("*.*"))) == 1  # no orphan file either


def test_a_storage_failure_writes_no_row(city, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    boss = secretary(city)
    meeting = plan(boss, city.branch_a, START)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(FileSystemStorage, "save", broken)
    with pytest.raises(services.StorageFailed):
        services.meeting_file_add(
            actor=boss, meeting=meeting, uploads=[SimpleUploadedFile("a.png", PNG)]
        )
    assert not MeetingFile.objects.exists()
