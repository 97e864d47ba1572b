"""The one permission function. Pages, API handlers, selectors, services and admin all ask here.

A grant gives a role on an org unit and applies to the unit's subtree. Drivers are visible
through their branch or through any unit of a platform they work for. A driver account sees
only its own records. Anything outside scope is reported as "not found" by callers.
"""

from django.db.models import F, Q, QuerySet

from redwheel.accounts.models import Role

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.SECRETARY: frozenset({"view", "change", "verify", "reveal"}),
    Role.ORGANISER: frozenset({"view", "change", "verify"}),
    Role.STAFF: frozenset({"view", "change", "verify", "reveal", "import", "audit", "grant"}),
    Role.INSTRUCTOR: frozenset({"view"}),
    Role.VIEWER: frozenset({"view"}),
    Role.REGULATOR: frozenset({"view", "audit"}),
}
ACTIONS = frozenset().union(*ROLE_ACTIONS.values())


class SystemActor:
    """A non-human actor (e.g. exchange ingestion of a platform's feed) that may act on anything.

    Services take it as `actor=` like a user; `scope`/`can` let it through, and `audit.record`
    stores its label with no user. Create one explicitly where a system process writes; never
    derive it from a request.
    """

    pk = None
    is_active = True
    is_superuser = False
    is_authenticated = False

    def __init__(self, label: str = "system") -> None:
        self.label = label

    def __str__(self) -> str:
        return self.label


def granted_paths(user, action: str) -> list[str]:
    """Materialised paths of the units where `user` may do `action` (subtrees included)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cache = user.__dict__.setdefault("_granted_paths", {})
    if action not in cache:
        roles = [role for role, actions in ROLE_ACTIONS.items() if action in actions]
        paths = sorted(set(user.grants.filter(role__in=roles).values_list("unit__path", flat=True)))
        # Drop paths inside another granted subtree: they add nothing and slow every filter.
        cache[action] = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    return cache[action]


def _path_q(field: str, paths: list[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{field}__startswith": path})
    return q


def scope(user, action: str, queryset: QuerySet) -> QuerySet:
    """Filter `queryset` down to the objects `user` may `action`."""
    from redwheel.drivers.models import Driver, Membership
    from redwheel.orgs.models import OrgUnit, Platform

    model = queryset.model
    if isinstance(user, SystemActor) or (getattr(user, "is_superuser", False) and user.is_active):
        return queryset
    paths = granted_paths(user, action)
    if model is OrgUnit:
        return queryset.filter(_path_q("path", paths))
    if model is Platform:
        root_granted = any(path.count(".") == 1 for path in paths)
        if root_granted:  # committee-level grants also see platforms with no party unit yet
            return queryset
        return queryset.filter(_path_q("units__path", paths)).distinct()
    if model is Driver:
        return queryset.filter(_driver_q(user, action, paths, prefix=""))
    if model is Membership:
        return queryset.filter(_driver_q(user, action, paths, prefix="driver__"))
    raise TypeError(f"no scope rule for {model.__name__}")


def _driver_q(user, action: str, paths: list[str], prefix: str) -> Q:
    q = Q(**{f"{prefix}user_id": user.pk}) if action in SELF_ACTIONS else Q(pk__in=[])
    if any(path.count(".") == 1 for path in paths):
        return Q()  # the city's committee sees every driver, even those no branch covers yet
    if paths:
        q |= _path_q(f"{prefix}branch__path", paths)
        q |= _path_q(f"{prefix}membership__branch__path", paths)
        q |= _path_q(f"{prefix}membership__mobile_branch__path", paths)
        platform_ids = _platforms_led_within(paths)
        if platform_ids:
            q |= Q(**{f"{prefix}id__in": _affiliated(platform_ids)})
    return q


def _platforms_led_within(paths: list[str]) -> list[int]:
    """Platforms whose own top party unit lies in the granted subtrees.

    A grant on one branch of a platform does not open all of that platform's drivers; a grant
    on its party committee (or anything above) does.
    """
    from redwheel.orgs.models import OrgUnit

    top_units = OrgUnit.objects.filter(platform__isnull=False).exclude(
        parent__platform=F("platform")
    )
    return list(top_units.filter(_path_q("path", paths)).values_list("platform_id", flat=True))


def _affiliated(platform_ids):
    from redwheel.drivers.models import Affiliation

    return Affiliation.objects.filter(platform_id__in=platform_ids).values("driver_id")


# What a driver may do with their own records.
SELF_ACTIONS = frozenset({"view", "change"})


def can(user, action: str, obj) -> bool:
    """May `user` do `action` on `obj`? Works for any model `scope` knows."""
    if obj is None or obj.pk is None:
        return False
    return scope(user, action, type(obj)._default_manager.filter(pk=obj.pk)).exists()


def home_kind(user) -> str:
    """Which home page a signed-in user lands on: 'staff', 'driver' or 'none'."""
    if user.is_superuser or user.grants.exists():
        return "staff"
    if hasattr(user, "driver"):
        return "driver"
    return "none"
