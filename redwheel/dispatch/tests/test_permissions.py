"""Issue 12: the sandbox belongs to each city's committee; two cities never see each other's
rule sets, runs, orders or drivers, and every service checks its actor itself."""

import io
from datetime import datetime

import pytest
from django.apps import apps
from django.urls import reverse

from redwheel import testing
from redwheel.accounts.services import token_create
from redwheel.core.dates import LOCAL_TZ
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.permissions import SystemActor
from redwheel.dispatch import engine, exports, selectors, services
from redwheel.dispatch.models import RuleSet, SimulationRun
from redwheel.dispatch.tests.test_sandbox import TINY, ingested_trips, tiny_run

pytestmark = pytest.mark.django_db

DAY = "2025-03-03"


@pytest.fixture
def cities():
    return testing.city(), testing.city()


def published_pair(city, prefix=""):
    return [
        services.ruleset_publish(
            actor=city.admin,
            rule_set=services.ruleset_create(
                actor=city.admin,
                city=city.root,
                name=f"{prefix}{name}",
                version="1",
                parameters={"max_pickup_m": 2500, **extra},
            ),
        )
        for name, extra in (("baseline", {}), ("incentive", {"score_weight": 1.0}))
    ]


def foreign_urls(rule_set: RuleSet, run: SimulationRun) -> list[str]:
    return [
        reverse("dispatch:rule_set_detail", args=[rule_set.pk]),
        reverse("dispatch:rule_set_edit", args=[rule_set.pk]),
        reverse("dispatch:rule_set_json", args=[rule_set.pk]),
        reverse("dispatch:run_detail", args=[run.pk]),
        reverse("dispatch:run_progress", args=[run.pk]),
        reverse("dispatch:run_export_json", args=[run.pk]),
        reverse("dispatch:run_export_xlsx", args=[run.pk]),
    ]


def test_a_city_committee_sees_none_of_another_citys_rule_sets_and_runs(client, cities):
    one, two = cities
    mine = published_pair(one, "ours-")
    theirs = published_pair(two, "theirs-")
    my_run = tiny_run(one.admin, mine, title="our run")
    their_run = tiny_run(two.admin, theirs, title="their run")
    assert my_run.city == one.root and their_run.city == two.root

    for person in (testing.staff(one.root, "regulator"), testing.staff(one.root, "staff")):
        client.force_login(person)
        lists = client.get(reverse("dispatch:rule_set_list")).content.decode()
        assert "ours-baseline" in lists and "theirs-" not in lists
        runs = client.get(reverse("dispatch:run_list")).content.decode()
        assert "our run" in runs and "their run" not in runs
        form = client.get(reverse("dispatch:run_create")).context["form"]
        assert set(form.fields["baseline"].queryset) == set(mine)
        assert set(form.fields["platform"].queryset) == {one.platform_a, one.platform_b}
        for url in foreign_urls(theirs[0], their_run):
            assert client.get(url).status_code == 404, url
        for url in foreign_urls(mine[0], my_run):
            assert client.get(url).status_code in (200, 302), url
        for name in ("rule_set_publish", "rule_set_new_version"):
            url = reverse(f"dispatch:{name}", args=[theirs[0].pk])
            assert client.post(url).status_code == 404
        # A crafted form with the other city's rule sets is refused like unknown ids.
        response = client.post(
            reverse("dispatch:run_create"),
            {
                "title": "crafted",
                "baseline": theirs[0].pk,
                "others": [theirs[1].pk],
                "demand_source": "synthetic",
                **TINY,
                "fleet_source": "synthetic",
                "drivers": 20,
                "seed": 1,
            },
        )
        assert response.status_code == 400 and not SimulationRun.objects.filter(title="crafted")

    regulator = testing.staff(one.root, "regulator")
    with pytest.raises(NotFound):
        services.ruleset_update(
            actor=regulator, rule_set=theirs[0], name="x", version="9", parameters={}
        )
    with pytest.raises(NotFound):
        services.ruleset_new_version(actor=regulator, rule_set=theirs[0])
    with pytest.raises(NotFound):
        services.ruleset_create(
            actor=regulator, city=two.root, name="x", version="1", parameters={}
        )
    with pytest.raises(NotFound):
        tiny_run(regulator, theirs)
    with pytest.raises(NotFound):
        exports.run_json(regulator, their_run)
    assert RuleSet.objects.filter(city=two.root).count() == 2


def test_each_city_names_its_own_rule_sets(cities):
    one, two = cities
    published_pair(one)
    published_pair(two)  # the same names and versions in another city
    assert RuleSet.objects.filter(name="baseline", version="1").count() == 2
    with pytest.raises(ValidationFailed):
        services.ruleset_create(
            actor=one.admin, city=one.root, name="baseline", version="1", parameters={}
        )


def test_a_run_compares_only_its_own_citys_rule_sets(cities):
    one, two = cities
    mixed = [published_pair(one)[0], published_pair(two, "b-")[0]]
    with pytest.raises(ValidationFailed):
        tiny_run(one.admin, mixed)  # a superuser sees both, but a run is one city's
    assert not SimulationRun.objects.exists()


def test_platform_and_branch_officers_cannot_use_the_sandbox(client, city):
    rule_sets = published_pair(city)
    run = tiny_run(city.admin, rule_sets)
    for person in (
        testing.staff(city.branch_a, "secretary"),
        testing.staff(city.committee_a, "secretary"),
        testing.staff(city.committee_a, "staff"),
        testing.staff(city.root, "secretary"),  # on the committee, but no audit role
        testing.staff(city.root, "viewer"),
    ):
        assert not selectors.may_use_sandbox(person)
        client.force_login(person)
        assert client.get(reverse("dispatch:run_list")).status_code == 404
        for url in foreign_urls(rule_sets[0], run):
            assert client.get(url).status_code == 404, (person, url)
        with pytest.raises(NotFound):
            services.ruleset_create(actor=person, name="x", version="1", parameters={})


def _unprivileged(city):
    token, _secret = token_create(
        actor=city.admin, platform=city.platform_a, name="app", scopes=["badges:read"]
    )
    return [
        testing.user("无授权用户"),
        city.driver().user,
        testing.staff(city.branch_a, "secretary"),
        token,
        SystemActor.for_platform(city.platform_a.pk, "feed"),
    ]


def test_every_service_refuses_an_unprivileged_actor(city):
    rule_sets = published_pair(city)
    draft = services.ruleset_create(
        actor=city.admin, city=city.root, name="draft", version="1", parameters={}
    )
    run = tiny_run(city.admin, rule_sets)
    bbox = engine.DEFAULT_CITY
    calls = {
        "ruleset_create": lambda a: services.ruleset_create(
            actor=a, name="n", version="1", parameters={}
        ),
        "ruleset_create in a city": lambda a: services.ruleset_create(
            actor=a, city=city.root, name="n", version="1", parameters={}
        ),
        "ruleset_update": lambda a: services.ruleset_update(
            actor=a, rule_set=draft, name="draft", version="1", parameters={}
        ),
        "ruleset_publish": lambda a: services.ruleset_publish(actor=a, rule_set=draft),
        "ruleset_new_version": lambda a: services.ruleset_new_version(
            actor=a, rule_set=rule_sets[0]
        ),
        "ruleset_import": lambda a: services.ruleset_import(
            actor=a, rules=engine.RuleSet(name="imported", version="1")
        ),
        "drivers_fleet_rows": lambda a: services.drivers_fleet_rows(a, city=city.root),
        "fleet_build": lambda a: services.fleet_build(run, bbox, 0.0, 3600.0, actor=a),
        "inputs_build": lambda a: services.inputs_build(run, actor=a),
        "inputs_build (unsaved)": lambda a: services.inputs_build(
            SimulationRun(
                demand_source="synthetic",
                demand_params=TINY,
                fleet_source="synthetic",
                fleet_params={"drivers": 10},
            ),
            actor=a,
        ),
        "run_create": lambda a: tiny_run(a, rule_sets),
        "run_json": lambda a: exports.run_json(a, run),
        "run_workbook": lambda a: exports.run_workbook(a, run),
    }
    before = (RuleSet.objects.count(), SimulationRun.objects.count())
    for actor in _unprivileged(city):
        for name, call in calls.items():
            with pytest.raises(NotFound):
                call(actor)
                pytest.fail(f"{name} let {actor!r} through")
    assert (RuleSet.objects.count(), SimulationRun.objects.count()) == before
    assert RuleSet.objects.get(pk=draft.pk).status == RuleSet.Status.DRAFT


def test_a_replay_uses_only_the_citys_own_platforms_orders(cities):
    one, two = cities
    start = datetime(2025, 3, 3, 8, 0, tzinfo=LOCAL_TZ)
    ingested_trips(one.platform_a, start, 30, "A")
    ingested_trips(one.platform_b, start, 20, "B")
    ingested_trips(two.platform_a, start, 70, "C")
    rule_sets = published_pair(one)
    regulator = testing.staff(one.root, "regulator")
    exchange = {"demand_source": SimulationRun.Demand.EXCHANGE}
    run = tiny_run(regulator, rule_sets, **exchange, demand_params={"day": DAY, "hours": 24})
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    assert run.results["orders"] == 50  # the other city's 70 orders are not replayed
    one_platform = {"day": DAY, "hours": 24, "platform_id": one.platform_b.pk}
    run = tiny_run(regulator, rule_sets, **exchange, demand_params=one_platform)
    run.refresh_from_db()
    assert run.results["orders"] == 20
    foreign = {"day": DAY, "hours": 24, "platform_id": two.platform_a.pk}
    with pytest.raises(NotFound):
        tiny_run(regulator, rule_sets, **exchange, demand_params=foreign)
    with pytest.raises(NotFound):  # not even a superuser mixes cities
        tiny_run(one.admin, rule_sets, **exchange, demand_params=foreign)


def test_the_drivers_fleet_is_the_citys_drivers(cities):
    one, two = cities
    ours = {one.driver().pk, one.member(platform=one.platform_b).pk}
    two.driver()
    operator = SystemActor.operator("test")
    rows, _day = services.drivers_fleet_rows(operator, city=one.root)
    assert {r[0] for r in rows} == ours
    rule_sets = published_pair(one)
    run = tiny_run(
        testing.staff(one.root, "staff"),
        rule_sets,
        fleet_source=SimulationRun.FleetSource.DRIVERS,
        fleet_params={},
    )
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    assert run.results["fleet"]["drivers"] == 2 and run.results["fleet"]["party_members"] == 1


def test_someone_with_several_cities_chooses_the_city(client, cities):
    one, _two = cities
    with pytest.raises(ValidationFailed) as exc:
        services.ruleset_create(actor=one.admin, name="x", version="1", parameters={})
    assert exc.value.code == "city_required"
    client.force_login(one.admin)
    assert "city" in client.get(reverse("dispatch:rule_set_create")).context["form"].fields
    client.force_login(testing.staff(one.root, "regulator"))
    assert "city" not in client.get(reverse("dispatch:rule_set_create")).context["form"].fields


def test_the_cli_needs_a_city_to_save(tmp_path, cities):
    from django.core.management import CommandError, call_command

    rules = tmp_path / "a.json"
    rules.write_text('{"name": "a", "version": "1"}')
    other = tmp_path / "b.json"
    other.write_text('{"name": "b", "version": "1", "score_weight": 1}')
    args = ["dispatch", "simulate", "--rules", str(rules), str(other), "--synthetic"]
    args += ["--orders-count", "100", "--drivers", "20", "--no-progress", "--save"]
    with pytest.raises(CommandError, match="--city"):
        call_command(*args)
    with pytest.raises(CommandError, match="no single city"):
        call_command(*args, "--city", "999999")
    cities[1].root.region_code = "510300"
    cities[1].root.save(update_fields=["region_code"])
    call_command(*args, "--city", "510300", stdout=io.StringIO())
    assert SimulationRun.objects.get().city == cities[1].root


def test_migration_gives_existing_rows_the_only_city(city):
    migration = __import__(
        "redwheel.dispatch.migrations.0002_add_city_to_rule_sets_and_runs",
        fromlist=["set_city_to_the_only_root"],
    )
    legacy = RuleSet.objects.create(name="legacy", version="1", parameters={})
    regulator = testing.staff(city.root, "regulator")
    assert not selectors.rule_sets(regulator).filter(pk=legacy.pk).exists()
    migration.set_city_to_the_only_root(apps, None)
    legacy.refresh_from_db()
    assert legacy.city == city.root
    assert selectors.rule_sets(regulator).filter(pk=legacy.pk).exists()
    testing.city()  # with two cities nothing is guessed
    orphan = RuleSet.objects.create(name="orphan", version="1", parameters={})
    migration.set_city_to_the_only_root(apps, None)
    orphan.refresh_from_db()
    assert orphan.city is None
