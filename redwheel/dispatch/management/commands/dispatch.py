"""`manage.py dispatch simulate`: compare rule sets from JSON files on the same demand.

    manage.py dispatch simulate --rules docs/examples/rules-baseline.json \
        docs/examples/rules-incentive.json --synthetic --orders-count 20000 --drivers 3000 \
        --start-hour 12 --hours 5 --seed 2026 [--save]

    manage.py dispatch size-fleet --rules docs/examples/rules-incentive.json --synthetic \
        --orders-count 5000 --target 0.95 [--seeds 3] [--idle observed] [--fleet demand] \
        [--centroid-spread 0.5] [--balance-forecast profile] [--response-s 0] [--boarding-s 60]

The first rule set is the baseline. `--seeds N` runs every rule set on N seeds and adds each
metric's mean with its 95 % interval and the paired difference against the baseline (`*` marks a
significant one). Prints the engine's comparison table; `--save` also stores
the rule sets (as drafts, unless already stored with the same name, version and parameters)
and a succeeded SimulationRun that the sandbox pages show, in one city: `--city` (the region
code or name of the city's committee, the root unit), which may be left out when the database
holds one city. The stored run keeps the simulated environment (idle policy, forecast, response
and boarding time, centroid spread) so it replays what was simulated; it takes its speed
profile from the city's trips, so `--speed-profile` cannot be combined with `--save`. The
command acts as an operator (`SystemActor.operator`).
"""

import dataclasses
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.urls import reverse
from tqdm import tqdm

from redwheel.core.commands import command_errors
from redwheel.core.errors import DomainError
from redwheel.core.permissions import SystemActor
from redwheel.dispatch import engine, services
from redwheel.dispatch.engine import uncertainty
from redwheel.dispatch.models import SimulationRun
from redwheel.dispatch.permissions import city_for
from redwheel.dispatch.services import runs
from redwheel.dispatch.services.sizing import FLEET_PLACEMENTS, fleet_factory, fleet_size
from redwheel.orgs.models import OrgUnit

ACTOR = SystemActor.operator("manage.py dispatch")


def _city(value: str) -> OrgUnit:
    """The city (root unit) the stored rule sets and run belong to."""
    if value:
        roots = OrgUnit.objects.filter(parent__isnull=True)
        found = list(roots.filter(Q(region_code=value) | Q(name=value))[:2])
        if len(found) != 1:
            raise CommandError(f"--city {value}: no single city committee with that code or name")
        return found[0]
    try:
        return city_for(ACTOR)
    except DomainError:
        raise CommandError("--save needs --city: the database holds no city or several") from None


def _load_rules(path: str, window: float | None) -> engine.RuleSet:
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"rules file not found: {path}")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError(f"{path}: a rule set must be a JSON object")
    try:
        rules = engine.RuleSet.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise CommandError(f"{path}: invalid rule set: {exc}") from None
    if window:
        rules = dataclasses.replace(rules, window_s=window)
    return rules


class Command(BaseCommand):
    help = (
        "Dispatch sandbox tools: `simulate` compares rule sets on the same demand; "
        "`size-fleet` finds the fleet that serves a target share of it."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sim = sub.add_parser("simulate", help="Compare rule sets (the first is the baseline).")
        sim.add_argument("--rules", nargs="+", required=True, metavar="FILE")
        self._common_arguments(sim)
        sim.add_argument("--save", action="store_true", help="store the run for the sandbox")
        sim.add_argument("--city", default="", help="with --save: the city's region code or name")
        sim.add_argument("--title", default="", help="title of the stored run")
        size = sub.add_parser("size-fleet", help="Smallest fleet serving a target share.")
        size.add_argument("--rules", required=True, metavar="FILE")
        size.add_argument("--target", type=float, default=0.95, help="served share to reach (0-1)")
        self._common_arguments(size, seeds=1)

    def _common_arguments(self, sim, seeds: int = 1):
        source = sim.add_mutually_exclusive_group(required=True)
        source.add_argument("--orders", metavar="FILE", help="CSV of orders")
        source.add_argument("--synthetic", action="store_true", help="seeded synthetic demand")
        sim.add_argument("--orders-count", type=int, default=20_000)
        sim.add_argument("--drivers", type=int, default=2_000)
        sim.add_argument("--seed", type=int, default=0)
        sim.add_argument("--window", type=float, default=None, help="override window_s (s)")
        sim.add_argument("--start-hour", type=float, default=7.0, help="synthetic period start")
        sim.add_argument(
            "--hours", type=float, default=None, help="period length (default: 3 h synthetic)"
        )
        sim.add_argument(
            "--seeds", type=int, default=seeds, help="number of seeds (from --seed upwards)"
        )
        sim.add_argument(
            "--idle",
            default=runs.DEFAULT_IDLE_POLICY,
            choices=runs.IDLE_POLICIES,
            help=f"what idle drivers do (default {runs.DEFAULT_IDLE_POLICY})",
        )
        sim.add_argument(
            "--balance-forecast",
            default=runs.DEFAULT_BALANCE_FORECAST,
            choices=runs.BALANCE_FORECASTS,
            help="what --idle balance/observed shares drivers out by: the time-of-day profile "
            "(default) or the actual next orders (clairvoyant)",
        )
        sim.add_argument(
            "--response-s",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help=f"driver response time between match and setting off, 0-{runs.MAX_RESPONSE_S} "
            "(default 0: off)",
        )
        sim.add_argument(
            "--boarding-s",
            type=float,
            default=runs.DEFAULT_BOARDING_S,
            metavar="SECONDS",
            help=f"kerb time from the driver's arrival to the passenger aboard, "
            f"0-{runs.MAX_BOARDING_S}: driver's busy time, not passenger's wait "
            f"(default {runs.DEFAULT_BOARDING_S:g}; 0: off)",
        )
        sim.add_argument(
            "--fleet",
            default="demand",
            choices=FLEET_PLACEMENTS,
            help="drivers placed after the demand, or at random hotspots",
        )
        sim.add_argument(
            "--speed-profile",
            default=None,
            help="JSON file of 24 hourly speeds in km/h (default: the city's trips, else 30)",
        )
        sim.add_argument(
            "--centroid-spread",
            type=float,
            default=0.0,
            help="spread trip ends that share a point (area centroids) over a disc of this "
            f"fraction of the distance to the nearest other point, 0-{runs.MAX_CENTROID_SPREAD:g}, "
            "e.g. 0.5 (default 0: off)",
        )
        sim.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        if not services.MIN_SEEDS <= options["seeds"] <= services.MAX_SEEDS:
            raise CommandError(
                f"--seeds must be between {services.MIN_SEEDS} and {services.MAX_SEEDS}"
            )
        if options["action"] == "size-fleet":
            self.size_fleet(options)
        else:
            self.simulate(options)

    def _progress_bar(self, o, desc: str):
        bar = None
        if not o["no_progress"]:
            bar = tqdm(total=100, unit="%", desc=desc, file=sys.stderr, leave=False)

        def progress(fraction: float) -> None:
            if bar is not None:
                bar.update(max(0, int(fraction * 100) - bar.n))

        return bar, progress

    def size_fleet(self, o):
        if not 0.0 < o["target"] <= 1.0:
            raise CommandError("--target must be a share between 0 and 1, e.g. 0.95")
        rules = _load_rules(o["rules"], o["window"])
        run = self._run(o)
        bar, progress = self._progress_bar(o, "sizing")
        try:
            with command_errors():
                orders, t0, t1, bbox = services.demand_build(run)
                if not len(orders):
                    raise CommandError("the chosen period has no orders")
                config = _with_speed_profile(runs.sim_config(run.sim_params), o)
                result = fleet_size(
                    rules,
                    orders,
                    fleet_factory(o["fleet"], orders, bbox, t0, t1),
                    target=o["target"],
                    seeds=uncertainty.seeds_from(o["seed"], o["seeds"]),
                    config=config,
                    progress=progress,
                )
        finally:
            if bar is not None:
                bar.close()
        verdict = "reached" if result.reached else "NOT reached"
        self.stdout.write(
            f"Fleet size: {result.n_drivers} drivers serve {100 * result.served_share:.1f}% of "
            f"{len(orders)} orders (target {100 * result.target:.1f}%: {verdict}; "
            f"{o['seeds']} seed(s), idle policy {o['idle']}, forecast {o['balance_forecast']}, "
            f"response {o['response_s']:g} s, boarding {o['boarding_s']:g} s, "
            f"centroid spread {o['centroid_spread']:g}, fleet {o['fleet']})"
        )
        self.stdout.write("Steps (drivers, served share):")
        for n, share in result.steps:
            self.stdout.write(f"  {n:>8}  {100 * share:6.2f}%")

    def simulate(self, o):
        if len(o["rules"]) < 2:
            raise CommandError("give at least two rule sets: the baseline first")
        if o["window"] is not None and o["window"] <= 0:
            raise CommandError("--window must be positive")
        rules = [_load_rules(path, o["window"]) for path in o["rules"]]
        if len({(r.name, r.version) for r in rules}) != len(rules):
            raise CommandError("each rule set needs a distinct name and version")
        if o["save"] and o["fleet"] != "demand":
            raise CommandError("--save stores demand-following fleets only (--fleet demand)")
        if o["save"] and o["speed_profile"]:
            # A stored run replays with its city's speed profile from data; keeping quiet about
            # the file would store a run that does not replay what was printed.
            raise CommandError(
                "--speed-profile cannot be stored with --save: a stored run takes its city's "
                "speed profile from the trips; leave out one of them"
            )
        run = self._run(o)
        city = _city(o["city"]) if o["save"] else None
        bar, progress = self._progress_bar(o, "simulating")
        try:
            with command_errors():
                if o["save"]:
                    replicated = self._save_and_run(run, rules, progress, city)
                else:
                    inputs = services.inputs_build(run, actor=ACTOR)
                    names = [r.name for r in rules]
                    rules = [
                        r
                        if names.count(r.name) == 1
                        else dataclasses.replace(r, name=f"{r.name}@{r.version}")
                        for r in rules
                    ]
                    fleet = inputs.fleet
                    if o["fleet"] == "random":
                        orders, t0, t1, bbox = services.demand_build(run)
                        fleet = fleet_factory("random", orders, bbox, t0, t1)(len(fleet), run.seed)
                    replicated = uncertainty.replicate(
                        rules,
                        (inputs.orders, fleet),
                        services.run_seeds(run),
                        config=_with_speed_profile(services.run_config(run, inputs), o),
                        processes=1,
                        progress=progress,
                    )
        finally:
            if bar is not None:
                bar.close()
        comparison = replicated.comparisons[0]
        self.stdout.write(engine.format_comparison_table(comparison))
        if len(replicated.seeds) > 1:
            self.stdout.write("\n" + _intervals_table(replicated))
        if o["save"]:
            url = reverse("dispatch:run_detail", args=[run.pk])
            self.stdout.write(f"\nStored as simulation run {run.pk}: {url}")

    def _run(self, o) -> SimulationRun:
        """An unsaved run describing the demand and fleet (saved only with --save)."""
        if o["orders_count"] < 1 or o["drivers"] < 1:
            raise CommandError("--orders-count and --drivers must be positive")
        if o["synthetic"]:
            hours = o["hours"] or 3.0
            if not (0 <= o["start_hour"] < 24 and hours > 0 and o["start_hour"] + hours <= 24):
                raise CommandError("the period (--start-hour, --hours) must lie within one day")
            demand = SimulationRun.Demand.SYNTHETIC
            params = {"orders": o["orders_count"], "start_hour": o["start_hour"], "hours": hours}
            text = ""
        else:
            path = Path(o["orders"])
            if not path.is_file():
                raise CommandError(f"orders file not found: {o['orders']}")
            try:
                text = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError:
                raise CommandError(f"{o['orders']}: not UTF-8 text") from None
            try:
                engine.load_orders_csv(text.splitlines())
            except ValueError as exc:
                raise CommandError(f"{o['orders']}: {exc}") from None
            demand = SimulationRun.Demand.CSV
            params = {"hours": o["hours"]} if o["hours"] else {}
        with command_errors():
            sim_params = runs.sim_params_clean(
                o["seeds"],
                o["idle"],
                o["balance_forecast"],
                o["response_s"],
                o["boarding_s"],
                o["centroid_spread"],
            )
        return SimulationRun(
            title=o.get("title", ""),
            demand_source=demand,
            demand_params=params,
            orders_csv=text,
            fleet_source=SimulationRun.FleetSource.SYNTHETIC,
            fleet_params={"drivers": o["drivers"]},
            seed=o["seed"],
            sim_params=sim_params,
        )

    def _save_and_run(self, run: SimulationRun, rules, progress, city: OrgUnit):
        stored = [services.ruleset_import(actor=ACTOR, rules=r, city=city) for r in rules]
        saved = services.run_create(
            actor=ACTOR,
            city=city,
            title=run.title or " vs ".join(str(r) for r in stored),
            description="manage.py dispatch simulate",
            rule_sets=stored,
            demand_source=run.demand_source,
            demand_params=run.demand_params,
            orders_csv=run.orders_csv,
            fleet_source=run.fleet_source,
            fleet_params=run.fleet_params,
            seed=run.seed,
            **{key: run.sim_params[key] for key in runs.SIM_CHOICES},
            enqueue=False,
        )
        run.pk = saved.pk
        replicated = services.run_execute(run_id=saved.pk, progress=progress)
        if replicated is None:
            saved.refresh_from_db()
            raise CommandError(f"the run failed: {saved.error}")
        return replicated


INTERVAL_METRICS = (
    "mean_wait_s",
    "p90_wait_s",
    "mean_pickup_m",
    "unserved_pct",
    "driver_utilisation",
    "income_per_driver",
    "income_gini",
    "top_quintile_order_share_pct",
)


def _intervals_table(replicated) -> str:
    """Mean ± 95 % half-width per metric and rule set, and the paired difference against the
    baseline (`*`: significant, the interval excludes zero)."""
    names = replicated.rule_names
    lines = [
        f"Mean over {len(replicated.seeds)} seeds ± 95% half-width; "
        "difference vs the baseline (* = significant)"
    ]
    lines.append(f"{'metric':<30}" + "".join(f"{n[:30]:>34}" for n in names))
    for metric in INTERVAL_METRICS:
        if metric not in replicated.metric_intervals[names[0]]:
            continue
        cells = []
        for i, name in enumerate(names):
            iv = replicated.metric_intervals[name][metric]
            text = f"{iv.mean:.3f} ± {iv.half_width:.3f}"
            if i:
                diff = replicated.difference_intervals[name][metric]
                mark = "*" if replicated.significant(name, metric) else " "
                text += f" ({diff.mean:+.3f}{mark})"
            cells.append(f"{text:>34}")
        lines.append(f"{metric:<30}" + "".join(cells))
    return "\n".join(lines)


def _speed_profile(o) -> tuple[float, ...] | None:
    if not o["speed_profile"]:
        return None
    try:
        values = json.loads(Path(o["speed_profile"]).read_text())
        return tuple(float(v) for v in values)
    except (OSError, ValueError, TypeError) as exc:
        raise CommandError(f"{o['speed_profile']}: not a JSON list of 24 speeds ({exc})") from exc


def _with_speed_profile(config, o):
    """`config` with the command's speed profile, if it was given one."""
    profile = _speed_profile(o)
    if profile is None:
        return config
    try:
        return dataclasses.replace(config, speed_profile_kmh=profile)
    except ValueError as exc:
        raise CommandError(f"{o['speed_profile']}: {exc}") from exc
