"""Each step of a rule set and of a run writes its activity row (with the state change)."""

import pytest

from redwheel.core.errors import InvalidTransition
from redwheel.core.models import AuditEntry
from redwheel.dispatch import services
from redwheel.dispatch.models import RuleSet, SimulationRun
from redwheel.dispatch.tests.test_sandbox import tiny_run

pytestmark = pytest.mark.django_db


def _steps(obj):
    return list(obj.activities.values_list("action", "from_status", "to_status"))


def test_rule_set_steps_have_activity_rows(city):
    draft = services.ruleset_create(actor=city.admin, name="base", version="1", parameters={})
    services.ruleset_update(
        actor=city.admin, rule_set=draft, name="base", version="1", parameters={}, description="x"
    )
    services.ruleset_publish(actor=city.admin, rule_set=draft)
    copy = services.ruleset_new_version(actor=city.admin, rule_set=draft)

    assert _steps(draft) == [
        ("create", "", "draft"),
        ("update", "draft", "draft"),
        ("publish", "draft", "published"),
    ]
    assert draft.activities.last().actor == city.admin
    assert _steps(copy) == [("new_version", "", "draft")]
    assert "base v1" in copy.activities.get().note
    assert AuditEntry.objects.filter(
        action="dispatch.ruleset_publish", object_id=str(draft.pk)
    ).exists()

    with pytest.raises(InvalidTransition):
        services.ruleset_publish(actor=city.admin, rule_set=draft)
    assert len(_steps(draft)) == 3
    assert RuleSet.objects.get(pk=draft.pk).is_published


def _pair(city):
    return [
        services.ruleset_publish(
            actor=city.admin,
            rule_set=services.ruleset_create(
                actor=city.admin, name=name, version="1", parameters={"max_pickup_m": 2500}
            ),
        )
        for name in ("a", "b")
    ]


def test_run_steps_have_activity_rows(city):
    run = tiny_run(city.admin, _pair(city), enqueue=False)
    assert _steps(run) == [("create", "", "queued")]
    services.run_execute(run_id=run.pk)
    services.run_execute(run_id=run.pk)  # a finished run may run again
    assert _steps(run) == [
        ("create", "", "queued"),
        ("start", "queued", "running"),
        ("succeed", "running", "succeeded"),
        ("start", "succeeded", "running"),
        ("succeed", "running", "succeeded"),
    ]
    run.refresh_from_db()
    assert (run.status, run.progress) == (SimulationRun.Status.SUCCEEDED, 100)


def test_a_failed_run_has_a_fail_row_with_the_error(city):
    run = tiny_run(
        city.admin,
        _pair(city),
        enqueue=False,
        demand_source=SimulationRun.Demand.EXCHANGE,
        demand_params={"day": "2020-01-01", "platform_id": None},
    )
    assert services.run_execute(run_id=run.pk) is None
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.FAILED
    last = run.activities.last()
    assert (last.action, last.from_status, last.to_status) == ("fail", "running", "failed")
    assert last.note and last.note in run.error
