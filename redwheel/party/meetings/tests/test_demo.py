"""The demo city's organisation life: a quarter of meetings with attendance and leave, this
month's 主题党日 adopted by most branches; idempotent."""

from io import StringIO

import pytest

from redwheel.core.dates import local_date, month_start
from redwheel.demo.city import build_demo_city
from redwheel.demo.context import DemoContext
from redwheel.party.meetings.demo import build_demo
from redwheel.party.meetings.models import Attendance, LeaveRequest, Meeting, ThemedDay


@pytest.mark.django_db
def test_demo_meetings():
    build_demo_city(scale=0.05, stdout=StringIO())
    demo = DemoContext(out=StringIO())
    assert build_demo(demo) is True
    recorded = Meeting.objects.filter(status="recorded")
    months = {m.starts_at.date().replace(day=1) for m in recorded}
    assert len(months) == 3
    assert recorded.filter(type__code="branch_assembly", quorate=False).count() == 1
    assert Attendance.objects.filter(state="present").exists()
    assert Attendance.objects.filter(state="leave").exists()
    theme = ThemedDay.objects.get(month=month_start(local_date()))
    adopted = theme.meetings.values("branch").distinct().count()
    branches = Meeting.objects.values("branch").distinct().count()
    assert branches / 2 < adopted < branches
    assert LeaveRequest.objects.filter(meeting__theme=theme).exists()
    before = Meeting.objects.count()
    assert build_demo(demo) is False
    assert Meeting.objects.count() == before
