"""Volunteer service: opportunities, the drivers' sign-ups and the organiser's confirmation of
hours, with their points. Opportunities and sign-ups move through `mobilization/states.py`."""

from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core.dates import local_date
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.core.permissions import require
from redwheel.mobilization.models import (
    Fleet,
    Opportunity,
    OpportunityActivity,
    ServiceRecord,
    SignUp,
    SignUpActivity,
)
from redwheel.mobilization.permissions import driver_unit_paths
from redwheel.mobilization.services.common import (
    MAX_VOLUNTEER_HOURS,
    TENTH,
    VOLUNTEER_RULE,
    _hours,
    _own_driver,
    _record_points,
)
from redwheel.mobilization.states import ACTIVE_SIGNUP, OPPORTUNITY, SIGNUP
from redwheel.orgs.models import OrgUnit

SignUpAction = SignUpActivity.Action

# Volunteer service ---------------------------------------------------------------------------


def opportunity_create(
    *,
    actor,
    unit: OrgUnit,
    title: str,
    kind: str,
    role: str,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    places: int,
    description: str = "",
    fleet: Fleet | None = None,
) -> Opportunity:
    require(actor, "change", unit)
    if kind not in Opportunity.Kind.values:
        raise ValidationFailed(_("Unknown kind."))
    if not all((title or "").strip() for title in (title, role, place)):
        raise ValidationFailed(_("Title, role and place are required."))
    if ends_at <= starts_at:
        raise ValidationFailed(_("The end must be after the start."))
    if places < 1:
        raise ValidationFailed(_("At least one place is needed."))
    if fleet is not None:
        require(actor, "view", fleet)
    with transaction.atomic():
        opportunity = Opportunity(
            unit=unit,
            fleet=fleet,
            title=title.strip(),
            kind=kind,
            role=role.strip(),
            place=place.strip(),
            description=description,
            starts_at=starts_at,
            ends_at=ends_at,
            places=places,
            organiser=actor if getattr(actor, "pk", None) else None,
        )
        OPPORTUNITY.apply(opportunity, OpportunityActivity.Action.PUBLISH, actor=actor)
    return opportunity


def opportunity_close(*, actor, opportunity: Opportunity) -> Opportunity:
    require(actor, "change", opportunity)
    with transaction.atomic():
        opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        if OpportunityActivity.Action.CLOSE not in OPPORTUNITY.allowed_actions(opportunity):
            raise InvalidTransition(_("This opportunity is already closed."))
        OPPORTUNITY.apply(opportunity, OpportunityActivity.Action.CLOSE, actor=actor)
    return opportunity


def _step_or_refuse(signup: SignUp | None, action: str, message) -> None:
    """The sign-up machine's check, with the message the driver pages show for this step."""
    if action not in SIGNUP.allowed_actions(signup):
        raise InvalidTransition(message)


def signup_create(*, actor, opportunity: Opportunity) -> SignUp:
    """The signed-in driver signs up for an open opportunity offered to them (one of the units
    above them) with places left."""
    driver = _own_driver(actor)
    require(actor, "view", opportunity)
    if opportunity.unit.path not in driver_unit_paths(driver):
        raise NotFound()
    with transaction.atomic():
        opportunity = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
        if opportunity.status != Opportunity.Status.OPEN:
            raise InvalidTransition(_("Sign-up for this opportunity has closed."))
        signup = SignUp.objects.filter(opportunity=opportunity, driver=driver).first()
        if signup is not None and signup.status in ACTIVE_SIGNUP:
            raise Conflict(_("You have already signed up."), code="already_signed_up")
        taken = opportunity.signups.filter(status__in=ACTIVE_SIGNUP).count()
        if taken >= opportunity.places:
            raise Conflict(_("All places are taken."), code="opportunity_full")
        if signup is None:
            signup = SignUp(opportunity=opportunity, driver=driver)
        SIGNUP.apply(signup, SignUpAction.SIGN_UP, actor=actor)
    return signup


def _own_signup_step(actor, signup: SignUp, action: str, message: str) -> SignUp:
    driver = _own_driver(actor)
    require(actor, "change", signup)
    if signup.driver_id != driver.pk:
        raise NotFound()
    with transaction.atomic():
        signup = SignUp.objects.select_for_update().select_related("opportunity").get(pk=signup.pk)
        _step_or_refuse(signup, action, message)
        now = timezone.now()
        stamp = {SignUpAction.CHECK_IN: "checked_in_at", SignUpAction.CHECK_OUT: "checked_out_at"}
        changes = {stamp[action]: now} if action in stamp else None
        SIGNUP.apply(signup, action, actor=actor, now=now, changes=changes, audit_summary="")
    return signup


def signup_cancel(*, actor, signup: SignUp) -> SignUp:
    return _own_signup_step(
        actor,
        signup,
        SignUpAction.CANCEL,
        _("Only a sign-up that has not started can be cancelled."),
    )


def signup_check_in(*, actor, signup: SignUp) -> SignUp:
    return _own_signup_step(actor, signup, SignUpAction.CHECK_IN, _("You cannot check in now."))


def signup_check_out(*, actor, signup: SignUp) -> SignUp:
    return _own_signup_step(actor, signup, SignUpAction.CHECK_OUT, _("Check in first."))


def signup_confirm(*, actor, signup: SignUp, hours: Decimal | None = None) -> ServiceRecord:
    """The organiser confirms the hours (default: checked-out minus checked-in time). In the same
    transaction the organiser grants `volunteer_hour` points for the whole hours (3.5 h → 3
    units), with the record as source, unless skipped (POINTS_SKIPPED); the returned record
    carries `points_entry` (the ledger entry or None)."""
    require(actor, "change", signup.opportunity)
    with transaction.atomic():
        signup = SignUp.objects.select_for_update().select_related("opportunity").get(pk=signup.pk)
        _step_or_refuse(signup, SignUpAction.CONFIRM, _("Hours can be confirmed after check-out."))
        if hours is None:
            hours = _hours(signup.checked_out_at - signup.checked_in_at)
        hours = Decimal(hours).quantize(TENTH, rounding=ROUND_HALF_UP)
        if not Decimal("0") <= hours <= MAX_VOLUNTEER_HOURS:
            raise ValidationFailed(_("Hours must be between 0 and 24."))
        record = ServiceRecord.objects.create(
            driver_id=signup.driver_id,
            unit_id=signup.opportunity.unit_id,
            kind=ServiceRecord.Kind.VOLUNTEER,
            signup=signup,
            hours=hours,
            served_on=local_date(signup.checked_in_at),
            confirmed_by=actor if getattr(actor, "pk", None) else None,
        )
        whole_hours = int(hours.to_integral_value(rounding=ROUND_DOWN))
        entry = None
        if whole_hours > 0:
            entry = _record_points(
                actor=actor,
                record=record,
                driver=signup.driver,
                rule_code=VOLUNTEER_RULE,
                occurred_at=signup.checked_out_at,
                note=_("%(title)s: %(hours)s h")
                % {"title": signup.opportunity.title, "hours": hours},
                quantity=whole_hours,
            )
        SIGNUP.apply(
            signup,
            SignUpAction.CONFIRM,
            actor=actor,
            audit_summary="",
            audit_data={"hours": str(hours), "points": entry.amount if entry else 0},
        )
    record.points_entry = entry
    return record
