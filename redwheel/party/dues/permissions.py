"""Party dues (党费): its models in the one permission mechanism (redwheel.core.permissions).

Assessments, ledger entries, hardship requests and reminders are owned by the member's branch
(the one recorded on the row, and the member's current membership branch) — so grants on the
branch or any unit above it see them — and by the member, who may read their own. Platforms
do not see dues: they are party matters and money, not operating data. A city's rules are
owned by its root unit; everyone reads them through the selectors (they are public rules),
only the city committee adds a version (`services.rules_publish`).
"""

from redwheel.core import permissions
from redwheel.party.dues.models import (
    Assessment,
    HardshipActivity,
    HardshipRequest,
    Payment,
    Reminder,
    RuleSet,
)

MEMBER_ROW_UNITS = ("branch__path", "member__membership__branch__path")


def register() -> None:
    permissions.register(RuleSet, units=("city__path",), platform_actions=())
    for model in (Assessment, Payment, HardshipRequest, Reminder):
        permissions.register(
            model,
            units=MEMBER_ROW_UNITS,
            owners=("member__user_id",),
            self_actions=("view",),
            platform_actions=(),
        )
    permissions.register(HardshipActivity, via="request")
