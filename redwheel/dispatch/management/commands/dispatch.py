"""`manage.py dispatch simulate`: compare rule sets from JSON files on the same demand.

    manage.py dispatch simulate --rules docs/examples/rules-baseline.json \
        docs/examples/rules-incentive.json --synthetic --orders-count 20000 --drivers 3000 \
        --start-hour 12 --hours 5 --seed 2026 [--save]

The first rule set is the baseline. Prints the engine's comparison table; `--save` also stores
the rule sets (as drafts, unless already stored with the same name, version and parameters)
and a succeeded SimulationRun that the sandbox pages show, in one city: `--city` (the region
code or name of the city's committee, the root unit), which may be left out when the database
holds one city. The command acts as an operator (`SystemActor.operator`).
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
from redwheel.dispatch.models import SimulationRun
from redwheel.dispatch.permissions import city_for
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
    help = "Dispatch sandbox tools: `simulate` compares rule sets on the same demand."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sim = sub.add_parser("simulate", help="Compare rule sets (the first is the baseline).")
        sim.add_argument("--rules", nargs="+", required=True, metavar="FILE")
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
        sim.add_argument("--save", action="store_true", help="store the run for the sandbox")
        sim.add_argument("--city", default="", help="with --save: the city's region code or name")
        sim.add_argument("--title", default="", help="title of the stored run")
        sim.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        if options["action"] != "simulate":  # pragma: no cover - argparse enforces the choice
            raise CommandError("unknown action")
        self.simulate(options)

    def simulate(self, o):
        if len(o["rules"]) < 2:
            raise CommandError("give at least two rule sets: the baseline first")
        if o["window"] is not None and o["window"] <= 0:
            raise CommandError("--window must be positive")
        rules = [_load_rules(path, o["window"]) for path in o["rules"]]
        if len({(r.name, r.version) for r in rules}) != len(rules):
            raise CommandError("each rule set needs a distinct name and version")
        run = self._run(o)
        city = _city(o["city"]) if o["save"] else None
        bar = None
        if not o["no_progress"]:
            bar = tqdm(total=100, unit="%", desc="simulating", file=sys.stderr, leave=False)

        def progress(fraction: float) -> None:
            if bar is not None:
                bar.update(max(0, int(fraction * 100) - bar.n))

        try:
            with command_errors():
                if o["save"]:
                    comparison = self._save_and_run(run, rules, progress, city)
                else:
                    inputs = services.inputs_build(run, actor=ACTOR)
                    names = [r.name for r in rules]
                    rules = [
                        r
                        if names.count(r.name) == 1
                        else dataclasses.replace(r, name=f"{r.name}@{r.version}")
                        for r in rules
                    ]
                    comparison = engine.compare(
                        rules, inputs.orders, inputs.fleet, seed=run.seed, progress=progress
                    )
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(engine.format_comparison_table(comparison))
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
        return SimulationRun(
            title=o["title"],
            demand_source=demand,
            demand_params=params,
            orders_csv=text,
            fleet_source=SimulationRun.FleetSource.SYNTHETIC,
            fleet_params={"drivers": o["drivers"]},
            seed=o["seed"],
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
            enqueue=False,
        )
        run.pk = saved.pk
        comparison = services.run_execute(run_id=saved.pk, progress=progress)
        if comparison is None:
            saved.refresh_from_db()
            raise CommandError(f"the run failed: {saved.error}")
        return comparison
