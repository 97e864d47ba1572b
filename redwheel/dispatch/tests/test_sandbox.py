"""Sandbox: rule-set lifecycle, runs through the task, reports, exports, access, demo."""

import io
import json
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from redwheel import testing
from redwheel.core.dates import LOCAL_TZ
from redwheel.core.errors import InvalidTransition, ValidationFailed
from redwheel.dispatch import engine, selectors, services
from redwheel.dispatch.demo import (
    BASELINE_NAME,
    INCENTIVE_NAME,
    REPLAY_TITLE,
    RUN_TITLE,
    build_demo_sandbox,
)
from redwheel.dispatch.models import RuleSet, SimulationRun
from redwheel.exchange.models import Trip

pytestmark = pytest.mark.django_db

TINY = {"orders": 250, "start_hour": 8, "hours": 1}


@pytest.fixture(autouse=True)
def english(client, settings):
    """Pages in English, so assertions on generated text do not depend on the .po file."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def regulator(city):
    return testing.staff(city.root, "regulator", name="监管员")


@pytest.fixture
def pair(city):
    base = services.ruleset_create(
        actor=city.admin, name="baseline", version="1", parameters={"max_pickup_m": 2500}
    )
    bonus = services.ruleset_create(
        actor=city.admin,
        name="incentive",
        version="1",
        parameters={"max_pickup_m": 2500, "score_weight": 1.0, "bonus_cap_m": 600},
    )
    return [services.ruleset_publish(actor=city.admin, rule_set=r) for r in (base, bonus)]


def tiny_run(actor, rule_sets, **extra):
    params = {
        "title": "tiny",
        "rule_sets": rule_sets,
        "demand_source": SimulationRun.Demand.SYNTHETIC,
        "demand_params": TINY,
        "fleet_source": SimulationRun.FleetSource.SYNTHETIC,
        "fleet_params": {"drivers": 120},
        "seed": 7,
    }
    params.update(extra)
    return services.run_create(actor=actor, **params)


# Rule sets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "parameters, fragment",
    [
        ({"bonus_cap_m": -1}, "bonus_cap_m"),
        ({"max_pickup_m": 5000, "unassigned_penalty_m": 4000}, "unassigned_penalty_m"),
        ({"colour": "red"}, "unknown rule set field"),
        ({"fatigue": {"daily_rest_s": 60}}, "daily_rest_s"),
        ({"fatigue": {"nap_s": 60}}, "unknown fatigue field"),
    ],
)
def test_invalid_parameters_are_refused_with_the_engine_reason(city, parameters, fragment):
    with pytest.raises(ValidationFailed) as exc:
        services.ruleset_create(actor=city.admin, name="x", version="1", parameters=parameters)
    assert fragment in str(exc.value.message)
    assert not RuleSet.objects.exists()


def test_stored_parameters_are_complete_and_load_in_the_engine(city):
    r = services.ruleset_create(actor=city.admin, name="x", version="1", parameters={})
    assert r.parameters == {
        k: v for k, v in engine.RuleSet().to_dict().items() if k not in ("name", "version")
    }
    assert r.engine_rules() == engine.RuleSet(name="x", version="1")
    with pytest.raises(ValidationFailed):
        services.ruleset_create(actor=city.admin, name="x", version="1", parameters={})


def test_form_errors_are_shown_next_to_the_fields(client, regulator):
    client.force_login(regulator)
    form = {
        "name": "bad",
        "version": "1",
        "score_weight": "1",
        "bonus_cap_m": "-5",
        "max_pickup_m": "3000",
        "k_candidates": "8",
        "window_s": "2",
        "continuous_limit_h": "4",
        "continuous_rest_min": "20",
        "daily_limit_h": "10",
        "daily_rest_h": "0.1",
    }
    response = client.post(reverse("dispatch:rule_set_create"), form)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "bonus_cap_m" in errors
    form["bonus_cap_m"] = "400"
    response = client.post(reverse("dispatch:rule_set_create"), form)
    assert response.status_code == 400
    assert "daily_rest_h" in response.context["form"].errors
    form["daily_rest_h"] = "6"
    response = client.post(reverse("dispatch:rule_set_create"), form)
    rule_set = RuleSet.objects.get(name="bad")
    assert response.status_code == 302
    assert rule_set.parameters["bonus_cap_m"] == 400
    assert rule_set.parameters["fatigue"]["continuous_rest_s"] == 1200
    assert rule_set.status == RuleSet.Status.DRAFT


def test_publish_makes_a_rule_set_immutable(city, client, regulator):
    draft = services.ruleset_create(actor=city.admin, name="q", version="1", parameters={})
    draft = services.ruleset_update(
        actor=city.admin, rule_set=draft, name="q", version="1", parameters={"bonus_cap_m": 300}
    )
    published = services.ruleset_publish(actor=city.admin, rule_set=draft)
    assert published.published_at is not None
    with pytest.raises(InvalidTransition):
        services.ruleset_update(
            actor=city.admin, rule_set=published, name="q", version="1", parameters={}
        )
    with pytest.raises(InvalidTransition):
        services.ruleset_publish(actor=city.admin, rule_set=published)
    published.parameters = {"bonus_cap_m": 9999}
    with pytest.raises(TypeError):
        published.save()
    client.force_login(regulator)
    response = client.get(reverse("dispatch:rule_set_edit", args=[published.pk]))
    assert response.status_code == 302
    response = client.post(reverse("dispatch:rule_set_new_version", args=[published.pk]))
    copy = RuleSet.objects.get(name="q", version="2")
    assert response.url == reverse("dispatch:rule_set_edit", args=[copy.pk])
    assert copy.status == RuleSet.Status.DRAFT and copy.parameters["bonus_cap_m"] == 300
    assert RuleSet.objects.get(pk=published.pk).parameters["bonus_cap_m"] == 300


# Runs ----------------------------------------------------------------------------------------


def test_run_created_on_the_page_runs_as_a_task_and_reports(client, regulator, pair):
    client.force_login(regulator)
    response = client.post(
        reverse("dispatch:run_create"),
        {
            "title": "Morning test",
            "baseline": pair[0].pk,
            "others": [pair[1].pk],
            "demand_source": "synthetic",
            "orders": TINY["orders"],
            "start_hour": TINY["start_hour"],
            "hours": TINY["hours"],
            "fleet_source": "synthetic",
            "drivers": 40,
            "seed": 7,
        },
    )
    run = SimulationRun.objects.get(title="Morning test")
    assert response.status_code == 302
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    assert run.progress == 100 and run.finished_at is not None
    assert [r.pk for r in run.ordered_rule_sets()] == [p.pk for p in pair]
    sets = run.results["rule_sets"]
    assert [s["name"] for s in sets] == ["baseline", "incentive"]
    assert sets[0]["metrics"]["orders"] == run.results["orders"] > 150
    assert sets[0]["metrics"]["mean_bonus_m"] == 0 < sets[1]["metrics"]["mean_bonus_m"] <= 600
    assert sum(sets[0]["income_hist"]) == run.results["online_drivers"]
    assert sum(sets[1]["wait_hist"]) == sets[1]["metrics"]["served"]
    assert len(sets[1]["bonus_sample"]) <= services.SCATTER_POINTS
    assert "losers" in sets[1] and "drivers_losing_10pct" in sets[1]
    assert len(json.dumps(run.results)) < 60_000  # compact: histograms, not raw arrays

    page = client.get(reverse("dispatch:run_detail", args=[run.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "vendor/echarts.min.js" in text and "sandbox-data" in text
    summary = page.context["report"].summary
    assert any("passengers wait on average" in s for s in summary)
    assert any("Gini" in s for s in summary)
    assert summary[-1].startswith("Guarantee") and "600 m" in summary[-1]
    assert any(s in text for s in summary[1:3])

    progress = client.get(reverse("dispatch:run_progress", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert progress["HX-Refresh"] == "true"
    listing = client.get(reverse("dispatch:run_list"))
    assert "Morning test" in listing.content.decode()


def test_runs_are_reproducible(city, pair):
    run = tiny_run(city.admin, pair)
    first = SimulationRun.objects.get(pk=run.pk).results
    services.run_execute(run_id=run.pk)
    again = SimulationRun.objects.get(pk=run.pk).results
    assert [s["metrics"] for s in again["rule_sets"]] == [s["metrics"] for s in first["rule_sets"]]
    assert again["rule_sets"][1]["losers"] == first["rule_sets"][1]["losers"]
    other = tiny_run(city.admin, pair, seed=8)
    other.refresh_from_db()
    assert other.results["rule_sets"][0]["metrics"] != first["rule_sets"][0]["metrics"]


def test_progress_is_written_to_the_row_while_running(city, pair):
    run = tiny_run(city.admin, pair, enqueue=False)
    seen = []

    def watch(fraction):
        seen.append(SimulationRun.objects.values_list("status", "progress").get(pk=run.pk))

    services.run_execute(run_id=run.pk, progress=watch)
    assert seen[0][0] == SimulationRun.Status.RUNNING
    values = [p for _, p in seen]
    assert values == sorted(values) and 0 < max(values) < 100
    run.refresh_from_db()
    assert run.progress == 100


def test_a_failing_run_stores_its_error(city, pair):
    run = tiny_run(
        city.admin,
        pair,
        demand_source=SimulationRun.Demand.EXCHANGE,
        demand_params={"day": "2020-01-01", "platform_id": None},
    )
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.FAILED
    assert "No ingested orders" in run.error


def test_run_needs_two_to_four_distinct_rule_sets_and_sane_sizes(city, pair):
    with pytest.raises(ValidationFailed):
        tiny_run(city.admin, pair[:1])
    with pytest.raises(ValidationFailed):
        tiny_run(city.admin, [pair[0], pair[0]])
    with pytest.raises(ValidationFailed):
        tiny_run(city.admin, pair, demand_params={"orders": 0, "hours": 1})
    with pytest.raises(ValidationFailed):
        tiny_run(city.admin, pair, demand_params={"orders": 10, "start_hour": 20, "hours": 6})
    with pytest.raises(ValidationFailed):
        tiny_run(city.admin, pair, fleet_params={"drivers": 10**6})
    assert not SimulationRun.objects.exists()


def ingested_trips(platform, start: datetime, count: int, prefix: str = "O") -> None:
    """`count` ingested trips spread over the hour after `start` around central Chengdu."""
    box = engine.BoundingBox.around(104.066, 30.657, 4.0, 4.0)
    orders = engine.synthetic_orders(count, box, seed=3)
    Trip.objects.bulk_create(
        Trip(
            platform=platform,
            license_index=f"L{i}",
            order_id=f"{prefix}{i}",
            order_time=start + timedelta(seconds=float(orders.time_s[i]) / 24),
            origin_lng=orders.origin_lng[i],
            origin_lat=orders.origin_lat[i],
            dest_lng=orders.dest_lng[i],
            dest_lat=orders.dest_lat[i],
        )
        for i in range(len(orders))
    )


def test_ingested_orders_and_the_city_drivers_with_scores(city, pair):
    from redwheel.scoring import defaults
    from redwheel.scoring import services as scoring
    from redwheel.scoring.lookup import snapshot_json
    from redwheel.scoring.models import ScoreSnapshot

    member, other = city.member(), city.driver()
    book = scoring.rulebook_publish(
        actor=city.admin,
        book=defaults.draft_default(actor=city.admin),
        now=timezone.now() - timedelta(days=30),
    )
    day = timezone.localdate()
    ScoreSnapshot.objects.create(
        driver=member,
        day=day,
        score=90,
        credit_points=100,
        credit_grade="A",
        book=book,
        lookup_json=snapshot_json(
            score=90, credit_grade="A", day=day, rule_book_version=book.version, components={}
        ),
    )
    ingested_trips(city.platform_a, datetime(2025, 3, 3, 8, 0, tzinfo=LOCAL_TZ), 60)
    rows, score_day = services.drivers_fleet_rows(city.admin)
    assert score_day == day
    assert (member.pk, 90.0, True) in rows and (other.pk, None, False) in rows
    run = tiny_run(
        city.admin,
        pair,
        demand_source=SimulationRun.Demand.EXCHANGE,
        demand_params={"day": "2025-03-03", "platform_id": city.platform_a.pk, "hours": 24},
        fleet_source=SimulationRun.FleetSource.DRIVERS,
        fleet_params={},
    )
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    assert run.results["orders"] == 60
    assert run.results["fleet"]["drivers"] == 2 and run.results["fleet"]["party_members"] == 1
    assert run.fleet_params["score_day"] == day.isoformat()


def test_csv_upload_run(client, regulator, pair):
    orders = engine.synthetic_orders(80, seed=4)
    lines = ["order_id,time,origin_lng,origin_lat,dest_lng,dest_lat"] + [
        f"{i},{orders.time_s[i] / 24:.1f},{orders.origin_lng[i]},{orders.origin_lat[i]},"
        f"{orders.dest_lng[i]},{orders.dest_lat[i]}"
        for i in range(80)
    ]
    upload = io.BytesIO("\n".join(lines).encode())
    upload.name = "orders.csv"
    client.force_login(regulator)
    form = {
        "title": "CSV",
        "baseline": pair[0].pk,
        "others": [pair[1].pk],
        "demand_source": "csv",
        "start_hour": 0,
        "hours": 24,
        "fleet_source": "synthetic",
        "drivers": 20,
        "seed": 1,
        "orders_file": upload,
    }
    client.post(reverse("dispatch:run_create"), form)
    run = SimulationRun.objects.get(title="CSV")
    assert run.status == SimulationRun.Status.SUCCEEDED and run.results["orders"] == 80
    bad = io.BytesIO(b"order_id,time\n1,2\n")
    bad.name = "bad.csv"
    response = client.post(reverse("dispatch:run_create"), {**form, "orders_file": bad})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_exports_open(client, regulator, pair):
    run = tiny_run(regulator, pair)
    client.force_login(regulator)
    data = json.loads(client.get(reverse("dispatch:run_export_json", args=[run.pk])).content)
    assert data["seed"] == 7 and len(data["results"]["rule_sets"]) == 2
    assert data["summary"] and data["rule_sets"][0]["name"] == "baseline"
    response = client.get(reverse("dispatch:run_export_xlsx", args=[run.pk]))
    book = load_workbook(io.BytesIO(response.content))
    assert {"Summary", "Metrics", "Income losers", "Rule sets"} <= set(book.sheetnames)
    metrics = list(book["Metrics"].iter_rows(values_only=True))
    assert metrics[0][1:] == ("baseline v1", "incentive v1")
    run.refresh_from_db()
    gini_row = next(r for r in metrics if str(r[0]).startswith("Income gap"))
    baseline = run.results["rule_sets"][0]
    assert gini_row[1] == pytest.approx(baseline["intervals"]["income_gini"]["mean"])


# Access --------------------------------------------------------------------------------------


def test_only_committee_regulators_and_staff_may_use_the_sandbox(client, city, pair, regulator):
    run = tiny_run(city.admin, pair)
    urls = [
        reverse("dispatch:run_list"),
        reverse("dispatch:run_create"),
        reverse("dispatch:run_detail", args=[run.pk]),
        reverse("dispatch:run_progress", args=[run.pk]),
        reverse("dispatch:run_export_json", args=[run.pk]),
        reverse("dispatch:run_export_xlsx", args=[run.pk]),
        reverse("dispatch:rule_set_list"),
        reverse("dispatch:rule_set_create"),
        reverse("dispatch:rule_set_detail", args=[pair[0].pk]),
        reverse("dispatch:rule_set_json", args=[pair[0].pk]),
    ]
    driver = city.driver()
    outsiders = [
        driver.user,
        testing.staff(city.branch_a, "secretary"),
        testing.staff(city.committee_a, "staff"),  # a platform committee is not the city's
        testing.staff(city.root, "viewer"),
    ]
    for user in outsiders:
        assert not selectors.may_use_sandbox(user)
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
        assert (
            client.post(reverse("dispatch:rule_set_publish", args=[pair[0].pk])).status_code == 404
        )
    client.logout()
    assert client.get(urls[0]).status_code == 302  # to the login page
    for user in (regulator, testing.staff(city.root, "staff"), city.admin):
        assert selectors.may_use_sandbox(user)
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 200, (user, url)
    assert client.get(reverse("dispatch:run_detail", args=[run.pk + 99])).status_code == 404


def test_nav_links_the_sandbox_only_for_its_users(client, city, regulator):
    client.force_login(regulator)
    link = f'href="{reverse("dispatch:index")}"'
    assert link in client.get(reverse("insights:dashboard")).content.decode()
    client.force_login(testing.staff(city.branch_a, "secretary"))
    assert link not in client.get(reverse("insights:dashboard")).content.decode()


# Demo ----------------------------------------------------------------------------------------


def test_demo_sandbox_is_idempotent_and_readable(client, city, regulator):
    out = io.StringIO()
    ingested_trips(city.platform_a, datetime(2025, 3, 3, 8, 0, tzinfo=LOCAL_TZ), 40, "A")
    ingested_trips(city.platform_b, datetime(2025, 3, 4, 8, 0, tzinfo=LOCAL_TZ), 70, "B")
    assert build_demo_sandbox(stdout=out, orders=300) is True
    assert build_demo_sandbox(stdout=out, orders=300) is False
    published = RuleSet.objects.filter(status=RuleSet.Status.PUBLISHED)
    assert set(published.values_list("name", flat=True)) == {BASELINE_NAME, INCENTIVE_NAME}
    assert published.get(name=INCENTIVE_NAME).parameters["bonus_cap_m"] == 400
    run = SimulationRun.objects.get(title=RUN_TITLE)
    assert run.status == SimulationRun.Status.SUCCEEDED
    assert [r.name for r in run.ordered_rule_sets()] == [BASELINE_NAME, INCENTIVE_NAME]
    assert "合成司机" in run.description  # no demo city here, so the fleet is synthetic
    replay = SimulationRun.objects.get(title=REPLAY_TITLE)  # the busiest ingested day
    assert replay.status == SimulationRun.Status.SUCCEEDED, replay.error
    assert replay.demand_params["day"] == "2025-03-04" and replay.results["orders"] == 70
    assert SimulationRun.objects.count() == 2
    client.force_login(regulator)
    for stored in (run, replay):
        page = client.get(reverse("dispatch:run_detail", args=[stored.pk]))
        assert page.status_code == 200 and len(page.context["report"].summary) >= 8


def test_demo_sandbox_without_ingested_orders_stores_only_the_synthetic_run(city):
    out = io.StringIO()
    assert build_demo_sandbox(stdout=out, orders=200) is True
    assert list(SimulationRun.objects.values_list("title", flat=True)) == [RUN_TITLE]
    assert "No ingested trips" in out.getvalue()


def test_summary_says_when_tied_scores_hide_the_top_fifth(city, pair):
    run = tiny_run(city.admin, pair)
    run.refresh_from_db()
    results = json.loads(json.dumps(run.results))
    assert any(
        s.startswith("Drivers in the top fifth") for s in selectors.summary_sentences(results)
    )
    for entry in results["rule_sets"]:
        entry["metrics"]["top_quintile_order_share_pct"] = 99.0
        entry["intervals"]["top_quintile_order_share_pct"]["mean"] = 99.0
    assert any(
        s.startswith("Most drivers have the same score")
        for s in selectors.summary_sentences(results)
    )


# Seeds, intervals and significance -----------------------------------------------------------


def twin_sets(city):
    twins = [
        services.ruleset_create(
            actor=city.admin, name=name, version="1", parameters={"max_pickup_m": 2500}
        )
        for name in ("twin-a", "twin-b")
    ]
    return [services.ruleset_publish(actor=city.admin, rule_set=r) for r in twins]


def test_a_rule_set_against_itself_is_never_significant(city):
    run = tiny_run(city.admin, twin_sets(city), seeds=3, idle_policy="stay")
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    assert run.results["seeds"] == [7, 8, 9]
    twin = run.results["rule_sets"][1]
    assert twin["significant"] and not any(twin["significant"].values())
    assert twin["differences"]["mean_wait_s"] == {"mean": 0.0, "low": 0.0, "high": 0.0, "n": 3}
    summary = selectors.summary_sentences(run.results)
    assert any("within the noise of 3 seeds" in s for s in summary)
    assert not any(s.startswith("The share of orders nobody served rises") for s in summary)


def test_a_clearly_different_rule_set_is_significant(city, pair):
    run = tiny_run(city.admin, pair, seeds=3)
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    assert run.sim_params == {
        "seeds": 3,
        "idle_policy": "observed",
        "balance_forecast": "profile",
        "response_s": 0,
        "boarding_s": 60,
        "centroid_spread": 0,
        "pickup_patience_s": 900,
    }
    incentive = run.results["rule_sets"][1]
    # The baseline pays no bonus on any seed, the incentive always does.
    assert incentive["significant"]["mean_bonus_m"] is True
    bonus = incentive["intervals"]["mean_bonus_m"]
    assert 0 < bonus["low"] <= bonus["mean"] <= bonus["high"] <= 600
    assert run.results["rule_sets"][0]["intervals"]["mean_bonus_m"]["mean"] == 0


def test_seed_count_and_idle_policy_are_checked(city, pair):
    for bad in ({"seeds": 0}, {"seeds": 21}, {"idle_policy": "teleport"}):
        with pytest.raises(ValidationFailed):
            tiny_run(city.admin, pair, **bad)
    assert not SimulationRun.objects.exists()


def test_the_form_stores_seeds_and_idle_policy_and_refuses_bad_ones(client, regulator, pair):
    client.force_login(regulator)
    form = {
        "title": "seeded",
        "baseline": pair[0].pk,
        "others": [pair[1].pk],
        "demand_source": "synthetic",
        "orders": 200,
        "start_hour": 8,
        "hours": 1,
        "fleet_source": "synthetic",
        "drivers": 100,
        "seed": 5,
    }
    bad = client.post(reverse("dispatch:run_create"), {**form, "seeds": 21})
    assert bad.status_code == 400 and not SimulationRun.objects.exists()
    bad = client.post(reverse("dispatch:run_create"), {**form, "idle_policy": "station"})
    assert bad.status_code == 400 and not SimulationRun.objects.exists()
    ok = client.post(reverse("dispatch:run_create"), {**form, "seeds": 2, "idle_policy": "cruise"})
    assert ok.status_code == 302
    run = SimulationRun.objects.get()
    assert run.sim_params == {
        "seeds": 2,
        "idle_policy": "cruise",
        "balance_forecast": "profile",
        "response_s": 0,
        "boarding_s": 60,
        "centroid_spread": 0,
        "pickup_patience_s": 900,
    }
    page = client.get(reverse("dispatch:run_detail", args=[run.pk]))
    assert page.status_code == 200 and "± " in page.content.decode()


def test_runs_stored_before_seeds_still_render(client, regulator, city, pair):
    run = tiny_run(city.admin, pair, seeds=1)
    run.refresh_from_db()
    for key in ("seeds", "confidence", "idle_policy", "calibration"):
        run.results.pop(key, None)
    for entry in run.results["rule_sets"]:
        for key in ("intervals", "differences", "significant"):
            entry.pop(key)
    SimulationRun.objects.filter(pk=run.pk).update(results=run.results, sim_params={})
    client.force_login(regulator)
    page = client.get(reverse("dispatch:run_detail", args=[run.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "passengers wait on average" in text and "within the noise" not in text
