"""A person's case: apply (step 1), complete steps, mentors and sponsors, materials, outcomes.

Every write checks permission first, runs in one transaction with the case row locked, moves
through the `CASE` machine (one immutable timeline row and one audit entry) and recomputes the
current step's dates from the case's own pipeline version. The membership category follows
through `drivers.services.membership_follow_pipeline`, the one source of truth."""

from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _
from stdnum.cn import ric

from redwheel.core.dates import local_date
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.core.notifications import notify_user
from redwheel.core.permissions import acting_platform, can, require
from redwheel.core.validators import contains_unsafe_text
from redwheel.drivers import selectors as driver_selectors
from redwheel.drivers import services as drivers
from redwheel.drivers.models import Category, Driver, Membership
from redwheel.orgs.models import OrgUnit
from redwheel.party.recruitment import rules
from redwheel.party.recruitment.models import (
    OPEN_STATES,
    Case,
    CasePerson,
    Responsible,
    State,
    StepCompletion,
)
from redwheel.party.recruitment.services import materials as files
from redwheel.party.recruitment.services.common import (
    CASE,
    CATEGORY_AT_STEP,
    EXTENSION_STEP,
    RESTART_STEP,
    Action,
    city_of,
    dates_for,
    done_dates,
    person,
    refresh_dates,
    steps_of,
    validity_rules,
    version_in_force,
)

MIN_AGE = 18
OUTCOME_CONFIRM, OUTCOME_EXTEND, OUTCOME_CANCEL = "confirm", "extend", "cancel"
OUTCOMES = (OUTCOME_CONFIRM, OUTCOME_EXTEND, OUTCOME_CANCEL)


def birth_date(driver: Driver) -> date | None:
    """From the resident ID number (the licence number of a mainland driver)."""
    try:
        return ric.get_birth_date(driver.license_no)
    except Exception:
        return None


def _is_self(actor, driver: Driver) -> bool:
    """The person's own account (not a token or feed that happens to share an id)."""
    return (
        acting_platform(actor) is None
        and getattr(actor, "is_authenticated", False)
        and driver.user_id is not None
        and driver.user_id == actor.pk
    )


def _on(value: date | None) -> date:
    on = value or local_date()
    if on > local_date():
        raise ValidationFailed(
            _("The date cannot be in the future."), details={"done_on": [_("In the future.")]}
        )
    return on


def _lock(actor, case: Case, action: str = "change") -> Case:
    require(actor, action, case)
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("driver", "branch", "version", "version__city")
        .get(pk=case.pk)
    )


def _follow(actor, case: Case, category: str, note: str, **extra) -> None:
    drivers.membership_follow_pipeline(
        actor=actor, driver=case.driver, branch=case.branch, category=category, note=note, **extra
    )


def _notify(case: Case, title: str, body: str = "") -> None:
    user = case.driver.user
    if user is not None:
        notify_user(
            user=user,
            event="recruitment.step",
            title=title,
            body=body,
            payload={"case_id": case.pk, "step": case.current_step, "state": case.state},
        )


def _check_branch(actor, driver: Driver, branch: OrgUnit) -> None:
    if _is_self(actor, driver):
        offered = driver_selectors.declarable_branches(driver).filter(pk=branch.pk).exists()
        mobile = driver_selectors.city_mobile_branches(driver).filter(pk=branch.pk).exists()
        if not (offered or mobile):
            raise NotFound()
    else:
        require(actor, "change", branch)
    if branch.kind != OrgUnit.Kind.BRANCH or not branch.is_active:
        raise ValidationFailed(
            _("Applications go to a party branch (a mobile-member branch is fine)."),
            code="not_a_branch",
            details={"branch": [_("Choose a party branch.")]},
        )


def case_apply(
    *,
    actor,
    driver: Driver,
    branch: OrgUnit,
    applied_on: date | None = None,
    letter=None,
    note: str = "",
) -> Case:
    """Step 1 递交入党申请书: the driver (for themself) or branch staff open a case at `branch`
    under the city's version in force; the person must be 18 or older on `applied_on`."""
    require(actor, "change", driver)
    _check_branch(actor, driver, branch)
    applied_on = _on(applied_on)
    born = birth_date(driver)
    if born is None or rules.add_months(born, 12 * MIN_AGE) > applied_on:
        raise ValidationFailed(
            _("Applicants must be at least 18 years old (from the ID number's birth date)."),
            code="too_young",
        )
    if contains_unsafe_text(note):
        raise ValidationFailed(code="unsafe_text")
    membership = Membership.objects.filter(driver=driver).first()
    if (
        membership is not None
        and membership.state == Membership.State.VERIFIED
        and membership.category in (Category.FULL, Category.PROBATIONARY)
    ):
        raise Conflict(_("This person is already a party member."), code="already_member")
    version = version_in_force(city_of(branch), by=actor)
    step = steps_of(version)[1]
    uploads = {"application": letter} if letter is not None else {}
    _require_materials(step, case=None, uploads=uploads)
    saved = files.store(step, uploads)
    try:
        with transaction.atomic():
            Driver.objects.select_for_update().filter(pk=driver.pk).first()
            if Case.objects.filter(driver=driver, state__in=OPEN_STATES).exists():
                raise Conflict(_("This person already has an open application."), code="open_case")
            case = Case(driver=driver, branch=branch, version=version, applied_on=applied_on)
            CASE.apply(case, Action.APPLY, actor=actor, note=note, step=1, on=applied_on)
            StepCompletion.objects.create(
                case=case, step=1, done_on=applied_on, recorded_by=person(actor)
            )
            files.rows(case, 1, saved, person(actor))
            case.current_step = 2
            case.__dict__.update(refresh_dates(case))
            case.save()
            _follow(actor, case, Category.APPLICANT, _("Application received (step 1)"))
    except BaseException:
        files.remove([s[2] for s in saved])
        raise
    return case


def _require_materials(step, *, case: Case | None, uploads: dict) -> None:
    have = set(uploads)
    if case is not None:
        have |= set(case.materials.filter(step=step.number).values_list("code", flat=True))
    missing = [m for m in step.materials or [] if m.get("required") and m["code"] not in have]
    if missing:
        raise ValidationFailed(
            _("Upload the required material: %(label)s.") % {"label": missing[0].get("label")},
            code="material_missing",
            details={missing[0]["code"]: [_("Required.")]},
        )


def _check_people(case: Case, step) -> None:
    counts = {
        role: case.people.filter(role=role).count()
        for role in (CasePerson.Role.MENTOR, CasePerson.Role.SPONSOR)
    }
    mentors = rules.rule_of(step.rules, "mentors")
    if mentors and not mentors.get("min", 1) <= counts["mentor"] <= mentors.get("max", 2):
        raise ValidationFailed(_("Assign one or two mentors first."), code="mentors_needed")
    sponsors = rules.rule_of(step.rules, "sponsors")
    if sponsors and counts["sponsor"] != sponsors.get("count", 2):
        raise ValidationFailed(_("Assign exactly two sponsors first."), code="sponsors_needed")


def case_step_complete(
    *,
    actor,
    case: Case,
    done_on: date | None = None,
    values: dict | None = None,
    uploads: dict | None = None,
    note: str = "",
    outcome: str = "",
    extend_months: int = 0,
) -> Case:
    """Record the current step as done on `done_on`, with its typed field values and materials.
    Step 24 takes the outcome: confirm (按期转正), extend (延长预备期 6–12 months) or cancel."""
    require(actor, "change", case)
    if _is_self(actor, case.driver):
        raise NotFound()
    on = _on(done_on)
    if contains_unsafe_text(note):
        raise ValidationFailed(code="unsafe_text")
    uploads = uploads or {}
    case = _lock(actor, case)
    CASE.check(case, Action.COMPLETE)
    if case.current_step > 25:
        raise InvalidTransition(_("Every step of this case is done."), code="all_done")
    step = steps_of(case.version)[case.current_step]
    clean = rules.clean_values(step.fields, values or {})
    rules.check_values(step.rules, clean)
    done = done_dates(case)
    previous = max((d for n, d in done.items() if n < step.number), default=case.applied_on)
    if on < previous:
        raise ValidationFailed(
            _("A step cannot be dated before the step before it (%(date)s).") % {"date": previous},
            code="before_previous",
            details={"done_on": [_("Too early.")]},
        )
    rules.check_timing(
        number=step.number,
        rules=step.rules,
        on=on,
        dates=dates_for(case, step.number, done),
        done=done,
        validity=validity_rules(case.version),
    )
    _check_people(case, step)
    _require_materials(step, case=case, uploads=uploads)
    outcome_rule = rules.rule_of(step.rules, "outcomes")
    if outcome_rule:
        _check_outcome(case, outcome, extend_months, outcome_rule)
    saved = files.store(step, uploads)
    try:
        with transaction.atomic():
            StepCompletion.objects.create(
                case=case,
                step=step.number,
                done_on=on,
                values=clean,
                note=note[:300],
                recorded_by=person(actor),
            )
            files.rows(case, step.number, saved, person(actor))
            done[step.number] = on
            _advance(actor, case, step, on, done, note, outcome, extend_months, outcome_rule)
    except BaseException:
        files.remove([s[2] for s in saved])
        raise
    return case


def _check_outcome(case: Case, outcome: str, months: int, rule: dict) -> None:
    if outcome not in OUTCOMES:
        raise ValidationFailed(
            _("Choose the outcome: confirm, extend or cancel."),
            code="outcome_required",
            details={"outcome": [_("Required.")]},
        )
    if outcome == OUTCOME_EXTEND:
        if case.state == State.EXTENDED:
            raise InvalidTransition(_("Probation can be extended only once."), code="extended")
        low, high = rule.get("extend_min_months", 6), rule.get("extend_max_months", 12)
        if not low <= (months or 0) <= high:
            raise ValidationFailed(
                _("An extension is %(low)s to %(high)s months.") % {"low": low, "high": high},
                code="extension_months",
                details={"extend_months": [_("Out of range.")]},
            )


def _advance(actor, case, step, on, done, note, outcome, months, outcome_rule) -> None:
    number = step.number
    label = _("Step %(n)s %(name)s done") % {"n": number, "name": step.name}
    probation = rules.rule_of(step.rules, "probation")
    if outcome_rule and outcome == OUTCOME_CONFIRM:
        case.current_step = number + 1
        CASE.apply(case, Action.CONFIRM, actor=actor, note=note, changes=refresh_dates(case, done),
                   step=number, on=on)  # fmt: skip
        _follow(actor, case, Category.FULL, label)
    elif outcome_rule and outcome == OUTCOME_EXTEND:
        case.current_step = EXTENSION_STEP
        case.extended_months = months
        case.probation_ends_on = rules.add_months(case.probation_ends_on or on, months)
        CASE.apply(case, Action.EXTEND, actor=actor, note=note, changes=refresh_dates(case, done),
                   step=number, on=on)  # fmt: skip
    elif outcome_rule:
        CASE.apply(case, Action.CANCEL, actor=actor, note=note,
                   changes={"due_on": None, "limit_on": None, "not_before": None},
                   step=number, on=on)  # fmt: skip
        _follow(actor, case, Category.PROBATIONARY, label, lapse=True)
    elif probation:
        case.current_step = number + 1
        case.joined_party_on = on
        case.probation_ends_on = rules.after(on, probation)
        CASE.apply(case, Action.PROBATION, actor=actor, note=note,
                   changes=refresh_dates(case, done), step=number, on=on)  # fmt: skip
    else:
        case.current_step = number + 1
        CASE.apply(case, Action.COMPLETE, actor=actor, note=note,
                   changes=refresh_dates(case, done), step=number, on=on)  # fmt: skip
    category = CATEGORY_AT_STEP.get(number)
    if category and not outcome_rule:
        _follow(actor, case, category, label, joined_party_on=case.joined_party_on)
    _notify(case, label)


def case_people_set(*, actor, case: Case, role: str, members: list[Driver]) -> Case:
    """Mentors (培养联系人, 1–2) or sponsors (入党介绍人, exactly 2): verified full members of the
    case's branch (or checked in to it), never the person themself. Replaces the role's set."""
    require(actor, "change", case)
    if _is_self(actor, case.driver):
        raise NotFound()
    if role not in CasePerson.Role.values:
        raise ValidationFailed(_("Unknown role."), code="unknown_role")
    members = list({m.pk: m for m in members}.values())
    low, high = (1, 2) if role == CasePerson.Role.MENTOR else (2, 2)
    if not low <= len(members) <= high:
        message = (
            _("Choose one or two mentors.")
            if role == CasePerson.Role.MENTOR
            else _("Choose exactly two sponsors.")
        )
        raise ValidationFailed(message, code="people_count", details={"members": [message]})
    case = _lock(actor, case)
    for member in members:
        if not can(actor, "view", member):
            raise NotFound()
        _check_full_member(case, member)
    with transaction.atomic():
        keep = {m.pk for m in members}
        CasePerson.objects.filter(case=case, role=role).exclude(member_id__in=keep).delete()
        existing = set(
            CasePerson.objects.filter(case=case, role=role).values_list("member_id", flat=True)
        )
        today = local_date()
        CasePerson.objects.bulk_create(
            [
                CasePerson(case=case, role=role, member=m, assigned_on=today)
                for m in members
                if m.pk not in existing
            ]
        )
        action = Action.MENTORS if role == CasePerson.Role.MENTOR else Action.SPONSORS
        CASE.apply(case, action, actor=actor, note="、".join(m.name for m in members), on=today)
    return case


def _check_full_member(case: Case, member: Driver) -> None:
    membership = Membership.objects.filter(driver=member).first()
    in_branch = membership is not None and case.branch_id in (
        membership.branch_id,
        membership.mobile_branch_id,
    )
    if (
        member.pk == case.driver_id
        or membership is None
        or membership.state != Membership.State.VERIFIED
        or membership.category != Category.FULL
        or not in_branch
    ):
        raise ValidationFailed(
            _("%(name)s is not a verified full member of this branch.") % {"name": member.name},
            code="not_full_member",
            details={"members": [_("Only verified full members of the branch.")]},
        )


def material_upload(*, actor, case: Case, step: int, uploads: dict) -> Case:
    """Add materials to a step already done or the current one. The person may add their own
    papers (steps the applicant is responsible for); everything else is the branch's."""
    require(actor, "view", case)
    own = _is_self(actor, case.driver)
    if not own:
        require(actor, "change", case)
    definition = steps_of(case.version).get(step)
    if definition is None or step > case.current_step:
        raise ValidationFailed(_("Materials go to a step done or the current one."), code="step")
    if own and definition.responsible != Responsible.APPLICANT:
        raise NotFound()
    if not uploads:
        raise ValidationFailed(_("Choose a file."), code="no_file")
    saved = files.store(definition, uploads)
    try:
        with transaction.atomic():
            case = _lock(actor, case, "view")
            files.rows(case, step, saved, person(actor))
            names = ", ".join(up.name for _c, _l, _n, up, _t in saved)
            CASE.apply(case, Action.MATERIAL, actor=actor, note=names[:300], step=step)
    except BaseException:
        files.remove([s[2] for s in saved])
        raise
    return case


def case_restart(*, actor, case: Case, reason: str) -> Case:
    """Past the hard limit for reporting or approving (6 months after the branch meeting), the
    procedure is done again from step 10; the membership returns to development candidate."""
    require(actor, "change", case)
    if _is_self(actor, case.driver):
        raise NotFound()
    if not (reason or "").strip() or contains_unsafe_text(reason):
        raise ValidationFailed(_("A reason is required."), code="reason_required")
    with transaction.atomic():
        case = _lock(actor, case)
        CASE.check(case, Action.RESTART)
        case.current_step = RESTART_STEP
        case.joined_party_on = case.probation_ends_on = None
        done = {n: d for n, d in done_dates(case).items() if n < RESTART_STEP}
        changes = refresh_dates(case, done)
        CASE.apply(
            case, Action.RESTART, actor=actor, note=reason, changes=changes, step=RESTART_STEP
        )
        _follow(actor, case, Category.CANDIDATE, _("Procedure restarted"))
    return case


def case_cancel(*, actor, case: Case, reason: str) -> Case:
    """End a case before its outcome (the person withdraws, or the branch stops the
    development); the membership lapses."""
    require(actor, "change", case)
    if _is_self(actor, case.driver):
        raise NotFound()
    if not (reason or "").strip() or contains_unsafe_text(reason):
        raise ValidationFailed(_("A reason is required."), code="reason_required")
    with transaction.atomic():
        case = _lock(actor, case)
        CASE.apply(case, Action.CANCEL, actor=actor, note=reason,
                   changes={"due_on": None, "limit_on": None, "not_before": None},
                   step=case.current_step)  # fmt: skip
        _follow(actor, case, Membership.objects.get(driver=case.driver).category, reason,
                lapse=True)  # fmt: skip
    return case
