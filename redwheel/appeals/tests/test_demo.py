"""The demo city's appeals: every level and status, overdue and escalated cases, idempotent."""

from io import StringIO

import pytest
from django.utils import timezone

from redwheel.appeals import selectors
from redwheel.appeals.demo import build_demo, build_demo_appeals
from redwheel.appeals.models import Activity, Case, Mediation, Status
from redwheel.demo.city import build_demo_city
from redwheel.demo.context import DemoContext


@pytest.mark.django_db
def test_demo_appeals_cover_levels_statuses_and_accountability_differs():
    out = StringIO()
    build_demo_city(scale=0.05, stdout=StringIO())
    demo = DemoContext(out=out)
    assert build_demo_appeals(actor=demo.admin, stdout=out, rounds=2) is True
    assert set(Case.objects.values_list("level", flat=True)) == {1, 2, 3, 4}
    assert set(Case.objects.values_list("status", flat=True)) == set(Status.values)
    assert Activity.objects.filter(action="auto_escalate").exists()
    assert Activity.objects.filter(action="overdue").exists()
    assert Mediation.objects.filter(compensate_first=True, outcome="agreed").exists()
    from redwheel.accounts.models import User

    admin = User.objects.filter(is_superuser=True).first()
    months = {
        c.created_at.astimezone(timezone.get_current_timezone()).date().replace(day=1)
        for c in Case.objects.all()
    }
    rates = set()
    for month in months:
        rates |= {r.resolution_on_time for r in selectors.accountability(admin, month)}
    known = rates - {None}
    assert max(known) - min(known) >= 50  # units really differ
    count = Case.objects.count()
    assert build_demo(demo) is False  # the demo's hook: the cases exist already
    assert Case.objects.count() == count
