"""The spelling migration renames tables and columns without losing rows, and answer events
written before the state machine get their action from the answer they recorded."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from redwheel.core import immutability
from redwheel.mobilization.models import Mobilization, ResponseEvent
from redwheel.mobilization.tests import factories

BEFORE = [("mobilization", "0001_add_fleets_hubs_mobilisations_volunteering_alerts")]


def _migrate(targets):
    """As `manage.py migrate` does: the append-only triggers are lifted while migrations run
    (0003 back-fills ResponseEvent rows) and put back after."""
    executor = MigrationExecutor(connection)
    immutability.lift()
    try:
        executor.migrate(targets)
    finally:
        immutability.install()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_rows_written_under_the_old_spelling_survive_the_rename(city):
    hub = factories.hub(city)
    driver = city.driver()
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("mobilization")
    old = _migrate(BEFORE)
    try:
        now = timezone.now()
        m = old.get_model("mobilization", "Mobilisation").objects.create(
            unit_id=city.root.pk,
            hub_id=hub.pk,
            title="春运",
            reason="晚点",
            starts_at=now,
            ends_at=now + timedelta(hours=2),
        )
        old.get_model("mobilization", "MobilisationActivity").objects.create(
            mobilisation_id=m.pk, action="open", to_status="open"
        )
        response = old.get_model("mobilization", "Response").objects.create(
            mobilisation_id=m.pk, driver_id=driver.pk, status="received"
        )
        old.get_model("mobilization", "ResponseEvent").objects.create(
            response_id=response.pk, to_status="received"
        )
    finally:
        _migrate(latest)

    renamed = Mobilization.objects.get(pk=m.pk)
    assert renamed.title == "春运" and list(
        renamed.activities.values_list("action", flat=True)
    ) == ["open"]
    event = ResponseEvent.objects.get(response__mobilization=renamed)
    assert (event.action, event.to_status, event.actor_id) == ("received", "received", None)
