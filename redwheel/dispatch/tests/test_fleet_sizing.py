"""Fleet sizing in the sandbox (issue 16, deliverable 5): "how many drivers does this rule set
need to serve a target share of these orders?", asked on a page, answered in the background."""

import io
import json
import math
from datetime import datetime

import numpy as np
import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from scipy import stats

from redwheel import testing
from redwheel.core.dates import LOCAL_TZ
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.models import AuditEntry
from redwheel.dispatch import engine, services, sizing_selectors
from redwheel.dispatch.models import FleetSizing, FleetSizingActivity, SimulationRun
from redwheel.dispatch.services import sizing as sizing_services
from redwheel.dispatch.tests.test_sandbox import ingested_trips, tiny_run

pytestmark = pytest.mark.django_db

SMALL = {"orders": 120, "start_hour": 8, "hours": 1}
RULES = {"max_pickup_m": 2500}


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def regulator(city):
    return testing.staff(city.root, "regulator")


@pytest.fixture
def rule_set(city):
    draft = services.ruleset_create(
        actor=city.admin, city=city.root, name="baseline", version="1", parameters=RULES
    )
    return services.ruleset_publish(actor=city.admin, rule_set=draft)


def sizing(actor, rule_set, **extra):
    params = {
        "rule_set": rule_set,
        "target": 0.8,
        "min_drivers": 5,
        "max_drivers": 150,
        "demand_source": SimulationRun.Demand.SYNTHETIC,
        "demand_params": SMALL,
        "seed": 11,
        "seeds": 2,
        "idle_policy": "demand",
    }
    params.update(extra)
    return sizing_services.sizing_create(actor=actor, **params)


def independent_shares(n: int, seeds: list[int], **environment) -> list[float]:
    """Served shares of an `n`-driver demand-following fleet, simulated without the sizing
    code: the same demand and fleet recipe, built and simulated here (idle drivers move towards
    demand unless `environment` says otherwise)."""
    orders, t0, t1 = services.synthetic_demand(
        orders=SMALL["orders"], start_hour=SMALL["start_hour"], hours=SMALL["hours"], seed=11
    )
    rules = engine.RuleSet(name="baseline", version="1", **RULES)
    config = engine.SimulationConfig(**{"idle_policy": "demand", **environment})
    shares = []
    for seed in seeds:
        fleet = services.period_fleet(engine.demand_following_fleet(orders, n, seed), 0.0, t1 - t0)
        result = engine.simulate(rules, orders, fleet, seed, config=config)
        shares.append(result.metrics["served"] / len(orders))
    return shares


def form_data(chosen, /, **extra):
    data = {
        "title": "How many?",
        "rule_set": chosen.pk,
        "target": "0.8",
        "min_drivers": "5",
        "max_drivers": "150",
        "demand_source": "synthetic",
        "orders": SMALL["orders"],
        "start_hour": SMALL["start_hour"],
        "hours": SMALL["hours"],
        "placement": "demand",
        "idle_policy": "demand",
        "seed": "11",
        "seeds": "2",
    }
    data.update(extra)
    return data


# Service and task ----------------------------------------------------------------------------


def test_the_task_finds_the_smallest_fleet_reaching_the_target(city, rule_set):
    found = sizing(city.admin, rule_set)  # the task runs at once in tests
    found.refresh_from_db()
    assert found.status == FleetSizing.Status.SUCCEEDED, found.error
    assert found.progress == 100 and found.finished_at is not None
    result = found.result
    n = result["n_drivers"]
    assert result["outcome"] == "reached" and 5 < n <= 150
    assert result["seeds"] == [11, 12] and result["orders"] > 80

    shares = independent_shares(n, [11, 12])
    assert np.mean(shares) >= 0.8
    assert result["served_share"]["mean"] == pytest.approx(np.mean(shares))
    half = stats.t.ppf(0.975, df=1) * np.std(shares, ddof=1) / math.sqrt(2)
    assert result["served_share"]["low"] == pytest.approx(np.mean(shares) - half)
    assert result["served_share"]["high"] == pytest.approx(np.mean(shares) + half)

    steps = result["steps"]
    assert steps[0][0] == 150  # the upper bound is tried first
    assert len({s[0] for s in steps}) == len(steps) and all(5 <= s[0] <= 150 for s in steps)
    failing = [size for size, share in steps if share < 0.8]
    assert failing and max(failing) < n
    assert max(failing) >= n * (1 - sizing_services.TOLERANCE) - 1
    assert np.mean(independent_shares(max(failing), [11, 12])) < 0.8

    actions = list(found.activities.values_list("action", flat=True))
    assert actions == ["create", "start", "succeed"]
    assert AuditEntry.objects.filter(action="dispatch.sizing_succeeded").exists()


def test_an_unreachable_target_says_so_with_the_upper_bound(city, rule_set, client, regulator):
    found = sizing(city.admin, rule_set, target=0.95, min_drivers=1, max_drivers=4)
    found.refresh_from_db()
    result = found.result
    assert found.status == FleetSizing.Status.SUCCEEDED
    assert result["outcome"] == "unreachable" and not result["reached"]
    assert result["n_drivers"] == 4 and len(result["steps"]) == 1
    assert result["steps"][0][1] == pytest.approx(np.mean(independent_shares(4, [11, 12])))
    assert result["steps"][0][1] < 0.95

    client.force_login(regulator)
    page = client.get(reverse("dispatch:sizing_detail", args=[found.pk])).content.decode()
    assert "Target not reached within the bounds." in page
    assert "even 4 drivers serve only" in page
    listing = client.get(reverse("dispatch:sizing_list")).content.decode()
    assert "more than 4" in listing


def test_a_lower_bound_that_already_suffices_is_reported(city, rule_set):
    found = sizing(city.admin, rule_set, target=0.5, min_drivers=140, max_drivers=150)
    found.refresh_from_db()
    assert found.result["outcome"] == "at_minimum" and found.result["n_drivers"] == 140
    assert "Lower the fewest drivers" in sizing_selectors.headline(found)


def test_progress_is_written_while_the_sizing_runs(city, rule_set):
    found = sizing(city.admin, rule_set, seeds=1, target=0.6, max_drivers=60, enqueue=False)
    assert found.status == FleetSizing.Status.QUEUED and found.progress == 0
    seen = []

    def watch(fraction):
        seen.append(FleetSizing.objects.values_list("status", "progress").get(pk=found.pk))

    sizing_services.sizing_execute(sizing_id=found.pk, progress=watch)
    assert {status for status, _ in seen} == {FleetSizing.Status.RUNNING}
    values = [p for _, p in seen]
    assert values == sorted(values) and 0 < max(values) < 100
    found.refresh_from_db()
    assert found.progress == 100


def test_a_replay_of_ingested_orders_and_a_failing_day(city, rule_set):
    ingested_trips(city.platform_a, datetime(2025, 3, 3, 8, 0, tzinfo=LOCAL_TZ), 60)
    replay = sizing(
        city.admin,
        rule_set,
        demand_source=SimulationRun.Demand.EXCHANGE,
        demand_params={"day": "2025-03-03", "platform_id": city.platform_a.pk, "hours": 24},
        max_drivers=80,
        seeds=1,
    )
    replay.refresh_from_db()
    assert replay.status == FleetSizing.Status.SUCCEEDED, replay.error
    assert replay.result["orders"] == 60
    # One seed: a mean without an interval.
    assert replay.result["served_share"]["low"] is None

    empty = sizing(
        city.admin,
        rule_set,
        demand_source=SimulationRun.Demand.EXCHANGE,
        demand_params={"day": "2020-01-01", "platform_id": None},
    )
    empty.refresh_from_db()
    assert empty.status == FleetSizing.Status.FAILED
    assert "No ingested orders" in empty.error
    assert list(empty.activities.values_list("action", flat=True))[-1] == "fail"


def test_the_service_checks_its_inputs_itself(city, rule_set):
    for extra in (
        {"target": 0.3},
        {"target": 1.0},
        {"min_drivers": 0},
        {"min_drivers": 150, "max_drivers": 150},
        {"max_drivers": services.MAX_DRIVERS + 1},
        {"seeds": services.MAX_SEEDS + 1},
        {"placement": "teleport"},
        {"demand_params": {"orders": 0, "hours": 1}},
        {"demand_source": SimulationRun.Demand.EXCHANGE, "demand_params": {}},
    ):
        with pytest.raises(ValidationFailed):
            sizing(city.admin, rule_set, enqueue=False, **extra)
    assert not FleetSizing.objects.exists()


def test_the_database_refuses_targets_and_bounds_out_of_range(city, rule_set):
    found = sizing(city.admin, rule_set, enqueue=False)
    for field, value in (("target", 1.5), ("max_drivers", 5)):
        with pytest.raises(IntegrityError), transaction.atomic():
            FleetSizing.objects.filter(pk=found.pk).update(**{field: value})


# Pages ---------------------------------------------------------------------------------------


def test_sizing_created_on_the_page_runs_and_shows_its_result(client, regulator, rule_set):
    client.force_login(regulator)
    assert client.get(reverse("dispatch:sizing_create")).status_code == 200
    response = client.post(reverse("dispatch:sizing_create"), form_data(rule_set))
    found = FleetSizing.objects.get(title="How many?")
    assert response.status_code == 302
    assert response["Location"] == reverse("dispatch:sizing_detail", args=[found.pk])
    assert found.status == FleetSizing.Status.SUCCEEDED, found.error
    assert found.created_by == regulator and found.target == 0.8

    page = client.get(reverse("dispatch:sizing_detail", args=[found.pk]))
    text = page.content.decode()
    n = found.result["n_drivers"]
    assert page.status_code == 200
    assert f"<b>{n}</b>drivers needed" in text
    assert f"{100 * found.result['served_share']['mean']:.1f}%" in text
    assert "95% interval [" in text and 'id="sizing-steps"' in text
    steps_table = text.split('id="sizing-steps"')[1].split("</table>")[0]
    assert steps_table.count("<tr") == 1 + len(found.result["steps"])  # with the header
    assert steps_table.count("the fleet found") == 1 and 'aria-current="true"' in steps_table

    progress = client.get(
        reverse("dispatch:sizing_progress", args=[found.pk]), HTTP_HX_REQUEST="true"
    )
    assert progress["HX-Refresh"] == "true"
    exported = json.loads(
        client.get(reverse("dispatch:sizing_export_json", args=[found.pk])).content
    )
    assert exported["result"]["n_drivers"] == n and exported["bounds"] == [5, 150]
    listing = client.get(reverse("dispatch:sizing_list")).content.decode()
    assert "How many?" in listing and f">{n}<" in listing


def test_a_queued_sizing_shows_its_progress_block(client, city, regulator, rule_set):
    found = sizing(city.admin, rule_set, enqueue=False)
    client.force_login(regulator)
    text = client.get(reverse("dispatch:sizing_detail", args=[found.pk])).content.decode()
    assert 'id="sizing-progress"' in text and "hx-get" in text and "Queued" in text
    assert "HX-Refresh" not in client.get(
        reverse("dispatch:sizing_progress", args=[found.pk]), HTTP_HX_REQUEST="true"
    )


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"target": "0.3"}, "target"),
        ({"target": "1.2"}, "target"),
        ({"target": "lots"}, "target"),
        ({"min_drivers": "200"}, "max_drivers"),
        ({"max_drivers": str(services.MAX_DRIVERS + 1)}, "max_drivers"),
        ({"min_drivers": "0"}, "min_drivers"),
        ({"seeds": "0"}, "seeds"),
        ({"seeds": "21"}, "seeds"),
        ({"orders": ""}, "orders"),
        ({"demand_source": "exchange"}, "day"),
        ({"rule_set": "999999"}, "rule_set"),
    ],
)
def test_bad_form_input_is_refused_next_to_the_field(client, regulator, rule_set, changes, field):
    client.force_login(regulator)
    response = client.post(reverse("dispatch:sizing_create"), form_data(rule_set, **changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not FleetSizing.objects.exists()


def test_empty_state_and_pagination(client, city, regulator, rule_set):
    client.force_login(regulator)
    empty = client.get(reverse("dispatch:sizing_list")).content.decode()
    assert "No fleet sizings yet." in empty
    for i in range(26):
        sizing(city.admin, rule_set, title=f"sizing {i:02d}", enqueue=False)
    first = client.get(reverse("dispatch:sizing_list")).content.decode()
    second = client.get(reverse("dispatch:sizing_list") + "?page=2").content.decode()
    assert "sizing 25" in first and "sizing 00" not in first
    assert "sizing 00" in second and "sizing 25" not in second


def test_a_run_page_links_to_sizing_its_inputs(client, city, regulator, rule_set):
    other = services.ruleset_publish(
        actor=city.admin,
        rule_set=services.ruleset_create(
            actor=city.admin, name="incentive", version="1", parameters={"score_weight": 1.0}
        ),
    )
    run = tiny_run(city.admin, [rule_set, other], seeds=2, idle_policy="cruise", enqueue=False)
    client.force_login(regulator)
    url = reverse("dispatch:sizing_create") + f"?run={run.pk}"
    detail = client.get(reverse("dispatch:run_detail", args=[run.pk])).content.decode()
    assert f'href="{url}"' in detail and "Size the fleet for these inputs" in detail
    assert f'href="{reverse("dispatch:sizing_list")}"' in detail  # the sandbox subnav

    form = client.get(url).context["form"]
    assert form["rule_set"].value() == other.pk
    assert form["demand_source"].value() == "synthetic"
    assert form["orders"].value() == 250 and form["start_hour"].value() == 8
    assert form["seed"].value() == 7 and form["seeds"].value() == 2
    assert form["idle_policy"].value() == "cruise" and form["source_run"].value() == run.pk
    assert client.get(reverse("dispatch:sizing_create") + "?run=x").status_code == 404


def test_a_csv_runs_orders_are_reused_without_a_new_upload(client, city, regulator, rule_set):
    orders = engine.synthetic_orders(60, seed=4)
    lines = ["order_id,time,origin_lng,origin_lat,dest_lng,dest_lat"] + [
        f"{i},{orders.time_s[i] / 24:.1f},{orders.origin_lng[i]},{orders.origin_lat[i]},"
        f"{orders.dest_lng[i]},{orders.dest_lat[i]}"
        for i in range(60)
    ]
    other = services.ruleset_create(actor=city.admin, name="other", version="1", parameters={})
    run = tiny_run(
        city.admin,
        [rule_set, other],
        demand_source=SimulationRun.Demand.CSV,
        demand_params={"hours": 24},
        orders_csv="\n".join(lines),
        enqueue=False,
    )
    client.force_login(regulator)
    data = form_data(rule_set, demand_source="csv", source_run=run.pk, hours=24, seeds=1)
    response = client.post(reverse("dispatch:sizing_create"), data)
    assert response.status_code == 302
    found = FleetSizing.objects.get()
    assert found.source_run == run and found.orders_csv == run.orders_csv
    assert found.status == FleetSizing.Status.SUCCEEDED and found.result["orders"] == 60
    # Without a run to take them from, a CSV demand needs its file.
    response = client.post(reverse("dispatch:sizing_create"), {**data, "source_run": ""})
    assert response.status_code == 400 and "orders_file" in response.context["form"].errors


# Access --------------------------------------------------------------------------------------


def test_another_citys_sizings_answer_not_found(client, city, rule_set):
    two = testing.city()
    theirs_rules = services.ruleset_create(
        actor=two.admin, city=two.root, name="theirs", version="1", parameters=RULES
    )
    theirs = sizing(two.admin, theirs_rules, enqueue=False, title="their sizing")
    their_run = tiny_run(
        two.admin,
        [
            theirs_rules,
            services.ruleset_create(
                actor=two.admin, city=two.root, name="b", version="1", parameters={}
            ),
        ],
        enqueue=False,
    )
    mine = sizing(city.admin, rule_set, enqueue=False, title="our sizing")
    regulator = testing.staff(city.root, "regulator")
    client.force_login(regulator)

    for name in ("sizing_detail", "sizing_progress", "sizing_export_json"):
        assert client.get(reverse(f"dispatch:{name}", args=[theirs.pk])).status_code == 404
        assert client.get(reverse(f"dispatch:{name}", args=[mine.pk])).status_code == 200
    listing = client.get(reverse("dispatch:sizing_list")).content.decode()
    assert "our sizing" in listing and "their sizing" not in listing
    url = reverse("dispatch:sizing_create")
    assert client.get(f"{url}?run={their_run.pk}").status_code == 404
    # A crafted form with the other city's rule set or run is refused like an unknown id.
    response = client.post(url, form_data(theirs_rules))
    assert response.status_code == 400 and "rule_set" in response.context["form"].errors
    response = client.post(url, form_data(rule_set, source_run=their_run.pk))
    assert response.status_code == 400 and "source_run" in response.context["form"].errors
    assert set(FleetSizing.objects.values_list("title", flat=True)) == {
        "our sizing",
        "their sizing",
    }

    with pytest.raises(NotFound):
        sizing(regulator, theirs_rules, enqueue=False)
    with pytest.raises(NotFound):
        sizing(regulator, rule_set, source_run=their_run, enqueue=False)
    with pytest.raises(NotFound):
        sizing(
            regulator,
            rule_set,
            demand_source=SimulationRun.Demand.EXCHANGE,
            demand_params={"day": "2025-03-03", "platform_id": two.platform_a.pk},
            enqueue=False,
        )


def test_only_sandbox_users_reach_the_sizing_pages(client, city, rule_set):
    found = sizing(city.admin, rule_set, enqueue=False)
    urls = [
        reverse("dispatch:sizing_list"),
        reverse("dispatch:sizing_create"),
        reverse("dispatch:sizing_detail", args=[found.pk]),
        reverse("dispatch:sizing_progress", args=[found.pk]),
        reverse("dispatch:sizing_export_json", args=[found.pk]),
    ]
    outsiders = [
        city.driver().user,
        testing.staff(city.branch_a, "secretary"),
        testing.staff(city.committee_a, "staff"),  # a platform's committee is not the city's
        testing.staff(city.root, "viewer"),
    ]
    for user in outsiders:
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
        assert client.post(urls[1], form_data(rule_set)).status_code == 404
        with pytest.raises(NotFound):
            sizing(user, rule_set, enqueue=False)
    for user in (testing.staff(city.root, "regulator"), testing.staff(city.root, "staff")):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 200, (user, url)
    assert FleetSizing.objects.count() == 1
    assert FleetSizingActivity.objects.filter(sizing=found).count() == 1


def test_sizing_export_is_json_of_the_request_and_result(client, city, regulator, rule_set):
    found = sizing(city.admin, rule_set, target=0.9, min_drivers=2, max_drivers=3, seeds=1)
    client.force_login(regulator)
    response = client.get(reverse("dispatch:sizing_export_json", args=[found.pk]))
    data = json.loads(response.content)
    assert data["target"] == 0.9 and data["seeds"] == 1 and data["status"] == "succeeded"
    assert data["rule_set"] == {"id": rule_set.pk, "name": "baseline", "version": "1"}
    assert data["result"]["outcome"] == "unreachable"
    assert io.BytesIO(response.content).read(1) == b"{"


# Environment ---------------------------------------------------------------------------------

CHOSEN = {"balance_forecast": "actual", "response_s": 10, "boarding_s": 60, "centroid_spread": 0}
# Not chosen on the page, but stored with every new sizing (runs.sim_params_clean).
PATIENCE = {"pickup_patience_s": 900}


@pytest.fixture
def sizing_configs(monkeypatch):
    """Every engine configuration a sizing searches with."""
    seen = []
    original = sizing_services.size_within_bounds

    def spy(*args, config, **kwargs):
        seen.append(config)
        return original(*args, config=config, **kwargs)

    monkeypatch.setattr(sizing_services, "size_within_bounds", spy)
    return seen


def environment_of(config) -> dict:
    keys = (
        "idle_policy",
        "balance_forecast",
        "response_s",
        "boarding_s",
        "centroid_spread",
        "pickup_patience_s",
    )
    return {key: getattr(config, key) for key in keys}


def test_a_sizing_stores_its_environment_and_simulates_it(city, rule_set):
    found = sizing(city.admin, rule_set, idle_policy="balance", **CHOSEN)
    found.refresh_from_db()
    assert found.status == FleetSizing.Status.SUCCEEDED, found.error
    # The idle policy and the seeds keep their columns; the rest is in sim_params.
    assert found.idle_policy == "balance" and found.seeds == 2
    assert found.sim_params == {**CHOSEN, **PATIENCE}
    expected = {**CHOSEN, **PATIENCE, "seeds": 2, "idle_policy": "balance"}
    assert found.as_run().sim_params == expected
    shares = independent_shares(
        found.result["n_drivers"], [11, 12], idle_policy="balance", **CHOSEN
    )
    assert found.result["served_share"]["mean"] == pytest.approx(np.mean(shares))
    entry = AuditEntry.objects.get(action="dispatch.sizing_create")
    assert entry.data["boarding_s"] == 60 and entry.data["balance_forecast"] == "actual"


def test_a_sizing_stored_before_its_environment_replays_as_before(city, rule_set, sizing_configs):
    old = {
        "balance_forecast": "profile",
        "response_s": 0,
        "boarding_s": 0,
        "centroid_spread": 0,
        "pickup_patience_s": 480,
    }
    found = sizing(city.admin, rule_set, idle_policy="cruise", enqueue=False)
    # What it would have stored then, spelt out, then nothing at all, as sizings stored then.
    FleetSizing.objects.filter(pk=found.pk).update(sim_params=old)
    sizing_services.sizing_execute(sizing_id=found.pk)
    found.refresh_from_db()
    before = found.result
    FleetSizing.objects.filter(pk=found.pk).update(sim_params={})
    sizing_services.sizing_execute(sizing_id=found.pk)
    found.refresh_from_db()
    assert [environment_of(c) for c in sizing_configs] == [{"idle_policy": "cruise", **old}] * 2
    assert found.result == before


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"boarding_s": 301}, "boarding time must be between 0 and 300 seconds"),
        ({"boarding_s": -5}, "boarding time must be between 0 and 300 seconds"),
        ({"centroid_spread": 3}, "centroid spread must be between 0 and 2"),
        ({"response_s": 121}, "between 0 and 120 seconds"),
        ({"balance_forecast": "crystal-ball"}, "Unknown demand forecast"),
    ],
)
def test_a_bad_environment_is_refused_and_nothing_is_stored(city, rule_set, bad, message):
    with pytest.raises(ValidationFailed, match=message):
        sizing(city.admin, rule_set, **bad)
    assert not FleetSizing.objects.exists()
    assert not AuditEntry.objects.filter(action="dispatch.sizing_create").exists()


def test_the_sizing_form_sets_the_environment_and_the_page_shows_it(
    client, regulator, rule_set, sizing_configs
):
    client.force_login(regulator)
    page = client.get(reverse("dispatch:sizing_create"))
    assert "<details>" in page.content.decode()  # defaults: the section stays closed
    assert page.context["form"]["boarding_s"].value() == 60
    advanced = {"balance_forecast": "actual", "response_s": "10", "boarding_s": "45"}
    data = form_data(rule_set, idle_policy="balance", centroid_spread="0.5", **advanced)
    response = client.post(reverse("dispatch:sizing_create"), data)
    assert response.status_code == 302
    found = FleetSizing.objects.get()
    assert found.status == FleetSizing.Status.SUCCEEDED, found.error
    stored = {**CHOSEN, "boarding_s": 45, "centroid_spread": 0.5, **PATIENCE}
    assert found.sim_params == stored
    assert [environment_of(c) for c in sizing_configs] == [{"idle_policy": "balance", **stored}]
    text = client.get(reverse("dispatch:sizing_detail", args=[found.pk])).content.decode()
    assert "Forecast: The orders that will actually come (clairvoyant, for comparison)" in text
    assert "Driver response time: 10 s · Boarding time: 45 s · Pickup patience: 900 s" in text
    assert "Centroid spread: 0.5" in text


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"boarding_s": "400"}, "boarding_s"),
        ({"boarding_s": "late"}, "boarding_s"),
        ({"centroid_spread": "-1"}, "centroid_spread"),
        ({"response_s": "200"}, "response_s"),
        ({"balance_forecast": "crystal-ball"}, "balance_forecast"),
    ],
)
def test_bad_advanced_sizing_fields_are_refused_in_the_open(
    client, regulator, rule_set, changes, field
):
    client.force_login(regulator)
    response = client.post(reverse("dispatch:sizing_create"), form_data(rule_set, **changes))
    assert response.status_code == 400 and field in response.context["form"].errors
    assert "<details open>" in response.content.decode()
    assert not FleetSizing.objects.exists()


def test_a_sizing_from_a_run_takes_its_whole_environment(client, city, regulator, rule_set):
    other = services.ruleset_create(actor=city.admin, name="other", version="1", parameters={})
    environment = {
        "idle_policy": "cruise",
        "balance_forecast": "actual",
        "response_s": 20.0,
        "boarding_s": 30.0,
        "centroid_spread": 0.5,
    }
    run = tiny_run(city.admin, [rule_set, other], seeds=1, enqueue=False, **environment)
    client.force_login(regulator)
    page = client.get(reverse("dispatch:sizing_create") + f"?run={run.pk}")
    form = page.context["form"]
    assert {name: form[name].value() for name in environment} == environment
    assert "<details open>" in page.content.decode()  # what differs from the defaults shows
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(min_drivers=5, max_drivers=40, target="0.5", seeds=1)
    assert client.post(reverse("dispatch:sizing_create"), data).status_code == 302
    found = FleetSizing.objects.get()
    assert found.source_run == run and found.idle_policy == "cruise"
    stored = {k: v for k, v in environment.items() if k != "idle_policy"}
    assert found.sim_params == {**stored, **PATIENCE}


def test_sizing_export_says_what_was_simulated(client, city, regulator, rule_set):
    found = sizing(city.admin, rule_set, max_drivers=20, seeds=1, **CHOSEN)
    old = sizing(city.admin, rule_set, max_drivers=20, seeds=1, idle_policy="stay", enqueue=False)
    FleetSizing.objects.filter(pk=old.pk).update(sim_params={})
    client.force_login(regulator)

    def exported(pk):
        url = reverse("dispatch:sizing_export_json", args=[pk])
        return json.loads(client.get(url).content)["environment"]

    assert exported(found.pk) == {"idle_policy": "demand", **CHOSEN, **PATIENCE}
    assert exported(old.pk) == {
        "idle_policy": "stay",
        "balance_forecast": "profile",
        "response_s": 0,
        "boarding_s": 0,
        "centroid_spread": 0,
        "pickup_patience_s": 480,
    }
