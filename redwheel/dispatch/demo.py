"""Demo sandbox: the dispatch step of `manage.py demo` (idempotent).

Publishes two rule sets, 零奖励基线 (zero-bonus baseline) and 服务质量激励 v1 (a service-quality
incentive whose bonus is capped at 400 m), and stores two succeeded runs comparing them: one on a
synthetic Chengdu afternoon (12:00-17:00, about 20,000 orders), one replaying the busiest day
of the city's ingested orders (when operating data has been loaded). The fleet is the
demo city's drivers with their composite scores when the scoring demo has stored scores, otherwise a
synthetic fleet of the same size; the run's description says which.

Everything belongs to the demo city (or, called without it, to the database's one city) and is
written through the services, as the demo city's committee staff member (an operator without
the demo city).
"""

import sys

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core.dates import LOCAL_TZ
from redwheel.core.permissions import SystemActor
from redwheel.dispatch import engine, services
from redwheel.dispatch.models import RuleSet, SimulationRun
from redwheel.dispatch.permissions import city_for, city_platforms
from redwheel.exchange.models import Trip
from redwheel.orgs.models import OrgUnit

BASELINE_NAME = "零奖励基线"
INCENTIVE_NAME = "服务质量激励"
RUN_TITLE = "成都午后需求：零奖励基线 vs 服务质量激励 v1"
REPLAY_TITLE = "演示城市一日真实订单回放：零奖励基线 vs 服务质量激励 v1"
ORDERS, START_HOUR, HOURS = 20_000, 12, 5
FALLBACK_DRIVERS = 3_200
# The replay uses the ingested orders; the fleet carries the stored composite scores.
DEMO_AFTER = ("operations", "scoring")

BASELINE_DESCRIPTION = (
    "对照组：不考虑司机综合分，每一单都派给最近的空闲司机（奖励上限 0 米）。"
    "疲劳规则：连续驾驶 4 小时须休息 20 分钟；累计驾驶 10 小时须休息 6 小时。"
)
INCENTIVE_DESCRIPTION = (
    "按司机综合分（服务质量、安全、信誉、志愿服务）给予派单加分，折算为距离，"
    "满分司机最多相当于近 400 米；任何司机都不会因为加分而抢走比他近 400 米以上的空闲司机的订单。"
    "疲劳规则与基线相同。"
)


def _url(run: SimulationRun) -> str:
    return reverse("dispatch:run_detail", args=[run.pk])


def _published(actor, city, name: str, description: str, rules: engine.RuleSet) -> RuleSet:
    existing = RuleSet.objects.filter(city=city, name=name, version=rules.version).first()
    if existing is None:
        existing = services.ruleset_create(
            actor=actor,
            city=city,
            name=name,
            version=rules.version,
            parameters=rules.to_dict(),
            description=description,
        )
    if not existing.is_published:
        existing = services.ruleset_publish(actor=actor, rule_set=existing, now=timezone.now())
    return existing


def _busiest_ingested_day(city):
    """The day with the most of the city's ingested trips that the replay can use, or None."""
    busiest = (
        Trip.objects.filter(
            platform__in=city_platforms(city), order_time__isnull=False, origin_lng__isnull=False
        )
        .annotate(day=TruncDate("order_time", tzinfo=LOCAL_TZ))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by("-n", "day")
        .first()
    )
    return (busiest["day"], busiest["n"]) if busiest else None


# Fewer seeds than a run's default keep `manage.py demo` fast; the descriptions say so.
DEMO_SEEDS = 3


def _store_run(
    out,
    actor,
    city,
    *,
    title,
    description,
    rule_sets,
    demand_source,
    demand_params,
    seed,
    real_fleet: bool,
) -> bool:
    runs = SimulationRun.objects.filter(city=city, title=title)
    done = runs.filter(status=SimulationRun.Status.SUCCEEDED)
    if done.exists():
        out.write(
            _("Demo sandbox run already stored: %(url)s") % {"url": _url(done.first())} + "\n"
        )
        return False
    # A failed or never-run earlier attempt stays in the history (runs with activity rows
    # cannot be deleted); a new run is stored next to it.

    rows, score_day = [], None
    if real_fleet:
        rows, score_day = services.drivers_fleet_rows(actor, city=city)
    scored = sum(1 for r in rows if r[1] is not None)
    if rows and scored:
        fleet_source, fleet_params = SimulationRun.FleetSource.DRIVERS, {}
        fleet_text = (
            f"车队：演示城市的 {len(rows)} 名司机，使用 {score_day} 的综合分"
            f"（{scored} 人有综合分，其余按 0 分计），党员身份取自已核实的党员信息；"
            "司机的位置和上线时段按随机种子生成。"
        )
    else:
        size = len(rows) or FALLBACK_DRIVERS
        fleet_source, fleet_params = SimulationRun.FleetSource.SYNTHETIC, {"drivers": size}
        fleet_text = (
            f"车队：与演示城市同等规模的 {size} 名合成司机（尚未运行积分演示，没有综合分），"
            "综合分和党员身份按随机种子生成。"
        )
    run = services.run_create(
        actor=actor,
        city=city,
        title=title,
        description=description
        + fleet_text
        + "两个规则集使用完全相同的订单、司机和乘客耐心，差别只来自派单规则。"
        + f"结果是 {DEMO_SEEDS} 个随机种子的平均值及其 95% 区间"
        + f"（为让演示保持快速，少于默认的 {services.DEFAULT_SEEDS} 个）；"
        + "空闲司机按各区域此时段通常的需求分散待命（需求稀少的区域也有司机）。",
        rule_sets=rule_sets,
        demand_source=demand_source,
        demand_params=demand_params,
        fleet_source=fleet_source,
        fleet_params=fleet_params,
        seed=seed,
        seeds=DEMO_SEEDS,
        # The default idle policy (balance) is the one calibrated against published
        # utilisation, so the demo shows what a new run would.
        enqueue=False,
    )
    out.write(_("Simulating the demo sandbox run “%(title)s”…") % {"title": title} + "\n")
    services.run_execute(run_id=run.pk, raise_errors=True)
    out.write(_("Demo sandbox run stored: %(url)s") % {"url": _url(run)} + "\n")
    return True


def build_demo(demo) -> bool:
    """The demo app's hook (docs/demo.md); `demo` is its DemoContext."""
    return build_demo_sandbox(
        seed=demo.seed, stdout=demo.out, actor=demo.committee, demo_city=demo.city
    )


def build_demo_sandbox(
    seed: int = 2026,
    stdout=None,
    *,
    actor=None,
    demo_city: OrgUnit | None = None,
    orders: int | None = None,
) -> bool:
    """Returns True if it stored a new run, False if the demo runs already existed.

    With `demo_city` (its committee unit) the runs belong to it and its drivers are the fleet;
    without, they belong to the database's one city and the fleet is synthetic. `actor` is
    an operator by default. `orders` exists for tests; the demo uses ORDERS (about 20,000,
    under a minute on a laptop)."""
    out = stdout or sys.stdout
    orders = ORDERS if orders is None else orders
    actor = actor or SystemActor.operator("demo")
    city = city_for(actor, demo_city)
    real_fleet = demo_city is not None
    baseline = _published(
        actor,
        city,
        BASELINE_NAME,
        BASELINE_DESCRIPTION,
        engine.RuleSet(name=BASELINE_NAME, version="1"),
    )
    incentive = _published(
        actor,
        city,
        INCENTIVE_NAME,
        INCENTIVE_DESCRIPTION,
        engine.RuleSet(name=INCENTIVE_NAME, version="1", score_weight=1.0, bonus_cap_m=400.0),
    )
    stored = _store_run(
        out,
        actor,
        city,
        title=RUN_TITLE,
        description=(
            "需求：成都中心城区 30×30 公里范围的合成订单，"
            f"{START_HOUR}:00–{START_HOUR + HOURS}:00，约 {orders} 单（随机种子 {seed}）。"
        ),
        rule_sets=[baseline, incentive],
        demand_source=SimulationRun.Demand.SYNTHETIC,
        demand_params={"orders": orders, "start_hour": START_HOUR, "hours": HOURS},
        seed=seed,
        real_fleet=real_fleet,
    )
    busiest = _busiest_ingested_day(city)
    if busiest is None:
        out.write(_("No ingested trips, so the replay run is skipped.") + "\n")
        return stored
    day, trips = busiest
    replayed = _store_run(
        out,
        actor,
        city,
        title=REPLAY_TITLE,
        description=(
            f"需求：回放演示城市 {day.isoformat()} 全天已接入的真实订单（{trips} 单，"
            "取自各平台上报的交换数据，订单时间、起点和终点不变）。"
        ),
        rule_sets=[baseline, incentive],
        demand_source=SimulationRun.Demand.EXCHANGE,
        demand_params={"day": day.isoformat()},
        seed=seed,
        real_fleet=real_fleet,
    )
    return stored or replayed
