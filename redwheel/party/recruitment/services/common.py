"""What the recruitment services share: the two state machines, who is committee staff, the
version in force, and recomputing a case's dates from its version's rules."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from redwheel.accounts.models import Grant, Role
from redwheel.core import audit
from redwheel.core.dates import local_date
from redwheel.core.errors import NotFound
from redwheel.core.permissions import acting_platform, is_unscoped
from redwheel.core.states import StateMachine, Transition
from redwheel.orgs.models import OrgUnit
from redwheel.party.recruitment import defaults, rules
from redwheel.party.recruitment.models import (
    OPEN_STATES,
    Case,
    CaseActivity,
    PipelineStep,
    PipelineVersion,
    PipelineVersionActivity,
    State,
    StepCompletion,
)

VState = PipelineVersion.State
VAction = PipelineVersionActivity.Action
Action = CaseActivity.Action

VERSION = StateMachine(
    activity_model=PipelineVersionActivity,
    parent_field="version",
    audit_prefix="recruitment.version",
    state_field="state",
    from_field="from_status",
    to_field="to_status",
    audit_summary=str,
    transitions={
        VAction.DRAFT: Transition({None}, VState.DRAFT),
        VAction.EDIT: Transition({VState.DRAFT}, None),
        VAction.PUBLISH: Transition({VState.DRAFT}, VState.PUBLISHED),
        VAction.RETIRE: Transition({VState.PUBLISHED}, VState.RETIRED, audit=False),
    },
)


def _over_limit(case: Case) -> bool:
    return bool(case.limit_on and local_date() > case.limit_on)


CASE = StateMachine(
    activity_model=CaseActivity,
    parent_field="case",
    audit_prefix="recruitment.case",
    state_field="state",
    from_field="from_status",
    to_field="to_status",
    audit_summary=lambda case: f"{case.driver.name} · {case.current_step}",
    # Notes may be about a person's political assessment: kept out of the audit log.
    note_in_audit=False,
    transitions={
        Action.APPLY: Transition({None}, State.ACTIVE),
        Action.COMPLETE: Transition({*OPEN_STATES, State.COMPLETED}, None),
        Action.MENTORS: Transition(OPEN_STATES, None),
        Action.SPONSORS: Transition(OPEN_STATES, None),
        Action.MATERIAL: Transition({*OPEN_STATES, State.COMPLETED}, None, audit=False),
        Action.PROBATION: Transition({State.ACTIVE}, State.PROBATION),
        Action.CONFIRM: Transition({State.PROBATION, State.EXTENDED}, State.COMPLETED),
        Action.EXTEND: Transition({State.PROBATION}, State.EXTENDED),
        Action.CANCEL: Transition(OPEN_STATES, State.CANCELLED),
        Action.RESTART: Transition(
            {State.PROBATION},
            State.ACTIVE,
            guard=_over_limit,
            refusal=gettext_lazy(
                "The procedure restarts only after the time limit for approval has passed."
            ),
            code="not_over_limit",
        ),
    },
)

# The membership category each step puts the person in (domain-rules §2).
CATEGORY_AT_STEP = {1: "applicant", 3: "activist", 7: "candidate", 15: "probationary"}
# Where a restart (step 16/17 not reported or approved in time) takes the case back to.
RESTART_STEP = 10
# Where an extended probation continues (继续教育考察).
EXTENSION_STEP = 21


def city_of(unit: OrgUnit) -> OrgUnit:
    return OrgUnit.objects.get(path=unit.path.split(".", 1)[0] + ".")


def is_committee_staff(principal, city: OrgUnit) -> bool:
    """Committee staff: a `staff` grant on the city's root itself (or an operator/superuser)."""
    if is_unscoped(principal):
        return True
    if acting_platform(principal) is not None or not getattr(principal, "is_authenticated", False):
        return False
    return Grant.objects.filter(
        user_id=principal.pk, user__is_active=True, unit=city, role=Role.STAFF
    ).exists()


def require_committee(actor, city: OrgUnit) -> None:
    if not is_committee_staff(actor, city):
        raise NotFound()


def person(principal):
    """The principal as a User row to store (recorded by, uploaded by), or None for machines."""
    return principal if audit._is_person(principal) else None


def build_default(city: OrgUnit, *, by, note: str) -> PipelineVersion:
    """Version 1 of a city from the seeded default, published, written as `by`. Internal: the
    callers have checked permission and that the city has no version yet."""
    version = PipelineVersion(city=city, number=1, note=note, created_by=person(by))
    VERSION.apply(version, VAction.DRAFT, actor=by, note=note)
    PipelineStep.objects.bulk_create(
        [PipelineStep(version=version, **step) for step in defaults.default_steps()]
    )
    VERSION.apply(version, VAction.PUBLISH, actor=by, changes={"published_at": timezone.now()})
    return version


def version_in_force(city: OrgUnit, *, by) -> PipelineVersion:
    """The city's published version; a city without any gets the seeded default as v1 (the
    first application in a city puts it in force, recorded as `by`)."""
    version = PipelineVersion.objects.filter(city=city, state=VState.PUBLISHED).first()
    if version is not None:
        return version
    with transaction.atomic():
        OrgUnit.objects.select_for_update().filter(pk=city.pk).first()  # one seeding at a time
        version = PipelineVersion.objects.filter(city=city, state=VState.PUBLISHED).first()
        if version is None and not PipelineVersion.objects.filter(city=city).exists():
            version = build_default(city, by=by, note="默认流程（2014年细则）")
    if version is None:
        raise NotFound(gettext_lazy("No recruitment pipeline is in force in this city."))
    return version


def steps_of(version: PipelineVersion) -> dict[int, PipelineStep]:
    cached = getattr(version, "_steps_by_number", None)
    if cached is None:
        cached = {s.number: s for s in version.steps.all()}
        version._steps_by_number = cached
    return cached


def done_dates(case: Case) -> dict[int, date]:
    """The date of every step done (the latest completion of a step counts)."""
    done: dict[int, date] = {}
    for step, on in (
        StepCompletion.objects.filter(case=case).order_by("id").values_list("step", "done_on")
    ):
        done[step] = on
    return done


def dates_for(case: Case, number: int, done: dict | None = None) -> rules.StepDates:
    step = steps_of(case.version).get(number)
    if step is None:
        return rules.StepDates()
    done = done_dates(case) if done is None else done
    return rules.step_dates(step.rules, done, case.probation_ends_on)


def refresh_dates(case: Case, done: dict | None = None) -> dict:
    """The current step's due date, hard limit and earliest date, as `changes` for a save."""
    if case.current_step > 25 or case.state == State.CANCELLED:
        return {"due_on": None, "limit_on": None, "not_before": None}
    dates = dates_for(case, case.current_step, done)
    return {"due_on": dates.due_on, "limit_on": dates.limit_on, "not_before": dates.not_before}


def validity_rules(version: PipelineVersion) -> list[tuple[int, int, int]]:
    found = []
    for step in steps_of(version).values():
        rule = rules.rule_of(step.rules, "valid_for")
        if rule:
            found.append((step.number, int(rule.get("years", 1)), int(rule.get("until_step", 25))))
    return found
