"""Appeals' part of the one permission mechanism (`redwheel.core.permissions`).

A case is owned by every unit that has held it (so a branch keeps seeing a case it escalated)
and by its current unit, by the platform it concerns, and by the driver it is about (who may
view it and take the driver's steps). The contact member it is assigned to may view it.
Timeline, attachments, stints and mediation rows are owned exactly as their case.

Deadline policies are one rule book for the whole deployment, edited in the back office by
operators; they are bookkeeping (`internal`), read by the services, never by tenants.
"""

from django.db.models import Q

from redwheel.appeals.models import (
    Activity,
    Assignment,
    Attachment,
    Case,
    DeadlinePolicy,
    Mediation,
)
from redwheel.core import permissions


def assigned_to_viewer(principal, action: str) -> Q:
    """The contact member currently looking after a case may read it (nothing more)."""
    if action != "view" or permissions.acting_platform(principal) is not None:
        return Q(pk__in=[])
    if not getattr(principal, "is_authenticated", False) or not principal.is_active:
        return Q(pk__in=[])
    return Q(assignee_id=principal.pk)


def register() -> None:
    permissions.register(
        Case,
        # The current unit first: it is what the audit log records as the owner.
        units=("unit__path", "assignments__unit__path"),
        platforms=("platform_id",),
        owners=("driver__user_id",),
        self_actions=("view", "change"),
        # A platform's token reads its cases; steps on them are people's work.
        platform_actions=("view",),
        extra=assigned_to_viewer,
    )
    for model in (Assignment, Activity, Attachment, Mediation):
        permissions.register(model, via="case")
    permissions.register(DeadlinePolicy, internal=True)
