from io import StringIO

import pytest
from django.core.management import call_command

from redwheel.core.demo.city import build_demo_city
from redwheel.scoring.demo import build_demo_scoring
from redwheel.scoring.models import PointsEntry, RuleBook, ScoreSnapshot
from redwheel.scoring.services import book_in_force


@pytest.mark.django_db
def test_demo_scoring_is_idempotent():
    out = StringIO()
    assert build_demo_scoring(stdout=out) is False
    build_demo_city(scale=0.05, stdout=StringIO())
    assert build_demo_scoring(stdout=out, history_days=2) is True
    assert book_in_force().version == 1
    assert RuleBook.objects.filter(version=2, only_adds_points=False).exists()
    entries = PointsEntry.objects.count()
    snapshots = ScoreSnapshot.objects.count()
    assert entries > 0 and snapshots > 0
    call_command("demo_scoring", stdout=out)
    assert PointsEntry.objects.count() == entries
    assert RuleBook.objects.count() == 2
