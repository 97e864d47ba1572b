"""Rule sets: drafts, edited until published; a published rule set never changes (a change is
a new version). Each step is a transition of `RULE_SET` with its activity row."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redwheel.core.errors import InvalidTransition, ValidationFailed
from redwheel.core.permissions import require
from redwheel.core.states import StateMachine, Transition
from redwheel.dispatch import engine
from redwheel.dispatch.models import RuleSet, RuleSetActivity
from redwheel.dispatch.permissions import SANDBOX_ACTION, city_for
from redwheel.orgs.models import OrgUnit

A = RuleSetActivity.Action
_Status = RuleSet.Status

RULE_SET = StateMachine(
    activity_model=RuleSetActivity,
    parent_field="rule_set",
    audit_prefix="dispatch.ruleset",
    state_field="status",
    from_field="from_status",
    to_field="to_status",
    transitions={
        A.CREATE: Transition({None}, _Status.DRAFT),
        A.NEW_VERSION: Transition({None}, _Status.DRAFT),
        A.UPDATE: Transition({_Status.DRAFT}, None),
        A.PUBLISH: Transition({_Status.DRAFT}, _Status.PUBLISHED),
    },
)


def parameters_clean(name: str, version: str, parameters: dict) -> dict:
    """Validate with the engine's loader; returns the full parameter dict (defaults filled in)."""
    if not isinstance(parameters, dict):
        raise ValidationFailed(_("Rule set parameters must be a JSON object."))
    data = {k: v for k, v in parameters.items() if k not in ("name", "version")}
    try:
        rules = engine.RuleSet.from_dict({**data, "name": name, "version": version})
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            _("Invalid rule set parameters: %(error)s") % {"error": exc},
            details={"parameters": str(exc)},
        ) from exc
    out = rules.to_dict()
    out.pop("name")
    out.pop("version")
    return out


def _check_unique(city_id: int, name: str, version: str, exclude_pk=None) -> None:
    clash = RuleSet.objects.filter(city_id=city_id, name=name, version=version).exclude(
        pk=exclude_pk
    )
    if clash.exists():
        raise ValidationFailed(
            _("A rule set named %(name)s with version %(version)s already exists.")
            % {"name": name, "version": version},
            details={"version": "duplicate"},
        )


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def _locked(actor, rule_set: RuleSet) -> RuleSet:
    """The stored rule set, locked for the transaction; NotFound outside the actor's sandbox."""
    require(actor, SANDBOX_ACTION, rule_set)
    return RuleSet.objects.select_for_update().get(pk=rule_set.pk)


@transaction.atomic
def ruleset_create(
    *,
    actor,
    name: str,
    version: str,
    parameters: dict,
    description: str = "",
    city: OrgUnit | None = None,
) -> RuleSet:
    """A draft rule set of `city` (by default the one city whose sandbox the actor uses)."""
    city = city_for(actor, city)
    name, version = name.strip(), version.strip()
    if not name or not version:
        raise ValidationFailed(_("A rule set needs a name and a version."))
    params = parameters_clean(name, version, parameters)
    _check_unique(city.pk, name, version)
    rule_set = RuleSet(
        city=city,
        name=name,
        version=version,
        description=description,
        parameters=params,
        created_by=_user(actor),
    )
    RULE_SET.apply(rule_set, A.CREATE, actor=actor, audit_action="dispatch.ruleset_create")
    return rule_set


@transaction.atomic
def ruleset_update(
    *, actor, rule_set: RuleSet, name: str, version: str, parameters: dict, description: str = ""
) -> RuleSet:
    rule_set = _locked(actor, rule_set)
    if rule_set.is_published:
        raise InvalidTransition(
            _("A published rule set cannot be changed; create a new version instead.")
        )
    name, version = name.strip(), version.strip()
    if not name or not version:
        raise ValidationFailed(_("A rule set needs a name and a version."))
    params = parameters_clean(name, version, parameters)
    _check_unique(rule_set.city_id, name, version, exclude_pk=rule_set.pk)
    rule_set.name, rule_set.version = name, version
    rule_set.parameters, rule_set.description = params, description
    RULE_SET.apply(rule_set, A.UPDATE, actor=actor, audit_action="dispatch.ruleset_update")
    return rule_set


@transaction.atomic
def ruleset_publish(*, actor, rule_set: RuleSet, now: datetime | None = None) -> RuleSet:
    rule_set = _locked(actor, rule_set)
    if rule_set.is_published:
        raise InvalidTransition(_("This rule set is already published."))
    parameters_clean(rule_set.name, rule_set.version, rule_set.parameters)
    RULE_SET.apply(
        rule_set,
        A.PUBLISH,
        actor=actor,
        now=now,
        changes={"published_at": now or timezone.now()},
        audit_action="dispatch.ruleset_publish",
    )
    return rule_set


def _next_version(city_id: int, name: str, version: str) -> str:
    taken = set(
        RuleSet.objects.filter(city_id=city_id, name=name).values_list("version", flat=True)
    )
    if version.isdigit():
        candidate = int(version) + 1
        while str(candidate) in taken:
            candidate += 1
        return str(candidate)
    n = 2
    while f"{version}.{n}" in taken:
        n += 1
    return f"{version}.{n}"


@transaction.atomic
def ruleset_new_version(*, actor, rule_set: RuleSet) -> RuleSet:
    """A draft copy of `rule_set` with the next free version, to edit and publish."""
    rule_set = _locked(actor, rule_set)
    copy = RuleSet(
        city_id=rule_set.city_id,
        name=rule_set.name,
        version=_next_version(rule_set.city_id, rule_set.name, rule_set.version),
        description=rule_set.description,
        parameters=dict(rule_set.parameters),
        created_by=_user(actor),
    )
    RULE_SET.apply(
        copy,
        A.NEW_VERSION,
        actor=actor,
        note=_("Copied from %(rule_set)s.") % {"rule_set": rule_set},
        audit_action="dispatch.ruleset_new_version",
        audit_summary=f"{rule_set} → {copy}",
    )
    return copy


@transaction.atomic
def ruleset_import(
    *, actor, rules: engine.RuleSet, description: str = "", city: OrgUnit | None = None
) -> RuleSet:
    """The stored rule set of `city` for an engine rule set (CLI `--save`): reused if name,
    version and parameters match, refused if the name and version exist with other parameters."""
    city = city_for(actor, city)
    params = parameters_clean(rules.name, rules.version, rules.to_dict())
    existing = RuleSet.objects.filter(city=city, name=rules.name, version=rules.version).first()
    if existing is not None:
        if existing.parameters != params:
            raise ValidationFailed(
                _(
                    "Rule set %(name)s v%(version)s is already stored with other parameters; "
                    "give the changed rules a new version."
                )
                % {"name": rules.name, "version": rules.version}
            )
        return existing
    return ruleset_create(
        actor=actor,
        name=rules.name,
        version=rules.version,
        parameters=params,
        description=description,
        city=city,
    )
