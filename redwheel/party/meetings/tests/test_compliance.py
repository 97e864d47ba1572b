"""Compliance: each obligation's periods are met, due or overdue, at month, quarter and year
boundaries (local time), for one branch; committees get counts, never a ranking."""

from datetime import date, timedelta

import pytest
import time_machine

from redwheel import testing
from redwheel.core.errors import NotFound
from redwheel.party.meetings import compliance, selectors, services
from redwheel.party.meetings.tests.helpers import at, members, plan, secretary

pytestmark = pytest.mark.django_db


def _held(boss, branch, start, code="branch_committee", present=()):
    with time_machine.travel(start - timedelta(days=1), tick=False):
        meeting = plan(boss, branch, start, code=code)
    with time_machine.travel(start + timedelta(minutes=30), tick=False):
        for person in present:
            services.attendance_mark(actor=boss, meeting=meeting, driver=person, state="present")
        return services.meeting_record(actor=boss, meeting=meeting, minutes="记录")


def _statuses(view, code):
    ob = next(o for o in view.year() if o.type.code == code)
    return [p.status for p in ob.periods]


@pytest.fixture
def history(city):
    boss = secretary(city)
    people = members(city, 3)
    _held(boss, city.branch_a, at(2026, 1, 15))
    # Late on the last evening of March, local time (15:30 UTC): it counts for March.
    _held(boss, city.branch_a, at(2026, 3, 31, 23, 0))
    _held(boss, city.branch_a, at(2026, 2, 20), code="branch_assembly", present=people[:2])
    # Planned but never recorded: it does not meet April.
    with time_machine.travel(at(2026, 4, 1, 0, 30) - timedelta(days=1), tick=False):
        plan(boss, city.branch_a, at(2026, 4, 1, 0, 30))
    return boss


def test_on_the_last_day_of_the_quarter(city, history):
    view = selectors.compliance_for(history, city.branch_a, date(2026, 3, 31))
    committee = _statuses(view, "branch_committee")
    assert committee[:4] == ["met", "overdue", "met", "upcoming"]
    assert _statuses(view, "branch_assembly") == ["met", "upcoming", "upcoming", "upcoming"]
    assert [
        (o.type.code, p.status) for o, p in view.month() if o.type.code == "branch_committee"
    ] == [("branch_committee", "met")]
    quarter = dict((o.type.code, [p.status for p in ps]) for o, ps in view.quarter())
    assert quarter["branch_committee"] == ["met", "overdue", "met"]
    assert quarter["branch_assembly"] == ["met"]
    assert "party_lecture" not in quarter  # half-yearly: shown in the year only


def test_on_the_first_day_of_the_next_quarter(city, history):
    view = selectors.compliance_for(history, city.branch_a, date(2026, 4, 1))
    assert _statuses(view, "branch_committee")[:5] == ["met", "overdue", "met", "due", "upcoming"]
    assert _statuses(view, "branch_assembly")[:2] == ["met", "due"]
    quarter = dict((o.type.code, [p.status for p in ps]) for o, ps in view.quarter())
    assert quarter["branch_committee"] == ["due", "upcoming", "upcoming"]
    assert quarter["branch_assembly"] == ["due"]
    ob = next(o for o in view.year() if o.type.code == "branch_committee")
    assert ob.counts() == {"met": 2, "due": 1, "overdue": 1} and ob.elapsed == 4


def test_a_new_year_starts_every_obligation_afresh(city, history):
    view = selectors.compliance_for(history, city.branch_a, date(2027, 1, 1))
    for o in view.year():
        assert o.periods[0].status == "due"
        assert o.counts() == {"met": 0, "due": 1, "overdue": 0}
    last = selectors.compliance_for(history, city.branch_a, date(2026, 12, 31))
    assert _statuses(last, "life_meeting") == ["due"]
    assert _statuses(last, "party_lecture") == ["overdue", "due"]


def test_a_non_quorate_assembly_does_not_meet_the_obligation(city):
    boss = secretary(city)
    people = members(city, 4)
    _held(boss, city.branch_a, at(2026, 5, 10), code="branch_assembly", present=people[:2])
    view = selectors.compliance_for(boss, city.branch_a, date(2026, 7, 1))
    assert _statuses(view, "branch_assembly")[:3] == ["overdue", "overdue", "due"]


def test_a_changed_frequency_changes_the_obligation(city, history):
    committee = testing.staff(city.root)
    lecture = next(
        t for t in selectors.types_of_city(committee, city.root) if t.code == "party_lecture"
    )
    services.meeting_type_update(
        actor=committee, meeting_type=lecture, name=lecture.name, frequency="quarterly",
        is_active=True,
    )  # fmt: skip
    view = selectors.compliance_for(history, city.branch_a, date(2026, 4, 1))
    assert len(next(o for o in view.year() if o.type.code == "party_lecture").periods) == 4
    services.meeting_type_update(
        actor=committee, meeting_type=lecture, name=lecture.name, frequency="quarterly",
        is_active=False,
    )  # fmt: skip
    view = selectors.compliance_for(history, city.branch_a, date(2026, 4, 1))
    assert "party_lecture" not in {o.type.code for o in view.year()}


def test_committee_totals_are_counts_not_a_ranking(city, history):
    committee = testing.staff(city.root)
    totals = selectors.compliance_totals(committee, date(2026, 4, 1))
    assert set(totals) == {"branches", "met", "due", "overdue"}  # no branch named
    assert totals["branches"] == 3
    one = selectors.compliance_for(committee, city.branch_a, date(2026, 4, 1)).totals()
    assert totals["met"] == one["met"]  # only branch_a held meetings


def test_a_branch_outside_the_viewer_scope_is_not_found(city, history):
    with pytest.raises(NotFound):
        selectors.compliance_for(history, city.branch_b, date(2026, 4, 1))


def test_periods_of_each_frequency():
    assert [p.start.month for p in compliance.periods_of("quarterly", 2026)] == [1, 4, 7, 10]
    halves = compliance.periods_of("half_yearly", 2026)
    assert [(p.start, p.end) for p in halves] == [
        (date(2026, 1, 1), date(2026, 7, 1)),
        (date(2026, 7, 1), date(2027, 1, 1)),
    ]
