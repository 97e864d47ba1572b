"""The demo city's dues: every member assessed, some arrears, one approved exemption."""

from io import StringIO

import pytest

from redwheel.demo.city import build_demo_city
from redwheel.demo.context import DemoContext
from redwheel.party.dues import selectors
from redwheel.party.dues.demo import build_demo
from redwheel.party.dues.models import Assessment, HardshipRequest, Payment


@pytest.mark.django_db
def test_demo_dues_are_built_once():
    build_demo_city(scale=0.05, stdout=StringIO())
    demo = DemoContext(out=StringIO())
    assert build_demo(demo) is True
    members = list(selectors.members(demo.admin))
    assert members and Assessment.objects.count() >= len(members)
    dues = selectors.dues_for(members)
    assert any(d.arrears > 0 for d in dues.values())
    assert all(d.monthly_amount is not None for d in dues.values())
    approved = HardshipRequest.objects.filter(status="approved", kind="exempt")
    assert approved.count() == 1
    exempted = dues[approved.get().member_id]
    assert any(line.relief is not None and line.due == 0 for line in exempted.lines)
    assert Payment.objects.filter(voluntary=True).exists()
    counts = (Assessment.objects.count(), Payment.objects.count(), HardshipRequest.objects.count())
    assert build_demo(demo) is False
    assert counts == (
        Assessment.objects.count(),
        Payment.objects.count(),
        HardshipRequest.objects.count(),
    )
