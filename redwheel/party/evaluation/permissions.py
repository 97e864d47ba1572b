"""Member evaluation (民主评议) in the one permission mechanism (redwheel.core.permissions).

A round is owned by its branch (a grant on the branch or above sees it) and seen by the members
taking part in it. Participants, activity rows and ballots are owned as their round; a vote
receipt is also seen by the voter it is about. Platform tokens see none of it.
"""

from redwheel.core import permissions
from redwheel.party.evaluation.models import Ballot, Participant, Round, RoundActivity, VoteReceipt


def register() -> None:
    permissions.register(
        Round,
        units=("branch__path",),
        owners=("participants__driver__user_id",),
        self_actions=("view",),
        platform_actions=(),
    )
    for model in (RoundActivity, Participant, Ballot):
        permissions.register(model, via="round")
    permissions.register(
        VoteReceipt,
        units=("round__branch__path",),
        owners=("voter__driver__user_id",),
        self_actions=("view",),
        platform_actions=(),
    )
