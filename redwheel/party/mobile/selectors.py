"""Reads for the 报到 ledger. Each takes the viewer and goes through `permissions.scope`."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from redwheel.core.dates import local_date
from redwheel.core.permissions import can, get_or_404, scope
from redwheel.drivers import selectors as drivers
from redwheel.drivers.models import Membership
from redwheel.orgs.models import OrgUnit
from redwheel.party.mobile.models import LedgerEntry
from redwheel.party.mobile.services import (
    default_away_since,
    is_checked_in,
    months_away,
    reminder_due_on,
)


def mobile_branches(viewer, action: str = "view") -> QuerySet:
    return scope(
        viewer,
        action,
        OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH, branch_type=OrgUnit.BranchType.MOBILE),
    )


@dataclass
class Row:
    """One current check-in with its entry (None until someone records it)."""

    membership: Membership
    entry: LedgerEntry | None
    today: date

    @property
    def away_since(self) -> date:
        return self.entry.away_since if self.entry else default_away_since(self.membership)

    @property
    def months_away(self) -> int:
        return months_away(self.away_since, self.today)

    @property
    def due_on(self) -> date:
        return reminder_due_on(self.away_since)

    @property
    def over_six_months(self) -> bool:
        return self.due_on <= self.today

    @property
    def reminder(self):
        return getattr(self.entry, "reminder", None) if self.entry else None

    @property
    def transfer(self):
        return next(iter(self.entry.transfers.all()), None) if self.entry else None


def current_check_ins(viewer) -> QuerySet:
    """Memberships checked in now to a mobile branch the viewer sees, longest away first."""
    return (
        scope(
            viewer,
            "view",
            Membership.objects.filter(
                mobile_branch__in=mobile_branches(viewer), checked_in_at__isnull=False
            ),
        )
        .select_related("driver", "mobile_branch", "branch")
        .order_by("checked_in_at", "id")
    )


def rows_for(memberships, today: date | None = None) -> list[Row]:
    """Rows for one page of memberships: their current entries in one query."""
    memberships = list(memberships)
    entries = {
        (e.membership_id, e.checked_in_at): e
        for e in LedgerEntry.objects.filter(membership__in=[m.pk for m in memberships])
        .select_related("reminder")
        .prefetch_related("transfers")
    }
    today = today or local_date()
    return [Row(m, entries.get((m.pk, m.checked_in_at)), today) for m in memberships]


def membership_get(viewer, pk: int) -> Membership:
    """A membership with a check-in or a ledger entry, if the viewer may see it."""
    with_ledger = Q(mobile_branch__isnull=False) | Q(
        pk__in=LedgerEntry.objects.values("membership_id")
    )
    return get_or_404(
        viewer,
        "view",
        Membership.objects.filter(with_ledger).select_related("driver", "mobile_branch", "branch"),
        pk=pk,
    )


def may_record(viewer, membership: Membership) -> bool:
    """May the viewer record entries and transfers for this member's current check-in?"""
    return membership.mobile_branch_id is not None and can(
        viewer, "change", membership.mobile_branch
    )


def entries_of(viewer, membership: Membership) -> list[LedgerEntry]:
    return list(
        scope(viewer, "view", LedgerEntry.objects.filter(membership=membership))
        .select_related("mobile_branch", "reminder", "recorded_by")
        .prefetch_related("transfers")
    )


def current_entry(membership: Membership) -> LedgerEntry | None:
    if not is_checked_in(membership):
        return None
    return (
        LedgerEntry.objects.filter(membership=membership, checked_in_at=membership.checked_in_at)
        .select_related("reminder")
        .prefetch_related("transfers")
        .first()
    )


# The member's own ------------------------------------------------------------------------------


def own_status(user) -> dict:
    """What /me/party/mobile/ shows: the membership, whether checked in, the current row,
    earlier entries and the mobile branches the member may check in to."""
    driver = drivers.own_driver(user)
    membership = drivers.membership_of(driver)
    verified = drivers.is_verified_member(driver)
    row = None
    if membership is not None and is_checked_in(membership):
        row = rows_for([membership])[0]
    earlier = []
    if membership is not None:
        earlier = [
            e
            for e in entries_of(user, membership)
            if row is None or row.entry is None or e.pk != row.entry.pk
        ]
    return {
        "driver": driver,
        "membership": membership,
        "verified": verified,
        "row": row,
        "earlier": earlier,
        "branches": drivers.city_mobile_branches(driver) if verified and row is None else None,
    }


def me_summary(user) -> dict | None:
    """For the /me/party/ index: the current check-in, or None when not checked in.

    Keys: `row` (`Row`: away_since, months_away, due_on, over_six_months, reminder, transfer,
    entry), `branch` (the mobile branch), `needs_numbers` (no entry recorded yet)."""
    if not getattr(user, "is_authenticated", False):
        return None
    membership = (
        Membership.objects.filter(driver__user_id=user.pk).select_related("mobile_branch").first()
    )
    if membership is None or not is_checked_in(membership):
        return None
    row = rows_for([membership])[0]
    return {"row": row, "branch": membership.mobile_branch, "needs_numbers": row.entry is None}
