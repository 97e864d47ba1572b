"""Mobile members (流动党员) in the one permission mechanism (redwheel.core.permissions).

A ledger entry is owned by the mobile branch the member checked in to (a grant on it or above
sees it) and by the member it is about, who may also change it (their own numbers and
expected return). Transfers and reminders are owned as their entry. Platform tokens see none.
"""

from redwheel.core import permissions
from redwheel.party.mobile.models import LedgerEntry, Reminder, Transfer


def register() -> None:
    permissions.register(
        LedgerEntry,
        units=("mobile_branch__path",),
        owners=("membership__driver__user_id",),
        self_actions=("view", "change"),
        platform_actions=(),
    )
    permissions.register(Transfer, via="entry")
    permissions.register(Reminder, via="entry")
