"""The simulated environment of sandbox runs and sizings (idle policy, balancing forecast, driver
response and boarding time, centroid spread): new runs default to `observed`, stored runs replay
what they stored, bad values are refused, and the form, the pages and the command line carry the
settings to the engine."""

import io
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from redwheel import testing
from redwheel.core.errors import ValidationFailed
from redwheel.core.models import AuditEntry
from redwheel.dispatch import services
from redwheel.dispatch.engine import uncertainty
from redwheel.dispatch.forms import FleetSizingForm
from redwheel.dispatch.models import FleetSizing, SimulationRun
from redwheel.dispatch.services import runs
from redwheel.dispatch.services import sizing as sizing_services
from redwheel.dispatch.tests.test_cli import RULES, TINY, simulate, size_fleet
from redwheel.dispatch.tests.test_sandbox import tiny_run

pytestmark = pytest.mark.django_db

NO_CITY_DATA = SimpleNamespace(config_overrides={})
NEW_DEFAULTS = {
    "seeds": 1,
    "idle_policy": "observed",
    "balance_forecast": "profile",
    "response_s": 0,
    "boarding_s": 60,
    "centroid_spread": 0,
    "pickup_patience_s": 900,
}


@pytest.fixture(autouse=True)
def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def regulator(city):
    return testing.staff(city.root, "regulator")


@pytest.fixture
def pair(city):
    """A zero-bonus baseline and an incentive, both published."""
    drafts = [
        services.ruleset_create(
            actor=city.admin, name=name, version="1", parameters={"max_pickup_m": 2500, **extra}
        )
        for name, extra in (("baseline", {}), ("incentive", {"score_weight": 1.0}))
    ]
    return [services.ruleset_publish(actor=city.admin, rule_set=r) for r in drafts]


@pytest.fixture
def engine_configs(monkeypatch):
    """Every engine configuration the seeds are replicated with (runs and the CLI)."""
    seen = []
    original = uncertainty.replicate

    def spy(*args, config=None, **kwargs):
        seen.append(config)
        return original(*args, config=config, **kwargs)

    monkeypatch.setattr(uncertainty, "replicate", spy)
    return seen


def environment(config) -> tuple:
    return config.idle_policy, config.balance_forecast, config.response_s


def baseline_metrics(run: SimulationRun) -> dict:
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    return run.results["rule_sets"][0]["metrics"]


# Service -------------------------------------------------------------------------------------


def test_new_runs_default_to_observed_idle_drivers_on_the_profile(city, pair, engine_configs):
    run = tiny_run(city.admin, pair, seeds=1)
    assert run.sim_params == NEW_DEFAULTS
    assert environment(engine_configs[-1]) == ("observed", "profile", 0)
    assert (engine_configs[-1].boarding_s, engine_configs[-1].pickup_patience_s) == (60, 900)
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    assert run.results["idle_policy"] == "observed"
    entry = AuditEntry.objects.get(action="dispatch.run_create")
    assert entry.data["balance_forecast"] == "profile" and entry.data["response_s"] == 0


def test_chosen_forecast_and_response_are_stored_and_reach_the_engine(city, pair, engine_configs):
    run = tiny_run(city.admin, pair, seeds=1, balance_forecast="actual", response_s="45")
    assert run.sim_params == {**NEW_DEFAULTS, "balance_forecast": "actual", "response_s": 45}
    assert environment(engine_configs[-1]) == ("observed", "actual", 45)


def test_a_run_stored_before_the_settings_replays_exactly_as_before(city, pair, engine_configs):
    stay = tiny_run(city.admin, pair, seeds=1, idle_policy="stay", boarding_s=0)
    # What runs simulated before patience was stored: 8 minutes for the pickup.
    SimulationRun.objects.filter(pk=stay.pk).update(
        sim_params={**stay.sim_params, "pickup_patience_s": 480}
    )
    runs.run_execute(run_id=stay.pk)
    old = tiny_run(city.admin, pair, seeds=1)
    observed = baseline_metrics(old)
    SimulationRun.objects.filter(pk=old.pk).update(sim_params={})
    runs.run_execute(run_id=old.pk)
    assert environment(engine_configs[-1]) == ("stay", "profile", 0)
    assert (engine_configs[-1].boarding_s, engine_configs[-1].pickup_patience_s) == (0, 480)
    assert baseline_metrics(old) == baseline_metrics(stay)
    # The comparison can tell the settings apart: the new defaults would have changed the run.
    assert observed != baseline_metrics(stay)


@pytest.mark.parametrize(
    "stored, expected",
    [
        ({}, ("stay", "profile", 0)),
        (None, ("stay", "profile", 0)),
        ({"seeds": 3, "idle_policy": "demand"}, ("demand", "profile", 0)),
        ({"idle_policy": "balance", "balance_forecast": "actual"}, ("balance", "actual", 0)),
        ({"idle_policy": "cruise", "response_s": 20.5}, ("cruise", "profile", 20.5)),
    ],
)
def test_absent_keys_mean_the_old_behaviour(stored, expected):
    run = SimulationRun(sim_params=stored, seed=1)
    assert environment(runs.run_config(run, NO_CITY_DATA)) == expected


def test_the_city_speed_profile_still_applies_on_top():
    profile = tuple(float(20 + h % 5) for h in range(24))
    run = SimulationRun(sim_params={"response_s": 10}, seed=1)
    config = runs.run_config(run, SimpleNamespace(config_overrides={"speed_profile_kmh": profile}))
    assert config.speed_profile_kmh == profile and config.response_s == 10


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"balance_forecast": "crystal-ball"}, "Unknown demand forecast"),
        ({"balance_forecast": "Profile"}, "Unknown demand forecast"),
        ({"response_s": -1}, "between 0 and 120 seconds"),
        ({"response_s": 120.5}, "between 0 and 120 seconds"),
        ({"response_s": "soon"}, "between 0 and 120 seconds"),
        ({"response_s": float("nan")}, "between 0 and 120 seconds"),
        ({"response_s": float("inf")}, "between 0 and 120 seconds"),
        ({"response_s": [5]}, "between 0 and 120 seconds"),
        ({"boarding_s": -1}, "boarding time must be between 0 and 300 seconds"),
        ({"boarding_s": 300.5}, "boarding time must be between 0 and 300 seconds"),
        ({"boarding_s": "soon"}, "boarding time must be between 0 and 300 seconds"),
        ({"boarding_s": float("nan")}, "boarding time must be between 0 and 300 seconds"),
        ({"boarding_s": float("inf")}, "boarding time must be between 0 and 300 seconds"),
        ({"centroid_spread": -0.1}, "centroid spread must be between 0 and 2"),
        ({"centroid_spread": 2.01}, "centroid spread must be between 0 and 2"),
        ({"centroid_spread": "wide"}, "centroid spread must be between 0 and 2"),
        ({"centroid_spread": float("nan")}, "centroid spread must be between 0 and 2"),
    ],
)
def test_bad_settings_are_refused_with_the_reason_and_nothing_is_stored(city, pair, bad, message):
    with pytest.raises(ValidationFailed, match=message):
        tiny_run(city.admin, pair, **bad)
    assert not SimulationRun.objects.exists()
    assert not AuditEntry.objects.filter(action="dispatch.run_create").exists()


def test_the_bounds_of_the_response_time_are_allowed():
    assert runs.sim_params_clean(1, None, None, 0)["response_s"] == 0
    assert runs.sim_params_clean(1, None, None, 120)["response_s"] == 120
    assert runs.sim_params_clean(1, None, "", "")["balance_forecast"] == "profile"
    assert runs.sim_params_clean(1, None, boarding_s=0)["boarding_s"] == 0
    assert runs.sim_params_clean(1, None, boarding_s="300")["boarding_s"] == 300
    assert runs.sim_params_clean(1, None, centroid_spread=2)["centroid_spread"] == 2
    assert runs.sim_params_clean(1, None, boarding_s="", centroid_spread="") == NEW_DEFAULTS


def test_runs_stored_before_boarding_and_spread_replay_without_them():
    assert runs.sim_environment({"idle_policy": "balance", "response_s": 5}) == {
        "idle_policy": "balance",
        "balance_forecast": "profile",
        "response_s": 5,
        "boarding_s": 0,
        "centroid_spread": 0,
        "pickup_patience_s": 480,
    }
    config = runs.run_config(SimulationRun(sim_params={}, seed=1), NO_CITY_DATA)
    assert config.boarding_s == 0 and config.centroid_spread == 0
    stored = {"boarding_s": 45.0, "centroid_spread": 0.5}
    config = runs.run_config(SimulationRun(sim_params=stored, seed=1), NO_CITY_DATA)
    assert config.boarding_s == 45 and config.centroid_spread == 0.5


# Few orders for a fleet far larger, idle drivers staying put: no driver is still busy when the
# next order comes, so a kerb time cannot change who is matched to whom.
SPARSE = {"orders": 80, "start_hour": 8, "hours": 1}


def test_boarding_time_is_the_drivers_busy_time_not_the_passengers_wait(city, pair, engine_configs):
    def stored(boarding_s):
        run = tiny_run(
            city.admin, pair, seeds=1, seed=3, idle_policy="stay", demand_params=SPARSE,
            fleet_params={"drivers": 300}, boarding_s=boarding_s,
        )  # fmt: skip
        return run, baseline_metrics(run)

    kerb_run, kerb = stored(120)
    _, none = stored(0)
    assert kerb_run.sim_params == {**NEW_DEFAULTS, "idle_policy": "stay", "boarding_s": 120}
    assert [c.boarding_s for c in engine_configs] == [120, 0]
    assert kerb["served"] == none["served"] > 0
    assert kerb["mean_wait_s"] == pytest.approx(none["mean_wait_s"])
    assert kerb["pickup_time_share"] > 2 * none["pickup_time_share"]
    assert kerb["driver_utilisation"] > none["driver_utilisation"]
    # Replaying the stored run simulates its kerb time again.
    runs.run_execute(run_id=kerb_run.pk)
    assert engine_configs[-1].boarding_s == 120 and baseline_metrics(kerb_run) == kerb


# Form and pages ------------------------------------------------------------------------------


def run_form(pair, **extra):
    data = {
        "title": "environment",
        "baseline": pair[0].pk,
        "others": [pair[1].pk],
        "demand_source": "synthetic",
        "orders": 200,
        "start_hour": 8,
        "hours": 1,
        "fleet_source": "synthetic",
        "drivers": 100,
        "seed": 5,
        "seeds": 1,
    }
    data.update(extra)
    return data


def test_the_run_form_offers_the_advanced_settings_with_the_new_defaults(client, regulator, pair):
    client.force_login(regulator)
    page = client.get(reverse("dispatch:run_create"))
    form = page.context["form"]
    assert form["idle_policy"].value() == "observed"
    assert form["balance_forecast"].value() == "profile" and form["response_s"].value() == 0
    text = page.content.decode()
    assert "<details>" in text and "Advanced: the simulated environment" in text
    assert 'name="balance_forecast"' in text and 'name="response_s"' in text


def test_the_form_stores_forecast_and_response_and_the_page_shows_them(client, regulator, pair):
    client.force_login(regulator)
    response = client.post(
        reverse("dispatch:run_create"),
        run_form(pair, idle_policy="balance", balance_forecast="actual", response_s="30"),
    )
    assert response.status_code == 302
    run = SimulationRun.objects.get()
    expected = {"idle_policy": "balance", "balance_forecast": "actual", "response_s": 30}
    assert run.sim_params == {**NEW_DEFAULTS, **expected}
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    text = client.get(reverse("dispatch:run_detail", args=[run.pk])).content.decode()
    assert "Share out by expected demand, sparse areas included (<code>balance</code>)" in text
    assert "Forecast: The orders that will actually come (clairvoyant, for comparison)" in text
    assert "Driver response time: 30 s" in text


def test_blank_advanced_fields_store_the_defaults(client, regulator, pair):
    client.force_login(regulator)
    data = run_form(pair, idle_policy="", balance_forecast="", response_s="")
    assert client.post(reverse("dispatch:run_create"), data).status_code == 302
    assert SimulationRun.objects.get().sim_params == NEW_DEFAULTS


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"balance_forecast": "crystal-ball"}, "balance_forecast"),
        ({"response_s": "121"}, "response_s"),
        ({"response_s": "-5"}, "response_s"),
        ({"response_s": "soon"}, "response_s"),
        ({"boarding_s": "301"}, "boarding_s"),
        ({"boarding_s": "-1"}, "boarding_s"),
        ({"centroid_spread": "2.5"}, "centroid_spread"),
        ({"centroid_spread": "-0.1"}, "centroid_spread"),
    ],
)
def test_bad_advanced_fields_are_refused_next_to_the_field(client, regulator, pair, changes, field):
    client.force_login(regulator)
    response = client.post(reverse("dispatch:run_create"), run_form(pair, **changes))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert "<details open>" in response.content.decode()  # the error is not hidden
    assert not SimulationRun.objects.exists()


def test_an_old_run_page_says_it_kept_drivers_in_place(client, city, regulator, pair):
    run = tiny_run(city.admin, pair, seeds=1, enqueue=False)
    SimulationRun.objects.filter(pk=run.pk).update(sim_params={})
    client.force_login(regulator)
    text = client.get(reverse("dispatch:run_detail", args=[run.pk])).content.decode()
    assert "Idle drivers: Wait where the last trip ended (<code>stay</code>)" in text
    assert "Driver response time: 0 s · Boarding time: 0 s · Pickup patience: 480 s" in text
    assert "Forecast:" not in text  # only the balancing policy uses a forecast
    assert "Centroid spread" not in text  # shown only when on


def test_the_form_stores_boarding_and_spread_and_the_page_shows_them(client, regulator, pair):
    client.force_login(regulator)
    form = client.get(reverse("dispatch:run_create")).context["form"]
    assert form["boarding_s"].value() == 60 and form["centroid_spread"].value() == 0
    assert "part of the driver's busy time, not of the passenger's wait" in str(
        form.fields["boarding_s"].help_text
    )
    response = client.post(
        reverse("dispatch:run_create"), run_form(pair, boarding_s="40", centroid_spread="0.5")
    )
    assert response.status_code == 302
    run = SimulationRun.objects.get()
    assert run.sim_params == {**NEW_DEFAULTS, "boarding_s": 40, "centroid_spread": 0.5}
    assert run.status == SimulationRun.Status.SUCCEEDED, run.error
    text = client.get(reverse("dispatch:run_detail", args=[run.pk])).content.decode()
    assert "Boarding time: 40 s · Pickup patience: 900 s · Centroid spread: 0.5" in text


# Fleet sizing --------------------------------------------------------------------------------


def test_new_sizings_take_observed_idle_drivers_on_the_profile(
    client, city, regulator, pair, monkeypatch
):
    seen = []
    original = sizing_services.size_within_bounds

    def spy(*args, config, **kwargs):
        seen.append(config)
        return original(*args, config=config, **kwargs)

    monkeypatch.setattr(sizing_services, "size_within_bounds", spy)
    found = sizing_services.sizing_create(
        actor=city.admin,
        rule_set=pair[0],
        target=0.8,
        min_drivers=5,
        max_drivers=120,
        demand_source=SimulationRun.Demand.SYNTHETIC,
        demand_params={"orders": 120, "start_hour": 8, "hours": 1},
        seed=11,
        seeds=1,
    )
    found.refresh_from_db()
    assert found.status == FleetSizing.Status.SUCCEEDED, found.error
    assert found.idle_policy == "observed"
    assert [environment(c) for c in seen] == [("observed", "profile", 0)]

    client.force_login(regulator)
    form = client.get(reverse("dispatch:sizing_create")).context["form"]
    assert form["idle_policy"].value() == "observed"
    text = client.get(reverse("dispatch:sizing_detail", args=[found.pk])).content.decode()
    assert "(<code>observed</code>) · Forecast: How busy each area usually is" in text
    assert "Driver response time: 0 s" in text


def test_sizing_an_old_runs_inputs_keeps_its_idle_policy(city, pair):
    run = tiny_run(city.admin, pair, seeds=1, enqueue=False)
    SimulationRun.objects.filter(pk=run.pk).update(sim_params={})
    run.refresh_from_db()
    assert FleetSizingForm.initial_from_run(run)["idle_policy"] == "stay"


# Command line --------------------------------------------------------------------------------


def test_save_stores_the_new_defaults(city):
    simulate("--rules", *RULES, "--synthetic", *TINY, "--seed", "4", "--save")
    assert SimulationRun.objects.get().sim_params == NEW_DEFAULTS


def test_save_stores_the_chosen_forecast_and_response(city, engine_configs):
    simulate(
        "--rules", *RULES, "--synthetic", *TINY, "--save",
        "--balance-forecast", "actual", "--response-s", "15",
    )  # fmt: skip
    run = SimulationRun.objects.get()
    assert run.sim_params == {**NEW_DEFAULTS, "balance_forecast": "actual", "response_s": 15}
    assert run.status == SimulationRun.Status.SUCCEEDED
    assert environment(engine_configs[-1]) == ("observed", "actual", 15)


def mean_wait(text: str) -> float:
    line = next(x for x in text.splitlines() if x.startswith("mean wait (s)"))
    return float(line.split()[3])


def test_simulate_passes_the_response_time_to_the_engine(engine_configs):
    default = simulate("--rules", *RULES, "--synthetic", *TINY, "--seed", "3")
    slow = simulate("--rules", *RULES, "--synthetic", *TINY, "--seed", "3", "--response-s", "60")
    assert [environment(c) for c in engine_configs] == [
        ("observed", "profile", 0),
        ("observed", "profile", 60),
    ]
    # Every served passenger waits for the driver to respond.
    assert mean_wait(slow) > mean_wait(default) + 30


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--balance-forecast", "crystal-ball"], "invalid choice: 'crystal-ball'"),
        (["--response-s", "soon"], "invalid float value"),
        (["--response-s", "121"], "between 0 and 120 seconds"),
        (["--response-s", "-1"], "between 0 and 120 seconds"),
        (["--boarding-s", "soon"], "invalid float value"),
        (["--boarding-s", "301"], "between 0 and 300 seconds"),
        (["--boarding-s", "-1"], "between 0 and 300 seconds"),
        (["--centroid-spread", "2.5"], "between 0 and 2"),
        (["--centroid-spread", "-0.5"], "between 0 and 2"),
    ],
)
@pytest.mark.parametrize("command", ["simulate", "size-fleet"])
def test_bad_flags_are_refused_before_anything_runs(city, engine_configs, command, extra, message):
    rules = RULES if command == "simulate" else RULES[:1]
    save = ["--save"] if command == "simulate" else []
    with pytest.raises(CommandError, match=message):
        call_command(
            "dispatch", command, "--rules", *rules, "--synthetic", *TINY, *save, *extra,
            "--no-progress", stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    assert not engine_configs and not SimulationRun.objects.exists()


def test_size_fleet_passes_the_flags_to_the_engine(monkeypatch):
    from redwheel.dispatch.management.commands import dispatch as command

    seen = []
    original = command.fleet_size

    def spy(*args, config, **kwargs):
        seen.append(config)
        return original(*args, config=config, **kwargs)

    monkeypatch.setattr(command, "fleet_size", spy)
    small = ["--orders-count", "150", "--start-hour", "8", "--hours", "1", "--target", "0.8"]
    default = size_fleet("--rules", RULES[0], "--synthetic", *small)
    chosen = size_fleet(
        "--rules", RULES[0], "--synthetic", *small,
        "--balance-forecast", "actual", "--response-s", "20", "--centroid-spread", "0.5",
        "--boarding-s", "25",
    )  # fmt: skip
    assert [environment(c) for c in seen] == [
        ("observed", "profile", 0),
        ("observed", "actual", 20),
    ]
    assert [(c.boarding_s, c.centroid_spread) for c in seen] == [(60, 0), (25, 0.5)]
    assert "idle policy observed, forecast profile, response 0 s, boarding 60 s" in default
    assert "forecast actual, response 20 s, boarding 25 s, centroid spread 0.5," in chosen


def row(text: str, label: str) -> float:
    line = next(x for x in text.splitlines() if x.startswith(label))
    return float(line[len(label) :].split()[0])


def test_simulate_passes_the_boarding_time_to_the_engine(engine_configs):
    sparse = ["--orders-count", "80", "--drivers", "300", "--start-hour", "8", "--hours", "1"]
    args = ("--rules", *RULES, "--synthetic", *sparse, "--seed", "3", "--idle", "stay")
    default = simulate(*args, "--boarding-s", "0")
    kerb = simulate(*args, "--boarding-s", "120")
    assert [c.boarding_s for c in engine_configs] == [0, 120]
    assert row(kerb, "mean wait (s)") == row(default, "mean wait (s)")
    pickups = "share of online time to pickups"
    assert row(kerb, pickups) > 2 * row(default, pickups)
