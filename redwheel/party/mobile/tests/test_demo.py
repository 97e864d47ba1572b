"""The demo 报到 ledger: entries for the checked-in members, one reminded, one transferred."""

from io import StringIO

import pytest

from redwheel.demo.city import build_demo_city
from redwheel.demo.context import DemoContext
from redwheel.party.mobile import selectors
from redwheel.party.mobile.demo import build_demo
from redwheel.party.mobile.models import LedgerEntry, Reminder, Transfer


@pytest.mark.django_db
def test_demo_ledger_has_one_member_away_over_six_months():
    build_demo_city(scale=0.1, stdout=StringIO())
    demo = DemoContext(out=StringIO())
    assert build_demo(demo) is True
    assert LedgerEntry.objects.count() >= 2
    assert Reminder.objects.count() == 1
    assert Transfer.objects.count() == 1
    rows = selectors.rows_for(selectors.current_check_ins(demo.committee))
    assert sum(row.over_six_months for row in rows) == 2  # one reminded, one transferred
    assert any(row.entry is None for row in rows) or len(rows) <= 2
    assert build_demo(demo) is False
