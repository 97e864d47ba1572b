"""What every dues service shares: who the member is, who may act, the city's rules."""

from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from redwheel.core import audit
from redwheel.core.dates import local_date, month_start
from redwheel.core.errors import DomainError, NotFound
from redwheel.core.permissions import (
    SystemActor,
    acting_platform,
    granted_paths,
    is_unscoped,
)
from redwheel.core.permissions import scope as permissions_scope
from redwheel.drivers.models import PARTY_MEMBER_CATEGORIES, Driver, Membership
from redwheel.orgs.models import OrgUnit
from redwheel.party.dues import rules as dues_rules
from redwheel.party.dues.models import RuleSet


class NotAMember(DomainError):
    code = "not_a_verified_member"
    status = 409
    default_message = _("Dues are kept for verified party members only.")


def now_or(now: datetime | None) -> datetime:
    return now or timezone.now()


def this_month(now: datetime | None = None) -> date:
    return month_start(local_date(now_or(now)))


def _person_id(actor) -> int | None:
    """The user id of a signed-in, active person; None for tokens, feeds and operators."""
    if isinstance(actor, SystemActor) or acting_platform(actor) is not None:
        return None
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return None
    return actor.pk


def _person(actor):
    return actor if _person_id(actor) is not None else None


def members() -> "Driver.objects":
    """Drivers who are verified party members (full or probationary)."""
    return Driver.objects.filter(
        membership__state=Membership.State.VERIFIED,
        membership__category__in=PARTY_MEMBER_CATEGORIES,
    ).select_related("membership", "membership__branch", "user")


def in_party_scope(principal, action: str, drivers):
    """`drivers` narrowed to those whose party branch (`Membership.branch`) lies where the
    principal may `action`, or who are the principal themself. Dues belong to the member's
    branch: a platform's grants that see a driver through their affiliation do not see the
    dues of a member whose branch is elsewhere, and platform principals see none."""
    if is_unscoped(principal):
        return drivers
    pid = _person_id(principal)
    if pid is None:
        return drivers.none()
    q = Q(user_id=pid)
    for path in granted_paths(principal, action):
        q |= Q(membership__branch__path__startswith=path)
    return permissions_scope(principal, action, drivers).filter(q)


def _member_for(actor, member, action: str) -> Driver:
    """The member, freshly read, if `actor` may `action` them; NotFound otherwise, and
    NotAMember when they are not (or no longer) a verified party member."""
    driver = (
        in_party_scope(
            actor,
            action,
            Driver.objects.select_related("membership", "membership__branch", "user"),
        )
        .filter(pk=getattr(member, "pk", None))
        .first()
    )
    if driver is None:
        raise NotFound()
    membership = getattr(driver, "membership", None)
    if (
        membership is None
        or membership.state != Membership.State.VERIFIED
        or membership.category not in PARTY_MEMBER_CATEGORIES
    ):
        raise NotAMember()
    return driver


def _is_self(actor, member: Driver) -> bool:
    """The member acting for themself through their own account."""
    pid = _person_id(actor)
    return pid is not None and member.user_id == pid


def _is_staff_for(actor, member: Driver, action: str = "change") -> bool:
    """Someone other than the member who may `action` the member (their branch or above)."""
    if is_unscoped(actor):
        return True
    if _person_id(actor) is None or _is_self(actor, member):
        return False
    return in_party_scope(actor, action, Driver.objects.filter(pk=member.pk)).exists()


def branch_of(member: Driver) -> OrgUnit:
    return member.membership.branch


def city_of(unit: OrgUnit) -> OrgUnit:
    return OrgUnit.objects.get(path=unit.path.split(".", 1)[0] + ".")


def city_path(unit: OrgUnit) -> str:
    return unit.path.split(".", 1)[0] + "."


# Rules -----------------------------------------------------------------------------------------


def as_rules(rule_set: RuleSet) -> dues_rules.Rules:
    return dues_rules.Rules(
        version=rule_set.version,
        effective_from=rule_set.effective_from,
        wage_bands=dues_rules.bands_from_json(rule_set.wage_bands),
        retired_bands=dues_rules.bands_from_json(rule_set.retired_bands),
        flat_amount=rule_set.flat_amount,
        remind_days_before_month_end=rule_set.remind_days_before_month_end,
        lapse_reminder_months=rule_set.lapse_reminder_months,
        reminder_sms=rule_set.reminder_sms,
        rule_set_id=rule_set.pk,
    )


def stored_rules(city_path_: str, day: date) -> RuleSet | None:
    return (
        RuleSet.objects.filter(city__path=city_path_, effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )


def rules_for(unit: OrgUnit, day: date) -> dues_rules.Rules:
    """The rules in force on `day` in `unit`'s city: the latest version in force, or the
    built-in defaults (domain-rules §4) while the city has stored none."""
    stored = stored_rules(city_path(unit), day)
    return as_rules(stored) if stored is not None else dues_rules.DEFAULT


def rule_set_for(unit: OrgUnit, day: date) -> RuleSet:
    """The stored version in force on `day`; a city with none gets the built-in defaults
    stored as its version 1 (in force since April 2008), so every assessment names a row."""
    stored = stored_rules(city_path(unit), day)
    return stored if stored is not None else ensure_seed(city_of(unit))


def ensure_seed(city: OrgUnit) -> RuleSet:
    """The city's version 1: the built-in rules, stored the first time they are needed."""
    seeded = RuleSet.objects.filter(city=city, version=1).first()
    if seeded is not None:
        return seeded
    default = dues_rules.DEFAULT
    try:
        with transaction.atomic():  # a savepoint: another request may seed it at the same time
            seeded = _create_seed(city, default)
    except IntegrityError:
        return RuleSet.objects.get(city=city, version=1)
    audit.record(actor="system", action="dues.rules_seed", obj=seeded, summary=f"{city.name} v1")
    return seeded


def _create_seed(city: OrgUnit, default: dues_rules.Rules) -> RuleSet:
    return RuleSet.objects.create(
        city=city,
        version=1,
        effective_from=default.effective_from,
        wage_bands=dues_rules.bands_to_json(default.wage_bands),
        retired_bands=dues_rules.bands_to_json(default.retired_bands),
        flat_amount=default.flat_amount,
        remind_days_before_month_end=default.remind_days_before_month_end,
        lapse_reminder_months=default.lapse_reminder_months,
        note="built-in rules (domain-rules §4)",
    )
