"""Demo points, credit and scores: the scoring step of `manage.py demo` (idempotent).

Publishes rule book v1 (back-dated so that the demo's past events fall under it) and an
upcoming v2 that lowers one cap (so it is announced 30 days ahead), grants points through
`points_grant` for plausible events over the last 60 days (members more often), and stores
daily score snapshots for the last 14 days.
"""

import random
import sys
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core.dates import LOCAL_TZ
from redwheel.core.errors import Conflict
from redwheel.core.permissions import SystemActor
from redwheel.drivers.models import Driver, Membership
from redwheel.scoring import defaults, services
from redwheel.scoring.models import PointsEntry, RuleBook, ScoreSnapshot

V1_DAYS_AGO = 200
HISTORY_DAYS = 14
EVENTS = [  # rule, weight for members, weight for other drivers
    ("learning_course", 6, 1),
    ("volunteer_hour", 5, 1),
    ("emergency_call", 2, 0.3),
    ("lost_property", 1, 1),
    ("brave_deed", 0.1, 0.05),
    ("accepted_report", 2, 0.5),
    ("training_session", 2, 2),
]
# The rule book scores the month of operating data the demo loads.
DEMO_AFTER = ("operations",)


def build_demo(demo) -> bool:
    """The demo app's hook (docs/demo.md); `demo` is its DemoContext."""
    return build_demo_scoring(actor=demo.admin, seed=demo.seed, stdout=demo.out)


def build_demo_scoring(
    *, actor=None, seed: int = 2026, stdout=None, history_days: int = HISTORY_DAYS
) -> bool:
    """Publish, grant and snapshot whatever is not there yet, as `actor` (an operator by
    default). Returns True when it wrote anything."""
    out = stdout or sys.stdout
    rng = random.Random(seed)
    admin = actor or SystemActor.operator("demo")
    now = timezone.now()
    wrote = False
    if not RuleBook.objects.filter(status=RuleBook.Status.PUBLISHED).exists():
        v1 = defaults.draft_default(actor=admin)
        services.rulebook_publish(actor=admin, book=v1, now=now - timedelta(days=V1_DAYS_AGO))
        v2 = services.rulebook_draft(
            actor=admin,
            title="网约车司机积分与信誉规则（第二版）",
            change_note="培训积分每月上限由 10 分调整为 6 分；新增“无偿献血”积分。",
        )
        services.rule_set(
            actor=admin,
            book=v2,
            code="training_session",
            name="参加安全或服务培训",
            category="training",
            points=2,
            evidence="培训组织者确认的出勤记录",
            daily_cap=2,
            monthly_cap=6,
        )
        services.rule_set(
            actor=admin,
            book=v2,
            code="blood_donation",
            name="无偿献血",
            category="good_deed",
            points=5,
            evidence="献血证",
            monthly_cap=5,
        )
        services.rulebook_publish(actor=admin, book=v2)
        out.write(_("Published rule book v1 and announced v2.") + "\n")
        wrote = True
    granted = 0
    if not PointsEntry.objects.exists():
        members = set(
            Membership.objects.filter(state=Membership.State.VERIFIED).values_list(
                "driver_id", flat=True
            )
        )
        drivers = list(Driver.objects.order_by("id").values_list("id", flat=True))
        chosen = sorted(members | set(rng.sample(drivers, min(len(drivers), 300))))
        by_id = Driver.objects.in_bulk(chosen)
        for driver_id in chosen:
            member = driver_id in members
            for _n in range(rng.randint(3, 12) if member else rng.randint(0, 3)):
                codes = [e[0] for e in EVENTS]
                weights = [e[1] if member else e[2] for e in EVENTS]
                code = rng.choices(codes, weights)[0]
                at = now - timedelta(days=rng.uniform(0.2, 60))
                try:
                    services.points_grant(
                        actor=admin,
                        driver=by_id[driver_id],
                        rule_code=code,
                        occurred_at=at,
                        note="演示数据",
                    )
                    granted += 1
                except Conflict:
                    continue
        out.write(_("Granted %(count)d points entries.") % {"count": granted} + "\n")
        wrote = True
    today = timezone.localtime(now, LOCAL_TZ).date()
    stored = 0
    for back in range(history_days - 1, -1, -1):
        day = today - timedelta(days=back)
        # Today's snapshot included: a second run of the demo changes nothing (the periodic
        # job keeps today's scores current).
        if ScoreSnapshot.objects.filter(day=day).exists():
            continue
        stored += services.scores_snapshot(actor=SystemActor.operator("demo"), day=day).stored
    if stored:
        out.write(
            _("Stored %(count)d score snapshots. Rule book: %(url)s")
            % {"count": stored, "url": reverse("scoring:rules")}
            + "\n"
        )
    return wrote or bool(stored)
