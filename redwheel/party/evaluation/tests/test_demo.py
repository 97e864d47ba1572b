"""The demo evaluations: last year's round recorded, this year's with the vote under way."""

from io import StringIO

import pytest

from redwheel.core.dates import local_date
from redwheel.demo.city import build_demo_city
from redwheel.demo.context import DemoContext
from redwheel.party.evaluation.demo import build_demo
from redwheel.party.evaluation.models import Ballot, Round, VoteReceipt


@pytest.mark.django_db
def test_demo_has_a_recorded_round_last_year_and_a_running_one():
    build_demo_city(scale=0.1, stdout=StringIO())
    demo = DemoContext(out=StringIO())
    assert build_demo(demo) is True
    year = local_date().year
    recorded = Round.objects.get(state=Round.State.RECORDED)
    assert recorded.year == year - 1
    assert not recorded.participants.filter(conclusion="").exists()
    running = Round.objects.get(state=Round.State.VOTING)
    assert running.year == year and running.branch != recorded.branch
    assert VoteReceipt.objects.filter(round=recorded).exists()
    assert Ballot.objects.filter(round=running, choice="").exists()  # not everyone has voted
    assert build_demo(demo) is False
    assert Round.objects.count() == 2
