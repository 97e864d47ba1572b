"""`manage.py demo`: every step once, in order; a second run changes nothing; --fresh rebuilds."""

import io

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from redwheel.appeals.models import Case
from redwheel.demo import steps
from redwheel.demo.specs import MEMBER_DRIVER
from redwheel.dispatch import demo as dispatch_demo
from redwheel.dispatch.models import SimulationRun
from redwheel.drivers.models import Driver
from redwheel.exchange.models import Trip
from redwheel.mobilization.models import Fleet
from redwheel.orgs.models import OrgUnit
from redwheel.scoring.models import PointsEntry

pytestmark = pytest.mark.django_db

ARGS = ("--scale", "0.05", "--month", "2026-10", "--seed", "7")


@pytest.fixture(autouse=True)
def _quick(settings, monkeypatch):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr(dispatch_demo, "ORDERS", 300)


def rows() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
    }


def demo(*args) -> str:
    out = io.StringIO()
    call_command("demo", *ARGS, *args, stdout=out)
    return out.getvalue()


def record_calls(monkeypatch) -> list[str]:
    """Wrap every step's hook where discovery finds it, recording the order they run in."""
    calls: list[str] = []

    def recording(name, hook):
        def build(context):
            calls.append(name)
            return hook(context)

        return build

    monkeypatch.setattr(
        steps,
        "BUILT_IN",
        tuple(steps.Step(s.name, recording(s.name, s.build), s.after) for s in steps.BUILT_IN),
    )
    for found in steps.discovered():
        module = __import__(found.module, fromlist=["build_demo"])
        monkeypatch.setattr(module, "build_demo", recording(found.name, found.build))
    return calls


# --fresh empties the database with TRUNCATE, which PostgreSQL refuses inside the test's
# transaction while deferred foreign-key checks are pending: run it committed, as in real use.
@pytest.mark.django_db(transaction=True)
def test_every_step_runs_once_in_order_then_nothing_changes_then_fresh_rebuilds(monkeypatch):
    calls = record_calls(monkeypatch)
    order = [s.name for s in steps.all_steps()]
    assert {"city", "operations", "scoring", "dispatch", "appeals", "mobilization"} <= set(order)

    text = demo()
    assert calls == order
    for index, name in enumerate(order, start=1):
        assert f"step {index}/{len(order)}: {name} built in" in text
    assert MEMBER_DRIVER.phone in text  # the logins, printed at the end
    assert Trip.objects.exists() and PointsEntry.objects.exists()
    assert Case.objects.exists() and Fleet.objects.exists()
    assert SimulationRun.objects.filter(status=SimulationRun.Status.SUCCEEDED).count() == 2
    built = rows()
    drivers = list(Driver.objects.order_by("id").values_list("name", "phone_masked"))

    calls.clear()
    text = demo("--no-logins")
    assert calls == order
    for index, name in enumerate(order, start=1):
        assert f"step {index}/{len(order)}: {name} already there, nothing to do" in text
    assert "nothing to do" in text.splitlines()[-1]
    assert MEMBER_DRIVER.phone not in text
    assert rows() == built

    text = demo("--fresh", "--no-logins")
    assert "Emptied the database" in text
    assert all(f"{name} built in" in text for name in order)
    assert rows() == built  # the same seed builds the same city
    assert list(Driver.objects.order_by("id").values_list("name", "phone_masked")) == drivers


def test_fresh_refuses_a_database_with_another_city(city):
    with pytest.raises(CommandError, match=city.root.name):
        demo("--fresh")
    assert OrgUnit.objects.filter(pk=city.root.pk).exists()
    assert not Driver.objects.filter(name=MEMBER_DRIVER.name).exists()


def test_options_are_checked():
    with pytest.raises(CommandError):
        call_command("demo", "--scale", "0", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("demo", "--month", "2026-13", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("demo", "--print-logins", "--fresh", stdout=io.StringIO())
    assert not OrgUnit.objects.exists()
