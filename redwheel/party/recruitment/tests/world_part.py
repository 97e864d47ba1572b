"""One object of every recruitment model for the tenancy world (redwheel/tests/world.py)."""

from datetime import timedelta

from redwheel.core.dates import local_date
from redwheel.party.recruitment import services
from redwheel.party.recruitment.models import DigestSent
from redwheel.party.recruitment.tests.helpers import pdf


def build(world, operator) -> None:
    city = world.city
    applicant = city.driver(f"{world.marker}发展对象")
    case = services.case_apply(
        actor=operator,
        driver=applicant,
        branch=applicant.branch,
        applied_on=local_date() - timedelta(days=60),
        letter=pdf(),
    )
    case = services.case_step_complete(
        actor=operator, case=case, done_on=local_date() - timedelta(days=50),
        values={"talker": f"{world.marker}书记"},
    )  # fmt: skip
    case = services.case_step_complete(
        actor=operator, case=case, done_on=local_date() - timedelta(days=40),
        values={"method": "党员推荐"},
    )  # fmt: skip
    services.case_people_set(actor=operator, case=case, role="mentor", members=[world.member])
    version = case.version
    draft = services.version_draft(actor=operator, version=version, note=f"{world.marker}草稿")
    world.add(case, version, draft, *version.steps.all()[:1], *draft.steps.all()[:1])
    world.add(*version.activities.all(), *case.activities.all(), *case.completions.all())
    world.add(*case.materials.all(), *case.people.all())
    secretary = next(o for o in world.objects if getattr(o, "display_name", "").endswith("书记"))
    world.add(DigestSent.objects.create(secretary=secretary, week="2000-W01"))
