"""Member evaluation (民主评议党员, domain-rules §3): a yearly round per branch.

A round goes open (members write their self-assessments) → voting (secret ballot) → closed (the
tally is shown, the branch concludes per member) → recorded (the committee above the branch
confirms it).

The ballot is secret by construction. Two tables hold what a vote leaves behind and nothing
links them:

- `VoteReceipt` (round, voter): that a member has voted; no choice, no time.
- `Ballot` (round, subject, choice): no voter, no time, a random UUID key. The ballot slots are
  created, empty, when voting starts — one per subject for every other participant, in a
  shuffled order — and a vote fills one randomly drawn empty slot per subject. No ballot row
  is inserted while members vote, so neither row ids, physical order nor insertion time can
  follow the order in which members voted. Closing the round rewrites every slot of the round
  in one statement (see `services.round_close`).
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from redwheel.core.models import BaseModel, ImmutableModel, StatusActivity


class Grade(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent (优秀)")
    QUALIFIED = "qualified", _("Qualified (合格)")
    BASIC = "basic", _("Basically qualified (基本合格)")
    UNQUALIFIED = "unqualified", _("Unqualified (不合格)")


class Round(BaseModel):
    class State(models.TextChoices):
        OPEN = "open", _("Self-assessment")
        VOTING = "voting", _("Voting")
        CLOSED = "closed", _("Closed, awaiting conclusions")
        RECORDED = "recorded", _("Recorded by the committee")

    branch = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        related_name="evaluation_rounds",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.OPEN, db_index=True
    )
    state_changed_at = models.DateTimeField(_("state changed at"), null=True, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    committee_note = models.CharField(_("committee note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-year", "id"]
        verbose_name = _("evaluation round")
        verbose_name_plural = _("evaluation rounds")
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "year"], name="evaluation_round_one_per_branch_year"
            ),
        ]

    def __str__(self):
        return f"{self.branch} · {self.year}"

    @property
    def tally_visible(self) -> bool:
        return self.state in (self.State.CLOSED, self.State.RECORDED)


class RoundActivity(StatusActivity):
    class Action(models.TextChoices):
        OPEN = "open", _("Opened for self-assessments")
        START_VOTING = "start_voting", _("Voting started")
        CLOSE = "close", _("Voting closed")
        RECORD = "record", _("Recorded by the committee")

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="activities")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)

    class Meta(StatusActivity.Meta):
        verbose_name = _("evaluation round activity")
        verbose_name_plural = _("evaluation round activities")


class Participant(BaseModel):
    """A member taking part in a round: their self-assessment and the branch's conclusion."""

    round = models.ForeignKey(
        Round, verbose_name=_("round"), on_delete=models.PROTECT, related_name="participants"
    )
    driver = models.ForeignKey(
        "drivers.Driver",
        verbose_name=_("member"),
        on_delete=models.PROTECT,
        related_name="evaluation_participations",
    )
    self_assessment = models.TextField(_("self-assessment"), blank=True)
    conclusion = models.CharField(
        _("branch conclusion"), max_length=16, choices=Grade.choices, blank=True
    )
    conclusion_note = models.TextField(_("reasons"), blank=True)

    class Meta:
        ordering = ["driver__name", "id"]
        verbose_name = _("evaluation participant")
        verbose_name_plural = _("evaluation participants")
        constraints = [
            models.UniqueConstraint(
                fields=["round", "driver"], name="evaluation_participant_once_per_round"
            ),
        ]

    def __str__(self):
        return f"{self.driver.name} · {self.round}"


class VoteReceipt(ImmutableModel):
    """That a participant has voted in a round — nothing about what. No timestamp."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="receipts")
    voter = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="receipts")

    class Meta:
        verbose_name = _("vote receipt")
        verbose_name_plural = _("vote receipts")
        constraints = [
            models.UniqueConstraint(fields=["round", "voter"], name="evaluation_vote_once"),
        ]

    def __str__(self):
        return str(self.round)


class Ballot(models.Model):
    """One anonymous choice about one subject. No voter, no time, a random key; empty
    (`choice` "") until a vote fills it. Written only by `services.ballot_cast`."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="ballots")
    subject = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="ballots_about")
    choice = models.CharField(_("choice"), max_length=16, choices=Grade.choices, blank=True)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        indexes = [
            models.Index(fields=["round", "subject", "choice"], name="evaluation_ballot_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(choice__in=["", *Grade.values]), name="evaluation_ballot_choice"
            ),
        ]

    def __str__(self):
        return str(self.round)
