"""A city's dues rules: a new version, in force from the first day of a quarter."""

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.orgs.models import OrgUnit
from redwheel.orgs.permissions import is_city_committee
from redwheel.party.dues import rules as dues_rules
from redwheel.party.dues.models import RuleSet
from redwheel.party.dues.services.common import _person, ensure_seed, this_month


def may_manage_rules(*, actor, city: OrgUnit) -> bool:
    """The city committee (a grant with `change` on the city's root) manages its rules."""
    return (
        city is not None
        and getattr(city, "parent_id", 1) is None
        and is_city_committee(actor, "change", city=city)
    )


def rules_publish(
    *,
    actor,
    city: OrgUnit,
    effective_from: date,
    wage_bands: list,
    retired_bands: list,
    flat_amount: Decimal,
    remind_days_before_month_end: int = 3,
    lapse_reminder_months: int = 3,
    reminder_sms: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> RuleSet:
    """Add a version of `city`'s rules. It applies to assessments of quarters from
    `effective_from` (the first day of a quarter, not before the current one); assessments
    already made keep the rate and amount they were made with."""
    if not may_manage_rules(actor=actor, city=city):
        raise NotFound()
    errors = {}
    try:
        wage = dues_rules.bands_from_json(wage_bands)
    except dues_rules.BadBands:
        errors["wage_bands"] = [_("Bands need increasing upper edges and an open last band.")]
    try:
        retired = dues_rules.bands_from_json(retired_bands)
    except dues_rules.BadBands:
        errors["retired_bands"] = [_("Bands need increasing upper edges and an open last band.")]
    if effective_from is None or effective_from != dues_rules.quarter_start(effective_from):
        errors["effective_from"] = [_("Rules change on the first day of a quarter.")]
    elif effective_from < dues_rules.quarter_start(this_month(now)):
        errors["effective_from"] = [_("Rules cannot change for a quarter that has begun.")]
    if flat_amount is None or flat_amount < 0:
        errors["flat_amount"] = [_("Enter an amount of zero or more.")]
    if not 0 <= remind_days_before_month_end <= 27:
        errors["remind_days_before_month_end"] = [_("Enter a number of days from 0 to 27.")]
    if not 1 <= lapse_reminder_months <= 12:
        errors["lapse_reminder_months"] = [_("Enter a number of months from 1 to 12.")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], details=errors)
    with transaction.atomic():
        ensure_seed(city)
        latest = RuleSet.objects.select_for_update().filter(city=city).order_by("-version")
        latest = list(latest[:1])
        if latest and effective_from <= latest[0].effective_from:
            raise ValidationFailed(
                _("A new version must come into force after the latest one."),
                details={
                    "effective_from": [_("After %(date)s.") % {"date": latest[0].effective_from}]
                },
            )
        version = (RuleSet.objects.filter(city=city).aggregate(m=Max("version"))["m"] or 0) + 1
        rule_set = RuleSet.objects.create(
            city=city,
            version=version,
            effective_from=effective_from,
            wage_bands=dues_rules.bands_to_json(wage),
            retired_bands=dues_rules.bands_to_json(retired),
            flat_amount=dues_rules.to_fen(flat_amount),
            remind_days_before_month_end=remind_days_before_month_end,
            lapse_reminder_months=lapse_reminder_months,
            reminder_sms=reminder_sms,
            note=note[:300],
            created_by=_person(actor),
        )
        audit.record(
            actor=actor,
            action="dues.rules_publish",
            obj=rule_set,
            summary=f"{city.name} v{version} {effective_from:%Y-%m-%d}",
        )
    return rule_set
