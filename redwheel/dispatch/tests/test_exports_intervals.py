"""Run exports carry each metric as the report shows it: the mean over the seeds, its 95 %
interval (low, high) and the number of seeds, not one seed's value; and they say in which
environment it was simulated."""

import io
import json

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from redwheel import testing
from redwheel.dispatch import services
from redwheel.dispatch.models import SimulationRun
from redwheel.dispatch.tests.test_sandbox import tiny_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(city):
    return [
        services.ruleset_publish(
            actor=city.admin,
            rule_set=services.ruleset_create(
                actor=city.admin, name=name, version="1", parameters={"max_pickup_m": 2500, **extra}
            ),
        )
        for name, extra in (("@baseline", {}), ("incentive", {"score_weight": 1.0}))
    ]


@pytest.fixture
def three_seeds(city, pair):
    run = tiny_run(city.admin, pair, seeds=3)
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    return run


def test_json_export_has_mean_interval_and_seed_count(client, city, three_seeds):
    run = three_seeds
    client.force_login(testing.staff(city.root, "regulator"))
    data = json.loads(client.get(reverse("dispatch:run_export_json", args=[run.pk])).content)

    assert data["seeds"] == 3 and data["confidence"] == 0.95
    assert [m["rule_set"] for m in data["metrics"]] == ["@baseline v1", "incentive v1"]
    stored = run.results["rule_sets"]
    for exported, entry in zip(data["metrics"], stored, strict=True):
        wait = exported["metrics"]["mean_wait_s"]
        assert wait == {
            "mean": entry["intervals"]["mean_wait_s"]["mean"],
            "low": entry["intervals"]["mean_wait_s"]["low"],
            "high": entry["intervals"]["mean_wait_s"]["high"],
            "seeds": 3,
        }
        assert wait["low"] < wait["mean"] < wait["high"]
        assert set(exported["metrics"]) >= {"income_gini", "unserved_pct", "served_share"}
    # The mean over three seeds, not the first seed's value that `metrics` holds.
    first_seed = stored[0]["metrics"]["mean_wait_s"]
    assert data["metrics"][0]["metrics"]["mean_wait_s"]["mean"] != first_seed


def test_workbook_has_means_and_an_intervals_sheet(client, city, three_seeds):
    run = three_seeds
    client.force_login(testing.staff(city.root, "regulator"))
    response = client.get(reverse("dispatch:run_export_xlsx", args=[run.pk]))
    book = load_workbook(io.BytesIO(response.content))
    stored = run.results["rule_sets"]

    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row}
    assert summary["Number of seeds"] == 3
    metrics = {row[0]: row[1:] for row in book["Metrics"].iter_rows(min_row=2, values_only=True)}
    wait_means = tuple(s["intervals"]["mean_wait_s"]["mean"] for s in stored)
    assert metrics["Mean passenger wait (s)"] == pytest.approx(wait_means)
    assert metrics["Mean passenger wait (s)"][0] != stored[0]["metrics"]["mean_wait_s"]

    rows = list(book["Intervals"].iter_rows(values_only=True))
    assert rows[0] == ("Rule set", "Metric", "Mean", "95% low", "95% high", "Seeds")
    by_key = {(r[0], r[1]): r[2:] for r in rows[1:]}
    iv = stored[1]["intervals"]["income_gini"]
    gini = by_key[("incentive v1", "Income gap (Gini, 0 = equal)")]
    assert gini == pytest.approx((iv["mean"], iv["low"], iv["high"], 3))
    # User-controlled names stay text, never formulas.
    assert ("'@baseline v1", "served_share") in by_key
    assert not [c for ws in book for r in ws.iter_rows() for c in r if c.data_type == "f"]


def test_runs_stored_before_seeds_export_one_value_without_bounds(client, city, three_seeds):
    run = three_seeds
    results = dict(run.results)
    results.pop("seeds")
    results["rule_sets"] = [
        {k: v for k, v in s.items() if k not in ("intervals", "differences", "significant")}
        for s in results["rule_sets"]
    ]
    SimulationRun.objects.filter(pk=run.pk).update(results=results)
    client.force_login(testing.staff(city.root, "regulator"))

    data = json.loads(client.get(reverse("dispatch:run_export_json", args=[run.pk])).content)
    gini = data["metrics"][0]["metrics"]["income_gini"]
    assert data["seeds"] == 1
    assert gini == {
        "mean": results["rule_sets"][0]["metrics"]["income_gini"],
        "low": None,
        "high": None,
        "seeds": 1,
    }
    served = data["metrics"][0]["metrics"]["served_share"]["mean"]
    m = results["rule_sets"][0]["metrics"]
    assert served == pytest.approx(m["served"] / m["orders"])

    response = client.get(reverse("dispatch:run_export_xlsx", args=[run.pk]))
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book["Intervals"].iter_rows(min_row=2, values_only=True))
    assert rows and all(r[3] is None and r[4] is None and r[5] == 1 for r in rows)


def test_exports_say_in_which_environment_the_run_was_simulated(client, city, pair):
    environment = {
        "idle_policy": "cruise",
        "balance_forecast": "actual",
        "response_s": 15.0,
        "boarding_s": 30.0,
        "centroid_spread": 0.5,
    }
    run = tiny_run(city.admin, pair, seeds=1, **environment)
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    client.force_login(testing.staff(city.root, "regulator"))

    def exported(run):
        data = json.loads(client.get(reverse("dispatch:run_export_json", args=[run.pk])).content)
        response = client.get(reverse("dispatch:run_export_xlsx", args=[run.pk]))
        book = load_workbook(io.BytesIO(response.content))
        rows = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row}
        labels = (
            "Idle drivers",
            "Forecast",
            "Driver response time (s)",
            "Boarding time (s)",
            "Centroid spread",
            "Pickup patience (s)",
        )
        return data["environment"], tuple(rows[label] for label in labels)

    stored = {**environment, "pickup_patience_s": 900}
    assert exported(run) == (stored, ("cruise", "actual", 15, 30, 0.5, 900))
    # A run stored before the settings existed exports what it replays with.
    SimulationRun.objects.filter(pk=run.pk).update(sim_params={})
    old = {
        "idle_policy": "stay",
        "balance_forecast": "profile",
        "response_s": 0,
        "boarding_s": 0,
        "centroid_spread": 0,
        "pickup_patience_s": 480,
    }
    assert exported(run) == (old, ("stay", "profile", 0, 0, 0, 480))
