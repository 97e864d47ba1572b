import uuid
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from redwheel.core import audit
from redwheel.core.errors import NotFound, ValidationFailed
from redwheel.core.permissions import can, is_unscoped
from redwheel.core.validators import clean_region_code
from redwheel.orgs.models import JointAgreement, OrgUnit, Platform

# Which kinds of unit may sit under which (None = the root of a city's tree).
ALLOWED_PARENTS: dict[str, set] = {
    OrgUnit.Kind.COMMITTEE: {None},
    OrgUnit.Kind.ENTERPRISE_COMMITTEE: {OrgUnit.Kind.COMMITTEE},
    OrgUnit.Kind.GENERAL_BRANCH: {OrgUnit.Kind.COMMITTEE, OrgUnit.Kind.ENTERPRISE_COMMITTEE},
    OrgUnit.Kind.BRANCH: {
        OrgUnit.Kind.COMMITTEE,
        OrgUnit.Kind.ENTERPRISE_COMMITTEE,
        OrgUnit.Kind.GENERAL_BRANCH,
    },
    OrgUnit.Kind.GROUP: {OrgUnit.Kind.BRANCH},
}


def unit_create(
    *,
    actor,
    name: str,
    kind: str,
    parent: OrgUnit | None,
    region_code: str,
    branch_type: str = "",
    platform: Platform | None = None,
) -> OrgUnit:
    # A new city needs an operator; anything else, the right to change its parent — and a
    # unit tied to a platform opens that platform's drivers, so the platform must be the
    # actor's to change too.
    if parent is None:
        if not is_unscoped(actor):
            raise NotFound()
    elif not can(actor, "change", parent):
        raise NotFound()
    if platform is not None and not can(actor, "change", platform):
        raise NotFound()
    if kind not in OrgUnit.Kind.values:
        raise ValidationFailed(_("Unknown unit kind."))
    parent_kind = parent.kind if parent else None
    if parent_kind not in ALLOWED_PARENTS[kind]:
        raise ValidationFailed(
            _("A %(kind)s cannot be placed here.") % {"kind": OrgUnit.Kind(kind).label}
        )
    if kind == OrgUnit.Kind.BRANCH:
        branch_type = branch_type or OrgUnit.BranchType.REGULAR
        if branch_type not in OrgUnit.BranchType.values:
            raise ValidationFailed(_("Unknown branch type."))
    else:
        branch_type = ""
    if not (name or "").strip():
        raise ValidationFailed(_("A name is required."))
    with transaction.atomic():
        unit = OrgUnit(
            name=name.strip(),
            kind=kind,
            branch_type=branch_type,
            parent=parent,
            region_code=clean_region_code(region_code),
            platform=platform or (parent.platform if parent else None),
            path=f"new-{uuid.uuid4().hex}",
            depth=(parent.depth + 1) if parent else 0,
        )
        unit.save()
        # The path is built from the primary key, so it is only known after the first insert.
        unit.path = f"{parent.path if parent else ''}{unit.pk:06d}."
        unit.save(update_fields=["path"])
        audit.record(actor=actor, action="unit.create", obj=unit, summary=unit.name)
    return unit


def unit_update(
    *,
    actor,
    unit: OrgUnit,
    name: str | None = None,
    region_code: str | None = None,
    is_active: bool | None = None,
) -> OrgUnit:
    if not can(actor, "change", unit):
        raise NotFound()
    with transaction.atomic():
        if name is not None and name.strip():
            unit.name = name.strip()
        if region_code is not None:
            unit.region_code = clean_region_code(region_code)
        if is_active is not None:
            unit.is_active = is_active
        unit.save()
        audit.record(actor=actor, action="unit.update", obj=unit, summary=unit.name)
    return unit


def platform_create(
    *,
    actor,
    company_id: str,
    name: str,
    kind: str = Platform.Kind.PLATFORM,
    commission_cap_percent=None,
    webhook_url: str = "",
    webhook_secret: str = "",
    city: OrgUnit,
) -> Platform:
    """Register a platform licensed in `city`: the city committee's staff (or a superuser)."""
    if city is None or city.parent_id is not None or not can(actor, "grant", city):
        raise NotFound()
    platform = Platform(
        city=city,
        company_id=(company_id or "").strip(),
        name=(name or "").strip(),
        kind=kind,
        commission_cap_percent=commission_cap_percent,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
    )
    _full_clean(platform)
    with transaction.atomic():
        platform.save()
        audit.record(actor=actor, action="platform.create", obj=platform, summary=platform.name)
    return platform


def platform_set_partners(*, actor, aggregator: Platform, partners: list[Platform]) -> Platform:
    if not can(actor, "change", aggregator) or not all(can(actor, "view", p) for p in partners):
        raise NotFound()
    if aggregator.kind != Platform.Kind.AGGREGATOR:
        raise ValidationFailed(_("Only an aggregator has partner platforms."))
    with transaction.atomic():
        aggregator.partners.set([p for p in partners if p.pk != aggregator.pk])
        audit.record(
            actor=actor,
            action="platform.partners",
            obj=aggregator,
            data={"partners": sorted(p.company_id for p in partners)},
        )
    return aggregator


def agreement_create(
    *,
    actor,
    name: str,
    lead_unit: OrgUnit,
    partner_units: list[OrgUnit],
    signed_on: date,
    ends_on: date | None = None,
    scope: str = "",
) -> JointAgreement:
    """联建 links units of *different* platforms; the actor must be able to change the lead."""
    if not can(actor, "change", lead_unit):
        raise NotFound()
    city_path = lead_unit.path.split(".", 1)[0]
    if any(u.path.split(".", 1)[0] != city_path for u in partner_units):
        raise NotFound()  # 联建 stays within one city
    partners = [u for u in partner_units if u.pk != lead_unit.pk]
    if not partners:
        raise ValidationFailed(_("A joint-building agreement needs at least one partner unit."))
    if any(u.platform_id is not None and u.platform_id == lead_unit.platform_id for u in partners):
        raise ValidationFailed(_("Partner units must belong to other platforms."))
    if ends_on and ends_on < signed_on:
        raise ValidationFailed(_("The end date is before the signing date."))
    with transaction.atomic():
        agreement = JointAgreement.objects.create(
            name=name.strip(),
            lead_unit=lead_unit,
            signed_on=signed_on,
            ends_on=ends_on,
            scope=scope,
        )
        agreement.partner_units.set(partners)
        audit.record(actor=actor, action="agreement.create", obj=agreement, summary=name)
    return agreement


def _full_clean(obj) -> None:
    from django.core.exceptions import ValidationError

    try:
        obj.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(
            details={field: [str(m) for m in msgs] for field, msgs in exc.message_dict.items()}
        ) from exc


def platform_update(*, actor, platform: Platform, **fields) -> Platform:
    if not can(actor, "change", platform):
        raise NotFound()
    editable = {"name", "kind", "commission_cap_percent", "webhook_url", "webhook_secret"}
    if set(fields) - editable:
        raise ValidationFailed(_("These fields cannot be changed here."))
    for name, value in fields.items():
        setattr(platform, name, value)
    _full_clean(platform)
    with transaction.atomic():
        platform.save()
        audit.record(
            actor=actor,
            action="platform.update",
            obj=platform,
            data={"fields": sorted(set(fields) - {"webhook_secret"})},
        )
    return platform
