"""Volunteer service: opportunities, the drivers' sign-ups (`common.SIGNUP_TRANSITIONS`)
and the organiser's confirmation of hours, with their points."""

from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.core.permissions import require
from redwheel.mobilization.models import (
    Fleet,
    Opportunity,
    ServiceRecord,
    SignUp,
)
from redwheel.mobilization.permissions import driver_unit_paths
from redwheel.mobilization.services.common import (
    ACTIVE_SIGNUP,
    MAX_VOLUNTEER_HOURS,
    SIGNUP_TRANSITIONS,
    TENTH,
    VOLUNTEER_RULE,
    _hours,
    _own_driver,
    _record_points,
)
from redwheel.orgs.models import OrgUnit

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
        opportunity = Opportunity.objects.create(
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
        audit.record(
            actor=actor,
            action="volunteer.opportunity_create",
            obj=opportunity,
            summary=opportunity.title,
        )
    return opportunity


def opportunity_close(*, actor, opportunity: Opportunity) -> Opportunity:
    require(actor, "change", opportunity)
    if opportunity.status != Opportunity.Status.OPEN:
        raise InvalidTransition(_("This opportunity is already closed."))
    with transaction.atomic():
        opportunity.status = Opportunity.Status.CLOSED
        opportunity.save(update_fields=["status", "updated_at"])
        audit.record(actor=actor, action="volunteer.opportunity_close", obj=opportunity)
    return opportunity


def _signup_step(signup: SignUp | None, action: str) -> str:
    sources, target = SIGNUP_TRANSITIONS[action]
    if (signup.status if signup else None) not in sources:
        raise InvalidTransition()
    return target


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
        target = _signup_step(signup, "sign_up")
        if signup is None:
            signup = SignUp.objects.create(opportunity=opportunity, driver=driver, status=target)
        else:
            signup.status = target
            signup.save(update_fields=["status", "updated_at"])
        audit.record(actor=actor, action="volunteer.sign_up", obj=signup, summary=opportunity.title)
    return signup


def _own_signup_step(actor, signup: SignUp, action: str, message: str) -> SignUp:
    driver = _own_driver(actor)
    require(actor, "change", signup)
    if signup.driver_id != driver.pk:
        raise NotFound()
    with transaction.atomic():
        signup = SignUp.objects.select_for_update().select_related("opportunity").get(pk=signup.pk)
        try:
            target = _signup_step(signup, action)
        except InvalidTransition as exc:
            raise InvalidTransition(message) from exc
        now = timezone.now()
        signup.status = target
        if action == "check_in":
            signup.checked_in_at = now
        elif action == "check_out":
            signup.checked_out_at = now
        signup.save(update_fields=["status", "checked_in_at", "checked_out_at", "updated_at"])
        audit.record(actor=actor, action=f"volunteer.{action}", obj=signup)
    return signup


def signup_cancel(*, actor, signup: SignUp) -> SignUp:
    return _own_signup_step(
        actor, signup, "cancel", _("Only a sign-up that has not started can be cancelled.")
    )


def signup_check_in(*, actor, signup: SignUp) -> SignUp:
    return _own_signup_step(actor, signup, "check_in", _("You cannot check in now."))


def signup_check_out(*, actor, signup: SignUp) -> SignUp:
    return _own_signup_step(actor, signup, "check_out", _("Check in first."))


def signup_confirm(*, actor, signup: SignUp, hours: Decimal | None = None) -> ServiceRecord:
    """The organiser confirms the hours (default: checked-out minus checked-in time). In the same
    transaction the organiser grants `volunteer_hour` points for the whole hours (3.5 h → 3
    units), with the record as source, unless skipped (POINTS_SKIPPED); the returned record
    carries `points_entry` (the ledger entry or None)."""
    require(actor, "change", signup.opportunity)
    with transaction.atomic():
        signup = SignUp.objects.select_for_update().select_related("opportunity").get(pk=signup.pk)
        try:
            target = _signup_step(signup, "confirm")
        except InvalidTransition as exc:
            raise InvalidTransition(_("Hours can be confirmed after check-out.")) from exc
        if hours is None:
            hours = _hours(signup.checked_out_at - signup.checked_in_at)
        hours = Decimal(hours).quantize(TENTH, rounding=ROUND_HALF_UP)
        if not Decimal("0") <= hours <= MAX_VOLUNTEER_HOURS:
            raise ValidationFailed(_("Hours must be between 0 and 24."))
        signup.status = target
        signup.save(update_fields=["status", "updated_at"])
        record = ServiceRecord.objects.create(
            driver_id=signup.driver_id,
            unit_id=signup.opportunity.unit_id,
            kind=ServiceRecord.Kind.VOLUNTEER,
            signup=signup,
            hours=hours,
            served_on=timezone.localtime(signup.checked_in_at).date(),
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
        audit.record(
            actor=actor,
            action="volunteer.confirm",
            obj=signup,
            data={"hours": str(hours), "points": entry.amount if entry else 0},
        )
    record.points_entry = entry
    return record
