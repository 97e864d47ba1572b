"""Demo evaluations: last year's round of the branch with the most members, recorded by the
committee, and this year's round of the next branch, with the vote under way.

Everything goes through the services, as the people themselves would: the secretary opens and
closes, each member writes and votes on their own account, the committee records.
"""

import random

from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from redwheel.accounts.models import Grant, Role
from redwheel.core.dates import local_date
from redwheel.drivers.models import PARTY_MEMBER_CATEGORIES, Membership
from redwheel.orgs.models import OrgUnit
from redwheel.party.evaluation import selectors, services
from redwheel.party.evaluation.models import Grade, Round

DEMO_AFTER = ()

SELF_ASSESSMENTS = [
    "今年坚持参加主题党日和网上党课，带头文明服务，全年无有效投诉。不足是夜班多，参加线下组织生活偏少。",
    "积极参加应急保障车队，春运期间连续两周在火车站接驳旅客。今后要加强理论学习。",
    "亮明党员身份接单，帮助新司机熟悉平台规则，参与驿站志愿服务。学习笔记记得不够系统。",
    "按时交纳党费，参加送考志愿活动。对平台规则变化的学习和宣讲还要主动一些。",
    "联系帮扶两名群众司机，协助解决诉求。个人服务分有波动，要改进接单习惯。",
]
# How members tend to grade each other: mostly qualified, some excellent, rarely lower.
WEIGHTS = {
    Grade.EXCELLENT: 0.3,
    Grade.QUALIFIED: 0.62,
    Grade.BASIC: 0.07,
    Grade.UNQUALIFIED: 0.01,
}


def _secretary(unit: OrgUnit, fallback):
    """Someone who would open the round: a secretary or organiser on the unit or above."""
    grant = (
        Grant.objects.filter(
            unit__path__in=[*unit.ancestor_paths(), unit.path],
            role__in=[Role.SECRETARY, Role.ORGANISER, Role.STAFF],
        )
        .select_related("user")
        .order_by("-unit__depth", "id")
        .first()
    )
    return grant.user if grant else fallback


def _branches(city: OrgUnit) -> list[OrgUnit]:
    """The demo city's two units with most verified members whose accounts can vote."""
    members = Q(
        memberships__state=Membership.State.VERIFIED,
        memberships__category__in=PARTY_MEMBER_CATEGORIES,
        memberships__driver__user__isnull=False,
    )
    return list(
        OrgUnit.objects.filter(path__startswith=city.path, kind__in=services.EVALUATING_KINDS)
        .annotate(members=Count("memberships", filter=members))
        .filter(members__gte=services.MIN_PARTICIPANTS)
        .order_by("-members", "path")[:2]
    )


def _vote(rnd: Round, rng: random.Random, share: float) -> int:
    voted = 0
    people = list(rnd.participants.select_related("driver__user"))
    for p in people:
        if p.driver.user is None or rng.random() > share:
            continue
        grades = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=len(people))
        choices = {o.pk: g for o, g in zip(people, grades, strict=True) if o.pk != p.pk}
        services.ballot_cast(actor=p.driver.user, round=rnd, choices=choices)
        voted += 1
    return voted


def _self_assess(rnd: Round, rng: random.Random, share: float) -> None:
    for p in rnd.participants.select_related("driver__user"):
        if p.driver.user is not None and rng.random() < share:
            services.self_assessment_save(
                actor=p.driver.user, participant=p, text=rng.choice(SELF_ASSESSMENTS)
            )


def build_demo(demo) -> bool:
    city = demo.city
    if Round.objects.filter(branch__path__startswith=city.path).exists():
        demo.say(_("Demo evaluations exist already; nothing to do."))
        return False
    branches = _branches(city)
    if not branches:
        demo.say(_("No branch has two members with accounts; no demo evaluation."))
        return False
    rng = random.Random(demo.seed)
    year = local_date().year
    with transaction.atomic():
        recorded = branches[0]
        secretary = _secretary(recorded, demo.admin)
        rnd = services.round_open(actor=secretary, branch=recorded, year=year - 1)
        _self_assess(rnd, rng, 0.9)
        services.round_start_voting(actor=secretary, round=rnd)
        voted = _vote(rnd, rng, 0.9)
        services.round_close(actor=secretary, round=rnd)
        for row in selectors.tally(secretary, rnd):
            grade = max(row.counts, key=row.counts.get) if row.counts else Grade.QUALIFIED
            services.conclusion_set(
                actor=secretary,
                participant=row.participant,
                grade=grade,
                note="经支部党员大会民主评议，支部委员会研究确定。",
            )
        services.round_record(actor=demo.committee, round=rnd, note="同意支部评议结果，予以备案。")
        demo.say(
            _("Evaluation %(year)s of %(branch)s recorded (%(voted)s members voted).")
            % {"year": year - 1, "branch": recorded.name, "voted": voted}
        )
        if len(branches) > 1:
            running = branches[1]
            secretary = _secretary(running, demo.admin)
            rnd = services.round_open(actor=secretary, branch=running, year=year)
            _self_assess(rnd, rng, 0.7)
            services.round_start_voting(actor=secretary, round=rnd)
            voted = _vote(rnd, rng, 0.4)
            demo.say(
                _("Evaluation %(year)s of %(branch)s: voting under way (%(voted)s voted).")
                % {"year": year, "branch": running.name, "voted": voted}
            )
    return True
