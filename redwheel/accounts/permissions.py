"""Accounts' part of the one permission mechanism (`redwheel.core.permissions`).

Roles map to actions; a grant on a unit gives its role's actions on that unit's subtree.
This module plugs the grants into the kernel and registers the accounts models.
"""

from redwheel.accounts.models import Grant, OneTimeCode, PlatformToken, Role, User
from redwheel.core import permissions

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.SECRETARY: frozenset({"view", "change", "verify", "reveal"}),
    Role.ORGANISER: frozenset({"view", "change", "verify"}),
    Role.STAFF: frozenset({"view", "change", "verify", "reveal", "import", "audit", "grant"}),
    Role.INSTRUCTOR: frozenset({"view"}),
    Role.VIEWER: frozenset({"view"}),
    Role.REGULATOR: frozenset({"view", "audit"}),
}
assert frozenset().union(*ROLE_ACTIONS.values()) <= permissions.ACTIONS


def grant_paths(user, action: str) -> list[str]:
    roles = [role for role, actions in ROLE_ACTIONS.items() if action in actions]
    return list(
        Grant.objects.filter(user=user, role__in=roles).values_list("unit__path", flat=True)
    )


def home_kind(user) -> str:
    """Which home page a signed-in user lands on: 'staff', 'driver' or 'none'.

    Kept on the user object, as `permissions.granted_paths` is: the audience decorator and the
    menu ask it on every page, and a request's user does not change its grants mid-request."""
    if "_home_kind" not in user.__dict__:
        if user.is_superuser or user.grants.exists():
            kind = "staff"
        elif hasattr(user, "driver"):
            kind = "driver"
        else:
            kind = "none"
        user.__dict__["_home_kind"] = kind
    return user.__dict__["_home_kind"]


def has_staff_role(user) -> bool:
    """Holds at least one grant (or is a superuser). Not `User.is_staff`, which means "may use
    the admin site"."""
    return getattr(user, "is_authenticated", False) and home_kind(user) == "staff"


def register() -> None:
    permissions.set_grant_provider(grant_paths)
    # A user record belongs to the units they hold grants on and to their driver's owners.
    permissions.register(
        User,
        units=("grants__unit__path", "driver__branch__path"),
        platforms=("driver__affiliations__platform_id",),
        owners=("pk",),
        self_actions=("view", "change"),
        platform_actions=(),
    )
    permissions.register(Grant, units=("unit__path",), owners=("user_id",))
    permissions.register(PlatformToken, platforms=("platform_id",), platform_actions=())
    permissions.register(OneTimeCode, internal=True)
