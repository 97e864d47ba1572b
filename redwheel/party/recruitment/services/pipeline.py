"""Pipeline versions: seed the default, draft a copy, edit a step of the draft, publish it.

Only committee staff of the version's city (a `staff` grant on the root) write here. A
published version never changes: running cases keep the version they started with."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core.errors import Conflict, InvalidTransition, ValidationFailed
from redwheel.core.permissions import require
from redwheel.core.validators import contains_unsafe_text
from redwheel.orgs.models import OrgUnit
from redwheel.party.recruitment import rules
from redwheel.party.recruitment.models import (
    PipelineStep,
    PipelineVersion,
    Responsible,
)
from redwheel.party.recruitment.services.common import (
    VERSION,
    VAction,
    VState,
    build_default,
    person,
    require_committee,
)


def pipeline_seed_default(*, actor, city: OrgUnit) -> PipelineVersion:
    """Version 1 of the city's pipeline from the seeded 2014 细则 default (published)."""
    require(actor, "view", city)
    require_committee(actor, city)
    if city.parent_id is not None:
        raise ValidationFailed(_("A pipeline belongs to a city (a root unit)."))
    with transaction.atomic():
        OrgUnit.objects.select_for_update().filter(pk=city.pk).first()
        if PipelineVersion.objects.filter(city=city).exists():
            raise Conflict(_("This city already has a pipeline."), code="pipeline_exists")
        return build_default(city, by=actor, note=_("Seeded default (2014 细则)"))


def version_draft(*, actor, version: PipelineVersion, note: str = "") -> PipelineVersion:
    """A new draft version, a copy of `version` with all its steps."""
    require(actor, "view", version)
    require_committee(actor, version.city)
    if contains_unsafe_text(note):
        raise ValidationFailed(code="unsafe_text")
    with transaction.atomic():
        OrgUnit.objects.select_for_update().filter(pk=version.city_id).first()
        if PipelineVersion.objects.filter(city=version.city, state=VState.DRAFT).exists():
            raise Conflict(
                _("A draft exists already: edit and publish it first."), code="draft_exists"
            )
        number = PipelineVersion.objects.filter(city=version.city).aggregate(n=Max("number"))["n"]
        draft = PipelineVersion(
            city=version.city,
            number=(number or 0) + 1,
            note=(note or "").strip()[:300],
            based_on=version,
            created_by=person(actor),
        )
        VERSION.apply(draft, VAction.DRAFT, actor=actor, note=draft.note)
        PipelineStep.objects.bulk_create(
            [
                PipelineStep(
                    version=draft,
                    number=s.number,
                    stage=s.stage,
                    name=s.name,
                    responsible=s.responsible,
                    materials=s.materials,
                    fields=s.fields,
                    rules=s.rules,
                    guidance=s.guidance,
                    verify=s.verify,
                )
                for s in version.steps.all()
            ]
        )
    return draft


def version_step_update(
    *,
    actor,
    step: PipelineStep,
    name: str,
    responsible: str,
    materials: list,
    fields: list,
    rules_: list,
    guidance: str = "",
) -> PipelineStep:
    """Edit one step of a draft version (published versions never change)."""
    version = step.version
    require(actor, "view", version)
    require_committee(actor, version.city)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed(_("A step needs a name."), details={"name": [_("Required.")]})
    if responsible not in Responsible.values:
        raise ValidationFailed(_("Unknown responsible role."), details={"responsible": ["?"]})
    if contains_unsafe_text([name, guidance, materials, fields, rules_]):
        raise ValidationFailed(code="unsafe_text")
    rules.check_definition(materials=materials, fields=fields, rules=rules_)
    with transaction.atomic():
        version = PipelineVersion.objects.select_for_update().get(pk=version.pk)
        if version.state != VState.DRAFT:
            raise InvalidTransition(
                _("Published versions do not change: draft a new version."), code="not_draft"
            )
        step = PipelineStep.objects.get(pk=step.pk)
        step.name, step.responsible, step.guidance = name, responsible, (guidance or "")[:300]
        step.materials, step.fields, step.rules = materials, fields, rules_
        step.verify = False
        step.save()
        VERSION.apply(
            version,
            VAction.EDIT,
            actor=actor,
            note=_("Step %(n)s") % {"n": step.number},
            audit_data={"step": step.number},
        )
    return step


def version_publish(*, actor, version: PipelineVersion) -> PipelineVersion:
    """Put a draft in force; the version in force until now is replaced (its cases keep it)."""
    require(actor, "view", version)
    require_committee(actor, version.city)
    with transaction.atomic():
        versions = list(
            PipelineVersion.objects.select_for_update().filter(city=version.city).order_by("pk")
        )
        version = next(v for v in versions if v.pk == version.pk)
        VERSION.check(version, VAction.PUBLISH)
        if version.steps.count() != 25:
            raise ValidationFailed(_("A pipeline has 25 steps."), code="incomplete")
        for old in versions:
            if old.state == VState.PUBLISHED:
                VERSION.apply(old, VAction.RETIRE, actor=actor)
        VERSION.apply(
            version, VAction.PUBLISH, actor=actor, changes={"published_at": timezone.now()}
        )
    return version
