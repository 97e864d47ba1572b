"""Party life on the phone (issue 14 acceptance): a member signs in to a meeting with the
organiser's QR code and asks for leave from another, at 390 × 844 and in elderly mode; every
page checked with axe-core and the phone frame (ui.Ui.check)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from redwheel.browser_tests import data
from redwheel.browser_tests.ui import PHONE, PHONE_ELDERLY, T, label
from redwheel.party.meetings import signin
from redwheel.party.meetings.models import Attendance, LeaveRequest
from redwheel.party.meetings.tests.helpers import plan

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("variant", [PHONE, PHONE_ELDERLY], ids=lambda v: v.id)
def test_member_signs_in_with_the_qr_code_and_asks_for_leave(city, open_ui, variant):
    member = data.member(city, "孙师傅")
    secretary = data.staff(city.branch_a, "secretary", name="书记")
    now = timezone.now()
    today = plan(secretary, city.branch_a, now - timedelta(minutes=10), title="今天的支委会")
    later = plan(secretary, city.branch_a, now + timedelta(days=3), title="下周的党课")

    ui = open_ui(variant)
    ui.login(member.user, data.DRIVER_PASSWORD)
    if variant.elderly:
        ui.elderly_on()
    code = signin.issue(today.sessions.get())
    ui.goto(reverse("meetings:sign_in", args=[today.pk]) + f"?code={code}")
    ui.check("sign-in page")
    assert not Attendance.objects.filter(meeting=today, driver=member).exists(), (
        "opening the QR link records nothing by itself"
    )
    ui.submit(ui.page.get_by_role("button", name=T("I am here — sign me in")))
    ui.check("signed in")
    attendance = Attendance.objects.get(meeting=today, driver=member)
    assert attendance.state == Attendance.State.PRESENT

    ui.goto(reverse("meetings:my_detail", args=[later.pk]))
    ui.check("meeting to miss")
    ui.page.get_by_label(label("Why can you not come?")).fill("那天跑长途，赶不回来")
    ui.submit(ui.page.get_by_role("button", name=T("Ask for leave")))
    ui.check("leave asked")
    leave = LeaveRequest.objects.get(meeting=later, driver=member)
    assert leave.state == LeaveRequest.State.REQUESTED and "长途" in leave.reason
    ui.finish()
