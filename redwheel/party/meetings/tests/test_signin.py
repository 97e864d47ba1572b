"""QR sign-in: a signed, rotating code valid only during its session and only for its
meeting; a member signs in once; photos of old codes, other meetings' codes and non-members
are refused with clear errors."""

from datetime import timedelta

import pytest
import time_machine
from django.core import signing

from redwheel.core.errors import InvalidTransition, NotFound, PermissionDenied
from redwheel.party.meetings import services, signin
from redwheel.party.meetings.models import Attendance
from redwheel.party.meetings.tests.helpers import at, plan, secretary

pytestmark = pytest.mark.django_db

START = at(2026, 5, 13, 12)


@pytest.fixture
def setup(city):
    boss = secretary(city)
    member = city.member("张三")
    meeting = plan(boss, city.branch_a, START, second=7)  # noon 12–13 and evening 19–20
    return boss, member, meeting


def _code(meeting, n=0):
    return signin.issue(list(meeting.sessions.all())[n])


def test_a_code_shown_during_the_session_signs_the_member_in(setup):
    _boss, member, meeting = setup
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        code = _code(meeting)
        row, changed = services.attendance_sign_in(
            actor=member.user, meeting_id=meeting.pk, code=code
        )
    assert changed is True
    assert (row.state, row.method) == ("present", "qr")
    assert row.session.label == "午间场"
    assert row.confirmed_at is None  # a record of presence only, until an officer confirms


def test_scanning_twice_changes_nothing(setup):
    _boss, member, meeting = setup
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        code = _code(meeting)
        first, _ = services.attendance_sign_in(actor=member.user, meeting_id=meeting.pk, code=code)
    with time_machine.travel(START + timedelta(minutes=6), tick=False):
        again, changed = services.attendance_sign_in(
            actor=member.user, meeting_id=meeting.pk, code=_code(meeting)
        )
    assert changed is False
    assert again.pk == first.pk
    assert again.signed_in_at == first.signed_in_at
    assert Attendance.objects.filter(meeting=meeting).count() == 1


def test_a_photo_of_an_earlier_code_is_refused_once_it_rotated_out(setup):
    _boss, member, meeting = setup
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        photo = _code(meeting)
    # Still within the session, but the code is older than its lifetime (90 s).
    with (
        time_machine.travel(START + timedelta(minutes=5, seconds=91), tick=False),
        pytest.raises(signin.CodeRefused) as refused,
    ):
        services.attendance_sign_in(actor=member.user, meeting_id=meeting.pk, code=photo)
    assert refused.value.code == "code_expired"
    assert "expired" in str(refused.value.message)
    assert not Attendance.objects.filter(meeting=meeting).exists()


def test_a_photo_used_at_a_later_session_or_the_next_day_is_refused(setup):
    _boss, member, meeting = setup
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        photo = _code(meeting)
    for later in (START + timedelta(hours=7, minutes=10), START + timedelta(days=1)):
        with time_machine.travel(later, tick=False), pytest.raises(signin.CodeRefused) as refused:
            services.attendance_sign_in(actor=member.user, meeting_id=meeting.pk, code=photo)
        assert refused.value.code == "code_expired"
    assert not Attendance.objects.filter(meeting=meeting).exists()


def test_a_fresh_code_is_refused_outside_its_session_window(setup):
    _boss, member, meeting = setup
    closes = START + timedelta(hours=1) + signin.WINDOW_MARGIN
    with time_machine.travel(closes - timedelta(seconds=10), tick=False):
        code = _code(meeting)  # shown just before the window closes
    with (
        time_machine.travel(closes + timedelta(seconds=20), tick=False),
        pytest.raises(signin.CodeRefused) as refused,
    ):
        services.attendance_sign_in(actor=member.user, meeting_id=meeting.pk, code=code)
    assert refused.value.code == "outside_session"
    # Within the margin it is accepted.
    with time_machine.travel(closes - timedelta(seconds=5), tick=False):
        _row, changed = services.attendance_sign_in(
            actor=member.user, meeting_id=meeting.pk, code=code
        )
    assert changed


def test_a_code_of_another_meeting_is_refused(setup, city):
    boss, member, meeting = setup
    other = plan(boss, city.branch_a, START, title="另一个会")
    with (
        time_machine.travel(START + timedelta(minutes=5), tick=False),
        pytest.raises(signin.CodeRefused) as refused,
    ):
        services.attendance_sign_in(actor=member.user, meeting_id=meeting.pk, code=_code(other))
    assert refused.value.code == "wrong_meeting"
    assert not Attendance.objects.exists()


def test_a_forged_or_tampered_code_is_refused(setup):
    _boss, member, meeting = setup
    session = meeting.sessions.first()
    forged = signing.TimestampSigner(salt="another-salt").sign_object(
        {"m": meeting.pk, "s": session.pk}
    )
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        for code in (forged, "garbage", _code(meeting)[:-2] + "xx"):
            with pytest.raises(signin.CodeRefused) as refused:
                services.attendance_sign_in(actor=member.user, meeting_id=meeting.pk, code=code)
            assert refused.value.code == "bad_code"


def test_a_non_member_is_refused(setup, city):
    _boss, _member, meeting = setup
    outsider = city.member("乙平台党员", platform=city.platform_b)  # branch_b's member
    driver = city.driver("非党员")  # no membership at all
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        code = _code(meeting)
        for person in (outsider, driver):
            with pytest.raises(PermissionDenied) as refused:
                services.attendance_sign_in(actor=person.user, meeting_id=meeting.pk, code=code)
            assert refused.value.code == "not_a_member"
    assert not Attendance.objects.exists()


def test_staff_without_a_driver_record_cannot_sign_in(setup):
    boss, _member, meeting = setup
    with time_machine.travel(START + timedelta(minutes=5), tick=False), pytest.raises(NotFound):
        services.attendance_sign_in(actor=boss, meeting_id=meeting.pk, code=_code(meeting))


def test_no_sign_in_after_the_minutes_are_recorded(setup):
    boss, member, meeting = setup
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        code = _code(meeting)
        services.meeting_record(actor=boss, meeting=meeting, minutes="会议记录")
        with pytest.raises(InvalidTransition):
            services.attendance_sign_in(actor=member.user, meeting_id=meeting.pk, code=code)


def test_a_checked_in_mobile_member_signs_in_to_the_mobile_branch(city):
    from redwheel import testing
    from redwheel.drivers import services as drivers

    boss = testing.staff(city.mobile_branch_a, "secretary")
    member = city.member("流动党员")
    drivers.membership_check_in(
        actor=city.admin, membership=member.membership, mobile_branch=city.mobile_branch_a
    )
    meeting = plan(boss, city.mobile_branch_a, START)
    with time_machine.travel(START, tick=False):
        _row, changed = services.attendance_sign_in(
            actor=member.user, meeting_id=meeting.pk, code=_code(meeting)
        )
    assert changed
