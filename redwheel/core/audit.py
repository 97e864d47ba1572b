from django.db import models

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
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=_actor_label(actor),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        summary=summary[:300],
        reason=reason[:300],
        data=data or {},
    )


def _actor_label(actor) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return str(actor)
