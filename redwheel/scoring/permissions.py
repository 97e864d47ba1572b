"""Scoring's part of the one permission mechanism.

- Rule books (with their rules and deduction rows) are, for now, one published rule book for
  the whole deployment, not one per city. Any signed-in person may view the published
  versions (drivers read what their score is made of; the public page shows them without
  signing in); drafts, and every change, belong to a city committee (`may_manage_rules`).
  Per-city rule books are left for later: they would get a `city` like the sandbox's rule sets.
- Points entries and score snapshots are owned exactly like their driver.
- Points locks are bookkeeping rows.

The platform look-ups (`scoring.lookup`) are hand-written SQL for speed; `check_lookup_scope`
(run at start-up) proves that their platform condition is the registry's.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from redwheel.core import permissions
from redwheel.orgs.permissions import is_city_committee
from redwheel.scoring.models import (
    Deduction,
    PointsEntry,
    PointsLock,
    Rule,
    RuleBook,
    ScoreSnapshot,
)

RULES_ACTION = "grant"  # committee staff, not viewers or regulators, maintain the rule book
EVERYTHING = Q(pk__isnull=False)  # not Q(): OR-ing an empty Q into a filter adds nothing


def may_manage_rules(principal) -> bool:
    """Operators, superusers and the staff of a city committee (granted on its root unit)."""
    return permissions.is_unscoped(principal) or is_city_committee(principal, RULES_ACTION)


def _rule_book_access(principal, action: str) -> Q:
    # The kernel asks this for signed-in people only (tokens and feeds never see rule books).
    if action in ("view", "change") and may_manage_rules(principal):
        return EVERYTHING
    if action == "view":
        return Q(status=RuleBook.Status.PUBLISHED)
    return Q(pk__in=[])


def check_lookup_scope() -> None:
    """The look-up SQL takes its platform condition from the registry (`lookup.platform_join`);
    refuse to start if the registry's rule has a shape that SQL cannot express, or if snapshots
    stop being owned like their driver."""
    from redwheel.drivers.models import Driver
    from redwheel.scoring import lookup

    lookup.platform_join()  # raises ImproperlyConfigured
    if "view" not in permissions.registered(Driver).platform_actions:
        raise ImproperlyConfigured("platform principals must view their drivers for look-ups")
    if permissions.registered(ScoreSnapshot).via != "driver":
        raise ImproperlyConfigured("score snapshots must be owned like their driver")


def register() -> None:
    permissions.register(
        RuleBook,
        owners=("created_by_id", "published_by_id"),
        platform_actions=(),
        extra=_rule_book_access,
    )
    permissions.register(Rule, via="book")
    permissions.register(Deduction, via="book")
    permissions.register(PointsEntry, via="driver")
    permissions.register(ScoreSnapshot, via="driver")
    permissions.register(PointsLock, internal=True)
    check_lookup_scope()
