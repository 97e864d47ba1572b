"""Reads for recruitment pages, the API, exports and the driver home. All take the viewer."""

from datetime import timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from redwheel.core.dates import local_date
from redwheel.core.permissions import scope
from redwheel.drivers import selectors as driver_selectors
from redwheel.drivers.models import Category, Driver, Membership
from redwheel.orgs.models import OrgUnit
from redwheel.party.recruitment.models import (
    OPEN_STATES,
    Case,
    CasePerson,
    PipelineStep,
    PipelineVersion,
    State,
)
from redwheel.party.recruitment.services.common import is_committee_staff, steps_of

SOON = timedelta(days=14)
# Registers (花名册) by stage: which steps a case is at for each register.
REGISTERS = (
    ("applicants", range(1, 4)),  # 入党申请人: steps 1–3 (not yet an activist)
    ("activists", range(4, 8)),  # 入党积极分子
    ("candidates", range(8, 16)),  # 发展对象
)


def _people() -> Prefetch:
    return Prefetch("people", queryset=CasePerson.objects.select_related("member"))


def case_list(
    viewer, *, q: str = "", branch: OrgUnit | None = None, state: str = "", stage=None,
    overdue: bool = False,
) -> QuerySet:  # fmt: skip
    qs = scope(viewer, "view", Case.objects.all())
    if q.strip():
        qs = qs.filter(driver__name__icontains=q.strip())
    if branch is not None:
        qs = qs.filter(branch__path__startswith=branch.path)
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state:
        qs = qs.filter(state=state)
    if stage:
        numbers = PipelineStep.objects.filter(stage=stage).values("number")
        qs = qs.filter(current_step__in=numbers.distinct())
    if overdue:
        qs = qs.filter(state__in=OPEN_STATES, due_on__lt=local_date())
    return qs.select_related("driver", "branch", "version").order_by("due_on", "-created_at", "-id")


def case_detail(viewer, pk: int, action: str = "view") -> Case:
    case = (
        scope(viewer, action, Case.objects.all())
        .select_related("driver", "branch", "version", "version__city")
        .prefetch_related(_people(), "materials")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    return case


def timeline(case: Case) -> list:
    return list(case.activities.select_related("actor").order_by("at", "id"))


def completions(case: Case) -> list:
    return list(case.completions.order_by("step", "id"))


def branch_choices(viewer) -> QuerySet:
    """Branches the viewer may open cases in or filter by."""
    return scope(viewer, "view", OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH)).order_by("path")


def member_choices(case: Case) -> QuerySet:
    """Verified full members of the case's branch (mentor and sponsor candidates)."""
    memberships = Membership.objects.filter(
        Q(branch=case.branch) | Q(mobile_branch=case.branch),
        state=Membership.State.VERIFIED,
        category=Category.FULL,
    ).values("driver_id")
    return Driver.objects.filter(pk__in=memberships).exclude(pk=case.driver_id).order_by("name")


def is_overdue(case: Case, today=None) -> bool:
    today = today or local_date()
    return case.is_open and case.due_on is not None and case.due_on < today


# Pipeline versions -----------------------------------------------------------------------------


def city_roots(viewer) -> list[OrgUnit]:
    """Cities whose root the viewer holds a grant on (they read the pipeline)."""
    return list(scope(viewer, "view", OrgUnit.objects.filter(parent__isnull=True)))


def committee_cities(viewer) -> list[OrgUnit]:
    """Cities whose pipeline the viewer edits: committee staff (a `staff` grant on the root)."""
    return [city for city in city_roots(viewer) if is_committee_staff(viewer, city)]


def versions(viewer) -> QuerySet:
    cities = city_roots(viewer)
    return (
        scope(viewer, "view", PipelineVersion.objects.filter(city__in=cities))
        .select_related("city")
        .order_by("city__path", "-number")
    )


def version_detail(viewer, pk: int) -> PipelineVersion:
    version = versions(viewer).filter(pk=pk).first()
    if version is None:
        raise Http404
    return version


def step_for_edit(viewer, pk: int) -> PipelineStep:
    step = (
        PipelineStep.objects.filter(version__in=versions(viewer), pk=pk)
        .select_related("version", "version__city")
        .first()
    )
    if step is None:
        raise Http404
    return step


# The driver's own ------------------------------------------------------------------------------


def own_case(user) -> Case | None:
    """The signed-in person's latest case (open first), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        scope(user, "view", Case.objects.filter(driver__user=user))
        .select_related("driver", "branch", "version")
        .prefetch_related(_people(), "materials")
        .order_by("-created_at", "-id")
        .first()
    )


def apply_branches(driver: Driver) -> QuerySet:
    """Branches of the driver's city a driver may apply to, mobile-member branches included."""
    regular = driver_selectors.declarable_branches(driver).filter(kind=OrgUnit.Kind.BRANCH)
    mobile = driver_selectors.city_mobile_branches(driver)
    return OrgUnit.objects.filter(Q(pk__in=regular.values("pk")) | Q(pk__in=mobile.values("pk")))


def next_steps(case: Case, count: int = 3) -> list[PipelineStep]:
    steps = steps_of(case.version)
    return [
        steps[n] for n in range(case.current_step, min(26, case.current_step + count)) if n in steps
    ]


def me_summary(user) -> dict | None:
    """The short card of the driver's /me/party/ index: the current step and when it is due."""
    case = own_case(user)
    if case is None:
        return None
    step = steps_of(case.version).get(case.current_step)
    return {
        "case": case,
        "state": case.get_state_display(),
        "step": step,
        "due_on": case.due_on if case.is_open else None,
        "overdue": is_overdue(case),
        "joined_party_on": case.joined_party_on,
        "probation_ends_on": case.probation_ends_on,
    }


def registers(viewer, branch: OrgUnit | None = None) -> dict[str, list[Case]]:
    """The branch registers: applicants, activists, candidates (by current step of open cases)
    and probationary members (probation or extended)."""
    qs = case_list(viewer, branch=branch, state="open").prefetch_related(_people())
    found = {name: [] for name, _steps in REGISTERS}
    found["probationary"] = []
    for case in qs.order_by("branch__path", "applied_on", "id"):
        if case.state in (State.PROBATION, State.EXTENDED):
            found["probationary"].append(case)
            continue
        for name, steps in REGISTERS:
            if case.current_step in steps:
                found[name].append(case)
    return found
