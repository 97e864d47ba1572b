from io import StringIO

import pytest

from redwheel.demo.city import build_demo_city
from redwheel.demo.context import DemoContext
from redwheel.scoring.demo import build_demo, build_demo_scoring
from redwheel.scoring.models import PointsEntry, RuleBook, ScoreSnapshot
from redwheel.scoring.services import book_in_force


@pytest.mark.django_db
def test_demo_scoring_is_idempotent():
    out = StringIO()
    build_demo_city(scale=0.05, stdout=StringIO())
    demo = DemoContext(out=out)
    assert build_demo_scoring(actor=demo.admin, stdout=out, history_days=2) is True
    assert book_in_force().version == 1
    assert RuleBook.objects.filter(version=2, only_adds_points=False).exists()
    entries = PointsEntry.objects.count()
    snapshots = ScoreSnapshot.objects.count()
    assert entries > 0 and snapshots > 0
    assert build_demo_scoring(actor=demo.admin, stdout=out, history_days=2) is False
    assert ScoreSnapshot.objects.count() == snapshots
    assert build_demo(demo) is True  # the demo's hook stores the other days of its history
    assert PointsEntry.objects.count() == entries
    assert RuleBook.objects.count() == 2
    snapshots = ScoreSnapshot.objects.count()
    assert build_demo(demo) is False
    assert ScoreSnapshot.objects.count() == snapshots
