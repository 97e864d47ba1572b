"""Reads for member evaluation. Each takes the viewer and goes through `permissions.scope`.

The tally exists only once a round is closed: `tally` refuses before, and nothing else reads
the ballots' choices. Turnout is a count; pages never list who has or has not voted.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from redwheel.core.errors import DomainError
from redwheel.core.permissions import can, get_or_404, scope
from redwheel.orgs.models import OrgUnit
from redwheel.party.evaluation.models import (
    Ballot,
    Grade,
    Participant,
    Round,
    RoundActivity,
    VoteReceipt,
)
from redwheel.party.evaluation.services import EVALUATING_KINDS, may_record


class TallyHidden(DomainError):
    code = "tally_hidden"
    status = 409
    default_message = _("The tally is shown only after the round has closed.")


def rounds(viewer) -> QuerySet:
    return (
        scope(viewer, "view", Round.objects.all())
        .select_related("branch")
        .annotate(
            participant_count=Count("participants", distinct=True),
            voted_count=Count("receipts", distinct=True),
        )
        .order_by("-year", "branch__path", "id")
    )


def round_get(viewer, pk: int, action: str = "view") -> Round:
    return get_or_404(
        viewer, action, Round.objects.select_related("branch", "branch__parent"), pk=pk
    )


def openable_branches(viewer) -> QuerySet:
    """Units the viewer may open a round for."""
    return scope(
        viewer, "change", OrgUnit.objects.filter(kind__in=EVALUATING_KINDS, is_active=True)
    ).order_by("path")


def participants(rnd: Round) -> list[Participant]:
    return list(rnd.participants.select_related("driver").order_by("driver__name", "id"))


def turnout(rnd: Round) -> tuple[int, int]:
    """(members who have voted, participants)."""
    return rnd.receipts.count(), rnd.participants.count()


def timeline(rnd: Round) -> list[RoundActivity]:
    return list(rnd.activities.select_related("actor"))


@dataclass
class TallyRow:
    participant: Participant
    counts: dict[str, int] = field(default_factory=dict)  # Grade value → votes

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def cells(self) -> list[int]:
        return [self.counts.get(grade, 0) for grade in Grade.values]


def tally(viewer, rnd: Round) -> list[TallyRow]:
    """Votes per member and grade; refused (TallyHidden) until the round is closed."""
    rnd = round_get(viewer, rnd.pk)
    if not rnd.tally_visible:
        raise TallyHidden()
    rows = {p.pk: TallyRow(p) for p in participants(rnd)}
    counted = (
        Ballot.objects.filter(round=rnd)
        .exclude(choice="")
        .values("subject_id", "choice")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for item in counted:
        rows[item["subject_id"]].counts[item["choice"]] = item["n"]
    return list(rows.values())


def permissions_on(viewer, rnd: Round) -> dict[str, bool]:
    return {"change": can(viewer, "change", rnd), "record": may_record(viewer, rnd)}


# The member's own ------------------------------------------------------------------------------


def own_participations(user) -> QuerySet:
    """The signed-in member's participations, newest round first, with whether they voted."""
    if not getattr(user, "is_authenticated", False):
        return Participant.objects.none()
    return (
        scope(user, "view", Participant.objects.filter(driver__user_id=user.pk))
        .select_related("round", "round__branch")
        .annotate(
            voted=Exists(VoteReceipt.objects.filter(voter=OuterRef("pk"))),
        )
        .order_by("-round__year", "-round_id")
    )


def own_participation(user, round_pk: int) -> Participant:
    return get_or_404(user, "view", own_participations(user), round_id=round_pk)


def ballot_subjects(participant: Participant) -> list[Participant]:
    """The other members on the participant's ballot, with their self-assessments."""
    return list(
        participant.round.participants.exclude(pk=participant.pk)
        .select_related("driver")
        .order_by("driver__name", "id")
    )


def waiting_ballots(user) -> QuerySet:
    """Rounds in which the member may vote and has not yet (for the driver home)."""
    return own_participations(user).filter(round__state=Round.State.VOTING, voted=False)


def me_summary(user) -> dict | None:
    """For the /me/party/ index: the member's latest round, or None if they never took part.

    Keys: `participant`, `round`, `state` (label), `voted`, `needs_vote`, `needs_self`
    (self-assessment still empty while open), `conclusion` (label, once recorded)."""
    if not hasattr(user, "driver"):
        return None
    latest = own_participations(user).first()
    if latest is None:
        return None
    rnd = latest.round
    return {
        "participant": latest,
        "round": rnd,
        "state": rnd.get_state_display(),
        "voted": latest.voted,
        "needs_vote": rnd.state == Round.State.VOTING and not latest.voted,
        "needs_self": rnd.state == Round.State.OPEN and not latest.self_assessment,
        "conclusion": (
            latest.get_conclusion_display()
            if rnd.state == Round.State.RECORDED and latest.conclusion
            else ""
        ),
    }
