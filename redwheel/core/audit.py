from django.db import models

from redwheel.core import permissions
from redwheel.core.models import AuditEntry


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    summary: str = "",
    reason: str = "",
    data: dict | None = None,
) -> AuditEntry:
    """Append one audit entry. Never put plaintext personal data in `summary` or `data`."""
    unit_path, platform_ref = permissions.owners_of(obj) if obj is not None else ("", None)
    return AuditEntry.objects.create(
        unit_path=unit_path,
        platform_ref=platform_ref,
        actor=actor if _is_person(actor) else None,
        actor_label=_actor_label(actor),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        summary=summary[:300],
        reason=reason[:300],
        data=data or {},
    )


def _is_person(actor) -> bool:
    """A signed-in account, not a token or feed (which have ids of other tables)."""
    return (
        getattr(actor, "pk", None) is not None
        and getattr(actor, "is_authenticated", False)
        and permissions.acting_platform(actor) is None
    )


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return str(actor)
