"""`manage.py dispatch simulate`: prints the comparison table, rejects bad files, saves runs
that replay what was simulated."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from redwheel.dispatch import engine, services
from redwheel.dispatch.models import RuleSet, SimulationRun

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
RULES = [str(EXAMPLES / "rules-baseline.json"), str(EXAMPLES / "rules-incentive.json")]
TINY = ["--orders-count", "250", "--drivers", "120", "--start-hour", "8", "--hours", "1"]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def simulate(*args) -> str:
    out = io.StringIO()
    call_command("dispatch", "simulate", *args, "--no-progress", stdout=out)
    return out.getvalue()


def test_examples_are_valid_rule_sets():
    base, incentive = (engine.RuleSet.from_json(Path(p).read_text()) for p in RULES)
    assert base.bonus_cap_m == 0 and incentive.bonus_cap_m == 400 and incentive.score_weight == 1


def test_prints_the_comparison_table():
    text = simulate("--rules", *RULES, "--synthetic", *TINY, "--seed", "3")
    assert "zero-bonus-baseline v1" in text and "service-quality-incentive v1" in text
    assert "income Gini" in text and "Biggest income losers" in text
    assert text == simulate("--rules", *RULES, "--synthetic", *TINY, "--seed", "3")


def test_orders_from_csv(tmp_path):
    orders = engine.synthetic_orders(60, seed=5)
    lines = ["order_id,time,origin_lng,origin_lat,dest_lng,dest_lat"] + [
        f"{i},{orders.time_s[i] / 24:.1f},{orders.origin_lng[i]},{orders.origin_lat[i]},"
        f"{orders.dest_lng[i]},{orders.dest_lat[i]}"
        for i in range(60)
    ]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines))
    text = simulate("--rules", *RULES, "--orders", str(path), "--drivers", "20", "--window", "5")
    assert "mean wait (s)" in text


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"bonus_cap_m": -1}', "invalid rule set"),
        ('{"colour": "red"}', "unknown rule set field"),
    ],
)
def test_rejects_bad_rule_files(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(CommandError, match=message):
        simulate("--rules", RULES[0], str(bad), "--synthetic", *TINY)


def test_rejects_missing_and_bad_order_files(tmp_path):
    with pytest.raises(CommandError, match="rules file not found"):
        simulate("--rules", RULES[0], str(tmp_path / "nope.json"), "--synthetic", *TINY)
    with pytest.raises(CommandError, match="orders file not found"):
        simulate("--rules", *RULES, "--orders", str(tmp_path / "nope.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("order_id,time,origin_lng,origin_lat,dest_lng,dest_lat\n1,x,1,2,3,4\n")
    with pytest.raises(CommandError, match="line 2"):
        simulate("--rules", *RULES, "--orders", str(bad))
    with pytest.raises(CommandError, match="at least two"):
        simulate("--rules", RULES[0], "--synthetic", *TINY)


def test_save_stores_a_reproducible_run(tmp_path, city):
    text = simulate("--rules", *RULES, "--synthetic", *TINY, "--seed", "4", "--save")
    run = SimulationRun.objects.get()
    assert f"simulation run {run.pk}" in text
    assert run.city == city.root and set(RuleSet.objects.values_list("city", flat=True)) == {
        city.root.pk
    }
    assert run.status == SimulationRun.Status.SUCCEEDED
    assert [r.name for r in run.ordered_rule_sets()] == [
        "zero-bonus-baseline",
        "service-quality-incentive",
    ]
    simulate("--rules", *RULES, "--synthetic", *TINY, "--seed", "4", "--save")
    assert RuleSet.objects.count() == 2  # reused, not duplicated
    first, second = SimulationRun.objects.order_by("pk")
    assert [s["metrics"] for s in first.results["rule_sets"]] == [
        s["metrics"] for s in second.results["rule_sets"]
    ]
    changed = json.loads(Path(RULES[1]).read_text()) | {"bonus_cap_m": 100.0}
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(changed))
    with pytest.raises(CommandError, match="new version"):
        simulate("--rules", RULES[0], str(path), "--synthetic", *TINY, "--save")


def centroid_orders(tmp_path) -> Path:
    """A CSV whose trip ends are five area centroids, as public data sets give them."""
    orders = engine.synthetic_orders(120, seed=6)
    lng, lat = orders.origin_lng[:5], orders.origin_lat[:5]
    lines = ["order_id,time,origin_lng,origin_lat,dest_lng,dest_lat"] + [
        f"{i},{orders.time_s[i] / 24:.1f},{lng[i % 5]},{lat[i % 5]},"
        f"{lng[(i + 2) % 5]},{lat[(i + 2) % 5]}"
        for i in range(120)
    ]
    path = tmp_path / "centroids.csv"
    path.write_text("\n".join(lines))
    return path


def test_save_keeps_the_centroid_spread_and_the_boarding_time(tmp_path, city):
    common = ("--rules", *RULES, "--orders", str(centroid_orders(tmp_path)), "--drivers", "30")
    asked = (*common, "--seed", "2", "--centroid-spread", "0.5", "--boarding-s", "30")
    printed = simulate(*asked)
    saved = simulate(*asked, "--save")
    run = SimulationRun.objects.get()
    assert run.status == SimulationRun.Status.SUCCEEDED
    assert run.sim_params["centroid_spread"] == 0.5 and run.sim_params["boarding_s"] == 30
    # The stored run simulated what the command was asked (before, it dropped the spread) ...
    assert saved.partition("\nStored as")[0].rstrip("\n") == printed.rstrip("\n")
    # ... which the spread visibly changes on trip ends that share points.
    assert simulate(*common, "--seed", "2", "--boarding-s", "30") != printed
    services.run_execute(run_id=run.pk)
    replayed = SimulationRun.objects.get()
    assert [s["metrics"] for s in replayed.results["rule_sets"]] == [
        s["metrics"] for s in run.results["rule_sets"]
    ]


def test_save_refuses_a_speed_profile_file(tmp_path, city):
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps([20.0] * 24))
    with pytest.raises(CommandError, match="--speed-profile cannot be stored with --save"):
        simulate("--rules", *RULES, "--synthetic", *TINY, "--save", "--speed-profile", str(profile))
    assert not SimulationRun.objects.exists() and not RuleSet.objects.exists()


def size_fleet(*args) -> str:
    out = io.StringIO()
    call_command("dispatch", "size-fleet", *args, "--no-progress", stdout=out)
    return out.getvalue()


SMALL = ["--orders-count", "150", "--start-hour", "8", "--hours", "1"]


def test_size_fleet_prints_the_fleet_and_the_steps():
    text = size_fleet("--rules", RULES[0], "--synthetic", *SMALL, "--target", "0.8")
    head, _, steps = text.partition("Steps (drivers, served share):")
    assert head.startswith("Fleet size: ") and "target 80.0%: reached" in head
    rows = [line.split() for line in steps.strip().splitlines()]
    assert len(rows) >= 2
    needed = int(head.split()[2])
    shares = {int(n): float(s.rstrip("%")) for n, s in rows}
    assert shares[needed] >= 80.0  # the reported fleet meets the target ...
    assert all(share < 80.0 for n, share in shares.items() if n < needed)  # ... and is smallest


@pytest.mark.parametrize(
    "extra, message",
    [(["--target", "1.5"], "--target"), (["--seeds", "0"], "--seeds")],
)
def test_size_fleet_refuses_bad_arguments(extra, message):
    with pytest.raises(CommandError, match=message):
        size_fleet("--rules", RULES[0], "--synthetic", *SMALL, *extra)


def test_simulate_with_seeds_prints_intervals_and_the_first_seed_table():
    one = simulate("--rules", *RULES, "--synthetic", *TINY, "--seed", "3", "--idle", "stay")
    many = simulate(
        "--rules", *RULES, "--synthetic", *TINY, "--seed", "3", "--idle", "stay", "--seeds", "3"
    )
    assert many.startswith(one.rstrip("\n"))  # seed 3 comes first, so its table is unchanged
    assert "Mean over 3 seeds" in many and "mean_bonus_m" not in many
    assert "mean_wait_s" in many and "*" in many  # the bonus changes pickups significantly


def test_simulate_random_fleet_cannot_be_saved():
    with pytest.raises(CommandError, match="--fleet demand"):
        simulate("--rules", *RULES, "--synthetic", *TINY, "--fleet", "random", "--save")


def test_speed_profile_file_slows_every_trip(tmp_path):
    """A profile of 10 km/h everywhere must lengthen waits against the default 30 km/h."""
    slow = tmp_path / "slow.json"
    slow.write_text(json.dumps([10.0] * 24))

    def mean_wait(text: str) -> float:
        line = next(x for x in text.splitlines() if x.startswith("mean wait (s)"))
        return float(line.split()[3])

    default = simulate("--rules", *RULES, "--synthetic", *TINY, "--seed", "3")
    slowed = simulate(
        "--rules", *RULES, "--synthetic", *TINY, "--seed", "3", "--speed-profile", str(slow)
    )
    assert mean_wait(slowed) > mean_wait(default)


@pytest.mark.parametrize("content", ["[1, 2, 3]", "{nope", "[0] "])
def test_speed_profile_file_must_hold_24_positive_speeds(tmp_path, content):
    path = tmp_path / "profile.json"
    path.write_text(content)
    with pytest.raises(CommandError, match=r"profile\.json"):
        simulate("--rules", *RULES, "--synthetic", *TINY, "--speed-profile", str(path))
