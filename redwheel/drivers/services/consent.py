"""The driver's badge consent and the contact pairs between members and other drivers."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from redwheel.drivers.models import (
    BadgeConsentEvent,
    ContactPair,
    Driver,
)
from redwheel.drivers.services._common import (
    _is_verified_member,
    _notify_badge_change,
    _require,
)


def badge_consent_set(*, actor, driver: Driver, consented: bool) -> Driver:
    """Switch the badge on or off. Only the driver themselves may do this."""
    if driver.user_id is None or getattr(actor, "pk", None) != driver.user_id:
        raise NotFound()
    with transaction.atomic():
        driver = (
            Driver.objects.select_for_update(of=("self",))
            .select_related("membership")
            .get(pk=driver.pk)
        )
        if consented and not _is_verified_member(driver):
            raise InvalidTransition(
                _("Only verified party members can show the badge."), code="not_verified"
            )
        if driver.badge_consent == consented:
            return driver
        driver.badge_consent = consented
        driver.badge_consent_changed_at = timezone.now()
        driver.save(update_fields=["badge_consent", "badge_consent_changed_at", "updated_at"])
        BadgeConsentEvent.objects.create(driver=driver, consented=consented, actor=actor)
        audit.record(
            actor=actor,
            action="badge.consent" if consented else "badge.withdraw",
            obj=driver,
            summary=driver.name,
        )
        _notify_badge_change(driver)
    return driver


def contact_pair_create(*, actor, member: Driver, driver: Driver) -> ContactPair:
    _require(actor, "change", member)
    _require(actor, "change", driver)
    if not _is_verified_member(member):
        raise ValidationFailed(_("Only a verified party member can look after other drivers."))
    if member.pk == driver.pk:
        raise ValidationFailed(_("A member cannot be paired with themselves."))
    try:
        with transaction.atomic():
            pair = ContactPair.objects.create(member=member, driver=driver, created_by=actor)
            audit.record(
                actor=actor,
                action="contact_pair.create",
                obj=pair,
                summary=f"{member.name} → {driver.name}",
            )
    except IntegrityError as exc:
        raise Conflict(_("These two are already paired.")) from exc
    return pair


def contact_pair_delete(*, actor, pair: ContactPair) -> None:
    _require(actor, "change", pair.member)
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="contact_pair.delete",
            obj=pair,
            summary=f"{pair.member.name} → {pair.driver.name}",
        )
        pair.delete()
