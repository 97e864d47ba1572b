"""Demo recruitment: in branches of the demo city, applicants at several steps (one overdue),
activists with mentors, a development candidate with sponsors and a probationary member, all
through the services with back-dated step dates (no timestamps are faked)."""

import random
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count, Q

from redwheel.core.dates import local_date
from redwheel.drivers.models import Driver, Membership
from redwheel.orgs.models import OrgUnit
from redwheel.party.recruitment import services
from redwheel.party.recruitment.models import Case

DEMO_AFTER = ("city",)

PDF = "%PDF-1.4\n% RedWheel demo: 入党申请书\n%%EOF\n".encode()
# Days after the application on which each step is done (the rules' intervals respected).
OFFSETS = {
    2: 20, 3: 40, 4: 50, 5: 55, 6: 60, 7: 420, 8: 425, 9: 430, 10: 435, 11: 440, 12: 445,
    13: 450, 14: 455, 15: 460, 16: 470, 17: 480, 18: 490,
}  # fmt: skip
VALUES = {
    2: {"talker": "支部书记"},
    3: {"method": "党员推荐"},
    10: {"conclusion": "合格"},
    11: {"days": 3, "hours": 24},
    15: {"members_present": 11, "votes_for": 11},
}
# (days since the application, the last step done): applicants (one overdue), activists,
# a candidate, a probationary member.
STORIES = [(10, 1), (45, 1), (25, 2), (200, 5), (260, 6), (520, 10), (640, 18)]


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def build_demo(demo) -> bool:
    city = demo.city
    if Case.objects.filter(branch__path__startswith=city.path).exists():
        return False
    rng = random.Random(demo.seed)
    full = Q(memberships__state="verified", memberships__category="full")
    branches = list(
        OrgUnit.objects.filter(path__startswith=city.path, kind=OrgUnit.Kind.BRANCH)
        .annotate(members=Count("memberships", filter=full))
        .filter(members__gte=2)
        .order_by("path")
    )
    if not branches:
        demo.say("recruitment: no branch with two full members; nothing to do")
        return False
    today, actor, made = local_date(), demo.committee, 0
    with transaction.atomic():
        for index, (age, last) in enumerate(STORIES):
            branch = branches[index % len(branches)]
            driver = (
                Driver.objects.filter(user__isnull=False, membership__isnull=True)
                .filter(Q(branch=branch) | Q(affiliations__platform__city=city))
                .exclude(recruitment_cases__isnull=False)
                .order_by("id")
                .distinct()
                .first()
            )
            if driver is None:
                continue
            start = today - timedelta(days=age)
            case = services.case_apply(
                actor=driver.user, driver=driver, branch=branch, applied_on=start,
                letter=_pdf("入党申请书.pdf"),
            )  # fmt: skip
            members = list(
                Driver.objects.filter(
                    membership__branch=branch,
                    membership__state=Membership.State.VERIFIED,
                    membership__category="full",
                ).order_by("id")
            )
            rng.shuffle(members)
            while case.current_step <= last:
                n = case.current_step
                if n == 5:
                    services.case_people_set(
                        actor=actor, case=case, role="mentor", members=members[:2]
                    )
                if n == 9:
                    services.case_people_set(
                        actor=actor, case=case, role="sponsor", members=members[:2]
                    )
                case = services.case_step_complete(
                    actor=actor, case=case, done_on=start + timedelta(days=OFFSETS[n]),
                    values=VALUES.get(n, {}),
                    uploads={"vetting": _pdf("政审.pdf")} if n == 10 else {},
                )  # fmt: skip
            made += 1
    demo.say(f"recruitment: {made} cases in {len(branches)} branches")
    return made > 0
