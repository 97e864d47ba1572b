"""Filing an appeal or a mediation: who may file for a driver, idempotent retries, routing
to the first level and the attachments.
"""

import uuid
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from redwheel.appeals import routing
from redwheel.appeals.models import Case, Category, Mediation
from redwheel.appeals.services.attachments import (
    MAX_ATTACHMENTS,
    _attach,
    _remove_files,
    _store_files,
)
from redwheel.appeals.services.common import (
    CASE,
    Action,
    _notify,
    _now,
    _person,
    _person_id,
    _start_level,
)
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.permissions import acting_platform, can, is_unscoped, require
from redwheel.orgs.models import Platform


def _require_filer(actor, driver, channel: str, platform) -> None:
    """Who may file for `driver` on `channel`: the driver on the phone, staff who may change
    the driver at the intake desk, a platform (its token) for its own driver over the API."""
    if driver is None or getattr(driver, "pk", None) is None:
        raise NotFound()
    if is_unscoped(actor):
        return
    acting_for = acting_platform(actor)
    if channel == Case.Channel.APP:
        allowed = driver.user_id is not None and _person_id(actor) == driver.user_id
    elif channel == Case.Channel.INTAKE:
        allowed = _person_id(actor) is not None
    elif channel == Case.Channel.API:
        allowed = acting_for is not None and (platform is None or platform.pk == acting_for)
    else:
        allowed = False
    if not (allowed and can(actor, "change", driver)):
        raise NotFound()


def _existing(idempotency_scope: str, key: str) -> Case | None:
    if not key:
        return None
    return Case.objects.filter(idempotency_scope=idempotency_scope, idempotency_key=key).first()


def case_file(
    *,
    actor,
    driver,
    category: str,
    title: str,
    description: str,
    channel: str,
    attachments=(),
    punishment=None,
    platform=None,
    idempotency_key: str = "",
    idempotency_scope: str | None = None,
    external_ref: str = "",
    mediation: dict | None = None,
    now: datetime | None = None,
) -> tuple[Case, bool]:
    """File an appeal (or a mediation) for `driver`. Returns (case, created).

    A retried request with the same idempotency key returns the case the first request made.
    Attachments are stored before the database transaction; if storing fails nothing is
    written, and if the transaction fails the stored files are removed again.
    """
    _require_filer(actor, driver, channel, platform)
    now = _now(now)
    acting_for = acting_platform(actor)
    if acting_for is not None:  # a platform files for itself, whatever else the driver drives for
        platform = platform or Platform.objects.get(pk=acting_for)
        if punishment is not None and punishment.platform_id != acting_for:
            raise NotFound()
    if category not in Category.values:
        raise ValidationFailed(_("Choose a category."))
    title, description = (title or "").strip(), (description or "").strip()
    if not title or not description:
        raise ValidationFailed(_("A title and a description are required."))
    idempotency_key = (idempotency_key or "").strip()[:80]
    if idempotency_scope is None:
        idempotency_scope = (
            f"platform:{acting_for}"
            if acting_for is not None
            else f"user:{getattr(actor, 'pk', None) or 'system'}"
        )
    found = _existing(idempotency_scope, idempotency_key)
    if found is not None:
        require(actor, "view", found)  # a reused key never answers with someone else's case
        return found, False
    attachments = list(attachments or [])
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationFailed(_("Attach at most %(n)s files.") % {"n": MAX_ATTACHMENTS})
    if punishment is not None:
        if punishment.driver_id != driver.pk:
            raise ValidationFailed(_("This penalty was not given to this driver."))
        category = Category.PENALTY
        platform = platform or punishment.platform
    platform = routing.platform_of(driver, platform)
    target = routing.route(driver, level=1, platform=platform)
    if target is None:
        raise ValidationFailed(
            _("No party organisation can take this appeal yet."), code="no_route"
        )
    is_mediation = mediation is not None
    if is_mediation:
        _check_mediation(mediation)
    saved = _store_files(attachments, now)
    try:
        with transaction.atomic():
            case = Case(
                number=uuid.uuid4().hex[:20],
                kind=Case.Kind.MEDIATION if is_mediation else Case.Kind.APPEAL,
                category=category,
                title=title[:120],
                description=description,
                driver=driver,
                platform=platform,
                punishment=punishment,
                channel=channel,
                filed_by=_person(actor),
                external_ref=external_ref[:64],
                idempotency_scope=idempotency_scope,
                idempotency_key=idempotency_key,
            )
            level, unit, assignee = target
            assignment = _start_level(case, level, unit, assignee, now)
            activity = CASE.apply(
                case,
                Action.FILE,
                actor=actor,
                note=_("Filed by %(channel)s.") % {"channel": case.get_channel_display()},
                now=now,
                audit_summary=lambda case: f"{case.number} {case.get_category_display()}",
                audit_data={"level": level, "unit": unit.pk, "channel": channel},
            )
            assignment.case = case
            assignment.save()
            if is_mediation:
                Mediation.objects.create(case=case, **mediation)
            _attach(case, activity, saved)
            _notify(case, "filed", body=case.title, handlers=True)
    except IntegrityError:
        _remove_files([name for name, *_rest in saved])
        found = _existing(idempotency_scope, idempotency_key)
        if found is not None:  # a concurrent retry won the race
            require(actor, "view", found)
            return found, False
        raise
    except BaseException:
        _remove_files([name for name, *_rest in saved])
        raise
    return case, True


def _check_mediation(data: dict) -> None:
    allowed = {
        "passenger",
        "order_ref",
        "facts",
        "proposed_settlement",
        "compensate_first",
        "payer",
        "amount",
    }
    if set(data) - allowed:
        raise ValidationFailed(_("Unknown mediation fields."))
    if not (data.get("passenger") or "").strip() or not (data.get("facts") or "").strip():
        raise ValidationFailed(_("A mediation needs the passenger and the facts."))
    if data.get("compensate_first") and data.get("payer") is None:
        raise ValidationFailed(
            _("Compensating first needs the platform that pays."), code="payer_required"
        )
