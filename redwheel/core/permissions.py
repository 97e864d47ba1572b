"""The one permission mechanism: `scope(principal, action, queryset)` and `can(...)`.

Every read and write — pages, API, admin, tasks, commands and feeds — asks here. The kernel
knows no app: each app *registers* its models with `register(model, ...)`, declaring how an
object maps to the org units and platforms that own it and to the user it is about, and the
apps that know grants and platforms plug in two providers (`set_grant_provider`,
`set_platform_provider`). A model with user-visible rows that is not registered fails
`core/tests/test_permission_registry.py`.

Principals:
- a user: a grant gives a role on a unit and covers that unit's subtree (materialised path
  prefix), nothing above or beside it; a driver account sees only rows that are about them;
  active superusers are unscoped;
- a platform principal (a platform API token, or a `SystemActor` acting for a platform's
  feed): the rows of its own platform only;
- an operator `SystemActor` (management commands, the demo builder, the scheduler's
  city-wide jobs): unscoped, and must be created explicitly with `SystemActor.operator()`.

Anything outside scope is "not found" to callers (404), never 403.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet

from redwheel.core.errors import NotFound

# What a role may do is the grant provider's business; the kernel only knows the vocabulary.
ACTIONS = frozenset({"view", "change", "verify", "reveal", "import", "audit", "grant"})
PLATFORM_ACTIONS = frozenset({"view", "change"})


class SystemActor:
    """A non-human actor. It carries the scope it acts for; only operators are unscoped.

    `audit.record` stores its label with no user.
    """

    pk = None
    is_active = True
    is_superuser = False
    is_authenticated = False

    def __init__(self, label: str, *, platform_id: int | None = None, operator: bool = False):
        if (platform_id is None) == (not operator):
            raise ValueError("a SystemActor acts for one platform or is an operator, not both")
        self.label = label
        self.acts_for_platform = platform_id
        self.is_operator = operator

    @classmethod
    def operator(cls, label: str = "system") -> "SystemActor":
        """Unscoped: management commands, the demo builder, city-wide periodic jobs."""
        return cls(label, operator=True)

    @classmethod
    def for_platform(cls, platform_id: int, label: str) -> "SystemActor":
        """Scoped to one platform's rows, e.g. that platform's exchange feed."""
        return cls(label, platform_id=platform_id)

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Ownership:
    """How an object of one model maps to its owners. Every field holds ORM lookups.

    units:     paths of the org units that own the object (a grant on an ancestor sees it);
    platforms: ids of the platforms that own it (a grant covering that platform's own party
               organisation, or the platform's own principals, see it);
    owners:    ids of the users it is about (they may do `self_actions` on it);
    via:       the object is owned exactly as the object at this lookup (a child row);
    internal:  bookkeeping rows no one but operators and superusers reads directly.
    """

    units: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    self_actions: frozenset[str] = frozenset({"view"})
    platform_actions: frozenset[str] = PLATFORM_ACTIONS
    via: str = ""
    internal: bool = False
    extra: Callable | None = field(default=None, compare=False)


_registry: dict[type[models.Model], Ownership] = {}
_grant_provider: Callable[[object, str], list[str]] | None = None
_platform_provider: Callable[[list[str]], QuerySet] | None = None


def register(
    model: type[models.Model],
    *,
    units: Iterable[str] = (),
    platforms: Iterable[str] = (),
    owners: Iterable[str] = (),
    self_actions: Iterable[str] = ("view",),
    platform_actions: Iterable[str] = PLATFORM_ACTIONS,
    via: str = "",
    internal: bool = False,
    extra: Callable | None = None,
) -> None:
    """Declare who owns `model`'s rows. `extra(principal, action) -> Q` adds a model-specific
    way in (e.g. the contact member a case is assigned to); it must itself be narrow."""
    if model in _registry:
        raise ValueError(f"{model.__name__} is already registered")
    rule = Ownership(
        units=tuple(units),
        platforms=tuple(platforms),
        owners=tuple(owners),
        self_actions=frozenset(self_actions),
        platform_actions=frozenset(platform_actions),
        via=via,
        internal=internal,
        extra=extra,
    )
    if not internal and not (rule.units or rule.platforms or rule.owners or rule.via):
        raise ValueError(f"{model.__name__}: declare its owners, or register it as internal")
    _registry[model] = rule


def registered(model: type[models.Model]) -> Ownership:
    model = model._meta.concrete_model
    try:
        return _registry[model]
    except KeyError:
        raise TypeError(f"{model.__name__} is not registered with core.permissions") from None


def registered_models() -> list[type[models.Model]]:
    return list(_registry)


def set_grant_provider(provider: Callable[[object, str], list[str]]) -> None:
    """`provider(user, action)` → the materialised paths where the user may do `action`."""
    global _grant_provider
    _grant_provider = provider


def set_platform_provider(provider: Callable[[list[str]], QuerySet]) -> None:
    """`provider(paths)` → ids of the platforms whose own organisation lies in those subtrees."""
    global _platform_provider
    _platform_provider = provider


# Principals -----------------------------------------------------------------------------------


def is_unscoped(principal) -> bool:
    if isinstance(principal, SystemActor):
        return principal.is_operator
    return bool(
        getattr(principal, "is_superuser", False) and getattr(principal, "is_active", False)
    )


def acting_platform(principal) -> int | None:
    """The platform a token or a feed acts for; None for people and operators."""
    return getattr(principal, "acts_for_platform", None)


def granted_paths(principal, action: str) -> list[str]:
    """Materialised paths of the units where a user may do `action` (subtrees included)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if _user_id(principal) is None:
        return []
    cache = principal.__dict__.setdefault("_granted_paths", {})
    if action not in cache:
        paths = sorted(set(_grant_provider(principal, action))) if _grant_provider else []
        # Drop paths inside another granted subtree: they add nothing and slow every filter.
        cache[action] = [p for p in paths if not any(p != q and p.startswith(q) for q in paths)]
    return cache[action]


def _user_id(principal) -> int | None:
    if isinstance(principal, SystemActor) or acting_platform(principal) is not None:
        return None
    if not getattr(principal, "is_authenticated", False) or not principal.is_active:
        return None
    return principal.pk


# Scope ----------------------------------------------------------------------------------------


def _is_multi_valued(model, lookup: str) -> bool:
    """Whether following `lookup` from `model` crosses a one-to-many or many-to-many step."""
    opts = model._meta
    for part in lookup.split("__"):
        try:
            f = opts.get_field(part)
        except FieldDoesNotExist:
            return False  # "pk", a transform or the final attribute
        if f.one_to_many or f.many_to_many:
            return True
        if not f.is_relation:
            return False
        opts = f.related_model._meta
    return False


def _term(model, lookup: str, condition: Q) -> Q:
    """`condition` on `lookup`, as a subquery when the lookup fans out (no duplicate rows)."""
    if _is_multi_valued(model, lookup):
        return Q(pk__in=model._base_manager.filter(condition).values("pk"))
    return condition


def _prefix_q(lookup: str, paths: list[str]) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{lookup}__startswith": path})
    return q


def _q(principal, action: str, model) -> Q | None:
    """The filter for what `principal` may `action` on `model`; None means everything."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    rule = registered(model)
    if is_unscoped(principal):
        return None
    nothing = Q(pk__in=[])
    if rule.internal:
        return nothing
    if rule.via:
        parent = model._meta.get_field(rule.via.split("__")[0]).related_model
        for part in rule.via.split("__")[1:]:
            parent = parent._meta.get_field(part).related_model
        inner = _q(principal, action, parent)
        if inner is None:
            return None
        return _term(model, rule.via, Q(**{f"{rule.via}__in": parent._base_manager.filter(inner)}))
    q = nothing
    platform_id = acting_platform(principal)
    if platform_id is not None:
        if action in rule.platform_actions:
            for lookup in rule.platforms:
                q |= _term(model, lookup, Q(**{lookup: platform_id}))
        return q
    user_id = _user_id(principal)
    if user_id is None:
        return nothing
    if action in rule.self_actions:
        for lookup in rule.owners:
            q |= _term(model, lookup, Q(**{lookup: user_id}))
    paths = granted_paths(principal, action)
    if paths:
        for lookup in rule.units:
            q |= _term(model, lookup, _prefix_q(lookup, paths))
        if rule.platforms and _platform_provider is not None:
            platform_ids = _platform_provider(paths)
            for lookup in rule.platforms:
                q |= _term(model, lookup, Q(**{f"{lookup}__in": platform_ids}))
    if rule.extra is not None:
        # `extra` adds a narrow way in for people; it must never return an empty Q(), which
        # Django drops from an OR (say "everything" with Q(pk__isnull=False)).
        q |= rule.extra(principal, action)
    return q


def scope(principal, action: str, queryset: QuerySet) -> QuerySet:
    """Filter `queryset` down to the objects `principal` may `action`."""
    q = _q(principal, action, queryset.model)
    return queryset if q is None else queryset.filter(q)


def can(principal, action: str, obj) -> bool:
    """May `principal` do `action` on `obj`? Works for every registered model."""
    if obj is None or obj.pk is None:
        return False
    manager = type(obj)._base_manager
    return scope(principal, action, manager.filter(pk=obj.pk)).exists()


def require(principal, action: str, obj) -> None:
    """Raise NotFound unless `principal` may `action` on `obj`: the guard services call."""
    if not can(principal, action, obj):
        raise NotFound()


def get_or_404(principal, action: str, queryset: QuerySet, **lookup):
    """The one object of `queryset` matching `lookup` that `principal` may `action`, or NotFound."""
    found = scope(principal, action, queryset).filter(**lookup).first()
    if found is None:
        raise NotFound()
    return found


def owners_of(obj) -> tuple[str, int | None]:
    """The first owning unit path and platform id of `obj`, as the registry declares them."""
    model = obj._meta.concrete_model  # `obj` may be a lazy object (request.user)
    rule = _registry.get(model)
    if rule is None or rule.internal:
        return "", None
    if rule.via:
        parent = obj
        for part in rule.via.split("__"):
            parent = getattr(parent, part, None)
            if parent is None:
                return "", None
        return owners_of(parent)
    lookups = [*rule.units, *rule.platforms]
    if not lookups:
        return "", None
    # One query for every lookup; fan-out lookups multiply rows, so take the first non-empty
    # value of each lookup in declared order, as the registry lists them.
    rows = list(model._base_manager.filter(pk=obj.pk).values_list(*lookups)[:100])

    def first(indexes: range):
        return next((row[i] for i in indexes for row in rows if row[i]), None)

    path = first(range(len(rule.units)))
    platform_id = first(range(len(rule.units), len(lookups)))
    return path or "", platform_id
